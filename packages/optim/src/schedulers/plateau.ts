/** ReduceLROnPlateau: cut the lr when a metric stops improving (PyTorch's ReduceLROnPlateau). */
import { Optimizer } from '../optimizer.js';
import type { BaseHyperparameters } from '../optimizer.js';
import { inRange, integer, nonNegative, oneOf } from '../validate.js';
import { perGroup } from './scheduler.js';

/** Options of {@link ReduceLROnPlateau} (PyTorch's defaults). */
export interface PlateauOptions {
  /** `'min'` (default: the metric should fall, e.g. a loss) or `'max'` (e.g. an accuracy). */
  mode?: 'min' | 'max';
  /** new lr = lr · factor (default 0.1; must be < 1). */
  factor?: number;
  /** Bad steps tolerated before cutting (default 10). */
  patience?: number;
  /** How much better counts as better (default 1e-4). */
  threshold?: number;
  /** `'rel'` (default: best·(1 ∓ threshold)) or `'abs'` (best ∓ threshold). */
  thresholdMode?: 'rel' | 'abs';
  /** Steps to wait after a cut before counting bad steps again (default 0). */
  cooldown?: number;
  /** Lower bound of the lr (one number or one per group; default 0). */
  minLr?: number | readonly number[];
  /** A cut smaller than eps is skipped (default 1e-8). */
  eps?: number;
}

/** The position of a {@link ReduceLROnPlateau}, plain JSON. */
export interface PlateauState {
  lastEpoch: number;
  best: number | null;
  numBadEpochs: number;
  cooldownCounter: number;
  lastLr: number[];
}

/**
 * Reduces every group's lr by `factor` once the metric passed to `step(metric)` has not improved
 * for more than `patience` steps; then waits `cooldown` steps before counting again.
 *
 * ```text
 * better(a) = a < best·(1 − threshold)     (min, rel)     a < best − threshold (min, abs)
 *             a > best·(1 + threshold)     (max, rel)     a > best + threshold (max, abs)
 * bad ← better(a) ? 0 : bad + 1;  in cooldown: cooldown − 1, bad ← 0
 * if bad > patience: lr ← max(lr·factor, minLr) (if that changes it by more than eps); cooldown ← cooldown₀; bad ← 0
 * ```
 *
 * A NaN metric is never better. With patience 0, the first step that is not an improvement cuts.
 *
 * @example
 * ```ts
 * const plateau = new ReduceLROnPlateau(opt, { factor: 0.5, patience: 3 });
 * for (const epoch of epochs) { train(); plateau.step(await validationLoss()); }
 * ```
 */
export class ReduceLROnPlateau {
  readonly optimizer: Optimizer<BaseHyperparameters>;
  readonly mode: 'min' | 'max';
  readonly factor: number;
  readonly patience: number;
  readonly threshold: number;
  readonly thresholdMode: 'rel' | 'abs';
  readonly cooldown: number;
  readonly minLrs: readonly number[];
  readonly eps: number;
  /** Calls to `step` so far. */
  lastEpoch = 0;
  /** The best metric so far (±Infinity before the first step). */
  best: number;
  numBadEpochs = 0;
  cooldownCounter = 0;
  #lastLr: number[];

  constructor(optimizer: Optimizer<BaseHyperparameters>, opts: PlateauOptions = {}) {
    const owner = 'ReduceLROnPlateau';
    if (!(optimizer instanceof Optimizer)) throw new Error(`${owner}: expected an Optimizer, got ${optimizer === null ? 'null' : typeof optimizer}`);
    this.optimizer = optimizer;
    this.mode = oneOf(owner, 'mode', opts.mode ?? 'min', ['min', 'max'] as const);
    this.factor = inRange(owner, 'factor', opts.factor ?? 0.1, 0, 1);
    this.patience = integer(owner, 'patience', opts.patience ?? 10, 0);
    this.threshold = nonNegative(owner, 'threshold', opts.threshold ?? 1e-4);
    this.thresholdMode = oneOf(owner, 'thresholdMode', opts.thresholdMode ?? 'rel', ['rel', 'abs'] as const);
    this.cooldown = integer(owner, 'cooldown', opts.cooldown ?? 0, 0);
    this.minLrs = perGroup(owner, 'minLr', opts.minLr ?? 0, optimizer.paramGroups.length).map((v, i) => nonNegative(owner, `minLr[${i}]`, v));
    this.eps = nonNegative(owner, 'eps', opts.eps ?? 1e-8);
    this.best = this.mode === 'min' ? Infinity : -Infinity;
    this.#lastLr = optimizer.paramGroups.map((g) => g.lr);
  }

  #isBetter(a: number): boolean {
    const { best, threshold } = this;
    if (this.mode === 'min') return this.thresholdMode === 'rel' ? a < best * (1 - threshold) : a < best - threshold;
    return this.thresholdMode === 'rel' ? a > best * (1 + threshold) : a > best + threshold;
  }

  /** Records this step's metric (e.g. the validation loss) and cuts the lrs if it has plateaued. */
  step(metric: number): void {
    if (typeof metric !== 'number') throw new Error(`ReduceLROnPlateau.step: metric must be a number, got ${typeof metric} (read a tensor with await t.item())`);
    const groups = this.optimizer.paramGroups;
    if (groups.length !== this.minLrs.length) {
      throw new Error(`ReduceLROnPlateau.step: the optimizer has ${groups.length} parameter group(s), the schedule was made for ${this.minLrs.length}`);
    }
    this.lastEpoch++;
    if (this.#isBetter(metric)) {
      this.best = metric;
      this.numBadEpochs = 0;
    } else this.numBadEpochs++;
    if (this.cooldownCounter > 0) {
      this.cooldownCounter--;
      this.numBadEpochs = 0; // bad steps in cooldown do not count
    }
    if (this.numBadEpochs > this.patience) {
      groups.forEach((g, i) => {
        const next = Math.max(g.lr * this.factor, this.minLrs[i]);
        if (g.lr - next > this.eps) g.lr = next;
      });
      this.cooldownCounter = this.cooldown;
      this.numBadEpochs = 0;
    }
    this.#lastLr = groups.map((g) => g.lr);
  }

  /** Whether the schedule is waiting after a cut. */
  get inCooldown(): boolean {
    return this.cooldownCounter > 0;
  }

  /** The lrs after the last `step`, one per group. */
  getLastLr(): number[] {
    return [...this.#lastLr];
  }

  /** The schedule's position, plain JSON (an infinite `best` is stored as null). */
  stateDict(): PlateauState {
    return {
      lastEpoch: this.lastEpoch,
      best: Number.isFinite(this.best) ? this.best : null,
      numBadEpochs: this.numBadEpochs,
      cooldownCounter: this.cooldownCounter,
      lastLr: [...this.#lastLr],
    };
  }

  /** Restores a position saved by `stateDict()`. */
  loadStateDict(s: PlateauState): this {
    const owner = 'ReduceLROnPlateau.loadStateDict';
    if (!s || typeof s !== 'object') throw new Error(`${owner}: expected the object returned by stateDict()`);
    integer(owner, 'lastEpoch', s.lastEpoch, 0);
    integer(owner, 'numBadEpochs', s.numBadEpochs, 0);
    integer(owner, 'cooldownCounter', s.cooldownCounter, 0);
    if (s.best !== null && typeof s.best !== 'number') throw new Error(`${owner}: best must be a number or null, got ${typeof s.best}`);
    if (!Array.isArray(s.lastLr) || s.lastLr.length !== this.minLrs.length) throw new Error(`${owner}: lastLr must have ${this.minLrs.length} entries`);
    this.lastEpoch = s.lastEpoch;
    this.best = s.best ?? (this.mode === 'min' ? Infinity : -Infinity);
    this.numBadEpochs = s.numBadEpochs;
    this.cooldownCounter = s.cooldownCounter;
    this.#lastLr = [...s.lastLr];
    return this;
  }
}
