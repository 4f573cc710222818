/** Shared test helpers: float64 parameters, feeding a gradient sequence, and comparing to plain-JS references. */
import { Parameter } from '@ml/nn';
import { tensor } from '@ml/tensor';
import { expect } from 'vitest';
import type { Optimizer } from '@ml/optim';

export const f64 = (values: number[]): Parameter => new Parameter(tensor(values, { dtype: 'float64' }));

/** Runs `opt` on one parameter with the given gradients (set directly as p.grad); returns θ after each step. */
export function trajectory(make: (ps: Parameter[]) => Optimizer<any>, theta0: number[], grads: number[][]): number[][] {
  const p = f64(theta0);
  const opt = make([p]);
  const out: number[][] = [];
  for (const g of grads) {
    p.grad = tensor(g, { dtype: 'float64' });
    opt.step();
    opt.zeroGrad();
    out.push(Array.from(p.dataSync()));
  }
  opt.dispose();
  p.dispose();
  return out;
}

/** Elementwise |a − b| ≤ tol·max(1, |b|). */
export function expectClose(actual: number[][], expected: number[][], tol = 1e-13): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((row, t) =>
    row.forEach((v, i) => {
      const e = expected[t][i];
      if (Math.abs(v - e) > tol * Math.max(1, Math.abs(e))) throw new Error(`step ${t + 1}, element ${i}: got ${v}, expected ${e}`);
    }),
  );
}

/** A gradient sequence with mixed signs, a zero, and magnitudes that change (so every term matters). */
export const THETA0 = [0.5, -1.25, 2, 0.1];
export const GRADS = [
  [0.3, -1.5, 0.02, 0],
  [-0.2, -0.7, 0.5, 1.1],
  [0.05, 2.5, -0.01, -0.4],
];
