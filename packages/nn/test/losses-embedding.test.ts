/**
 * klDiv, tripletMargin, cosineEmbedding and infoNCE / ntXent against float64 references written
 * as plain loops of PyTorch's formulas (and SimCLR's NT-Xent), for every reduction; gradients by
 * gradcheck w.r.t. every differentiable input.
 */
import { gradcheck } from '@ml/autograd';
import { cosineEmbedding, infoNCE, klDiv, ntXent, tripletMargin } from '@ml/nn';
import type { Reduction } from '@ml/nn';
import { logSoftmax, softmax, tensor } from '@ml/tensor';
import { describe, expect, it } from 'vitest';
import { U, values, f64, REDUCTIONS, reduceRef, expectClose } from './loss-helpers.js';

/** Rows of a flat (n, d) array. */
const rows = (flat: number[], d: number): number[][] => Array.from({ length: flat.length / d }, (_, i) => flat.slice(i * d, (i + 1) * d));
const dotRef = (a: number[], b: number[]) => a.reduce((s, v, i) => s + v * b[i], 0);
const cosRef = (a: number[], b: number[]) => dotRef(a, b) / (Math.max(Math.sqrt(dotRef(a, a)), 1e-8) * Math.max(Math.sqrt(dotRef(b, b)), 1e-8));

describe('klDiv', () => {
  const logq = logSoftmax(U(1, [4, 5], -2, 2), 1);
  // probabilities with exact zeros (0·log 0 = 0)
  const pData = [0.1, 0, 0.4, 0.5, 0, 0.2, 0.2, 0.2, 0.2, 0.2, 0, 0, 1, 0, 0, 0.05, 0.15, 0.3, 0.3, 0.2];
  const p = f64(pData, [4, 5]);

  const ref = (x: number[], t: number[], logTarget: boolean) =>
    x.map((xi, k) => (logTarget ? Math.exp(t[k]) * (t[k] - xi) : (t[k] === 0 ? 0 : t[k] * Math.log(t[k])) - t[k] * xi));
  const reduceKl = (losses: number[], reduction: Reduction | 'batchmean', n: number) =>
    reduction === 'batchmean' ? losses.reduce((a, b) => a + b, 0) / n : reduceRef(losses, reduction);

  it('matches p·(log p − log q) with 0·log 0 = 0, for every reduction including batchmean', () => {
    const losses = ref(values(logq), pData, false);
    for (const reduction of [...REDUCTIONS, 'batchmean'] as const) {
      expectClose(klDiv(logq, p, { reduction }), reduceKl(losses, reduction, 4));
    }
  });

  it('batchmean is the mean over rows of KL(p ‖ q) = Σ p log(p/q)', () => {
    const lq = rows(values(logq), 5);
    const kl = rows(pData, 5).map((pr, i) => pr.reduce((s, pi, j) => s + (pi > 0 ? pi * (Math.log(pi) - lq[i][j]) : 0), 0));
    expectClose(klDiv(logq, p, { reduction: 'batchmean' }), kl.reduce((a, b) => a + b, 0) / 4);
  });

  it('logTarget: exp(t)·(t − log q), equal to the probability form', () => {
    const logp = logSoftmax(U(2, [4, 5], -2, 2), 1);
    const losses = ref(values(logq), values(logp), true);
    for (const reduction of [...REDUCTIONS, 'batchmean'] as const) {
      const out = klDiv(logq, logp, { logTarget: true, reduction });
      expectClose(out, reduceKl(losses, reduction, 4));
      const same = klDiv(logq, logp.exp(), { reduction });
      expectClose(out, reduction === 'none' ? values(same) : values(same)[0], 1e-10);
    }
  });

  it('a 0-d input: batchmean is the sum', () => {
    expectClose(klDiv(f64([-1.2], []), f64([0.3], []), { reduction: 'batchmean' }), 0.3 * (Math.log(0.3) + 1.2));
  });

  it('gradients w.r.t. input and target (gradcheck; target > 0 where log is differentiable)', () => {
    const pPos = softmax(U(3, [4, 5], -2, 2), 1);
    for (const reduction of [...REDUCTIONS, 'batchmean'] as const) {
      for (const logTarget of [false, true]) {
        const target = logTarget ? logSoftmax(U(4, [4, 5]), 1) : pPos;
        const r = gradcheck((a, b) => klDiv(a, b, { logTarget, reduction }), [logq, target]);
        expect(r.ok, `${reduction} logTarget=${logTarget}\n${r.message}`).toBe(true);
      }
      const r = gradcheck((a) => klDiv(a, p, { reduction }), [logq]); // with zeros in the target
      expect(r.ok, r.message).toBe(true);
    }
  });
});

describe('tripletMargin', () => {
  const a = U(5, [6, 4]);
  const pos = U(6, [6, 4]);
  const neg = U(7, [6, 4]);

  /** PyTorch's pairwise_distance: ‖x − y + ε‖_p. */
  const distRef = (x: number[], y: number[], p: number, eps: number) => x.reduce((s, xi, i) => s + Math.abs(xi - y[i] + eps) ** p, 0) ** (1 / p);
  function tripletRef(o: { margin: number; p: number; eps: number; swap: boolean }): number[] {
    const [ar, pr, nr] = [a, pos, neg].map((t) => rows(values(t), 4));
    return ar.map((ai, i) => {
      let dNeg = distRef(ai, nr[i], o.p, o.eps);
      if (o.swap) dNeg = Math.min(dNeg, distRef(pr[i], nr[i], o.p, o.eps));
      return Math.max(distRef(ai, pr[i], o.p, o.eps) - dNeg + o.margin, 0);
    });
  }

  const settings = [
    { margin: 1, p: 2, eps: 1e-6, swap: false },
    { margin: 0.2, p: 2, eps: 1e-6, swap: false },
    { margin: 0.5, p: 1, eps: 0, swap: false },
    { margin: 0.3, p: 3, eps: 1e-3, swap: true },
  ];

  it('matches max(d(a, p) − d(a, n) + m, 0) with ‖x − y + ε‖_p, for every reduction', () => {
    for (const o of settings) {
      const ref = tripletRef(o);
      for (const reduction of REDUCTIONS) expectClose(tripletMargin(a, pos, neg, { ...o, reduction }), reduceRef(ref, reduction));
    }
    const mixed = tripletRef(settings[1]); // the test means something only if both cases occur
    expect(mixed.some((v) => v === 0) && mixed.some((v) => v > 0)).toBe(true);
  });

  it('is positive exactly when d(a, p) − d(a, n) > −margin', () => {
    // a = 0, d(a, p) = 1, d(a, n) ∈ {0.5, 1.5, 1.9, 2.1}, margin 1, ε = 0
    const anchor = f64([0, 0, 0, 0, 0, 0, 0, 0], [4, 2]);
    const positive = f64([1, 0, 0, 1, 1, 0, 0, 1], [4, 2]);
    const negative = f64([0.5, 0, 0, 1.5, 1.9, 0, 0, 2.1], [4, 2]);
    const out = values(tripletMargin(anchor, positive, negative, { eps: 0, reduction: 'none' }));
    const gap = [1 - 0.5, 1 - 1.5, 1 - 1.9, 1 - 2.1]; // d(a, p) − d(a, n)
    out.forEach((v, i) => {
      expect(v > 0).toBe(gap[i] > -1);
      expect(v).toBeCloseTo(Math.max(gap[i] + 1, 0), 12);
    });
  });

  it('unbatched (D,) inputs give a 0-d loss', () => {
    const out = tripletMargin(f64([0, 0], [2]), f64([3, 4], [2]), f64([1, 0], [2]), { eps: 0, reduction: 'none' });
    expectClose(out, 5 - 1 + 1);
  });

  it('gradients w.r.t. anchor, positive and negative (gradcheck)', () => {
    for (const o of settings) {
      for (const reduction of REDUCTIONS) {
        const r = gradcheck((x, y, z) => tripletMargin(x, y, z, { ...o, reduction }), [a, pos, neg]);
        expect(r.ok, `${JSON.stringify(o)} ${reduction}\n${r.message}`).toBe(true);
      }
    }
  });
});

describe('cosineEmbedding', () => {
  const x1 = U(8, [6, 4]);
  const x2 = U(9, [6, 4]);
  const yData = [1, -1, -1, 1, -1, 1];
  const y = tensor(yData, { dtype: 'int32' });

  /** PyTorch: cos = x1·x2 / √((‖x1‖² + 1e-12)(‖x2‖² + 1e-12)). */
  function cosineRef(margin: number): number[] {
    const [r1, r2] = [rows(values(x1), 4), rows(values(x2), 4)];
    return r1.map((u, i) => {
      const cos = dotRef(u, r2[i]) / Math.sqrt((dotRef(u, u) + 1e-12) * (dotRef(r2[i], r2[i]) + 1e-12));
      return yData[i] === 1 ? 1 - cos : Math.max(0, cos - margin);
    });
  }

  it('matches 1 − cos (y = 1) and max(0, cos − m) (y = −1) for several margins and every reduction', () => {
    for (const margin of [0, 0.3, -0.2]) {
      const ref = cosineRef(margin);
      for (const reduction of REDUCTIONS) expectClose(cosineEmbedding(x1, x2, y, { margin, reduction }), reduceRef(ref, reduction));
    }
  });

  it('float labels work too; unbatched (D,) inputs with a 0-d label', () => {
    expectClose(cosineEmbedding(x1, x2, tensor(yData, { dtype: 'float64' })), reduceRef(cosineRef(0), 'mean') as number);
    expectClose(cosineEmbedding(f64([1, 0], [2]), f64([1, 1], [2]), tensor(-1), { reduction: 'none' }), Math.SQRT1_2, 1e-10);
  });

  it('gradients w.r.t. x1 and x2 (gradcheck)', () => {
    for (const reduction of REDUCTIONS) {
      const r = gradcheck((u, v) => cosineEmbedding(u, v, y, { margin: 0.1, reduction }), [x1, x2]);
      expect(r.ok, r.message).toBe(true);
    }
  });
});

describe('infoNCE / ntXent', () => {
  const z1 = U(10, [4, 3]);
  const z2 = U(11, [4, 3]);

  /** SimCLR's NT-Xent over the 2N views, in loops. */
  function ntXentRef(a: number[], b: number[], d: number, tau: number): number[] {
    const z = [...rows(a, d), ...rows(b, d)];
    const n2 = z.length;
    return z.map((zk, k) => {
      const partner = (k + n2 / 2) % n2;
      let denom = 0;
      for (let l = 0; l < n2; l++) if (l !== k) denom += Math.exp(cosRef(zk, z[l]) / tau);
      return -cosRef(zk, z[partner]) / tau + Math.log(denom);
    });
  }

  /** InfoNCE with explicit negatives: negs(i) lists query i's negative keys. */
  function withNegativesRef(q: number[], k: number[], d: number, negs: (i: number) => number[][], tau: number): number[] {
    const kr = rows(k, d);
    return rows(q, d).map((qi, i) => {
      const logits = [cosRef(qi, kr[i]), ...negs(i).map((m) => cosRef(qi, m))].map((v) => v / tau);
      return -logits[0] + Math.log(logits.reduce((s, v) => s + Math.exp(v), 0));
    });
  }

  it('NT-Xent matches the reference for two temperatures and every reduction; none gives 2N losses', () => {
    for (const temperature of [0.1, 0.5]) {
      const ref = ntXentRef(values(z1), values(z2), 3, temperature);
      for (const reduction of REDUCTIONS) {
        const out = infoNCE(z1, z2, { temperature, reduction });
        if (reduction === 'none') expect(out.shape).toEqual([8]);
        expectClose(out, reduceRef(ref, reduction), 1e-11);
      }
    }
  });

  it('NT-Xent closed form: two orthogonal examples seen identically', () => {
    // each view: positive similarity 1, the other two views 0 → −1/τ + log(e^{1/τ} + 2)
    const e = f64([1, 0, 0, 1], [2, 2]);
    const tau = 0.5;
    expectClose(infoNCE(e, e.mul(3), { temperature: tau }), -1 / tau + Math.log(Math.exp(1 / tau) + 2), 1e-14);
  });

  it('ntXent is infoNCE without negatives; the default temperature is 0.1', () => {
    expectClose(ntXent(z1, z2), reduceRef(ntXentRef(values(z1), values(z2), 3, 0.1), 'mean') as number, 1e-11);
    expectClose(infoNCE(z1, z2), values(ntXent(z1, z2, { temperature: 0.1 }))[0]);
  });

  it('explicit negatives, shared (M, D) and per query (N, M, D)', () => {
    const shared = U(12, [5, 3]);
    const paired = U(13, [4, 2, 3]);
    const sharedRows = rows(values(shared), 3);
    const pairedRows = rows(values(paired), 3);
    for (const reduction of REDUCTIONS) {
      expectClose(infoNCE(z1, z2, { negatives: shared, temperature: 0.2, reduction }),
        reduceRef(withNegativesRef(values(z1), values(z2), 3, () => sharedRows, 0.2), reduction), 1e-11);
      expectClose(infoNCE(z1, z2, { negatives: paired, temperature: 0.2, reduction }),
        reduceRef(withNegativesRef(values(z1), values(z2), 3, (i) => pairedRows.slice(2 * i, 2 * i + 2), 0.2), reduction), 1e-11);
    }
  });

  it('finite at a small temperature (0.01)', () => {
    expectClose(infoNCE(z1, z2, { temperature: 0.01 }), reduceRef(ntXentRef(values(z1), values(z2), 3, 0.01), 'mean') as number, 1e-10);
  });

  it('gradients w.r.t. both views and the negatives (gradcheck)', () => {
    for (const reduction of REDUCTIONS) {
      const r = gradcheck((u, v) => infoNCE(u, v, { temperature: 0.5, reduction }), [z1, z2]);
      expect(r.ok, r.message).toBe(true);
    }
    for (const negatives of [U(14, [5, 3]), U(15, [4, 2, 3])]) {
      const r = gradcheck((u, v, w) => infoNCE(u, v, { negatives: w, temperature: 0.5 }), [z1, z2, negatives]);
      expect(r.ok, r.message).toBe(true);
    }
  });
});
