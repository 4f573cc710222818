/** LambdaLR: the lr is the initial lr times any function of the step. */
import type { BaseHyperparameters, Optimizer } from '../optimizer.js';
import { LRScheduler } from './scheduler.js';

/**
 * lr(t) = lr₀ · f(t), with one f for all groups or one per group (PyTorch's LambdaLR).
 *
 * @example
 * ```ts
 * const sched = new LambdaLR(opt, (t) => Math.min(1, (t + 1) / 100)); // linear warmup over 100 steps
 * ```
 */
export class LambdaLR extends LRScheduler {
  readonly lrLambdas: readonly ((step: number) => number)[];

  constructor(optimizer: Optimizer<BaseHyperparameters>, lrLambda: ((step: number) => number) | readonly ((step: number) => number)[]) {
    super(optimizer);
    const n = optimizer.paramGroups.length;
    const fns = Array.isArray(lrLambda) ? [...lrLambda] : Array.from({ length: n }, () => lrLambda as (step: number) => number);
    if (fns.length !== n) throw new Error(`LambdaLR: got ${fns.length} functions, the optimizer has ${n} parameter group(s)`);
    fns.forEach((f, i) => {
      if (typeof f !== 'function') throw new Error(`LambdaLR: lrLambda${Array.isArray(lrLambda) ? `[${i}]` : ''} must be a function, got ${typeof f}`);
    });
    this.lrLambdas = fns;
    this.start();
  }

  lrAt(step: number): number[] {
    this.checkStep(step);
    return this.baseLrs.map((lr, i) => {
      const f = this.lrLambdas[i](step);
      if (typeof f !== 'number' || !Number.isFinite(f) || f < 0) throw new Error(`LambdaLR: lrLambda(${step}) must return a non-negative finite number, got ${String(f)}`);
      return lr * f;
    });
  }
}
