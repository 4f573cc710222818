/**
 * `Optimizer`: the base class of SGD, Adam and the others, as in PyTorch. It holds parameter
 * groups (parameters plus hyperparameters such as `lr`, which a schedule may change between steps)
 * and per-parameter state (momentum buffers, moment estimates…). `step()` computes each new
 * parameter value from the parameter, its gradient and its state, under `noGrad` in a `scope`,
 * and swaps it in with `p.assign(value)`; the old state tensors are freed as the new ones replace
 * them, so memory stays flat over any number of steps.
 *
 * Subclasses write one function, `update`: the textbook formula for a single parameter.
 */
import { noGrad } from '@ml/autograd';
import { Parameter } from '@ml/nn';
import { alias, keep, scope } from '@ml/tensor';
import type { Tensor } from '@ml/tensor';
import { fmtShape, knownKeys } from './validate.js';

/** Every optimizer has a learning rate; the rest is up to it. */
export interface BaseHyperparameters {
  lr: number;
}

/**
 * A parameter group: parameters sharing hyperparameters. Change `lr` (or any hyperparameter)
 * between steps and the next step uses it. `initialLr` is set by the first schedule created on the
 * optimizer (PyTorch's `initial_lr`).
 */
export type ParamGroup<H extends BaseHyperparameters = BaseHyperparameters> = H & { params: Parameter[]; initialLr?: number };

/** A parameter group as passed to a constructor: hyperparameters left out take the defaults. */
export type ParamGroupInput<H extends BaseHyperparameters = BaseHyperparameters> = Partial<H> & { params: readonly Parameter[]; initialLr?: number };

/** What optimizers take: `model.parameters()`, or a list of parameter groups. */
export type ParamsInput<H extends BaseHyperparameters = BaseHyperparameters> = readonly Parameter[] | readonly ParamGroupInput<H>[];

/** One group in a state dict: hyperparameters as plain JSON, and the indices of its parameters. */
export interface GroupState {
  params: number[];
  [hyperparameter: string]: unknown;
}

/**
 * An optimizer's state, split into tensors and plain JSON so that it fits a safetensors
 * checkpoint (see `packOptimizerState`).
 *
 * Parameters are numbered 0, 1, … across all groups in order, as in PyTorch.
 */
export interface OptimizerStateDict {
  /** Per-parameter state tensors, keyed `${index}.${name}` with PyTorch's names: `0.exp_avg`, `3.momentum_buffer`. */
  state: Record<string, Tensor>;
  /** The groups' hyperparameters (camelCase, as in the constructors) and parameter indices. */
  groups: GroupState[];
  /** Steps taken by each parameter (by index; 0 for one that never had a gradient). */
  steps: number[];
}

/** What an optimizer keeps for one parameter: its step count and its state tensors. */
export interface ParamState {
  readonly step: number;
  readonly tensors: Readonly<Record<string, Tensor>>;
}

/** The result of {@link Optimizer.update}: the new parameter value and the state tensors that changed. */
export interface Update {
  param: Tensor;
  state?: Record<string, Tensor>;
}

const nameOf = (v: unknown): string => (v === null ? 'null' : typeof v === 'object' ? (v.constructor?.name ?? 'object') : typeof v);

/**
 * The base class of optimizers. A subclass supplies its defaults, `validate` (argument checks) and
 * `update` (the formula for one parameter); the base class does the rest: parameter groups, the
 * step loop, per-parameter state and its memory, `zeroGrad`, and state dicts.
 *
 * @example
 * ```ts
 * // plain gradient descent, written as an optimizer
 * class GD extends Optimizer<{ lr: number }> {
 *   readonly stateKeys = [];
 *   constructor(params: ParamsInput<{ lr: number }>, opts?: { lr?: number }) {
 *     super(params, withDefaults('GD', { lr: 0.1 }, opts));
 *   }
 *   protected validate(h: { lr: number }) {
 *     if (!(h.lr >= 0)) throw new Error(`GD: lr must be ≥ 0, got ${h.lr}`);
 *   }
 *   protected update(p: Tensor, grad: Tensor, h: { lr: number }) {
 *     return { param: p.sub(grad.mul(h.lr)) };
 *   }
 * }
 * const opt = new GD(model.parameters(), { lr: 0.05 });
 * backward(loss); opt.step(); opt.zeroGrad();
 * ```
 */
export abstract class Optimizer<H extends BaseHyperparameters = BaseHyperparameters> {
  /** The hyperparameters a group gets for keys it leaves out. */
  readonly defaults: Readonly<H>;
  /** The parameter groups, in order. */
  readonly paramGroups: ParamGroup<H>[] = [];
  readonly #state = new Map<Parameter, ParamState>();

  /**
   * The names of the per-parameter state tensors this optimizer may keep (PyTorch's spelling),
   * checked by `loadStateDict`.
   */
  abstract readonly stateKeys: readonly string[];

  /**
   * @param params `model.parameters()`, or groups `[{ params, lr?, … }]`
   * @param defaults the hyperparameters of groups that do not set them
   */
  protected constructor(params: ParamsInput<H>, defaults: H) {
    const owner = this.constructor.name;
    this.validate(defaults);
    this.defaults = Object.freeze(copyHyper(defaults));
    if (!Array.isArray(params)) throw new Error(`${owner}: params must be an array of Parameters or of parameter groups, got ${nameOf(params)}`);
    if (params.length === 0) throw new Error(`${owner}: got an empty parameter list`);
    const isGroups = params.every((p) => p !== null && typeof p === 'object' && !(p as { __isTensor?: unknown }).__isTensor && 'params' in p);
    const groups = (isGroups ? params : [{ params }]) as readonly ParamGroupInput<H>[];
    for (const g of groups) this.addParamGroup(g);
  }

  /** Checks one group's hyperparameters; throws an error naming the optimizer, the key and the value. */
  protected abstract validate(h: H): void;

  /**
   * The update of one parameter, run under `noGrad` inside a `scope` (so temporaries are freed).
   * @param p the parameter's current value
   * @param grad its gradient (same shape and dtype)
   * @param h the group's hyperparameters
   * @param step 1 on the first update of this parameter, 2 on the next…
   * @param state the state tensors from the previous update (empty on the first)
   * @returns the new value and the state tensors that changed (others are kept as they are)
   */
  protected abstract update(p: Tensor, grad: Tensor, h: H, step: number, state: Readonly<Record<string, Tensor>>): Update;

  /** State tensors a parameter must have once it has taken a step (checked by `loadStateDict`). */
  protected requiredState(_h: H): string[] {
    return [];
  }

  /** Adds a group of parameters (fine-tuning: unfreeze a layer with its own `lr`). */
  addParamGroup(group: ParamGroupInput<H>): void {
    const owner = this.constructor.name;
    const where = `parameter group ${this.paramGroups.length}`;
    if (group === null || typeof group !== 'object' || !Array.isArray(group.params)) {
      throw new Error(`${owner}: ${where} must be an object with a params array, got ${nameOf(group)}`);
    }
    const { params, ...hyper } = group;
    knownKeys(owner, where, hyper, [...Object.keys(this.defaults), 'initialLr']);
    const seen = new Set(this.paramGroups.flatMap((g) => g.params));
    params.forEach((p, i) => {
      if (!(p instanceof Parameter)) {
        throw new Error(`${owner}: params[${i}] of ${where} is not a Parameter (got ${nameOf(p)}); optimizers update Parameters of @ml/nn (wrap a tensor with new Parameter(t))`);
      }
      if (p.isDisposed) throw new Error(`${owner}: params[${i}] of ${where} (shape ${fmtShape(p.shape)}) was disposed`);
      if (seen.has(p)) throw new Error(`${owner}: params[${i}] of ${where} (shape ${fmtShape(p.shape)}) appears more than once: a parameter may belong to one group only, once`);
      seen.add(p);
    });
    const defined = Object.fromEntries(Object.entries(hyper).filter(([, v]) => v !== undefined));
    const merged = { ...copyHyper(this.defaults as H), ...copyHyper(defined as H) };
    this.validate(merged);
    this.paramGroups.push({ ...merged, params: [...params] } as ParamGroup<H>);
  }

  /** Every parameter, across groups, in index order. */
  #params(): Parameter[] {
    return this.paramGroups.flatMap((g) => g.params);
  }

  /**
   * One optimization step: updates every parameter that has a gradient (`p.grad`; others are left
   * alone) with the current hyperparameters of its group. Everything is checked first (a disposed
   * gradient, a gradient whose shape or dtype differs from its parameter's, an invalid
   * hyperparameter), so a bad step throws before any parameter changes.
   */
  step(): void {
    const owner = `${this.constructor.name}.step`;
    const work: [ParamGroup<H>, Parameter, Tensor][] = [];
    let index = 0;
    for (const group of this.paramGroups) {
      this.validate(group);
      for (const p of group.params) {
        const i = index++;
        const g = p.grad;
        if (!g) continue;
        if (p.isDisposed) throw new Error(`${owner}: parameter ${i} was disposed`);
        if (g.isDisposed) throw new Error(`${owner}: the gradient of parameter ${i} (shape ${fmtShape(p.shape)}) was disposed`);
        if (g.shape.length !== p.shape.length || g.shape.some((d, k) => d !== p.shape[k])) {
          throw new Error(`${owner}: the gradient of parameter ${i} has shape ${fmtShape(g.shape)}, the parameter has shape ${fmtShape(p.shape)}`);
        }
        if (g.dtype !== p.dtype) throw new Error(`${owner}: the gradient of parameter ${i} (shape ${fmtShape(p.shape)}) is ${g.dtype}, the parameter ${p.dtype}`);
        work.push([group, p, g]);
      }
    }
    noGrad(() =>
      scope(() => {
        for (const [group, p, g] of work) this.#apply(group, p, g);
      }),
    );
  }

  #apply(group: ParamGroup<H>, p: Parameter, g: Tensor): void {
    const prev = this.#state.get(p) ?? { step: 0, tensors: {} };
    const step = prev.step + 1;
    const out = this.update(p, g, group, step, prev.tensors);
    const tensors: Record<string, Tensor> = { ...prev.tensors };
    for (const [k, t] of Object.entries(out.state ?? {})) {
      // state must outlive the gradient and the old parameter value: never store them themselves
      tensors[k] = t === g || t === p ? alias(t) : t;
    }
    keep(Object.values(tensors));
    p.assign(out.param);
    for (const [k, old] of Object.entries(prev.tensors)) if (tensors[k] !== old) old.dispose();
    this.#state.set(p, { step, tensors });
  }

  /** Drops every parameter's gradient (`p.grad = null`, disposing it), as PyTorch's `zero_grad()`. */
  zeroGrad(): void {
    for (const p of this.#params()) {
      p.grad?.dispose();
      p.grad = null;
    }
  }

  /** The step count and state tensors of `p` (undefined before its first step). Do not dispose them; use `dispose()`. */
  stateOf(p: Parameter): ParamState | undefined {
    return this.#state.get(p);
  }

  /**
   * The optimizer's state: state tensors (snapshots sharing buffers, no copies; dispose them when
   * done, or call inside `scope`), hyperparameters and step counts as plain JSON.
   *
   * @example
   * ```ts
   * const sd = opt.stateDict();   // { state: { '0.exp_avg': …, '0.exp_avg_sq': … }, groups: [{ lr: 0.001, betas: [0.9, 0.999], …, params: [0, 1] }], steps: [3, 3] }
   * other.loadStateDict(sd);      // resumes exactly where opt is
   * ```
   */
  stateDict(): OptimizerStateDict {
    const state: Record<string, Tensor> = {};
    const params = this.#params();
    const steps = params.map((p, i) => {
      const s = this.#state.get(p);
      for (const [k, t] of Object.entries(s?.tensors ?? {})) state[`${i}.${k}`] = alias(t, { track: true });
      return s?.step ?? 0;
    });
    let i = 0;
    const groups = this.paramGroups.map(({ params: ps, ...hyper }) => ({ ...(JSON.parse(JSON.stringify(hyper)) as object), params: ps.map(() => i++) }));
    return { state, groups, steps };
  }

  /**
   * Loads a state dict from `stateDict()` or a checkpoint. Parameters are matched by position:
   * the saved groups must have as many parameters as this optimizer's, and every state tensor the
   * shape, dtype and backend of its parameter. Everything is checked first; on any problem one
   * error lists them all and the optimizer is left untouched. The optimizer shares the given
   * tensors' buffers, so the caller may dispose them.
   */
  loadStateDict(sd: OptimizerStateDict): this {
    const owner = `${this.constructor.name}.loadStateDict`;
    if (sd === null || typeof sd !== 'object' || !Array.isArray(sd.groups) || !Array.isArray(sd.steps) || sd.state === null || typeof sd.state !== 'object') {
      throw new Error(`${owner}: expected { state, groups, steps } as returned by stateDict(), got ${nameOf(sd)}`);
    }
    const problems: string[] = [];
    const params = this.#params();
    if (sd.groups.length !== this.paramGroups.length) {
      throw new Error(`${owner}: the state has ${sd.groups.length} parameter group(s), the optimizer has ${this.paramGroups.length}`);
    }
    // saved index → parameter, by position within each group
    const byIndex = new Map<number, Parameter>();
    const hypers: H[] = [];
    sd.groups.forEach((saved, gi) => {
      const current = this.paramGroups[gi];
      if (!saved || !Array.isArray(saved.params)) {
        problems.push(`group ${gi} has no params list`);
        return;
      }
      if (saved.params.length !== current.params.length) {
        problems.push(`group ${gi} has ${saved.params.length} parameter(s) in the state, ${current.params.length} in the optimizer`);
      }
      saved.params.forEach((id, j) => {
        if (!Number.isInteger(id) || id < 0 || id >= sd.steps.length || byIndex.has(id)) {
          problems.push(`group ${gi}: bad or repeated parameter index ${String(id)} (indices run from 0 to steps.length - 1)`);
        }
        else if (j < current.params.length) byIndex.set(id, current.params[j]);
      });
      const { params: _ids, ...hyper } = saved;
      try {
        knownKeys(this.constructor.name, `group ${gi} of the state`, hyper, [...Object.keys(this.defaults), 'initialLr']);
        const merged = { ...copyHyper(this.defaults as H), ...copyHyper(hyper as unknown as H) };
        this.validate(merged);
        hypers.push(merged);
      } catch (e) {
        problems.push((e as Error).message);
      }
    });
    if (sd.steps.length !== params.length) problems.push(`steps has ${sd.steps.length} entries, the optimizer has ${params.length} parameters`);
    sd.steps.forEach((s, i) => {
      if (!Number.isInteger(s) || s < 0) problems.push(`steps[${i}] must be an integer ≥ 0, got ${String(s)}`);
    });
    const tensors = new Map<Parameter, Record<string, Tensor>>();
    for (const [key, t] of Object.entries(sd.state)) {
      const m = /^(\d+)\.(.+)$/.exec(key);
      const p = m ? byIndex.get(Number(m[1])) : undefined;
      if (!m || !p) {
        problems.push(`unexpected key '${key}' (keys are '<parameter index>.<name>' for parameter indices 0…${params.length - 1})`);
        continue;
      }
      const name = m[2];
      if (!this.stateKeys.includes(name)) {
        problems.push(`unexpected key '${key}' (${this.constructor.name} keeps ${this.stateKeys.map((k) => `'${k}'`).join(', ') || 'no state tensors'})`);
      } else if (!(t as { __isTensor?: unknown } | null)?.__isTensor) problems.push(`${key}: expected a Tensor, got ${nameOf(t)}`);
      else if (t.isDisposed) problems.push(`${key}: the tensor was disposed`);
      else if (t.shape.length !== p.shape.length || t.shape.some((d, k) => d !== p.shape[k])) {
        problems.push(`size mismatch for ${key}: the state has shape ${fmtShape(t.shape)}, the parameter has ${fmtShape(p.shape)}`);
      } else if (t.dtype !== p.dtype) problems.push(`dtype mismatch for ${key}: the state has ${t.dtype}, the parameter ${p.dtype}`);
      else if (t.backend !== p.backend) problems.push(`${key}: the state is on backend ${t.backend.name}, the parameter on ${p.backend.name}`);
      else {
        const rec = tensors.get(p) ?? {};
        rec[name] = t;
        tensors.set(p, rec);
      }
    }
    if (problems.length === 0) {
      sd.groups.forEach((saved, gi) => {
        saved.params.forEach((id) => {
          const p = byIndex.get(id)!;
          if (sd.steps[id] === 0) return;
          const missing = this.requiredState(hypers[gi]).filter((k) => !(k in (tensors.get(p) ?? {})));
          if (missing.length) problems.push(`parameter ${id} has taken ${sd.steps[id]} step(s) but the state lacks ${missing.map((k) => `'${id}.${k}'`).join(', ')}`);
        });
      });
    }
    if (problems.length) throw new Error(`${owner}: cannot load the state: ${problems.join('; ')}`);

    // commit
    for (const s of this.#state.values()) for (const t of Object.values(s.tensors)) t.dispose();
    this.#state.clear();
    for (const [id, p] of byIndex) {
      const own: Record<string, Tensor> = {};
      for (const [k, t] of Object.entries(tensors.get(p) ?? {})) own[k] = alias(t);
      if (sd.steps[id] > 0 || Object.keys(own).length) this.#state.set(p, { step: sd.steps[id], tensors: own });
    }
    this.paramGroups.forEach((group, gi) => {
      for (const k of Object.keys(group)) if (k !== 'params') delete (group as unknown as Record<string, unknown>)[k];
      Object.assign(group, hypers[gi]);
    });
    return this;
  }

  /** Frees every state tensor (the next step starts from fresh state, as a new optimizer would). */
  dispose(): void {
    for (const s of this.#state.values()) for (const t of Object.values(s.tensors)) t.dispose();
    this.#state.clear();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}

/**
 * A constructor's options merged over the defaults, after rejecting unknown keys (so a typo such
 * as `momentun` is an error, not a silently ignored option).
 *
 * @example
 * ```ts
 * withDefaults('SGD', { lr: 1e-3, momentum: 0 }, { momentum: 0.9 }); // { lr: 0.001, momentum: 0.9 }
 * ```
 */
export function withDefaults<H extends object>(owner: string, defaults: H, opts: Partial<H> | undefined): H {
  if (opts === undefined) return { ...defaults };
  if (opts === null || typeof opts !== 'object') throw new Error(`${owner}: options must be an object, got ${nameOf(opts)}`);
  knownKeys(owner, 'the options', opts, Object.keys(defaults));
  const defined = Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined));
  return { ...defaults, ...copyHyper(defined) } as H;
}

/** A copy of hyperparameters with arrays (betas) copied, so groups never share them with the caller. */
function copyHyper<H>(h: H): H {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(h as object)) out[k] = Array.isArray(v) ? [...v] : v;
  return out as H;
}
