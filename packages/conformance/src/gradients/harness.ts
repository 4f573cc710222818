/**
 * The machinery of the gradient column: differentiate an op with @ml/autograd on the backend under
 * test, and compare with central finite differences of the float64 reference.
 *
 * For inputs x₁…xₙ, outputs y = f(x) and a fixed random cotangent u, the reverse-mode answer for
 * input k is (uᵀJₖ)ⱼ = ∂⟨u, f(x)⟩/∂xₖⱼ; the reference side is
 * (⟨u, ref(x + h·eₖⱼ)⟩ − ⟨u, ref(x − h·eₖⱼ)⟩) / 2h with h = 1e-6·max(1, |xₖⱼ|), in float64.
 * The same Jacobian columns, accumulated against fixed random input tangents t, give the
 * forward-mode answer J·t. They also give the magnitudes Σᵢ|uᵢ·Jᵢⱼ| (and Σⱼ|Jᵢⱼ·tⱼ|); the largest
 * of them sets the absolute floor of the tolerance, so that elements that are small only because
 * terms cancel are not held to a relative error they cannot meet in float32.
 */
import type { Backend, DType, OpRecord, Tensor } from '@ml/tensor';
import { addHook, getBackend, isFloat, memory, removeHook, scope } from '@ml/tensor';
import { jvp, vjp } from '@ml/autograd';
import { expect } from 'vitest';
import type { Body, Domain, Got, Layout, SuiteContext, Tolerance } from '../harness.js';
import { caseIt, evaluate, LAYOUTS, randomInput, withLayout } from '../harness.js';
import type { RefArray } from '../reference.js';
import { castValue, makeRef, sizeOf, unravel } from '../reference.js';
import { Rng, seedOf } from '../rng.js';

/** Finite-difference step, relative to max(1, |x|). */
export const FD_EPS = 1e-6;

/**
 * Default gradient tolerances: |got − want| ≤ rtol·|want| + atol·M, where M is the largest
 * Σᵢ|uᵢ|·|Jᵢⱼ| over the input's elements (the scale of that input's gradient).
 */
export const GRADIENT_TOLERANCE: Readonly<Record<'float32' | 'float64', Tolerance>> = {
  float32: { rtol: 1e-3, atol: 1e-4 },
  float64: { rtol: 1e-6, atol: 1e-6 },
};

/** Layouts for cotangents and tangents (random values, so no stride-0 'expanded'). */
const SEED_LAYOUTS: readonly Layout[] = ['contiguous', 'transposed', 'strided', 'flipped', 'offset'];

/** The float dtypes gradients are checked in. */
export type GradDType = 'float32' | 'float64';

/** What the gradient groups get: the suite context plus the set of primitives exercised so far. */
export interface GradContext extends SuiteContext {
  /** Primitives (and view ops) that ran on a differentiated tensor in some case. */
  readonly covered: Set<string>;
  /** Gradient checks run so far (one vjp and one jvp each), and tests registered and started. */
  readonly stats: { checks: number; testsRegistered: number; testsStarted: number };
}

/**
 * Registers one gradient test (through the harness's `caseIt`: scoped, and the backend must be
 * back to its starting counts at the end), counting it so the coverage check knows whether every
 * test ran.
 */
export function gradCase(ctx: GradContext, title: string, body: Body): void {
  ctx.stats.testsRegistered++;
  caseIt(ctx, title, async () => {
    ctx.stats.testsStarted++;
    await body();
  });
}

/** A differentiated input: reference values (already representable in the dtype) and a layout. */
export interface GradInput {
  readonly ref: RefArray;
  readonly layout?: Layout;
}

/** An input that is not differentiated (an index, a condition): built with its own dtype. */
export interface ConstInput {
  readonly ref: RefArray;
  readonly dtype: DType;
  readonly layout?: Layout;
}

/** One gradient check. */
export interface GradSpec {
  /** The float dtype of the differentiated inputs. */
  readonly dtype: GradDType;
  readonly inputs: readonly GradInput[];
  readonly consts?: readonly ConstInput[];
  /** The op under test: differentiated inputs first, then the constants. Intermediates are freed. */
  readonly run: (...args: Tensor[]) => Tensor | readonly Tensor[];
  /** The float64 reference of the same function of the differentiated inputs. */
  readonly ref: (...xs: RefArray[]) => RefArray | readonly RefArray[];
  /** Piecewise-constant: every input cotangent and output tangent must be exactly zero. */
  readonly zero?: boolean;
  /** Extra tolerance factor. */
  readonly slack?: number;
}

function fmtShape(s: readonly number[]): string {
  return `(${s.join(', ')}${s.length === 1 ? ',' : ''})`;
}

/** Describes an input for labels: `(2, 3)@strided`. */
export function describeGrad(x: GradInput): string {
  const layout = x.layout && x.layout !== 'contiguous' ? `@${x.layout}` : '';
  return `${fmtShape(x.ref.shape)}${layout}`;
}

const asList = <T>(x: T | readonly T[]): readonly T[] => (Array.isArray(x) ? (x as readonly T[]) : [x as T]);

/** The reference's outputs as fresh arrays. */
function evalRef(ref: GradSpec['ref'], xs: RefArray[]): Float64Array[] {
  // copy: a reference may return (a view of) its input, which the caller is about to change
  return asList(ref(...xs)).map((y) => Float64Array.from(y.data));
}

/** What central differences of the reference give for one set of inputs. */
export interface Differences {
  /** Per input: uᵀJ (the reverse-mode answer) and Σᵢ|uᵢ·Jᵢⱼ| per element. */
  readonly vjp: { grad: Float64Array; mag: Float64Array }[];
  /** Per output: J·t (the forward-mode answer) and Σⱼ|Jᵢⱼ·tⱼ| per element. */
  readonly jvp: { tangent: Float64Array; mag: Float64Array }[];
}

/**
 * Central differences of the reference for every element of every input: each column of the
 * Jacobian, (ref(x + h·eⱼ) − ref(x − h·eⱼ)) / 2h, contracted with the cotangents `us` (reverse
 * mode) and accumulated against the tangents `ts` (forward mode), with the magnitudes of the terms.
 */
export function finiteDifferences(ref: GradSpec['ref'], inputs: readonly RefArray[], us: readonly Float64Array[], ts: readonly Float64Array[]): Differences {
  const xs = inputs.map((x) => makeRef(x.shape, x.data));
  const jvp = us.map((u) => ({ tangent: new Float64Array(u.length), mag: new Float64Array(u.length) }));
  const vjp = xs.map((x, k) => {
    const grad = new Float64Array(x.data.length);
    const mag = new Float64Array(x.data.length);
    for (let j = 0; j < x.data.length; j++) {
      const v = x.data[j];
      const h = FD_EPS * Math.max(1, Math.abs(v));
      x.data[j] = v + h;
      const plus = evalRef(ref, xs);
      x.data[j] = v - h;
      const minus = evalRef(ref, xs);
      x.data[j] = v;
      const t = ts[k][j];
      let g = 0;
      let m = 0;
      plus.forEach((p, o) => {
        const u = us[o];
        const out = jvp[o];
        for (let i = 0; i < p.length; i++) {
          const d = (p[i] - minus[o][i]) / (2 * h);
          g += u[i] * d;
          m += Math.abs(u[i] * d);
          out.tangent[i] += d * t;
          out.mag[i] += Math.abs(d * t);
        }
      });
      grad[j] = g;
      mag[j] = m;
    }
    return { grad, mag };
  });
  return { vjp, jvp };
}

/** Compares got with want within rtol·|want| + atol·floor; NaN must match NaN. Returns failures. */
function compare(got: Float64Array, want: ArrayLike<number>, shape: readonly number[], tol: Tolerance, floor: number, slack: number): string[] {
  const bad: string[] = [];
  let count = 0;
  for (let i = 0; i < want.length; i++) {
    const g = got[i];
    const w = want[i];
    let ok: boolean;
    if (Number.isNaN(w) || Number.isNaN(g)) ok = Number.isNaN(w) && Number.isNaN(g);
    else if (!Number.isFinite(w) || !Number.isFinite(g)) ok = g === w;
    else ok = Math.abs(g - w) <= slack * (tol.rtol * Math.abs(w) + tol.atol * floor);
    if (!ok) {
      count++;
      if (bad.length < 5) bad.push(`[${unravel(i, shape).join(', ')}]: got ${g}, want ${w}`);
    }
  }
  if (count > 0) bad.unshift(`${count} of ${want.length} elements differ (rtol ${tol.rtol * slack}, atol ${tol.atol * slack} × ${floor.toPrecision(3)}):`);
  return bad;
}

/**
 * Runs one gradient check. Builds the inputs on the backend (in their layouts) and computes, each
 * through the harness's `evaluate` (so the backend must be back to its starting tensor, buffer and
 * byte counts once the results are disposed):
 * - reverse mode: the op and the pullback of a fixed random cotangent u, with `vjp`;
 * - forward mode: the op and its tangent for fixed random input tangents t, with `jvp`.
 * Then compares the value with the reference, each input cotangent with uᵀJ and each output
 * tangent with J·t, both from central differences of the reference. Records which primitives ran
 * on the differentiated inputs.
 */
export async function checkGradient(ctx: GradContext, label: string, spec: GradSpec): Promise<void> {
  ctx.stats.checks++;
  const full = `${label} [${spec.dtype}]`;
  const { dtype } = spec;
  const tol = ctx.tolerance(dtype);
  const slack = spec.slack ?? 1;
  const want = asList(spec.ref(...spec.inputs.map((x) => x.ref)));
  // cotangents and tangents: fixed random values that float32 (so every float dtype) stores
  // exactly, so both sides use the same ones even when an output's dtype differs (casts)
  const urng = new Rng(seedOf(`cotangent/${full}`, ctx.seed));
  const draw = (n: number) => Float64Array.from({ length: n }, () => castValue(urng.uniform(-1, 1), 'float32'));
  const us = want.map((y) => draw(y.data.length));
  const ts = spec.inputs.map((x) => draw(x.ref.data.length));
  // tensors a transform creates on the default backend instead of the one under test must not
  // outlive the check either
  const other = getBackend() === ctx.backend ? undefined : getBackend();
  const otherBefore = other && memoryCounts(other);
  const junk = new Rng(seedOf(`junk/${full}`, ctx.seed));
  const xs = spec.inputs.map((x) => withLayout(ctx.backend, x.ref, dtype, x.layout ?? 'contiguous', junk));
  const cs = (spec.consts ?? []).map((c) => withLayout(ctx.backend, c.ref, c.dtype, c.layout ?? 'contiguous', junk));
  // cotangents and tangents come in the layouts too (rules must not assume contiguous ones)
  const seedLayout = (i: number): Layout => SEED_LAYOUTS[(ctx.stats.checks + i) % SEED_LAYOUTS.length];
  const f = (...ds: Tensor[]) => traced(ctx, ds, () => spec.run(...ds, ...cs));
  // the op alone, for jvp: forward mode runs the rules during the call, and their ops must not
  // count as covered
  const plain = (...ds: Tensor[]) => scope(() => spec.run(...ds, ...cs));
  let reverse: Got[];
  let forward: Got[];
  try {
    reverse = await evaluate(ctx.backend, `${full} (vjp)`, () => {
      const [out, pullback] = vjp(f, ...xs);
      const outs = asList(out);
      const uts = outs.map((y, i) => withLayout(ctx.backend, makeRef(y.shape, us[i]), y.dtype, seedLayout(i)));
      let grads: Tensor[];
      try {
        grads = pullback(Array.isArray(out) ? uts : uts[0]);
      } finally {
        for (const u of uts) u.dispose();
      }
      return [...outs, ...grads];
    });
    forward = await evaluate(ctx.backend, `${full} (jvp)`, () => {
      const tts = xs.map((x, k) => withLayout(ctx.backend, makeRef(x.shape, ts[k]), dtype, seedLayout(k + 1)));
      try {
        const [out, tangent] = jvp(plain, xs, tts);
        return [...asList(out), ...asList(tangent)];
      } finally {
        for (const t of tts) t.dispose();
      }
    });
  } finally {
    for (const t of [...xs, ...cs]) t.dispose();
  }
  if (other) expect(memoryCounts(other), `${full}: memory of the default backend "${other.name}"`).toEqual(otherBefore);
  const nOut = want.length;
  expect(reverse.length, `${full}: number of outputs and cotangents (vjp)`).toBe(nOut + spec.inputs.length);
  expect(forward.length, `${full}: number of outputs and tangents (jvp)`).toBe(2 * nOut);
  const problems: string[] = [];
  // the value: confirms that the reference describes the op whose derivatives are checked
  want.forEach((w, i) => {
    for (const [mode, got] of [['vjp', reverse], ['jvp', forward]] as const) {
      const g = got[i];
      expect(fmtShape(g.shape), `${full}: shape of output ${i} (${mode})`).toBe(fmtShape(w.shape));
      const floor = w.data.reduce((m, v) => (Number.isFinite(v) ? Math.max(m, Math.abs(v)) : m), 0);
      const bad = compare(g.data, w.data, w.shape, tol, floor, slack);
      if (bad.length) problems.push(`value of output ${i} (${mode}) ${bad.join('\n    ')}`);
    }
  });
  const fd = finiteDifferences(spec.ref, spec.inputs.map((x) => x.ref), us, ts);
  const zeroCheck = (what: string, data: Float64Array, shape: readonly number[]) => {
    const nonzero = data.findIndex((v) => v !== 0);
    if (nonzero >= 0) problems.push(`${what} must be zero (piecewise constant), got ${data[nonzero]} at [${unravel(nonzero, shape).join(', ')}]`);
  };
  spec.inputs.forEach((x, k) => {
    const g = reverse[nOut + k];
    expect(g.dtype, `${full}: dtype of the cotangent of input ${k}`).toBe(dtype);
    expect(fmtShape(g.shape), `${full}: shape of the cotangent of input ${k}`).toBe(fmtShape(x.ref.shape));
    if (spec.zero) {
      zeroCheck(`vjp: cotangent of input ${k}`, g.data, x.ref.shape);
      if (fd.vjp[k].grad.some((v) => v !== 0)) problems.push(`the reference is not flat around input ${k}: the case sits on a jump`);
      return;
    }
    const floor = fd.vjp[k].mag.reduce((m, v) => Math.max(m, v), 0);
    const bad = compare(g.data, fd.vjp[k].grad, x.ref.shape, tol, floor, slack);
    if (bad.length) problems.push(`vjp: cotangent of input ${k} ${describeGrad(x)} ${bad.join('\n    ')}`);
  });
  want.forEach((w, i) => {
    const t = forward[nOut + i];
    expect(t.dtype, `${full}: dtype of the tangent of output ${i}`).toBe(reverse[i].dtype);
    expect(fmtShape(t.shape), `${full}: shape of the tangent of output ${i}`).toBe(fmtShape(w.shape));
    if (spec.zero) {
      zeroCheck(`jvp: tangent of output ${i}`, t.data, w.shape);
      return;
    }
    // where the value itself is undefined (the mean of nothing) so is its derivative
    const tangent = fd.jvp[i].tangent.map((v, e) => (Number.isFinite(w.data[e]) ? v : t.data[e]));
    const floor = fd.jvp[i].mag.reduce((m, v) => Math.max(m, v), 0);
    const bad = compare(t.data, tangent, w.shape, tol, floor, slack);
    if (bad.length) problems.push(`jvp: tangent of output ${i} ${fmtShape(w.shape)} ${bad.join('\n    ')}`);
  });
  if (problems.length) expect.fail(`${full}:\n  ${problems.join('\n  ')}`);
}

function memoryCounts(backend: Backend): { tensors: number; buffers: number; bytes: number } {
  const m = memory(backend);
  return { tensors: m.tensors, buffers: m.buffers, bytes: m.bytes };
}

/** Whether a record is an identity view (an alias, or a no-op reshape): no rule does anything. */
function isIdentity(r: OpRecord): boolean {
  if (r.op !== 'reshape') return false;
  const [x] = r.inputs;
  const [y] = r.outputs;
  const same = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((v, i) => v === b[i]);
  return same(x.shape, y.shape) && same(x.strides, y.strides) && x.offset === y.offset;
}

/**
 * Runs `fn` in a scope (intermediates freed) while recording which primitives run on tensors
 * computed from `inputs` with a float result: the ones whose gradient rules the pullback uses.
 */
function traced<T>(ctx: GradContext, inputs: readonly Tensor[], fn: () => T): T {
  const tracked = new Set(inputs.map((t) => t.id));
  const hook = (r: OpRecord) => {
    if (!r.inputs.some((t) => tracked.has(t.id)) || !r.outputs.some((o) => isFloat(o.dtype))) return;
    if (!isIdentity(r)) ctx.covered.add(r.op);
    for (const o of r.outputs) tracked.add(o.id);
  };
  addHook(hook);
  try {
    return scope(fn);
  } finally {
    removeHook(hook);
  }
}

// ---------------------------------------------------------------- inputs

/** The float dtypes to check on this backend. */
export function gradDtypes(ctx: SuiteContext): GradDType[] {
  return (['float32', 'float64'] as const).filter((d) => ctx.supports(d));
}

const cycle = (i: number): Layout => LAYOUTS[i % LAYOUTS.length];

/** The i-th layout of the cycle, or contiguous for tensors with fewer than 2 elements. */
export function layoutAt(shape: readonly number[], i: number): Layout {
  return sizeOf(shape) < 2 ? 'contiguous' : cycle(i);
}

/**
 * Random inputs of `shapes` in `layouts` that satisfy `valid` (away from kinks, ties and jumps).
 * Redraws until they do; a stride-0 ('expanded') layout repeats values, which can make ties
 * unavoidable, so after some tries it becomes 'strided'. `adjust` maps each value before the check
 * (e.g. nudges it off a kink), and must map equal values to equal values.
 */
export function drawInputs(
  rng: Rng,
  shapes: readonly (readonly number[])[],
  dtype: GradDType,
  layouts: readonly Layout[],
  opts: { domain?: Domain | readonly Domain[]; valid?: (...xs: RefArray[]) => boolean; adjust?: (v: number) => number; label?: string } = {},
): GradInput[] {
  const domainOf = (i: number): Domain | undefined => {
    const d = opts.domain;
    if (d === undefined) return undefined;
    return typeof d[0] === 'number' ? (d as Domain) : (d as readonly Domain[])[i];
  };
  let current = [...layouts];
  for (let attempt = 0; attempt < 60; attempt++) {
    if (attempt === 30) current = current.map((l) => (l === 'expanded' ? 'strided' : l));
    const refs = shapes.map((s, i) => {
      const x = randomInput(rng, s, dtype, current[i], domainOf(i) ?? [-3, 3]);
      if (!opts.adjust) return x;
      const adjust = opts.adjust;
      return makeRef(x.shape, x.data.map((v) => castValue(adjust(v), dtype)));
    });
    if (!opts.valid || opts.valid(...refs)) return refs.map((ref, i) => ({ ref, layout: current[i] }));
  }
  throw new Error(`gradient conformance: could not draw valid inputs for ${opts.label ?? shapes.map((s) => fmtShape(s)).join(', ')}`);
}

/** Whether every pair of values in each group differs by more than `margin`. */
export function distinct(groups: readonly (readonly number[])[], margin = 1e-3): boolean {
  for (const g of groups) {
    const sorted = [...g].sort((a, b) => a - b);
    for (let i = 1; i < sorted.length; i++) if (sorted[i] - sorted[i - 1] <= margin) return false;
  }
  return true;
}

/** Moves v off the points `kinks` (by `margin` or more), keeping equal values equal. */
export function awayFrom(kinks: (v: number) => number, margin = 1e-2): (v: number) => number {
  return (v) => {
    const k = kinks(v); // the nearest kink
    return Math.abs(v - k) < margin ? k + (v >= k ? margin : -margin) * 2 : v;
  };
}
