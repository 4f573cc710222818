/** OneCycleLR: the 1cycle policy (Smith & Topin, 2017), PyTorch's OneCycleLR. */
import type { BaseHyperparameters, Optimizer } from '../optimizer.js';
import { boolean, inRange, integer, oneOf, positive } from '../validate.js';
import { LRScheduler, perGroup } from './scheduler.js';

/** Options of {@link OneCycleLR} (PyTorch's names in camelCase, same defaults). */
export interface OneCycleOptions {
  /** The peak lr (one number or one per group). */
  maxLr: number | readonly number[];
  /** Steps in the cycle; or give `epochs` and `stepsPerEpoch`. */
  totalSteps?: number;
  epochs?: number;
  stepsPerEpoch?: number;
  /** Fraction of the cycle spent increasing the lr (default 0.3). */
  pctStart?: number;
  /** `'cos'` (default) or `'linear'`. */
  annealStrategy?: 'cos' | 'linear';
  /** Cycle the momentum (or Adam's β₁) inversely to the lr between baseMomentum and maxMomentum (default true). */
  cycleMomentum?: boolean;
  /** Momentum at the lr's peak (default 0.85). */
  baseMomentum?: number | readonly number[];
  /** Momentum at the start and end (default 0.95). */
  maxMomentum?: number | readonly number[];
  /** initial lr = maxLr / divFactor (default 25). */
  divFactor?: number;
  /** min lr = initial lr / finalDivFactor (default 1e4). */
  finalDivFactor?: number;
  /** Three phases (up, down to the initial lr, then to the min) as in the paper, instead of two (default false). */
  threePhase?: boolean;
}

interface Phase {
  end: number;
  lr: [from: 'initial' | 'max' | 'min', to: 'initial' | 'max' | 'min'];
  momentum: [from: 'base' | 'max', to: 'base' | 'max'];
}

/**
 * The 1cycle policy: the lr warms up from maxLr/divFactor to maxLr over the first pctStart of the
 * cycle, then anneals to maxLr/(divFactor·finalDivFactor); the momentum does the opposite (0.95 →
 * 0.85 → 0.95). Step it once per batch. The values equal PyTorch's for steps 0 … totalSteps − 1;
 * at step totalSteps (reached by the `step()` after the last batch) PyTorch extrapolates past the
 * end of the cycle (to a negative lr with linear annealing) where we keep the final values. As in
 * PyTorch, stepping past `totalSteps` is an error,
 * the optimizer's initial lr is ignored, and with `cycleMomentum` (the default) the optimizer's
 * `momentum` (SGD, RMSprop) or `betas[0]` (Adam) is overwritten every step: note that this turns
 * plain SGD (momentum 0) into momentum SGD. Pass `cycleMomentum: false` to leave it alone.
 *
 * ```text
 * phase k runs from step s_k to e_k:  pct = (t − s_k)/(e_k − s_k)
 * cos:    value = end + (start − end)·(1 + cos(π·pct))/2
 * linear: value = start + (end − start)·pct
 * two phases: e₀ = pctStart·T − 1 (initial → max), e₁ = T − 1 (max → min)
 * ```
 *
 * @example
 * ```ts
 * const sched = new OneCycleLR(opt, { maxLr: 0.01, epochs: 10, stepsPerEpoch: batches.length });
 * ```
 */
export class OneCycleLR extends LRScheduler {
  readonly totalSteps: number;
  readonly cycleMomentum: boolean;
  readonly #phases: Phase[];
  readonly #anneal: (start: number, end: number, pct: number) => number;
  readonly #lrs: { initial: number; max: number; min: number }[];
  readonly #momenta: { base: number; max: number }[];
  readonly #useBeta1: boolean;

  constructor(optimizer: Optimizer<BaseHyperparameters>, opts: OneCycleOptions) {
    super(optimizer);
    const owner = 'OneCycleLR';
    if (opts === null || typeof opts !== 'object') throw new Error(`${owner}: expected options { maxLr, totalSteps, … }`);
    if (opts.totalSteps !== undefined) this.totalSteps = integer(owner, 'totalSteps', opts.totalSteps, 1);
    else if (opts.epochs !== undefined && opts.stepsPerEpoch !== undefined) {
      this.totalSteps = integer(owner, 'epochs', opts.epochs, 1) * integer(owner, 'stepsPerEpoch', opts.stepsPerEpoch, 1);
    } else throw new Error(`${owner}: give either totalSteps or both epochs and stepsPerEpoch`);
    const T = this.totalSteps;
    const pct = inRange(owner, 'pctStart', opts.pctStart ?? 0.3, 0, 1, true);
    const strategy = oneOf(owner, 'annealStrategy', opts.annealStrategy ?? 'cos', ['cos', 'linear'] as const);
    this.#anneal = strategy === 'cos' ? (s, e, p) => e + ((s - e) / 2) * (Math.cos(Math.PI * p) + 1) : (s, e, p) => (e - s) * p + s;
    this.#phases = boolean(owner, 'threePhase', opts.threePhase ?? false)
      ? [
          { end: pct * T - 1, lr: ['initial', 'max'], momentum: ['max', 'base'] },
          { end: 2 * pct * T - 2, lr: ['max', 'initial'], momentum: ['base', 'max'] },
          { end: T - 1, lr: ['initial', 'min'], momentum: ['max', 'max'] },
        ]
      : [
          { end: pct * T - 1, lr: ['initial', 'max'], momentum: ['max', 'base'] },
          { end: T - 1, lr: ['max', 'min'], momentum: ['base', 'max'] },
        ];
    const n = optimizer.paramGroups.length;
    const div = positive(owner, 'divFactor', opts.divFactor ?? 25);
    const finalDiv = positive(owner, 'finalDivFactor', opts.finalDivFactor ?? 1e4);
    this.#lrs = perGroup(owner, 'maxLr', opts.maxLr, n).map((max, i) => {
      positive(owner, n > 1 ? `maxLr[${i}]` : 'maxLr', max);
      return { initial: max / div, max, min: max / div / finalDiv };
    });
    // the schedule starts from maxLr/divFactor, whatever the optimizer's lr was
    optimizer.paramGroups.forEach((g, i) => (g.initialLr = this.#lrs[i].initial));
    this.baseLrs.splice(0, n, ...this.#lrs.map((l) => l.initial));

    this.cycleMomentum = boolean(owner, 'cycleMomentum', opts.cycleMomentum ?? true);
    const defaults = optimizer.defaults as object;
    this.#useBeta1 = 'betas' in defaults;
    if (this.cycleMomentum && !('momentum' in defaults) && !this.#useBeta1) {
      throw new Error(`${owner}: ${optimizer.constructor.name} has no momentum or betas to cycle; pass cycleMomentum: false`);
    }
    const base = perGroup(owner, 'baseMomentum', opts.baseMomentum ?? 0.85, n);
    const max = perGroup(owner, 'maxMomentum', opts.maxMomentum ?? 0.95, n);
    this.#momenta = base.map((b, i) => ({ base: inRange(owner, 'baseMomentum', b, 0, 1), max: inRange(owner, 'maxMomentum', max[i], 0, 1) }));
    this.start();
  }

  /** The annealed value at `step`, between the ends `values(phase)` of the phase that step is in. */
  #at(step: number, values: (phase: Phase) => [number, number]): number {
    let start = 0;
    for (const [k, phase] of this.#phases.entries()) {
      if (step <= phase.end || k === this.#phases.length - 1) {
        const [from, to] = values(phase);
        // PyTorch lets the last step (t = totalSteps) extrapolate past the end of the cycle, which
        // with linear annealing gives a negative lr; we hold the final value instead
        return this.#anneal(from, to, Math.min(1, (step - start) / (phase.end - start)));
      }
      start = phase.end;
    }
    throw new Error('unreachable');
  }

  #checkRange(step: number): void {
    this.checkStep(step);
    if (step > this.totalSteps) throw new Error(`OneCycleLR: tried to step ${step} times; the cycle has totalSteps = ${this.totalSteps}`);
  }

  lrAt(step: number): number[] {
    this.#checkRange(step);
    return this.#lrs.map((l) => this.#at(step, (p) => [l[p.lr[0]], l[p.lr[1]]]));
  }

  /** The momentum (or β₁) of every group after `step` steps. */
  momentumAt(step: number): number[] {
    this.#checkRange(step);
    return this.#momenta.map((m) => this.#at(step, (p) => [m[p.momentum[0]], m[p.momentum[1]]]));
  }

  protected override afterStep(step: number): void {
    if (!this.cycleMomentum) return;
    const momenta = this.momentumAt(step);
    this.optimizer.paramGroups.forEach((g, i) => {
      const group = g as unknown as { momentum?: number; betas?: readonly number[] };
      if (this.#useBeta1) group.betas = [momenta[i], ...(group.betas ?? []).slice(1)];
      else group.momentum = momenta[i];
    });
  }
}
