/** Parameter-gradient check shared by the layer tests: `backward` against central differences. */
import { backward, noGrad } from '@ml/autograd';
import type { Module } from '@ml/nn';
import { scope, tensor } from '@ml/tensor';
import type { Tensor } from '@ml/tensor';
import { expect } from 'vitest';

/**
 * Checks every parameter gradient that `backward` gives against central differences of
 * `loss(m)` (float64 modules, tiny sizes): |analytic − numeric| < tol + 1e-4·|numeric|.
 */
export function checkParamGrads(m: Module, loss: () => Tensor, tol = 1e-6): void {
  m.zeroGrad();
  const l = loss();
  backward(l);
  l.dispose();
  const eps = 1e-6;
  for (const [name, p] of m.namedParameters()) {
    const analytic = p.grad!.dataSync();
    const base = Float64Array.from(p.dataSync());
    const at = (j: number, delta: number) => {
      const data = Float64Array.from(base);
      data[j] += delta;
      const moved = tensor(data, { shape: p.shape, dtype: 'float64' });
      p.assign(moved);
      moved.dispose();
      return noGrad(() => scope(() => loss().dataSync()[0]));
    };
    for (let j = 0; j < base.length; j++) {
      const numeric = (at(j, eps) - at(j, -eps)) / (2 * eps);
      expect(Math.abs(analytic[j] - numeric), `${name}[${j}]: analytic ${analytic[j]}, numeric ${numeric}`).toBeLessThan(tol + 1e-4 * Math.abs(numeric));
    }
    const restored = tensor(base, { shape: p.shape, dtype: 'float64' });
    p.assign(restored);
    restored.dispose();
  }
  m.zeroGrad();
}
