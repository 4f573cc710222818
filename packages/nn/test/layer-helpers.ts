/** Helpers shared by the layer tests: float64 inputs, reading values, closeness and gradient checks. */
import { gradcheck } from '@ml/autograd';
import { memory, random, scope } from '@ml/tensor';
import type { Tensor } from '@ml/tensor';
import { expect } from 'vitest';
import type { Module } from '@ml/nn';

/** Uniform float64 numbers in [lo, hi) from a fixed seed. */
export function rand64(seed: number, shape: readonly number[], lo = -1, hi = 1): Tensor {
  return random.uniform(random.key(seed), shape, { dtype: 'float64', minval: lo, maxval: hi });
}

/** The elements of `t` as plain numbers (row-major). */
export function values(t: Tensor): number[] {
  return Array.from(t.dataSync(), Number);
}

/** Uniform numbers in [−1, 1) from a fixed seed, float64 unless told. */
export const U = (seed: number, shape: number[], dtype: 'float32' | 'float64' = 'float64') =>
  random.uniform(random.key(seed), shape, { minval: -1, maxval: 1, dtype });

/** Row-major strides of a shape. */
export function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) s[i] = s[i + 1] * shape[i + 1];
  return s;
}

/** Expects equal lengths and |a − b| ≤ atol + rtol·|b| elementwise, reporting the worst element. */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, atol = 1e-9, rtol = 1e-9): void {
  expect(actual.length).toBe(expected.length);
  let worst = -1;
  let worstErr = 0;
  for (let i = 0; i < expected.length; i++) {
    const err = Math.abs(actual[i] - expected[i]) - (atol + rtol * Math.abs(expected[i]));
    if (!(err <= 0) && (worst < 0 || err > worstErr || Number.isNaN(err))) {
      worst = i;
      worstErr = err;
    }
  }
  if (worst >= 0) expect.fail(`element ${worst}: got ${actual[worst]}, expected ${expected[worst]}`);
}

/** Gradcheck (float64) of `f` at `inputs`; fails with the report's message. */
export function expectGradOk(f: (...xs: Tensor[]) => Tensor, inputs: Tensor[], opts: { atol?: number; rtol?: number; eps?: number } = {}): void {
  const report = gradcheck(f, inputs, opts);
  if (!report.ok) expect.fail(report.message);
}

/**
 * Gradcheck of a module's forward with respect to its input and the named parameter fields: the
 * fields are pointed at gradcheck's inputs for the duration of each call.
 */
export function expectModuleGradOk(m: Module, x: Tensor, names: string[], opts: { atol?: number; rtol?: number; eps?: number } = {}): void {
  const fields = m as unknown as Record<string, Tensor>;
  const original = names.map((n) => fields[n]);
  const f = (xi: Tensor, ...ps: Tensor[]): Tensor => {
    names.forEach((n, i) => (fields[n] = ps[i]));
    try {
      return m.forward(xi) as Tensor;
    } finally {
      names.forEach((n, i) => (fields[n] = original[i]));
    }
  };
  expectGradOk(f, [x, ...original], opts);
}

/** Standard normal CDF (Abramowitz–Stegun 7.1.26 erf, |error| < 1.5e-7). */
export function normalCdf(z: number): number {
  const t = 1 / (1 + 0.3275911 * (Math.abs(z) / Math.SQRT2));
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-(z * z) / 2);
  return z >= 0 ? 0.5 * (1 + y) : 0.5 * (1 - y);
}

/**
 * Two-sided confidence interval for a sample variance s² of n normal draws with true variance σ²:
 * (n − 1)s²/σ² ~ χ²(n − 1), approximated for large n by Wilson–Hilferty. Returns [lo, hi] for s²/σ².
 */
export function varianceRatioInterval(n: number, z = 3.29): [number, number] {
  const k = n - 1;
  const c = 2 / (9 * k);
  const q = (zz: number) => (1 - c + zz * Math.sqrt(c)) ** 3; // χ²_k quantile / k
  return [q(-z), q(z)];
}

/** erf by its Maclaurin series, `terms` terms (120: plenty for |x| ≤ 4; 100: ~1e-12 for |x| ≤ 3). */
export function erf(x: number, terms = 120): number {
  let term = x;
  let sum = x;
  for (let n = 1; n < terms; n++) {
    term *= (-x * x) / n;
    sum += term / (2 * n + 1);
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
}

/**
 * Expects memory to be flat over repeated calls: after one warm-up `step()`, three more `step()`s
 * and then (if given) three `forward()`s, each inside `scope`, leave `memory()` as it was.
 */
export function expectFlatMemory(step: () => void, forward?: () => unknown): void {
  step();
  const before = memory();
  for (let i = 0; i < 3; i++) step();
  if (forward) for (let i = 0; i < 3; i++) scope(() => void forward());
  expect(memory()).toEqual(before);
}
