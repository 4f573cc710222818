/**
 * crossEntropy and nll against a float64 reference that spells out PyTorch's definition in plain
 * loops: the cross-entropy −Σ_c w[c]·q[c]·log p[c] against the (smoothed) target distribution q,
 * with 'mean' dividing by Σ w[y] over kept targets (class indices) or by the number of positions
 * (class probabilities). Covers weights, ignoreIndex and labelSmoothing together on (N, C, d1, …),
 * soft targets, unbatched input, gradients (gradcheck, float64) and stability at logits ±1e4.
 */
import { grad, gradcheck } from '@ml/autograd';
import { crossEntropy, nll } from '@ml/nn';
import type { Reduction } from '@ml/nn';
import { logSoftmax, oneHot, softmax, tensor } from '@ml/tensor';
import type { Tensor } from '@ml/tensor';
import { describe, expect, it } from 'vitest';
import { U, values, i32, f64, REDUCTIONS, expectClose } from './loss-helpers.js';

interface RefOptions {
  weight?: number[];
  labelSmoothing?: number;
  ignoreIndex?: number;
  reduction: Reduction;
  /** the input is already log-probabilities (nll) */
  logProbs?: boolean;
}

/**
 * PyTorch's cross-entropy in loops. `x` is (N, C, S) flattened (S = d1·d2·…, 1 for (N, C));
 * `target` is either class indices (N·S) or probabilities (N, C, S) flattened.
 */
function ceRef(x: number[], shape: number[], target: { indices: number[] } | { probs: number[] }, o: RefOptions): number | number[] {
  const [n, c] = shape;
  const s = shape.slice(2).reduce((a, b) => a * b, 1);
  const eps = o.labelSmoothing ?? 0;
  const w = o.weight ?? new Array<number>(c).fill(1);
  const ignore = o.ignoreIndex ?? -100;
  const losses: number[] = [];
  let total = 0;
  let denominator = 0;
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < s; k++) {
      const at = (cls: number) => (i * c + cls) * s + k;
      let logp: number[];
      if (o.logProbs) {
        logp = Array.from({ length: c }, (_, cls) => x[at(cls)]);
      } else {
        let m = -Infinity;
        for (let cls = 0; cls < c; cls++) m = Math.max(m, x[at(cls)]);
        let z = 0;
        for (let cls = 0; cls < c; cls++) z += Math.exp(x[at(cls)] - m);
        logp = Array.from({ length: c }, (_, cls) => x[at(cls)] - m - Math.log(z));
      }
      let q: number[];
      if ('indices' in target) {
        const y = target.indices[i * s + k];
        if (y === ignore) {
          losses.push(0);
          continue;
        }
        q = Array.from({ length: c }, (_, cls) => (cls === y ? 1 - eps : 0) + eps / c);
        denominator += w[y];
      } else {
        q = Array.from({ length: c }, (_, cls) => (1 - eps) * target.probs[at(cls)] + eps / c);
        denominator += 1;
      }
      let l = 0;
      for (let cls = 0; cls < c; cls++) l -= w[cls] * q[cls] * logp[cls];
      losses.push(l);
      total += l;
    }
  }
  if (o.reduction === 'none') return losses;
  return o.reduction === 'sum' ? total : total / denominator;
}

/** Deterministic class indices with some positions set to `ignore`. */
function labels(count: number, c: number, ignore?: number, every = 4): number[] {
  return Array.from({ length: count }, (_, i) => (ignore !== undefined && i % every === 1 ? ignore : (i * 7 + 3) % c));
}

describe('crossEntropy with class indices', () => {
  it('(N, C) matches the reference for every reduction', () => {
    const x = U(1, [6, 5], -3, 3);
    const y = labels(6, 5);
    for (const reduction of REDUCTIONS) {
      const out = crossEntropy(x, i32(y, [6]), { reduction });
      if (reduction === 'none') expect(out.shape).toEqual([6]);
      expectClose(out, ceRef(values(x), [6, 5], { indices: y }, { reduction }));
    }
  });

  it('(N, C, d1): weight + ignoreIndex + labelSmoothing together, every reduction', () => {
    const x = U(2, [4, 5, 3], -3, 3);
    const y = labels(12, 5, -100);
    const weight = [0.5, 2, 1, 0.25, 3];
    const opts = { weight: f64(weight, [5]), ignoreIndex: -100, labelSmoothing: 0.2 };
    for (const reduction of REDUCTIONS) {
      const out = crossEntropy(x, i32(y, [4, 3]), { ...opts, reduction });
      expectClose(out, ceRef(values(x), [4, 5, 3], { indices: y }, { weight, ignoreIndex: -100, labelSmoothing: 0.2, reduction }));
      if (reduction === 'none') {
        expect(out.shape).toEqual([4, 3]);
        values(out).forEach((v, i) => (y[i] === -100 ? expect(v).toBe(0) : expect(v).toBeGreaterThan(0)));
      }
    }
  });

  it('(N, C, d1, d2) with a class index as ignoreIndex, weights and smoothing', () => {
    const x = U(3, [2, 4, 3, 2], -2, 2);
    const y = labels(12, 4, 1, 3);
    const weight = [1.5, 0.7, 0.2, 2];
    for (const reduction of REDUCTIONS) {
      const out = crossEntropy(x, i32(y, [2, 3, 2]), { weight: f64(weight, [4]), ignoreIndex: 1, labelSmoothing: 0.35, reduction });
      expectClose(out, ceRef(values(x), [2, 4, 3, 2], { indices: y }, { weight, ignoreIndex: 1, labelSmoothing: 0.35, reduction }));
    }
  });

  it('the weighted mean divides by the weights of the kept targets, not by their number', () => {
    // two samples: classes 0 (w = 1) and 1 (w = 3); a third is ignored
    const x = f64([0, 0, 0, 0, 0, 0], [3, 2]); // log p = log ½ everywhere
    const out = crossEntropy(x, i32([0, 1, -100], [3]), { weight: f64([1, 3], [2]) });
    expectClose(out, ((1 + 3) * Math.LN2) / (1 + 3));
    const sum = crossEntropy(x, i32([0, 1, -100], [3]), { weight: f64([1, 3], [2]), reduction: 'sum' });
    expectClose(sum, 4 * Math.LN2);
  });

  it('labelSmoothing = 1 gives the cross-entropy against the uniform distribution', () => {
    const x = U(4, [3, 4], -2, 2);
    const out = crossEntropy(x, i32([0, 3, 2], [3]), { labelSmoothing: 1, reduction: 'none' });
    const lp = values(logSoftmax(x, 1));
    expectClose(out, [0, 1, 2].map((i) => -(lp[4 * i] + lp[4 * i + 1] + lp[4 * i + 2] + lp[4 * i + 3]) / 4));
  });

  it('without weights, hard targets + smoothing equal soft targets (1 − ε)·onehot + ε/C', () => {
    const x = U(5, [5, 4], -2, 2);
    const y = i32(labels(5, 4), [5]);
    const onehot = oneHot(y, 4, 'float64');
    for (const reduction of REDUCTIONS) {
      const hard = crossEntropy(x, y, { labelSmoothing: 0.3, reduction });
      const soft = crossEntropy(x, onehot, { labelSmoothing: 0.3, reduction });
      expectClose(hard, reduction === 'none' ? values(soft) : values(soft)[0]);
    }
  });

  it('every target ignored: mean is NaN (0/0, as PyTorch), sum 0, none zeros', () => {
    const x = U(6, [3, 4]);
    const y = i32([-100, -100, -100], [3]);
    expect(Number.isNaN(crossEntropy(x, y).dataSync()[0])).toBe(true);
    expectClose(crossEntropy(x, y, { reduction: 'sum' }), 0);
    expectClose(crossEntropy(x, y, { reduction: 'none' }), [0, 0, 0]);
  });

  it('unbatched logits (C,) with a 0-d target', () => {
    const x = f64([0.3, -1.2, 2.0, 0.1], [4]);
    const out = crossEntropy(x, i32([2], []), { reduction: 'none' });
    expect(out.shape).toEqual([]);
    expectClose(out, ceRef(values(x), [1, 4], { indices: [2] }, { reduction: 'sum' }) as number);
    expectClose(crossEntropy(x, i32([2], []), { labelSmoothing: 0.1 }), ceRef(values(x), [1, 4], { indices: [2] }, { labelSmoothing: 0.1, reduction: 'mean' }) as number);
  });

  it('gradients w.r.t. the logits (gradcheck), with every option', () => {
    const x = U(7, [4, 5, 3], -3, 3);
    const y = i32(labels(12, 5, -100), [4, 3]);
    const weight = f64([0.5, 2, 1, 0.25, 3], [5]);
    for (const reduction of REDUCTIONS) {
      for (const opts of [{}, { weight, ignoreIndex: -100, labelSmoothing: 0.2 }]) {
        const r = gradcheck((a) => crossEntropy(a, y, { ...opts, reduction }), [x]);
        expect(r.ok, r.message).toBe(true);
      }
    }
  });
});

describe('crossEntropy with class probabilities (soft targets)', () => {
  const cases: [string, number[]][] = [['(N, C)', [5, 4]], ['(N, C, d1)', [3, 4, 2]]];
  for (const [name, shape] of cases) {
    it(`${name} with weight and smoothing matches the reference; mean divides by N·d1·…`, () => {
      const x = U(8, shape, -3, 3);
      const t = softmax(U(9, shape, -2, 2), 1);
      const weight = [0.3, 1, 2, 0.6];
      for (const reduction of REDUCTIONS) {
        for (const labelSmoothing of [0, 0.25]) {
          for (const w of [undefined, weight]) {
            const out = crossEntropy(x, t, { weight: w && f64(w, [4]), labelSmoothing, reduction });
            expectClose(out, ceRef(values(x), shape, { probs: values(t) }, { weight: w, labelSmoothing, reduction }));
          }
        }
      }
    });

    it(`${name}: gradients w.r.t. logits and target (gradcheck)`, () => {
      const x = U(10, shape, -3, 3);
      const t = softmax(U(11, shape, -2, 2), 1);
      const weight = f64([0.3, 1, 2, 0.6], [4]);
      for (const reduction of REDUCTIONS) {
        const r = gradcheck((a, b) => crossEntropy(a, b, { weight, labelSmoothing: 0.1, reduction }), [x, t]);
        expect(r.ok, r.message).toBe(true);
      }
    });
  }

  it('one-hot probabilities give the class-index loss', () => {
    const x = U(12, [4, 3]);
    const y = i32([2, 0, 1, 1], [4]);
    expectClose(crossEntropy(x, oneHot(y, 3, 'float64')), values(crossEntropy(x, y))[0]);
  });

  it('unbatched (C,) logits with (C,) probabilities', () => {
    const x = f64([1, 2, 3], [3]);
    const t = f64([0.2, 0.3, 0.5], [3]);
    expectClose(crossEntropy(x, t, { reduction: 'none' }), ceRef([1, 2, 3], [1, 3], { probs: [0.2, 0.3, 0.5] }, { reduction: 'sum' }) as number);
  });
});

describe('nll', () => {
  it('matches the reference with weight and ignoreIndex, for every reduction, on (N, C) and (N, C, d1)', () => {
    const weight = [2, 0.5, 1, 1.5];
    for (const shape of [[6, 4], [3, 4, 2]]) {
      const lp = logSoftmax(U(13, shape, -2, 2), 1);
      const y = labels(6, 4, 3, 3); // ignores class 3 at some positions
      const yShape = shape.length === 2 ? [6] : [3, 2];
      for (const reduction of REDUCTIONS) {
        const out = nll(lp, i32(y, yShape), { weight: f64(weight, [4]), ignoreIndex: 3, reduction });
        expectClose(out, ceRef(values(lp), shape, { indices: y }, { weight, ignoreIndex: 3, reduction, logProbs: true }));
      }
    }
  });

  it('nll(logSoftmax(x, 1), y) = crossEntropy(x, y)', () => {
    const x = U(14, [3, 5, 2], -3, 3);
    const y = i32(labels(6, 5, -100), [3, 2]);
    const weight = f64([1, 2, 3, 4, 5], [5]);
    for (const reduction of REDUCTIONS) {
      const a = nll(logSoftmax(x, 1), y, { weight, reduction });
      const b = crossEntropy(x, y, { weight, reduction });
      expectClose(a, reduction === 'none' ? values(b) : values(b)[0]);
    }
  });

  it('gradients w.r.t. the log-probabilities (gradcheck)', () => {
    const lp = U(15, [4, 3, 2], -3, -0.1);
    const y = i32([0, 2, -100, 1, 1, 0, 2, -100], [4, 2]);
    for (const reduction of REDUCTIONS) {
      const r = gradcheck((a) => nll(a, y, { weight: f64([1, 2, 0.5], [3]), reduction }), [lp]);
      expect(r.ok, r.message).toBe(true);
    }
  });
});

describe('stability at logits ±1e4 (float32)', () => {
  const big = [[1e4, -1e4, 0], [-1e4, 1e4, 0], [0, -1e4, 1e4]];
  const y = [0, 0, 1];

  it('class indices, with and without smoothing: finite values equal to the exact float64 losses', () => {
    const x = tensor(big);
    for (const labelSmoothing of [0, 0.1]) {
      const out = crossEntropy(x, i32(y, [3]), { labelSmoothing, reduction: 'none' });
      expect(out.dtype).toBe('float32');
      const want = ceRef(big.flat(), [3, 3], { indices: y }, { labelSmoothing, reduction: 'none' }) as number[];
      if (labelSmoothing === 0) expect(want).toEqual([0, 2e4, 2e4]); // −log p[y] = lse − x[y]
      expectClose(out, want, 1e-6);
      const g = grad((a: Tensor) => crossEntropy(a, i32(y, [3]), { labelSmoothing }))(x);
      expect(values(g).every(Number.isFinite)).toBe(true);
    }
  });

  it('class probabilities: finite value and gradient', () => {
    const x = tensor(big);
    const t = tensor([[0.5, 0.5, 0], [0.1, 0.2, 0.7], [1, 0, 0]]);
    const out = crossEntropy(x, t, { reduction: 'none' });
    expectClose(out, ceRef(big.flat(), [3, 3], { probs: values(t) }, { reduction: 'none' }) as number[], 1e-6);
    const g = grad((a: Tensor) => crossEntropy(a, t))(x);
    expect(values(g).every(Number.isFinite)).toBe(true);
  });
});
