import { describe, expect, it } from 'vitest';
import run from '../notes/backprop-autodiff.js';
import { runNote, type Recording } from './record.js';

interface Result {
  forward: { a1: number; a2: number; s: number; u: number; p: number; L: number };
  byHand: { w: number[]; b: number; x: number[] };
  byGrad: { w: number[]; b: number };
  torchStyle: { w: number[]; b: number };
  flow: Record<string, { da: number[]; db: number[] }>;
  batchCheck: { grad: number[]; closedForm: number[] };
  sseCheck: { grad: number[]; closedForm: number[] };
  losses: number[];
  accuracy: number;
}

const closeAll = (got: number[], want: number[], tol: number) => {
  expect(got).toHaveLength(want.length);
  got.forEach((g, i) => expect(Math.abs(g - want[i])).toBeLessThan(tol));
};
const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

describe('note: backprop-autodiff', async () => {
  const rec: Recording = await runNote(run);
  const r = rec.result as Result;
  // The example of the note: x = (1.5, −2), w = (0.8, 0.3), b = −0.2, label y = 1.
  const x = [1.5, -2];
  const w = [0.8, 0.3];
  const b = -0.2;
  const u = w[0] * x[0] + w[1] * x[1] + b; // 0.4
  const p = sigmoid(u);

  it('runs the forward pass of the logistic loss', () => {
    expect(r.forward.u).toBeCloseTo(0.4, 12);
    expect(r.forward.p).toBeCloseTo(p, 12);
    expect(r.forward.L).toBeCloseTo(-Math.log(p), 12);
    expect(r.forward.L).toBeCloseTo(0.5130, 4);
  });

  it('finds ∂L/∂w = (σ(wᵀx + b) − y)·x by hand, with grad and with backward()', () => {
    const want = x.map((xi) => (p - 1) * xi); // y = 1
    closeAll(r.byHand.w, want, 1e-12);
    expect(r.byHand.b).toBeCloseTo(p - 1, 12);
    closeAll(r.byGrad.w, want, 1e-12); // float64 tensors
    expect(r.byGrad.b).toBeCloseTo(p - 1, 12);
    closeAll(r.torchStyle.w, want, 1e-12);
    expect(r.torchStyle.b).toBeCloseTo(p - 1, 12);
    // the mul gate swaps: ∂L/∂x = (p − 1)·w
    closeAll(r.byHand.x, w.map((wi) => (p - 1) * wi), 1e-12);
  });

  it('tabulates upstream × local = downstream for every edge', () => {
    const rows = rec.tables[0].rows as { upstream: number; local: number; downstream: number }[];
    expect(rows).toHaveLength(10);
    for (const row of rows) expect(row.downstream).toBeCloseTo(row.upstream * row.local, 12);
  });

  it('shows how add, mul, max and reuse route the upstream gradient', () => {
    const g = [1, 10, 100];
    const a = [2, -1, 3];
    const bb = [5, 4, 3];
    expect(r.flow['add: a + b']).toEqual({ da: g, db: g });
    expect(r.flow['mul: a · b']).toEqual({ da: g.map((gi, i) => gi * bb[i]), db: g.map((gi, i) => gi * a[i]) });
    // max: b wins the first two entries, the tie a = b = 3 splits the gradient in half
    expect(r.flow['max: max(a, b)']).toEqual({ da: [0, 0, 50], db: [1, 10, 50] });
    // a·a: the two uses of a each contribute g·a, so ∂/∂a = 2ag; b is not used
    expect(r.flow['reuse: a · a']).toEqual({ da: g.map((gi, i) => 2 * a[i] * gi), db: [0, 0, 0] });
  });

  it('matches the closed-form batch gradient and lowers the loss', () => {
    closeAll(r.batchCheck.grad, r.batchCheck.closedForm, 1e-6);
    expect(r.losses[0]).toBeCloseTo(Math.log(2), 6); // w = 0 predicts ½ for everyone
    for (let t = 1; t < r.losses.length; t++) expect(r.losses[t]).toBeLessThanOrEqual(r.losses[t - 1] + 1e-7);
    expect(r.losses.at(-1)!).toBeLessThan(0.4);
    expect(r.accuracy).toBeGreaterThan(0.85);
  });

  it('keeps the factor 2 in the gradient of the squared error', () => {
    // float32 sums of 200 terms of size ~1: agree to a few units in the 5th digit
    const scale = Math.max(...r.sseCheck.closedForm.map(Math.abs));
    closeAll(r.sseCheck.grad.map((g) => g / scale), r.sseCheck.closedForm.map((g) => g / scale), 1e-5);
  });

  it('draws the graph and the loss curve', () => {
    expect(rec.plots).toHaveLength(2);
    expect(rec.lines.some((l) => l.startsWith('grad:'))).toBe(true);
  });
});
