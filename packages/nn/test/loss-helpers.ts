/** Helpers shared by the loss tests: float64 inputs, reading values, reference reductions, closeness. */
import type { Reduction } from '@ml/nn';
import { random, tensor } from '@ml/tensor';
import type { Tensor } from '@ml/tensor';
import { expect } from 'vitest';

/** Uniform float64 numbers in [lo, hi) from a fixed seed. */
export const U = (seed: number, shape: readonly number[], lo = -1, hi = 1): Tensor =>
  random.uniform(random.key(seed), shape, { dtype: 'float64', minval: lo, maxval: hi });
/** The elements of `t` as an array. */
export const values = (t: Tensor): number[] => Array.from(t.dataSync());
/** An int32 tensor of `data` with `shape`. */
export const i32 = (data: number[], shape: number[]): Tensor => tensor(data, { dtype: 'int32', shape });
/** A float64 tensor of `data` with `shape`. */
export const f64 = (data: number[], shape: number[]): Tensor => tensor(data, { dtype: 'float64', shape });
export const REDUCTIONS: Reduction[] = ['mean', 'sum', 'none'];

/** The reference reduction of per-element losses. */
export function reduceRef(losses: number[], reduction: Reduction): number | number[] {
  if (reduction === 'none') return losses;
  const s = losses.reduce((a, b) => a + b, 0);
  return reduction === 'sum' ? s : s / losses.length;
}

/** Expects a scalar for a number (a tensor of the same length for an array), each within tol·(1 + |expected|). */
export function expectClose(actual: Tensor, expected: number | number[], tol = 1e-12): void {
  const got = values(actual);
  const want = typeof expected === 'number' ? [expected] : expected;
  expect(actual.shape.length === 0).toBe(typeof expected === 'number');
  expect(got.length).toBe(want.length);
  got.forEach((g, i) => expect(Math.abs(g - want[i]), `element ${i}: got ${g}, expected ${want[i]}`).toBeLessThanOrEqual(tol * (1 + Math.abs(want[i]))));
}
