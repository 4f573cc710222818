/**
 * `LRScheduler`: the base of the learning-rate schedules, with PyTorch's stepping convention.
 * Creating a schedule sets every group's lr to the schedule's value at step 0; each `step()`
 * (once per epoch or per iteration, after `optimizer.step()`) advances one step and sets the lrs
 * again. Schedules here are closed forms of the step number: `lr = lrAt(step)[group]`, computed
 * from each group's initial lr (`group.initialLr`, PyTorch's `initial_lr`).
 */
import { Optimizer } from '../optimizer.js';
import type { BaseHyperparameters } from '../optimizer.js';

/** A schedule's own state, plain JSON (save it next to the optimizer's). */
export interface SchedulerState {
  lastEpoch: number;
  baseLrs: number[];
  lastLr: number[];
}

/**
 * The base class of the schedules: a subclass defines `lrAt(step)` (one lr per group) and calls
 * `start()` at the end of its constructor.
 *
 * @example
 * ```ts
 * class HalveEvery10 extends LRScheduler {
 *   constructor(opt: Optimizer) { super(opt); this.start(); }
 *   lrAt(step: number) { return this.baseLrs.map((lr) => lr * 0.5 ** Math.floor(step / 10)); }
 * }
 * const sched = new HalveEvery10(opt);
 * for (let epoch = 0; epoch < 30; epoch++) { train(); sched.step(); }
 * ```
 */
export abstract class LRScheduler {
  readonly optimizer: Optimizer<BaseHyperparameters>;
  /** Each group's initial lr: the lr the schedule scales. */
  readonly baseLrs: number[];
  /** Steps taken since creation: 0 after the constructor, 1 after the first `step()` (PyTorch's `last_epoch`). */
  lastEpoch = -1;
  #lastLr: number[] = [];

  protected constructor(optimizer: Optimizer<BaseHyperparameters>) {
    const owner = new.target.name;
    if (!(optimizer instanceof Optimizer)) throw new Error(`${owner}: expected an Optimizer, got ${optimizer === null ? 'null' : typeof optimizer}`);
    this.optimizer = optimizer;
    for (const g of optimizer.paramGroups) if (g.initialLr === undefined) g.initialLr = g.lr;
    this.baseLrs = optimizer.paramGroups.map((g) => g.initialLr as number);
  }

  /** The lr of every group after `step` steps (step 0: right after construction). */
  abstract lrAt(step: number): number[];

  /** Sets the lrs for step 0; concrete schedules call it last in their constructor. */
  protected start(): void {
    this.step();
  }

  /** Advances one step and sets every group's lr. */
  step(): void {
    const owner = `${this.constructor.name}.step`;
    const groups = this.optimizer.paramGroups;
    if (groups.length !== this.baseLrs.length) {
      throw new Error(`${owner}: the optimizer has ${groups.length} parameter group(s), the schedule was made for ${this.baseLrs.length}`);
    }
    const lrs = this.lrAt(this.lastEpoch + 1);
    this.lastEpoch++;
    groups.forEach((g, i) => (g.lr = lrs[i]));
    this.#lastLr = groups.map((g) => g.lr);
    this.afterStep(this.lastEpoch);
  }

  /** Hook for schedules that set more than the lr (OneCycleLR's momentum). */
  protected afterStep(_step: number): void {}

  /** The lrs set by the last `step()` (or the constructor), one per group. */
  getLastLr(): number[] {
    return [...this.#lastLr];
  }

  /** Checks the step number passed to `lrAt`. */
  protected checkStep(step: number): void {
    if (!Number.isInteger(step) || step < 0) throw new Error(`${this.constructor.name}.lrAt: step must be an integer ≥ 0, got ${String(step)}`);
  }

  /** The schedule's position, plain JSON. */
  stateDict(): SchedulerState {
    return { lastEpoch: this.lastEpoch, baseLrs: [...this.baseLrs], lastLr: [...this.#lastLr] };
  }

  /**
   * Restores the position saved by `stateDict()`, and sets every group's lr to the lr the schedule
   * had set then (the optimizer's own state dict holds the same lrs, so the loading order does not
   * matter).
   */
  loadStateDict(s: SchedulerState): this {
    const owner = `${this.constructor.name}.loadStateDict`;
    if (!s || !Number.isInteger(s.lastEpoch) || s.lastEpoch < 0) throw new Error(`${owner}: lastEpoch must be an integer ≥ 0, got ${String(s?.lastEpoch)}`);
    if (!Array.isArray(s.baseLrs) || s.baseLrs.length !== this.baseLrs.length || !Array.isArray(s.lastLr) || s.lastLr.length !== this.baseLrs.length) {
      throw new Error(`${owner}: expected baseLrs and lastLr with ${this.baseLrs.length} entries (one per group)`);
    }
    s.lastLr.forEach((lr, i) => {
      if (typeof lr !== 'number' || !Number.isFinite(lr) || lr < 0) throw new Error(`${owner}: lastLr[${i}] must be a non-negative finite number, got ${String(lr)}`);
    });
    if (this.optimizer.paramGroups.length !== this.baseLrs.length) {
      throw new Error(`${owner}: the optimizer has ${this.optimizer.paramGroups.length} parameter group(s), the schedule was made for ${this.baseLrs.length}`);
    }
    this.lastEpoch = s.lastEpoch;
    this.baseLrs.splice(0, this.baseLrs.length, ...s.baseLrs);
    this.#lastLr = [...s.lastLr];
    this.optimizer.paramGroups.forEach((g, i) => (g.lr = s.lastLr[i]));
    this.afterStep(this.lastEpoch);
    return this;
  }
}

/** A per-group value given as one number or one per group. */
export function perGroup(owner: string, name: string, v: number | readonly number[], groups: number): number[] {
  if (Array.isArray(v)) {
    if (v.length !== groups) throw new Error(`${owner}: ${name} has ${v.length} values, the optimizer has ${groups} parameter group(s)`);
    return [...v];
  }
  return Array.from({ length: groups }, () => v as number);
}
