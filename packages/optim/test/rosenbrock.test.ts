/**
 * Every optimizer minimizes the Rosenbrock function f(x, y) = (1 − x)² + 100·(y − x²)² from
 * (−1.5, 2) to its minimum (1, 1), with gradients from @ml/autograd's backward. The banana-shaped
 * valley is hard for plain gradient descent; the step counts are chosen so that each run stays
 * well under the tolerance (Adagrad, whose rates only shrink, needs the most steps).
 */
import { backward } from '@ml/autograd';
import { Parameter } from '@ml/nn';
import { memory, scope, tensor } from '@ml/tensor';
import { describe, expect, it } from 'vitest';
import { Adagrad, Adam, AdamW, RMSprop, SGD } from '@ml/optim';
import type { Optimizer } from '@ml/optim';

const rosenbrock = (p: Parameter) =>
  scope(() => {
    const x = p.slice([0]); // (1,)
    const y = p.slice([1]);
    return x.neg().add(1).square().add(y.sub(x.square()).square().mul(100)).sum(); // ()
  });

const CASES: [string, (ps: Parameter[]) => Optimizer<any>, number, number][] = [
  ['SGD with momentum', (ps) => new SGD(ps, { lr: 1e-3, momentum: 0.9 }), 1500, 1e-2],
  ['SGD with Nesterov momentum', (ps) => new SGD(ps, { lr: 1e-3, momentum: 0.9, nesterov: true }), 1500, 1e-2],
  ['Adagrad', (ps) => new Adagrad(ps, { lr: 1.8 }), 6000, 2e-2],
  ['RMSprop with momentum', (ps) => new RMSprop(ps, { lr: 1e-3, momentum: 0.9 }), 1500, 1e-2],
  ['Adam', (ps) => new Adam(ps, { lr: 0.05 }), 2000, 1e-2],
  ['AdamW', (ps) => new AdamW(ps, { lr: 0.05, weightDecay: 1e-4 }), 1500, 1e-2],
];

describe('Rosenbrock from (−1.5, 2)', () => {
  for (const [name, make, steps, tol] of CASES) {
    it(`${name} reaches (1, 1) within ${tol} in ${steps} steps, with flat memory`, () => {
      const p = new Parameter(tensor([-1.5, 2], { dtype: 'float64' }));
      const opt = make([p]);
      const f0 = scope(() => rosenbrock(p).dataSync()[0]);
      let mem = memory();
      for (let t = 0; t < steps; t++) {
        scope(() => backward(rosenbrock(p)));
        opt.step();
        opt.zeroGrad();
        if (t === 1) mem = memory(); // the state exists from here on
      }
      expect(memory()).toEqual(mem);
      const [x, y] = p.dataSync();
      expect(Math.hypot(x - 1, y - 1)).toBeLessThan(tol);
      expect(scope(() => rosenbrock(p).dataSync()[0])).toBeLessThan(f0 * 1e-4);
      opt.dispose();
      p.dispose();
    });
  }
});
