/** Cosine schedules: CosineAnnealingLR, and linear warmup followed by cosine decay. */
import type { BaseHyperparameters, Optimizer } from '../optimizer.js';
import { integer, nonNegative } from '../validate.js';
import { LRScheduler, perGroup } from './scheduler.js';

/**
 * Cosine annealing (SGDR without restarts; PyTorch's CosineAnnealingLR in closed form):
 * lr(t) = η_min + (lr₀ − η_min) · (1 + cos(π t / T_max)) / 2. It reaches η_min at t = T_max and,
 * like PyTorch's, climbs back after that (period 2·T_max).
 *
 * @example
 * ```ts
 * const sched = new CosineAnnealingLR(opt, { tMax: 100, etaMin: 1e-5 });
 * ```
 */
export class CosineAnnealingLR extends LRScheduler {
  readonly tMax: number;
  readonly etaMin: number;

  constructor(optimizer: Optimizer<BaseHyperparameters>, opts: { tMax: number; etaMin?: number }) {
    super(optimizer);
    this.tMax = integer('CosineAnnealingLR', 'tMax', opts?.tMax, 1);
    this.etaMin = nonNegative('CosineAnnealingLR', 'etaMin', opts.etaMin ?? 0);
    this.start();
  }

  lrAt(step: number): number[] {
    this.checkStep(step);
    const c = (1 + Math.cos((Math.PI * step) / this.tMax)) / 2;
    return this.baseLrs.map((lr) => this.etaMin + (lr - this.etaMin) * c);
  }
}

/**
 * Linear warmup, then cosine decay to a floor: the schedule used to train GPT-style models.
 *
 * ```text
 * t < W:      lr(t) = lr₀ · (t + 1) / W
 * W ≤ t ≤ T:  lr(t) = lr_min + (lr₀ − lr_min) · (1 + cos(π (t − W) / (T − W))) / 2
 * t > T:      lr(t) = lr_min
 * ```
 *
 * with W = warmupSteps, T = totalSteps and lr_min = minLr (one number or one per group). The
 * first step already has a non-zero lr, and the warmup ends at lr₀ exactly at t = W.
 *
 * @example
 * ```ts
 * const sched = new LinearWarmupCosine(opt, { warmupSteps: 700, totalSteps: 600_000, minLr: 6e-5 });
 * for (let it = 0; it < 600_000; it++) { trainStep(); sched.step(); }
 * ```
 */
export class LinearWarmupCosine extends LRScheduler {
  readonly warmupSteps: number;
  readonly totalSteps: number;
  readonly minLrs: readonly number[];

  constructor(optimizer: Optimizer<BaseHyperparameters>, opts: { warmupSteps: number; totalSteps: number; minLr?: number | readonly number[] }) {
    super(optimizer);
    const owner = 'LinearWarmupCosine';
    this.warmupSteps = integer(owner, 'warmupSteps', opts?.warmupSteps, 0);
    this.totalSteps = integer(owner, 'totalSteps', opts.totalSteps, 1);
    if (this.warmupSteps > this.totalSteps) throw new Error(`${owner}: warmupSteps (${this.warmupSteps}) must not exceed totalSteps (${this.totalSteps})`);
    this.minLrs = perGroup(owner, 'minLr', opts.minLr ?? 0, this.baseLrs.length).map((v, i) => nonNegative(owner, `minLr[${i}]`, v));
    this.start();
  }

  lrAt(step: number): number[] {
    this.checkStep(step);
    const W = this.warmupSteps;
    const T = this.totalSteps;
    return this.baseLrs.map((lr, i) => {
      const min = this.minLrs[i];
      if (step < W) return (lr * (step + 1)) / W;
      if (step >= T) return min;
      const c = (1 + Math.cos((Math.PI * (step - W)) / (T - W))) / 2;
      return min + (lr - min) * c;
    });
  }
}
