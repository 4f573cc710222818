/**
 * Dynamic loss scaling, as torch.amp.GradScaler. In float16 training, small gradients underflow
 * to zero; multiplying the loss by a large factor S before `backward` lifts them into range, and
 * dividing the gradients by S before the step undoes it. S is chosen on the fly: when a step's
 * gradients contain inf or NaN (S too large: they overflowed), the step is skipped and S halves;
 * after `growthInterval` good steps in a row, S doubles.
 *
 * Float32, what @ml trains in today, has the exponent range of float32 (down to ~1e-38, ~1e-45
 * subnormal), so gradients practically never underflow and a scaler is rarely needed; it still
 * gives a useful guard that skips steps with non-finite gradients.
 */
import { noGrad } from '@ml/autograd';
import { keep, logicalOr, scope, zeros } from '@ml/tensor';
import type { Tensor } from '@ml/tensor';
import type { BaseHyperparameters, Optimizer } from './optimizer.js';
import { boolean, inRange, integer, positive } from './validate.js';

/** Options of {@link GradScaler} (PyTorch's defaults). */
export interface GradScalerOptions {
  /** The starting scale S (default 2¹⁶). */
  initScale?: number;
  /** S ← S·growthFactor after growthInterval good steps (default 2). */
  growthFactor?: number;
  /** S ← S·backoffFactor after a step with inf/NaN gradients (default 0.5). */
  backoffFactor?: number;
  /** Good steps in a row before S grows (default 2000). */
  growthInterval?: number;
  /** false: every method passes through (scale returns the loss, step always steps) (default true). */
  enabled?: boolean;
}

/** A scaler's state, plain JSON. */
export interface GradScalerState {
  scale: number;
  growthFactor: number;
  backoffFactor: number;
  growthInterval: number;
  growthTracker: number;
}

interface Pending {
  /** bool (): whether any gradient had inf/NaN after unscaling. */
  foundInf: Tensor;
  /** Read by `step`. */
  skipped?: boolean;
}

type AnyOptimizer = Optimizer<BaseHyperparameters>; // (spelt out in public signatures)

/**
 * @example
 * ```ts
 * const scaler = new GradScaler();
 * for (const batch of batches) {
 *   const loss = lossOf(batch);
 *   backward(scaler.scale(loss));                       // gradients of S·loss
 *   scaler.unscale(opt);                                // optional: true gradients, e.g. to clip them
 *   await clipGradNorm(model.parameters(), 1.0);
 *   await scaler.step(opt);                             // skipped if any gradient is inf/NaN
 *   scaler.update();                                    // adjust S
 *   opt.zeroGrad();
 * }
 * ```
 */
export class GradScaler {
  readonly enabled: boolean;
  readonly growthFactor: number;
  readonly backoffFactor: number;
  readonly growthInterval: number;
  #scale: number;
  #growthTracker = 0;
  readonly #records = new Map<AnyOptimizer, Pending>();

  constructor(opts: GradScalerOptions = {}) {
    const owner = 'GradScaler';
    this.enabled = boolean(owner, 'enabled', opts.enabled ?? true);
    this.#scale = positive(owner, 'initScale', opts.initScale ?? 2 ** 16);
    this.growthFactor = positive(owner, 'growthFactor', opts.growthFactor ?? 2);
    if (this.growthFactor <= 1) throw new Error(`${owner}: growthFactor must be > 1, got ${this.growthFactor}`);
    this.backoffFactor = inRange(owner, 'backoffFactor', opts.backoffFactor ?? 0.5, 0, 1);
    if (this.backoffFactor === 0) throw new Error(`${owner}: backoffFactor must be in (0, 1), got 0`);
    this.growthInterval = integer(owner, 'growthInterval', opts.growthInterval ?? 2000, 1);
  }

  /** The current scale S (1 when disabled). */
  getScale(): number {
    return this.enabled ? this.#scale : 1;
  }

  /** Good steps since the scale last changed. */
  get growthTracker(): number {
    return this.#growthTracker;
  }

  /** loss · S (the loss itself when disabled). Call `backward` on the result. */
  scale(loss: Tensor): Tensor {
    if (!this.enabled) return loss;
    if (!(loss as { __isTensor?: unknown } | null)?.__isTensor) throw new Error(`GradScaler.scale: expected a Tensor, got ${typeof loss}`);
    return loss.mul(this.#scale);
  }

  /**
   * Divides the gradients of `optimizer`'s parameters by S (replacing each `p.grad`) and records
   * whether any is inf or NaN. Call it before clipping or inspecting gradients; `step` calls it if
   * you did not. At most once per optimizer between `update()`s.
   */
  unscale(optimizer: Optimizer<BaseHyperparameters>): void {
    if (!this.enabled) return;
    if (this.#records.has(optimizer)) {
      throw new Error(`GradScaler.unscale: already called${this.#records.get(optimizer)!.skipped !== undefined ? ', and step() too,' : ''} for this optimizer since the last update()`);
    }
    const inv = Math.fround(1 / this.#scale); // PyTorch: the reciprocal in float64, rounded to float32
    const params = optimizer.paramGroups.flatMap((g) => g.params).filter((p) => p.grad);
    const foundInf = noGrad(() =>
      scope(() => {
        let any: Tensor | null = null;
        for (const p of params) {
          const g = p.grad as Tensor;
          const bad = g.isFinite().logicalNot().any(); // ()
          any = any ? logicalOr(any, bad) : bad;
          p.grad = keep(g.mul(inv));
          g.dispose();
        }
        return keep(any ?? zeros([], { dtype: 'bool', backend: optimizer.paramGroups[0]?.params[0]?.backend }));
      }),
    );
    this.#records.set(optimizer, { foundInf });
  }

  /**
   * Unscales (if `unscale` was not called), then runs `optimizer.step()` unless a gradient was
   * inf or NaN. Reads one boolean back from the device, hence async.
   * @returns whether the optimizer stepped
   */
  async step(optimizer: Optimizer<BaseHyperparameters>): Promise<boolean> {
    if (!this.enabled) {
      optimizer.step();
      return true;
    }
    if (this.#records.get(optimizer)?.skipped !== undefined) throw new Error('GradScaler.step: already called for this optimizer since the last update()');
    if (!this.#records.has(optimizer)) this.unscale(optimizer);
    const record = this.#records.get(optimizer)!;
    record.skipped = Boolean(await record.foundInf.item());
    if (!record.skipped) optimizer.step();
    return !record.skipped;
  }

  /**
   * Adjusts S after the step(s) of this iteration: S·backoffFactor if any optimizer's step was
   * skipped (and the count of good steps restarts), else S·growthFactor once growthInterval good
   * steps have accumulated (unless that would overflow to ∞). `newScale` sets S directly instead.
   */
  update(newScale?: number): void {
    if (!this.enabled) return;
    const records = [...this.#records.values()];
    if (newScale !== undefined) {
      this.#scale = positive('GradScaler.update', 'newScale', newScale);
    } else {
      if (records.length === 0) throw new Error('GradScaler.update: no step() was recorded since the last update()');
      if (records.some((r) => r.skipped === undefined)) throw new Error('GradScaler.update: call step(optimizer) for every unscaled optimizer before update()');
      if (records.some((r) => r.skipped)) {
        this.#scale *= this.backoffFactor;
        this.#growthTracker = 0;
      } else if (++this.#growthTracker === this.growthInterval) {
        const grown = this.#scale * this.growthFactor;
        if (Number.isFinite(Math.fround(grown))) this.#scale = grown; // S is a float32 in PyTorch
        this.#growthTracker = 0;
      }
    }
    for (const r of records) r.foundInf.dispose();
    this.#records.clear();
  }

  /** The scale and counters, plain JSON (save it with the optimizer's state). */
  stateDict(): GradScalerState {
    return { scale: this.#scale, growthFactor: this.growthFactor, backoffFactor: this.backoffFactor, growthInterval: this.growthInterval, growthTracker: this.#growthTracker };
  }

  /** Restores the scale and the good-step count saved by `stateDict()`. */
  loadStateDict(s: GradScalerState): this {
    const owner = 'GradScaler.loadStateDict';
    this.#scale = positive(owner, 'scale', s?.scale);
    this.#growthTracker = integer(owner, 'growthTracker', s.growthTracker, 0);
    return this;
  }
}
