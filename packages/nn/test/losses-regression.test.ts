/**
 * Regression losses (mse, l1, huber, smoothL1) against float64 references written as plain loops
 * of PyTorch's formulas, for every reduction; gradients by gradcheck w.r.t. input and target.
 */
import { gradcheck } from '@ml/autograd';
import { huber, l1, mse, smoothL1 } from '@ml/nn';
import type { Reduction } from '@ml/nn';
import { tensor } from '@ml/tensor';
import type { Tensor } from '@ml/tensor';
import { describe, expect, it } from 'vitest';
import { U, values, REDUCTIONS, reduceRef, expectClose } from './loss-helpers.js';

type Elementwise = (d: number) => number;
const CASES: [string, (x: Tensor, y: Tensor, r: Reduction) => Tensor, Elementwise][] = [
  ['mse', (x, y, reduction) => mse(x, y, { reduction }), (d) => d * d],
  ['l1', (x, y, reduction) => l1(x, y, { reduction }), (d) => Math.abs(d)],
  ['huber δ=1', (x, y, reduction) => huber(x, y, { reduction }), (d) => (Math.abs(d) < 1 ? 0.5 * d * d : Math.abs(d) - 0.5)],
  ['huber δ=0.4', (x, y, reduction) => huber(x, y, { delta: 0.4, reduction }), (d) => (Math.abs(d) < 0.4 ? 0.5 * d * d : 0.4 * (Math.abs(d) - 0.2))],
  ['huber δ=2.5', (x, y, reduction) => huber(x, y, { delta: 2.5, reduction }), (d) => (Math.abs(d) < 2.5 ? 0.5 * d * d : 2.5 * (Math.abs(d) - 1.25))],
  ['smoothL1 β=1', (x, y, reduction) => smoothL1(x, y, { reduction }), (d) => (Math.abs(d) < 1 ? 0.5 * d * d : Math.abs(d) - 0.5)],
  ['smoothL1 β=0.3', (x, y, reduction) => smoothL1(x, y, { beta: 0.3, reduction }), (d) => (Math.abs(d) < 0.3 ? (0.5 * d * d) / 0.3 : Math.abs(d) - 0.15)],
  ['smoothL1 β=0 (= l1)', (x, y, reduction) => smoothL1(x, y, { beta: 0, reduction }), (d) => Math.abs(d)],
];

describe('regression losses', () => {
  const x = U(1, [4, 5], -3, 3); // differences span both sides of every threshold
  const y = U(2, [4, 5], -3, 3);
  const diffs = values(x).map((v, i) => v - values(y)[i]);

  for (const [name, loss, ref] of CASES) {
    it(`${name} matches the float64 reference for every reduction`, () => {
      for (const reduction of REDUCTIONS) {
        const out = loss(x, y, reduction);
        expect(out.dtype).toBe('float64');
        if (reduction === 'none') expect(out.shape).toEqual([4, 5]);
        expectClose(out, reduceRef(diffs.map(ref), reduction));
        out.dispose();
      }
    });

    it(`${name}: gradients w.r.t. input and target (gradcheck)`, () => {
      for (const reduction of REDUCTIONS) {
        const r = gradcheck((a, b) => loss(a, b, reduction), [x, y]);
        expect(r.ok, r.message).toBe(true);
      }
    });
  }

  it('the quadratic and linear pieces join where PyTorch puts them', () => {
    // |d| = δ exactly is on the linear side; both sides agree there
    const d = tensor([0.5, 1, 1.5], { dtype: 'float64' });
    const z = tensor([0, 0, 0], { dtype: 'float64' });
    expectClose(huber(d, z, { delta: 1, reduction: 'none' }), [0.125, 0.5, 1]);
    expectClose(huber(d, z, { delta: 2, reduction: 'none' }), [0.125, 0.5, 1.125]);
    expectClose(smoothL1(d, z, { beta: 2, reduction: 'none' }), [0.0625, 0.25, 0.5625]);
  });

  it('huber(δ) = δ · smoothL1(β = δ)', () => {
    const a = huber(x, y, { delta: 0.7, reduction: 'none' });
    const b = smoothL1(x, y, { beta: 0.7, reduction: 'none' });
    expectClose(a, values(b).map((v) => 0.7 * v));
  });

  it('float32 inputs stay float32', () => {
    const a = tensor([1, 2, 3]);
    const b = tensor([1, 2, 5]);
    const out = mse(a, b);
    expect(out.dtype).toBe('float32');
    expect(out.dataSync()[0]).toBeCloseTo(4 / 3, 6);
  });
});
