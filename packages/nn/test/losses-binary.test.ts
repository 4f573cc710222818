/**
 * bce, bceWithLogits, focal and multiclassHinge against float64 references written as plain
 * loops of the textbook (PyTorch / torchvision) formulas, for every reduction; gradients by
 * gradcheck; stability at logits ±1e4.
 */
import { grad, gradcheck } from '@ml/autograd';
import { bce, bceWithLogits, focal, multiclassHinge } from '@ml/nn';
import { tensor } from '@ml/tensor';
import type { Tensor } from '@ml/tensor';
import { describe, expect, it } from 'vitest';
import { U, values, f64, REDUCTIONS, reduceRef, expectClose } from './loss-helpers.js';

/** Element (i, j) of a (rows, cols) weight given as (cols,), (rows, 1) or nothing. */
const weightAt = (w: { data: number[]; shape: number[] } | undefined, i: number, j: number): number =>
  !w ? 1 : w.shape.length === 1 ? w.data[j] : w.data[i];

const sigmoidRef = (x: number) => 1 / (1 + Math.exp(-x));
/** The naive binary cross-entropy of logit x, label y, positive weight pw. */
const bceLogitRef = (x: number, y: number, pw = 1) => -(pw * y * Math.log(sigmoidRef(x)) + (1 - y) * Math.log(1 - sigmoidRef(x)));
const binary = (seed: number, n: number) => values(U(seed, [n])).map((v) => (v > 0 ? 1 : 0));

describe('bce', () => {
  const p = U(1, [4, 5], 0.02, 0.98);
  const y = U(2, [4, 5], 0, 1); // soft labels
  const weights = [undefined, { data: [0.5, 1, 2, 0.1, 3], shape: [5] }, { data: [1, 2, 3, 4], shape: [4, 1] }];

  it('matches −w·[y·log p + (1 − y)·log(1 − p)] for every reduction and weight shape', () => {
    const pv = values(p);
    const yv = values(y);
    for (const w of weights) {
      const ref = pv.map((pi, k) => -weightAt(w, Math.floor(k / 5), k % 5) * (yv[k] * Math.log(pi) + (1 - yv[k]) * Math.log(1 - pi)));
      for (const reduction of REDUCTIONS) {
        expectClose(bce(p, y, { weight: w && f64(w.data, w.shape), reduction }), reduceRef(ref, reduction));
      }
    }
  });

  it('clamps each log at −100 as PyTorch does: p = 0 or 1 gives finite losses and finite gradients', () => {
    const probs = f64([0, 1, 0, 1, 0.5, 1e-60], [6]);
    const target = f64([1, 0, 0, 1, 1, 1], [6]);
    // log 0 → −100; log(1e-60) = −138 → −100
    expectClose(bce(probs, target, { reduction: 'none' }), [100, 100, 0, 0, Math.LN2, 100]);
    const g = grad((a: Tensor) => bce(a, target))(probs);
    expect(values(g).every(Number.isFinite)).toBe(true);
  });

  it('gradients w.r.t. probs and target (gradcheck)', () => {
    for (const reduction of REDUCTIONS) {
      const r = gradcheck((a, b) => bce(a, b, { weight: f64([0.5, 1, 2, 0.1, 3], [5]), reduction }), [p, y]);
      expect(r.ok, r.message).toBe(true);
    }
  });
});

describe('bceWithLogits', () => {
  const x = U(3, [4, 5], -4, 4);
  const y = U(4, [4, 5], 0, 1);
  const pos = { data: [3, 1, 0.5, 2, 1.5], shape: [5] };
  const weights = [undefined, { data: [0.5, 1, 2, 0.1, 3], shape: [5] }, { data: [1, 2, 3, 4], shape: [4, 1] }];

  it('matches −w·[pw·y·log σ(x) + (1 − y)·log(1 − σ(x))] with weight and posWeight, every reduction', () => {
    const xv = values(x);
    const yv = values(y);
    for (const w of weights) {
      for (const pw of [undefined, pos]) {
        const ref = xv.map((xi, k) => weightAt(w, Math.floor(k / 5), k % 5) * bceLogitRef(xi, yv[k], pw ? pw.data[k % 5] : 1));
        for (const reduction of REDUCTIONS) {
          const out = bceWithLogits(x, y, { weight: w && f64(w.data, w.shape), posWeight: pw && f64(pw.data, pw.shape), reduction });
          expectClose(out, reduceRef(ref, reduction), 1e-11);
        }
      }
    }
  });

  it('equals bce(σ(x)) where σ(x) is not saturated', () => {
    expectClose(bceWithLogits(x, y), values(bce(x.sigmoid(), y))[0], 1e-11);
  });

  it('gradients w.r.t. logits and target (gradcheck)', () => {
    for (const reduction of REDUCTIONS) {
      const r = gradcheck((a, b) => bceWithLogits(a, b, { posWeight: f64(pos.data, pos.shape), weight: f64([1, 2, 3, 4], [4, 1]), reduction }), [x, y]);
      expect(r.ok, r.message).toBe(true);
    }
  });

  it('is exact and finite at logits ±1e4 in float32, value and gradient', () => {
    const big = tensor([1e4, -1e4, 1e4, -1e4, 0]);
    const labels = tensor([0, 1, 1, 0, 1]);
    expectClose(bceWithLogits(big, labels, { reduction: 'none' }), [1e4, 1e4, 0, 0, Math.LN2], 1e-7);
    expectClose(bceWithLogits(big, labels, { posWeight: tensor([2]), reduction: 'none' }), [1e4, 2e4, 0, 0, 2 * Math.LN2], 1e-7);
    const g = grad((a: Tensor) => bceWithLogits(a, labels, { reduction: 'sum' }))(big);
    expectClose(g, [1, -1, 0, 0, -0.5], 1e-7); // σ(x) − y
  });
});

describe('focal (torchvision sigmoid_focal_loss)', () => {
  const x = U(5, [6, 3], -4, 4);
  const yBinary = binary(6, 18);
  const y = f64(yBinary, [6, 3]);

  /** torchvision's code, line by line, in float64. */
  function focalRef(xv: number[], yv: number[], alpha: number, gamma: number): number[] {
    return xv.map((xi, k) => {
      const p = sigmoidRef(xi);
      const ce = bceLogitRef(xi, yv[k]);
      const pt = p * yv[k] + (1 - p) * (1 - yv[k]);
      let loss = ce * (1 - pt) ** gamma;
      if (alpha >= 0) loss *= alpha * yv[k] + (1 - alpha) * (1 - yv[k]);
      return loss;
    });
  }

  const settings: [number, number][] = [[0.25, 2], [0.5, 1.5], [-1, 2], [0.25, 0], [0.9, 3]];
  it('matches the reference for several (α, γ) and every reduction', () => {
    for (const [alpha, gamma] of settings) {
      const ref = focalRef(values(x), yBinary, alpha, gamma);
      for (const reduction of REDUCTIONS) {
        expectClose(focal(x, y, { alpha, gamma, reduction }), reduceRef(ref, reduction), 1e-10);
      }
    }
  });

  it('defaults are α = 0.25, γ = 2; soft targets follow the same formula', () => {
    expectClose(focal(x, y), reduceRef(focalRef(values(x), yBinary, 0.25, 2), 'mean') as number, 1e-10);
    const soft = U(7, [6, 3], 0, 1);
    expectClose(focal(x, soft, { reduction: 'none' }), focalRef(values(x), values(soft), 0.25, 2), 1e-10);
  });

  it('γ = 0 with α < 0 (disabled) is bceWithLogits', () => {
    for (const reduction of REDUCTIONS) {
      const a = focal(x, y, { alpha: -1, gamma: 0, reduction });
      const b = bceWithLogits(x, y, { reduction });
      expectClose(a, reduction === 'none' ? values(b) : values(b)[0], 1e-14);
    }
  });

  it('gradients w.r.t. logits and target (gradcheck)', () => {
    for (const [alpha, gamma] of settings) {
      const r = gradcheck((a, b) => focal(a, b, { alpha, gamma }), [x, y]);
      expect(r.ok, `α=${alpha} γ=${gamma}\n${r.message}`).toBe(true);
    }
    const r = gradcheck((a) => focal(a, y, { reduction: 'none' }), [x]);
    expect(r.ok, r.message).toBe(true);
  });

  it('finite value and gradient at logits ±1e4 (float32)', () => {
    const big = tensor([1e4, -1e4, 1e4, -1e4]);
    const labels = tensor([0, 1, 1, 0]);
    expectClose(focal(big, labels, { reduction: 'none' }), [0.75 * 1e4, 0.25 * 1e4, 0, 0], 1e-7);
    const g = grad((a: Tensor) => focal(a, labels))(big);
    expect(values(g).every(Number.isFinite)).toBe(true);
  });
});

describe('multiclassHinge', () => {
  /** Σ_{j ≠ y} max(0, s_j − s_y + Δ), per row. */
  function hingeRef(s: number[], c: number, target: number[], margin: number): number[] {
    return target.map((yi, i) => {
      let l = 0;
      for (let j = 0; j < c; j++) if (j !== yi) l += Math.max(0, s[i * c + j] - s[i * c + yi] + margin);
      return l;
    });
  }

  const s = U(8, [6, 4], -2, 2);
  const target = [0, 3, 1, 2, 2, 0];
  const t = tensor(target, { dtype: 'int32' });

  it('matches the reference for margins 1 and 0.5 and every reduction', () => {
    for (const margin of [1, 0.5]) {
      const ref = hingeRef(values(s), 4, target, margin);
      for (const reduction of REDUCTIONS) {
        expectClose(multiclassHinge(s, t, { margin, reduction }), reduceRef(ref, reduction));
      }
    }
  });

  it('the CS231n example: scores (3.2, 5.1, −1.7), true class 0 → 2.9; zero once the true class wins by Δ', () => {
    const scores = f64([3.2, 5.1, -1.7, 10, 5.1, -1.7], [2, 3]);
    expectClose(multiclassHinge(scores, tensor([0, 0], { dtype: 'int32' }), { reduction: 'none' }), [2.9, 0], 1e-15);
  });

  it('gradients w.r.t. the scores (gradcheck)', () => {
    for (const reduction of REDUCTIONS) {
      const r = gradcheck((a) => multiclassHinge(a, t, { reduction }), [s]);
      expect(r.ok, r.message).toBe(true);
    }
  });
});
