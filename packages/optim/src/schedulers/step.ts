/** Step-wise decays: StepLR, MultiStepLR, ExponentialLR. */
import type { BaseHyperparameters, Optimizer } from '../optimizer.js';
import { integer, nonNegative } from '../validate.js';
import { LRScheduler } from './scheduler.js';

/**
 * Multiplies the lr by γ every `stepSize` steps: lr(t) = lr₀ · γ^⌊t / stepSize⌋.
 *
 * @example
 * ```ts
 * const sched = new StepLR(opt, { stepSize: 30, gamma: 0.1 }); // 0.1 for 30 epochs, then 0.01…
 * for (let epoch = 0; epoch < 90; epoch++) { train(); sched.step(); }
 * ```
 */
export class StepLR extends LRScheduler {
  readonly stepSize: number;
  readonly gamma: number;

  constructor(optimizer: Optimizer<BaseHyperparameters>, opts: { stepSize: number; gamma?: number }) {
    super(optimizer);
    this.stepSize = integer('StepLR', 'stepSize', opts?.stepSize, 1);
    this.gamma = nonNegative('StepLR', 'gamma', opts.gamma ?? 0.1);
    this.start();
  }

  lrAt(step: number): number[] {
    this.checkStep(step);
    return this.baseLrs.map((lr) => lr * this.gamma ** Math.floor(step / this.stepSize));
  }
}

/**
 * Multiplies the lr by γ at each milestone: lr(t) = lr₀ · γ^(number of milestones ≤ t). A
 * milestone listed twice counts twice, as in PyTorch.
 *
 * @example
 * ```ts
 * const sched = new MultiStepLR(opt, { milestones: [30, 80], gamma: 0.1 });
 * ```
 */
export class MultiStepLR extends LRScheduler {
  readonly milestones: readonly number[];
  readonly gamma: number;

  constructor(optimizer: Optimizer<BaseHyperparameters>, opts: { milestones: readonly number[]; gamma?: number }) {
    super(optimizer);
    if (!Array.isArray(opts?.milestones)) throw new Error(`MultiStepLR: milestones must be an array of integers ≥ 1, got ${String(opts?.milestones)}`);
    this.milestones = opts.milestones.map((m, i) => integer('MultiStepLR', `milestones[${i}]`, m, 1)).sort((a, b) => a - b);
    this.gamma = nonNegative('MultiStepLR', 'gamma', opts.gamma ?? 0.1);
    this.start();
  }

  lrAt(step: number): number[] {
    this.checkStep(step);
    const passed = this.milestones.filter((m) => m <= step).length;
    return this.baseLrs.map((lr) => lr * this.gamma ** passed);
  }
}

/**
 * Multiplies the lr by γ every step: lr(t) = lr₀ · γᵗ.
 *
 * @example
 * ```ts
 * const sched = new ExponentialLR(opt, { gamma: 0.95 });
 * ```
 */
export class ExponentialLR extends LRScheduler {
  readonly gamma: number;

  constructor(optimizer: Optimizer<BaseHyperparameters>, opts: { gamma: number }) {
    super(optimizer);
    this.gamma = nonNegative('ExponentialLR', 'gamma', opts?.gamma);
    this.start();
  }

  lrAt(step: number): number[] {
    this.checkStep(step);
    return this.baseLrs.map((lr) => lr * this.gamma ** step);
  }
}
