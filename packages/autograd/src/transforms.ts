/** The JAX-style transformations: vjp, grad, valueAndGrad, jvp, jacobian, hessian. */
import { addHook, alias, fromArray, isFloat, ones, removeHook, scope, stack, Tensor, zeros } from '@ml/tensor';
import { ForwardLevel } from './forward.js';
import { Level } from './level.js';
import { leaves, mapTree, replaceLeaves } from './pytree.js';
import { activeForwardLevels, activeLevels } from './state.js';

function fmt(shape: readonly number[]): string {
  return `(${shape.join(', ')}${shape.length === 1 ? ',' : ''})`;
}

/** Wraps each input tensor in a fresh alias that `level` differentiates with respect to. */
function watch(op: string, level: Level, args: readonly unknown[]): unknown[] {
  return args.map((arg, i) =>
    mapTree(arg, (t) => {
      if (t.isDisposed) throw new Error(`${op}: argument ${i} (shape ${fmt(t.shape)}) was disposed`);
      if (!isFloat(t.dtype)) {
        throw new Error(`${op}: argument ${i} (shape ${fmt(t.shape)}) has dtype ${t.dtype}; only float32/float64 tensors can be differentiated`);
      }
      const w = alias(t, { notify: true, track: true });
      level.leaves.add(w.id);
      return w;
    }),
  );
}

/** Runs `fn` with `level` recording. */
function recording<T>(level: Level, fn: () => T): T {
  addHook(level.hook);
  activeLevels.push(level);
  try {
    return fn();
  } finally {
    activeLevels.pop();
    removeHook(level.hook);
  }
}

/** A pullback: maps output cotangents to input cotangents. */
export interface Pullback<Args extends unknown[]> {
  (cotangent: unknown): Args;
  /** Frees the saved tensors without running (when the pullback won't be called). */
  dispose(): void;
}

/**
 * Runs `f(...args)` and returns its value with a pullback `v ↦ vᵀ·∂f/∂args`, the reverse-mode
 * vector-Jacobian product. Args and outputs may be tensors or nested arrays/objects of tensors.
 * The pullback may be called once (its saved tensors are then freed) unless `retainGraph`.
 * `f` runs inside a `scope`: its intermediates are freed when it returns.
 *
 * @example
 * ```ts
 * const [y, pullback] = vjp((x) => x.sin(), x);
 * const [dx] = pullback(onesLike(y)); // cos(x)
 * ```
 */
export function vjp<Args extends unknown[], R>(
  f: (...args: Args) => R,
  ...args: Args
): [R, Pullback<Args>] {
  return vjpWith({}, f, ...args);
}

/** `vjp` with options. */
export function vjpWith<Args extends unknown[], R>(
  opts: { retainGraph?: boolean; op?: string },
  f: (...args: Args) => R,
  ...args: Args
): [R, Pullback<Args>] {
  const op = opts.op ?? 'vjp';
  const level = new Level(op);
  const watched = watch(op, level, args);
  let out: R;
  try {
    // f's intermediates are freed when it returns (the level keeps what the backward needs)
    out = recording(level, () => scope(() => f(...(watched as Args))));
  } catch (e) {
    level.dispose();
    for (const w of leaves(watched)) w.dispose();
    throw e;
  }
  const outLeaves = leaves(out);
  let used = false;
  const release = () => {
    level.dispose();
    // an input returned as (part of) the output belongs to the caller
    for (const w of leaves(watched)) if (!outLeaves.includes(w)) w.dispose();
  };
  const pullback = ((cotangent: unknown): Args => {
    if (used && !opts.retainGraph) {
      throw new Error(`${op}: the pullback was already called and its saved tensors freed; pass { retainGraph: true } to call it again`);
    }
    const cots = leaves(cotangent);
    if (cots.length !== outLeaves.length) {
      throw new Error(`${op}: expected ${outLeaves.length} cotangent tensor(s) matching the outputs, got ${cots.length}`);
    }
    cots.forEach((c, i) => {
      const o = outLeaves[i];
      if (c.shape.length !== o.shape.length || c.shape.some((d, j) => d !== o.shape[j])) {
        throw new Error(`${op}: cotangent ${i} has shape ${fmt(c.shape)} but the output has shape ${fmt(o.shape)}`);
      }
    });
    used = true; // only once the cotangents are valid: a rejected call can be retried
    let grads: Map<number, Tensor>;
    try {
      grads = level.backward(outLeaves, cots, { retainGraph: opts.retainGraph, op });
    } catch (e) {
      if (!opts.retainGraph) release();
      throw e;
    }
    const result = mapTree(watched, (w) => grads.get(w.id) ?? zeros(w.shape, { dtype: w.dtype, backend: w.backend }));
    if (!opts.retainGraph) release();
    return result as Args;
  }) as Pullback<Args>;
  pullback.dispose = release;
  return [out, pullback];
}

type GradOf<Args extends unknown[], N> = N extends number ? Args[N] : N extends readonly number[] ? { [K in keyof N]: N[K] extends number ? Args[N[K]] : never } : never;

function scalarSeed(op: string, out: unknown): Tensor {
  if (!(out instanceof Tensor)) throw new Error(`${op}: f must return a tensor, got ${typeof out}`);
  if (out.size !== 1 || !isFloat(out.dtype)) {
    throw new Error(`${op}: f must return a scalar float tensor, got shape ${fmt(out.shape)} ${out.dtype}; use vjp for other outputs`);
  }
  return ones(out.shape, { dtype: out.dtype, backend: out.backend });
}

/**
 * `valueAndGrad(f, argnums)(...args)` returns `[f(...args), ∂f/∂args[argnums]]` for a scalar-valued
 * f. `argnums` is one index (default 0) or a list (then the gradients come as a tuple). Arguments
 * not differentiated are passed through unchanged.
 */
export function valueAndGrad<Args extends unknown[], const N extends number | readonly number[] = 0>(
  f: (...args: Args) => Tensor,
  argnums?: N,
): (...args: Args) => [Tensor, GradOf<Args, N>] {
  const nums = (argnums ?? 0) as number | readonly number[];
  const list = typeof nums === 'number' ? [nums] : [...nums];
  return (...args: Args) => {
    for (const n of list) {
      if (!Number.isInteger(n) || n < 0 || n >= args.length) {
        throw new Error(`grad: argnums ${n} is out of range for ${args.length} argument(s)`);
      }
    }
    // checked here so that the error names the argument's own position (vjp numbers the picked ones)
    for (const n of list) {
      for (const t of leaves(args[n])) {
        if (!isFloat(t.dtype)) {
          throw new Error(`grad: argument ${n} (shape ${fmt(t.shape)}) has dtype ${t.dtype}; only float32/float64 tensors can be differentiated`);
        }
      }
    }
    const picked = list.map((n) => args[n]);
    const [value, pullback] = vjpWith({ op: 'grad' }, (...diff: unknown[]) => {
      const full = [...args];
      list.forEach((n, i) => (full[n] = diff[i]));
      return f(...(full as Args));
    }, ...picked);
    let seed: Tensor;
    try {
      seed = scalarSeed('grad', value);
    } catch (e) {
      pullback.dispose();
      for (const t of leaves(value)) t.dispose();
      throw e;
    }
    let grads: ReturnType<typeof pullback>;
    try {
      grads = pullback(seed);
    } catch (e) {
      for (const t of leaves(value)) t.dispose(); // the value is not returned either
      throw e;
    } finally {
      seed.dispose();
    }
    const result = typeof nums === 'number' ? grads[0] : grads;
    return [value, result as GradOf<Args, N>];
  };
}

/**
 * The gradient of a scalar-valued function: `grad(f)(x)` is ∂f/∂x, with x's structure. Composes:
 * `grad(grad(f))` is the second derivative.
 *
 * @example
 * ```ts
 * const df = grad((x: Tensor) => x.pow(3).sum());
 * await df(tensor([2])).array(); // [12]
 * ```
 */
export function grad<Args extends unknown[], const N extends number | readonly number[] = 0>(
  f: (...args: Args) => Tensor,
  argnums?: N,
): (...args: Args) => GradOf<Args, N> {
  const vg = valueAndGrad(f, argnums);
  return (...args: Args) => {
    const [value, g] = vg(...args);
    value.dispose();
    return g;
  };
}

/**
 * Forward mode: returns `[f(primals), J·tangents]`, the Jacobian-vector product, in one forward
 * pass. `primals` and `tangents` are arrays of the same structure.
 *
 * @example
 * ```ts
 * const [y, dy] = jvp((x) => x.exp(), [x], [onesLike(x)]); // dy = eˣ
 * ```
 */
export function jvp<Args extends unknown[], R>(f: (...args: Args) => R, primals: Args, tangents: Args): [R, R] {
  const op = 'jvp';
  const level = new ForwardLevel();
  const ps = leaves(primals);
  const ts = leaves(tangents);
  if (ps.length !== ts.length) throw new Error(`${op}: got ${ps.length} primal tensor(s) but ${ts.length} tangent(s)`);
  ps.forEach((p, i) => {
    const t = ts[i];
    if (!isFloat(p.dtype)) throw new Error(`${op}: primal ${i} has dtype ${p.dtype}; only float tensors have tangents`);
    if (p.shape.length !== t.shape.length || p.shape.some((d, j) => d !== t.shape[j])) {
      throw new Error(`${op}: tangent ${i} has shape ${fmt(t.shape)} but its primal has shape ${fmt(p.shape)}`);
    }
  });
  const watched = ps.map((p) => alias(p, { notify: true, track: true }));
  watched.forEach((w, i) => level.set(w, alias(ts[i], { notify: true, track: true })));
  addHook(level.hook);
  activeForwardLevels.push(level);
  let out: R;
  try {
    // f's intermediates are freed when it returns (their tangents belong to the level)
    out = scope(() => f(...(replaceLeaves(primals, watched) as Args)));
  } catch (e) {
    level.dispose();
    for (const w of watched) w.dispose();
    throw e;
  } finally {
    activeForwardLevels.pop();
    removeHook(level.hook);
  }
  const outLeaves = leaves(out);
  // the output tangents become the caller's tensors (views that outlive the level's own)
  const owned = new Map<Tensor, Tensor>();
  const tanOut = outLeaves.map((o) => {
    const t = level.tangentOf(o);
    if (!t) return zeros(o.shape, { dtype: o.dtype, backend: o.backend });
    let a = owned.get(t);
    if (!a) owned.set(t, (a = alias(t, { notify: true, track: true })));
    return a;
  });
  level.dispose();
  for (const w of watched) if (!outLeaves.includes(w)) w.dispose();
  return [out, replaceLeaves(out, tanOut) as R];
}

/**
 * The Jacobian of `f` at `x` (one tensor in, one tensor out): shape `[...out.shape, ...x.shape]`,
 * computed row by row with reverse mode.
 */
export function jacobian(f: (x: Tensor) => Tensor): (x: Tensor) => Tensor {
  return (x: Tensor) => {
    const [y, pullback] = vjpWith({ retainGraph: true, op: 'jacobian' }, f, x);
    try {
      const rows: Tensor[] = [];
      for (let i = 0; i < y.size; i++) {
        const basis = new (y.dtype === 'float64' ? Float64Array : Float32Array)(y.size);
        basis[i] = 1;
        const e = fromArray('jacobian', basis, y.shape, y.dtype, y.backend); // one-hot row selector
        const [g] = pullback(e);
        e.dispose();
        rows.push(g);
      }
      const flat = rows.length ? stack(rows, 0) : zeros([0, ...x.shape], { dtype: x.dtype, backend: x.backend });
      for (const r of rows) r.dispose();
      try {
        return flat.reshape([...y.shape, ...x.shape]);
      } finally {
        flat.dispose();
      }
    } finally {
      pullback.dispose();
      y.dispose();
    }
  };
}

/** The Hessian of a scalar-valued `f` at `x`: `jacobian(grad(f))`, shape `[...x.shape, ...x.shape]`. */
export function hessian(f: (x: Tensor) => Tensor): (x: Tensor) => Tensor {
  return jacobian(grad(f));
}
