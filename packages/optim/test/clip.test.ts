/** Gradient clipping: the total norm (several orders) and the scaling, against plain-JS references. */
import { requiresGrad } from '@ml/autograd';
import { Parameter } from '@ml/nn';
import { memory, tensor } from '@ml/tensor';
import type { Tensor } from '@ml/tensor';
import { describe, expect, it } from 'vitest';
import { clipGradNorm, clipGradNormTensor, clipGradValue } from '@ml/optim';

const G1 = [3, -4]; // ‖·‖₂ = 5
const G2 = [[12], [0]]; // ‖·‖₂ = 12 → total 13

function params(dtype: 'float32' | 'float64' = 'float64'): Parameter[] {
  const a = new Parameter(tensor([0, 0], { dtype }));
  const b = new Parameter(tensor([[0], [0]], { dtype }));
  const c = new Parameter(tensor([1], { dtype })); // no gradient: skipped
  a.grad = tensor(G1, { dtype });
  b.grad = tensor(G2, { dtype });
  return [a, b, c];
}

const flat = (t: Tensor | null) => Array.from(t!.dataSync());
const all = [...G1, ...G2.flat()];
const pnorm = (xs: number[], p: number) => (p === Infinity ? Math.max(...xs.map(Math.abs)) : xs.reduce((s, x) => s + Math.abs(x) ** p, 0) ** (1 / p));

function dispose(ps: Parameter[]) {
  for (const p of ps) {
    p.grad?.dispose();
    p.dispose();
  }
}

describe('clipGradNorm', () => {
  for (const p of [2, 1, 3, Infinity]) {
    it(`returns the total ${p}-norm and scales by maxNorm/(total + 1e-6) when it exceeds maxNorm`, async () => {
      const ps = params();
      const total = pnorm(all, p);
      const maxNorm = total / 2;
      expect(await clipGradNorm(ps, maxNorm, p)).toBeCloseTo(total, 12);
      const coef = maxNorm / (total + 1e-6);
      expect(flat(ps[0].grad)).toEqual(G1.map((g) => expect.closeTo(g * coef, 13)));
      expect(flat(ps[1].grad)).toEqual(G2.flat().map((g) => expect.closeTo(g * coef, 13)));
      expect(pnorm([...flat(ps[0].grad), ...flat(ps[1].grad)], p)).toBeCloseTo(maxNorm, 5);
      expect(ps[2].grad).toBeNull();
      dispose(ps);
    });
  }

  it('leaves gradients whose norm is below maxNorm unchanged, bit for bit', async () => {
    const ps = params('float32');
    expect(await clipGradNorm(ps, 100)).toBeCloseTo(13, 5);
    expect(flat(ps[0].grad)).toEqual(G1);
    expect(flat(ps[1].grad)).toEqual(G2.flat());
    dispose(ps);
  });

  it('works on any tensors with gradients and on a single tensor; no gradients → 0', async () => {
    const w = requiresGrad(tensor([6, 8]));
    w.grad = tensor([6, 8]);
    expect(await clipGradNorm(w, 5)).toBeCloseTo(10, 5);
    expect(flat(w.grad)).toEqual([expect.closeTo(3, 5), expect.closeTo(4, 5)]);
    const none = new Parameter(tensor([1]));
    expect(await clipGradNorm([none], 1)).toBe(0);
    w.grad!.dispose();
    w.dispose();
    none.dispose();
  });

  it('a non-finite norm: scales anyway by default (as PyTorch), throws with errorIfNonfinite and leaves the gradients', async () => {
    const ps = params();
    ps[0].grad!.dispose();
    ps[0].grad = tensor([1, Infinity], { dtype: 'float64' });
    await expect(clipGradNorm(ps, 1, 2, { errorIfNonfinite: true })).rejects.toThrow(
      /clipGradNorm: the total norm of order 2 of the gradients is Infinity, so they cannot be clipped/,
    );
    expect(flat(ps[0].grad)).toEqual([1, Infinity]);
    expect(await clipGradNorm(ps, 1)).toBe(Infinity);
    // coefficient 1/∞ = 0: finite entries become 0, the infinite one NaN
    expect(flat(ps[0].grad)).toEqual([0, NaN]);
    expect(flat(ps[1].grad)).toEqual([0, 0]);
    dispose(ps);
  });

  it('clipGradNormTensor: the same, without reading anything back', async () => {
    const ps = params();
    const norm = clipGradNormTensor(ps, 6.5); // ()
    expect(norm.shape).toEqual([]);
    expect(await norm.item()).toBeCloseTo(13, 13);
    expect(flat(ps[0].grad)).toEqual(G1.map((g) => expect.closeTo((g * 6.5) / (13 + 1e-6), 13)));
    norm.dispose();
    dispose(ps);
  });

  it('frees the old gradients and every temporary', async () => {
    const ps = params();
    const before = memory();
    await clipGradNorm(ps, 1);
    clipGradNormTensor(ps, 1, Infinity).dispose();
    clipGradValue(ps, 0.1);
    expect(memory()).toEqual(before);
    dispose(ps);
  });

  it('validates its arguments', async () => {
    const ps = params();
    await expect(clipGradNorm(ps, -1)).rejects.toThrow(/clipGradNorm: maxNorm must be a non-negative number, got -1/);
    await expect(clipGradNorm(ps, 1, 0)).rejects.toThrow(/clipGradNorm: normType must be a positive number or Infinity, got 0/);
    expect(() => clipGradNormTensor(ps, 1, -Infinity)).toThrow(/normType must be a positive number or Infinity, got -Infinity/);
    expect(() => clipGradValue(ps, NaN)).toThrow(/clipGradValue: clipValue must be a non-negative number, got NaN/);
    expect(() => clipGradValue([1 as unknown as Tensor], 1)).toThrow(/clipGradValue: params\[0\] is not a Tensor/);
    dispose(ps);
  });
});

describe('clipGradValue', () => {
  it('clips each element to [−c, c] and keeps NaN', () => {
    const ps = params();
    ps[0].grad!.dispose();
    ps[0].grad = tensor([0.5, NaN], { dtype: 'float64' });
    clipGradValue(ps, 2);
    expect(flat(ps[0].grad)).toEqual([0.5, NaN]);
    expect(flat(ps[1].grad)).toEqual([2, 0]);
    dispose(ps);
  });
});
