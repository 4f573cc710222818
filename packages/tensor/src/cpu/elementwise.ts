/** CPU kernels for elementwise primitives, casts, copies and fills. */
import type { TypedArray } from '../dtype.js';
import { fail } from '../errors.js';
import type { CpuKernel } from './backend.js';
import { erf, erfinv } from './special.js';
import type { CpuView } from './strided.js';
import { copyStrided, dense, isDense } from './strided.js';

type UnaryFn = (x: number) => number;

/** Round half to even, as NumPy and PyTorch do. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 ? 2 * Math.round(x / 2) : r;
}

function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

const UNARY: Record<string, UnaryFn> = {
  neg: (x) => -x,
  abs: Math.abs,
  sign: (x) => (x > 0 ? 1 : x < 0 ? -1 : x),
  floor: Math.floor,
  ceil: Math.ceil,
  round: roundHalfEven,
  exp: Math.exp,
  log: Math.log,
  log1p: Math.log1p,
  expm1: Math.expm1,
  sqrt: Math.sqrt,
  rsqrt: (x) => 1 / Math.sqrt(x),
  sin: Math.sin,
  cos: Math.cos,
  tanh: Math.tanh,
  sigmoid,
  erf,
  erfinv,
  logicalNot: (x) => (x === 0 ? 1 : 0),
};

type Loop = (src: TypedArray, dst: TypedArray) => void;

/**
 * One loop per hot op, so each call site stays monomorphic and the JIT inlines the math (a shared
 * loop calling `f(x)` costs a call per element). Other ops use the generic loop.
 */
/* eslint-disable prettier/prettier */
const LOOPS: Record<string, Loop> = {
  neg: (s, d) => { for (let i = 0; i < d.length; i++) d[i] = -s[i]; },
  abs: (s, d) => { for (let i = 0; i < d.length; i++) d[i] = Math.abs(s[i]); },
  exp: (s, d) => { for (let i = 0; i < d.length; i++) d[i] = Math.exp(s[i]); },
  log: (s, d) => { for (let i = 0; i < d.length; i++) d[i] = Math.log(s[i]); },
  sqrt: (s, d) => { for (let i = 0; i < d.length; i++) d[i] = Math.sqrt(s[i]); },
  rsqrt: (s, d) => { for (let i = 0; i < d.length; i++) d[i] = 1 / Math.sqrt(s[i]); },
  tanh: (s, d) => { for (let i = 0; i < d.length; i++) d[i] = Math.tanh(s[i]); },
  sin: (s, d) => { for (let i = 0; i < d.length; i++) d[i] = Math.sin(s[i]); },
  cos: (s, d) => { for (let i = 0; i < d.length; i++) d[i] = Math.cos(s[i]); },
  sigmoid: (s, d) => {
    for (let i = 0; i < d.length; i++) {
      const x = s[i];
      if (x >= 0) d[i] = 1 / (1 + Math.exp(-x));
      else {
        const e = Math.exp(x);
        d[i] = e / (1 + e);
      }
    }
  },
};
/* eslint-enable prettier/prettier */

function unaryKernel(op: string, f: UnaryFn): CpuKernel {
  const loop = LOOPS[op];
  return ([x], [out]) => {
    const src = dense(x);
    const dst = out.storage;
    if (loop) {
      loop(src, dst);
      return;
    }
    for (let i = 0; i < dst.length; i++) dst[i] = f(src[i]);
  };
}

/** Integer negation must wrap like int32 does. */
function intSafe(op: string, f: UnaryFn): CpuKernel {
  const floatKernel = unaryKernel(op, f);
  return (inputs, outputs, params) => {
    if (op === 'neg' && inputs[0].dtype === 'uint8') {
      const src = dense(inputs[0]);
      const dst = outputs[0].storage;
      for (let i = 0; i < dst.length; i++) dst[i] = (256 - src[i]) & 255;
      return;
    }
    floatKernel(inputs, outputs, params);
  };
}

/** An inner loop over n elements with strides; one function per op keeps each loop monomorphic. */
type Inner = (a: TypedArray, ai: number, sa: number, b: TypedArray, bi: number, sb: number, o: TypedArray, oi: number, n: number) => void;

function floatMod(a: number, b: number): number {
  const r = a % b;
  return r !== 0 && r < 0 !== b < 0 ? r + b : r;
}

function intMod(a: number, b: number): number {
  if (b === 0) fail('mod', 'integer division by zero');
  const r = a % b;
  return r !== 0 && r < 0 !== b < 0 ? r + b : r;
}

function intPow(a: number, b: number): number {
  if (b < 0) fail('pow', `integers cannot be raised to a negative power (${a} ** ${b})`);
  return Math.pow(a, b);
}

/* eslint-disable no-param-reassign */
const INNER: Record<string, Inner> = {
  add: (a, ai, sa, b, bi, sb, o, oi, n) => { for (let i = 0; i < n; i++, ai += sa, bi += sb) o[oi + i] = a[ai] + b[bi]; },
  sub: (a, ai, sa, b, bi, sb, o, oi, n) => { for (let i = 0; i < n; i++, ai += sa, bi += sb) o[oi + i] = a[ai] - b[bi]; },
  mul: (a, ai, sa, b, bi, sb, o, oi, n) => { for (let i = 0; i < n; i++, ai += sa, bi += sb) o[oi + i] = a[ai] * b[bi]; },
  div: (a, ai, sa, b, bi, sb, o, oi, n) => { for (let i = 0; i < n; i++, ai += sa, bi += sb) o[oi + i] = a[ai] / b[bi]; },
  pow: (a, ai, sa, b, bi, sb, o, oi, n) => { for (let i = 0; i < n; i++, ai += sa, bi += sb) o[oi + i] = Math.pow(a[ai], b[bi]); },
  maximum: (a, ai, sa, b, bi, sb, o, oi, n) => { for (let i = 0; i < n; i++, ai += sa, bi += sb) o[oi + i] = Math.max(a[ai], b[bi]); },
  minimum: (a, ai, sa, b, bi, sb, o, oi, n) => { for (let i = 0; i < n; i++, ai += sa, bi += sb) o[oi + i] = Math.min(a[ai], b[bi]); },
  mod: (a, ai, sa, b, bi, sb, o, oi, n) => { for (let i = 0; i < n; i++, ai += sa, bi += sb) o[oi + i] = floatMod(a[ai], b[bi]); },
  eq: (a, ai, sa, b, bi, sb, o, oi, n) => { for (let i = 0; i < n; i++, ai += sa, bi += sb) o[oi + i] = a[ai] === b[bi] ? 1 : 0; },
  ne: (a, ai, sa, b, bi, sb, o, oi, n) => { for (let i = 0; i < n; i++, ai += sa, bi += sb) o[oi + i] = a[ai] !== b[bi] ? 1 : 0; },
  lt: (a, ai, sa, b, bi, sb, o, oi, n) => { for (let i = 0; i < n; i++, ai += sa, bi += sb) o[oi + i] = a[ai] < b[bi] ? 1 : 0; },
  le: (a, ai, sa, b, bi, sb, o, oi, n) => { for (let i = 0; i < n; i++, ai += sa, bi += sb) o[oi + i] = a[ai] <= b[bi] ? 1 : 0; },
  gt: (a, ai, sa, b, bi, sb, o, oi, n) => { for (let i = 0; i < n; i++, ai += sa, bi += sb) o[oi + i] = a[ai] > b[bi] ? 1 : 0; },
  ge: (a, ai, sa, b, bi, sb, o, oi, n) => { for (let i = 0; i < n; i++, ai += sa, bi += sb) o[oi + i] = a[ai] >= b[bi] ? 1 : 0; },
  logicalAnd: (a, ai, sa, b, bi, sb, o, oi, n) => { for (let i = 0; i < n; i++, ai += sa, bi += sb) o[oi + i] = a[ai] && b[bi] ? 1 : 0; },
  logicalOr: (a, ai, sa, b, bi, sb, o, oi, n) => { for (let i = 0; i < n; i++, ai += sa, bi += sb) o[oi + i] = a[ai] || b[bi] ? 1 : 0; },
  logicalXor: (a, ai, sa, b, bi, sb, o, oi, n) => { for (let i = 0; i < n; i++, ai += sa, bi += sb) o[oi + i] = (a[ai] !== 0) !== (b[bi] !== 0) ? 1 : 0; },
};

/** Integer variants where JS float arithmetic would not wrap or round like int32. */
const INNER_INT: Record<string, Inner> = {
  mul: (a, ai, sa, b, bi, sb, o, oi, n) => { for (let i = 0; i < n; i++, ai += sa, bi += sb) o[oi + i] = Math.imul(a[ai], b[bi]); },
  mod: (a, ai, sa, b, bi, sb, o, oi, n) => { for (let i = 0; i < n; i++, ai += sa, bi += sb) o[oi + i] = intMod(a[ai], b[bi]); },
  pow: (a, ai, sa, b, bi, sb, o, oi, n) => { for (let i = 0; i < n; i++, ai += sa, bi += sb) o[oi + i] = intPow(a[ai], b[bi]); },
};
/* eslint-enable no-param-reassign */

type DenseLoop = (a: TypedArray, b: TypedArray, o: TypedArray) => void;

/** Dense same-length loops, unrolled by four (about twice as fast as the strided loop). */
const DENSE: Record<string, DenseLoop> = {
  add: (a, b, o) => {
    const n = o.length - (o.length % 4);
    let i = 0;
    for (; i < n; i += 4) {
      o[i] = a[i] + b[i]; o[i + 1] = a[i + 1] + b[i + 1]; o[i + 2] = a[i + 2] + b[i + 2]; o[i + 3] = a[i + 3] + b[i + 3];
    }
    for (; i < o.length; i++) o[i] = a[i] + b[i];
  },
  sub: (a, b, o) => {
    const n = o.length - (o.length % 4);
    let i = 0;
    for (; i < n; i += 4) {
      o[i] = a[i] - b[i]; o[i + 1] = a[i + 1] - b[i + 1]; o[i + 2] = a[i + 2] - b[i + 2]; o[i + 3] = a[i + 3] - b[i + 3];
    }
    for (; i < o.length; i++) o[i] = a[i] - b[i];
  },
  mul: (a, b, o) => {
    const n = o.length - (o.length % 4);
    let i = 0;
    for (; i < n; i += 4) {
      o[i] = a[i] * b[i]; o[i + 1] = a[i + 1] * b[i + 1]; o[i + 2] = a[i + 2] * b[i + 2]; o[i + 3] = a[i + 3] * b[i + 3];
    }
    for (; i < o.length; i++) o[i] = a[i] * b[i];
  },
  div: (a, b, o) => {
    const n = o.length - (o.length % 4);
    let i = 0;
    for (; i < n; i += 4) {
      o[i] = a[i] / b[i]; o[i + 1] = a[i + 1] / b[i + 1]; o[i + 2] = a[i + 2] / b[i + 2]; o[i + 3] = a[i + 3] / b[i + 3];
    }
    for (; i < o.length; i++) o[i] = a[i] / b[i];
  },
};

/**
 * Walks two same-shape strided views row by row (the innermost dim), calling `inner` per row.
 * Dense inputs collapse to a single row.
 */
function binaryWalk(inner: Inner, a: CpuView, b: CpuView, out: CpuView): void {
  const o = out.storage;
  const n = o.length;
  const rank = a.shape.length;
  const aFlat = isDense(a);
  const bFlat = isDense(b);
  const aScalar = a.strides.every((s) => s === 0);
  const bScalar = b.strides.every((s) => s === 0);
  if ((aFlat || aScalar) && (bFlat || bScalar)) {
    inner(a.storage, a.offset, aScalar ? 0 : 1, b.storage, b.offset, bScalar ? 0 : 1, o, 0, n);
    return;
  }
  const inner_n = a.shape[rank - 1];
  const idx = new Array<number>(rank).fill(0);
  let ai = a.offset;
  let bi = b.offset;
  const sa = a.strides[rank - 1];
  const sb = b.strides[rank - 1];
  for (let oi = 0; oi < n; oi += inner_n) {
    inner(a.storage, ai, sa, b.storage, bi, sb, o, oi, inner_n);
    for (let d = rank - 2; d >= 0; d--) {
      idx[d]++;
      ai += a.strides[d];
      bi += b.strides[d];
      if (idx[d] < a.shape[d]) break;
      ai -= a.strides[d] * a.shape[d];
      bi -= b.strides[d] * b.shape[d];
      idx[d] = 0;
    }
  }
}

function binaryKernel(op: string): CpuKernel {
  const fast = DENSE[op];
  return ([a, b], [out]) => {
    const isInt = a.dtype === 'int32' || a.dtype === 'uint8';
    if (fast && !(isInt && op === 'mul') && isDense(a) && isDense(b)) {
      fast(dense(a), dense(b), out.storage);
      return;
    }
    binaryWalk((isInt && INNER_INT[op]) || INNER[op], a, b, out);
  };
}

/** A view that repeats one element (a broadcast scalar): its value, else undefined. */
function scalarOf(v: CpuView): number | undefined {
  return v.strides.every((s) => s === 0) ? v.storage[v.offset] : undefined;
}

const whereKernel: CpuKernel = ([c, a, b], [out]) => {
  const cond = dense(c);
  const o = out.storage;
  // relu and masks pass a broadcast scalar: read it once instead of materializing it
  const as = scalarOf(a);
  const bs = scalarOf(b);
  const av = as === undefined ? dense(a) : undefined;
  const bv = bs === undefined ? dense(b) : undefined;
  if (av && bs !== undefined) for (let i = 0; i < o.length; i++) o[i] = cond[i] ? av[i] : bs;
  else if (as !== undefined && bv) for (let i = 0; i < o.length; i++) o[i] = cond[i] ? as : bv[i];
  else if (av && bv) for (let i = 0; i < o.length; i++) o[i] = cond[i] ? av[i] : bv[i];
  else for (let i = 0; i < o.length; i++) o[i] = cond[i] ? as! : bs!;
};

const castKernel: CpuKernel = ([x], [out]) => {
  const src = dense(x);
  const o = out.storage;
  if (out.dtype === 'bool') {
    for (let i = 0; i < o.length; i++) o[i] = src[i] !== 0 ? 1 : 0; // NaN → true, like NumPy
  } else if (out.dtype === 'int32' || out.dtype === 'uint8') {
    for (let i = 0; i < o.length; i++) o[i] = Math.trunc(src[i]) || 0; // toward zero; NaN → 0
  } else {
    o.set(src);
  }
};

const copyKernel: CpuKernel = ([x], [out]) => copyStrided(x, out.storage);

const fillKernel: CpuKernel = (_inputs, [out], { value }: { value: number }) => {
  out.storage.fill(out.dtype === 'bool' ? (value ? 1 : 0) : value);
};

export const ELEMENTWISE_KERNELS: Record<string, CpuKernel> = {
  where: whereKernel,
  cast: castKernel,
  copy: copyKernel,
  fill: fillKernel,
};
for (const [op, f] of Object.entries(UNARY)) ELEMENTWISE_KERNELS[op] = intSafe(op, f);
for (const op of Object.keys(INNER)) ELEMENTWISE_KERNELS[op] = binaryKernel(op);
