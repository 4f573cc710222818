/**
 * Convolution and pooling, written in the `im2col`/`col2im` primitives plus matmul, reshape and
 * reductions: conv2d, conv1d, maxPool2d, avgPool2d, and the im2col/col2im helpers themselves.
 *
 * Shapes follow PyTorch: inputs are (N, C, H, W) (or unbatched (C, H, W)), weights are
 * (C_out, C_in / groups, kh, kw), and output sizes are
 * `floor((size + 2·padding − dilation·(kernel − 1) − 1) / stride) + 1` per spatial dim.
 */
import type { DType } from '../dtype.js';
import { floatType, isFloat, promoteTypes } from '../dtype.js';
import { apply1 } from '../engine.js';
import { fail, fmt } from '../errors.js';
import type { Im2colParams } from '../primitives.js';
import type { Tensor } from '../tensor.js';
import { ones } from './create.js';
import { add, cast, div } from './elementwise.js';
import { matmul } from './linalg.js';
import { max, mean, sum } from './reduce.js';
import { pad, reshape } from './shape.js';

/** A size given once for both spatial dims, or as `[height, width]`. */
export type Pair = number | readonly [number, number];

/** Sliding-window options shared by {@link im2col} and {@link col2im}. */
export interface WindowOptions {
  /** Window size (kh, kw). */
  kernel: Pair;
  /** Step between windows (default 1). */
  stride?: Pair;
  /** Implicit padding on both sides of each spatial dim (default 0). */
  padding?: Pair;
  /** Spacing between window taps (default 1). */
  dilation?: Pair;
}

/** Options of {@link conv2d}. */
export interface Conv2dOptions {
  /** Step between windows (default 1). */
  stride?: Pair;
  /**
   * Zero padding on both sides of each spatial dim (default 0); `'valid'` is 0 and `'same'`
   * keeps the spatial size (stride 1 only; an odd total puts the extra element at the end).
   */
  padding?: Pair | 'same' | 'valid';
  /** Spacing between kernel taps (default 1). */
  dilation?: Pair;
  /** Number of channel groups; C_in and C_out must both be divisible by it (default 1). */
  groups?: number;
}

/** Options of {@link conv1d}. */
export interface Conv1dOptions {
  stride?: number;
  padding?: number | 'same' | 'valid';
  dilation?: number;
  groups?: number;
}

/** Options of {@link maxPool2d}. */
export interface MaxPool2dOptions {
  /** Step between windows (default: the kernel size). */
  stride?: Pair;
  /** Implicit −∞ padding, at most half the kernel size (default 0). */
  padding?: Pair;
  /** Spacing between window taps (default 1). */
  dilation?: Pair;
}

/** Options of {@link avgPool2d}. */
export interface AvgPool2dOptions {
  /** Step between windows (default: the kernel size). */
  stride?: Pair;
  /** Implicit zero padding, at most half the kernel size (default 0). */
  padding?: Pair;
  /** Whether padded zeros count in the divisor (default true, as in PyTorch). */
  countIncludePad?: boolean;
}

// ---- argument checking

function toPair(op: string, arg: string, v: Pair | undefined, fallback: [number, number], min: number): [number, number] {
  if (v === undefined) return fallback;
  const pair: unknown[] = typeof v === 'number' ? [v, v] : Array.isArray(v) ? [...v] : [];
  if (pair.length !== 2 || pair.some((d) => typeof d !== 'number' || !Number.isInteger(d) || d < min)) {
    const what = min > 0 ? 'positive' : 'non-negative';
    fail(op, `${arg} must be a ${what} integer or a pair of them, got ${JSON.stringify(v)}`);
  }
  return pair as [number, number];
}

function checkTensor(op: string, arg: string, x: unknown): asserts x is Tensor {
  if (typeof x !== 'object' || x === null || !(x as { __isTensor?: boolean }).__isTensor) {
    fail(op, `${arg} must be a Tensor, got ${x === null ? 'null' : typeof x}`);
  }
}

function checkOpts(op: string, opts: unknown): void {
  if (typeof opts !== 'object' || opts === null || (opts as { kernel?: unknown }).kernel === undefined) {
    fail(op, 'opts must be an object with at least a kernel size');
  }
}

function fmtPair(p: readonly [number, number]): string {
  return `(${p[0]}, ${p[1]})`;
}

/** Fails unless the dilated kernel fits the padded input in both spatial dims. */
function checkFits(op: string, x: Tensor, hw: [number, number], k: [number, number], p: [number, number], d: [number, number], padRight: [number, number] = p): void {
  for (let a = 0; a < 2; a++) {
    const span = d[a] * (k[a] - 1) + 1;
    if (span > hw[a] + p[a] + padRight[a]) {
      const padded: [number, number] = [hw[0] + p[0] + padRight[0], hw[1] + p[1] + padRight[1]];
      fail(op, `kernel ${fmtPair(k)} with dilation ${fmtPair(d)} is larger than the padded input ${fmtPair(padded)} (input ${fmt(x.shape)}, padding ${fmtPair(p)})`);
    }
  }
}

/** Collects temporaries so a `finally` can dispose them all. */
class Temps {
  readonly list: Tensor[] = [];
  keep = (t: Tensor): Tensor => {
    this.list.push(t);
    return t;
  };
  dispose(): void {
    for (const t of this.list) t.dispose();
  }
}

/** Lowest value of a dtype, read outside the input by max pooling. */
function lowest(dtype: DType): number {
  if (isFloat(dtype)) return -Infinity;
  return dtype === 'int32' ? -2147483648 : 0;
}

function windowParams(kernel: [number, number], stride: [number, number], padding: [number, number], dilation: [number, number], padValue: number): Im2colParams {
  return { kernel, stride, padding, dilation, padValue };
}

// ---- im2col / col2im

/**
 * Extracts sliding windows into columns (PyTorch's `unfold`): for every window position
 * (oy, ox) the values x[n, c, oy·sh − ph + i·dh, ox·sw − pw + j·dw] for all c, i, j form one
 * column. Positions outside the input read `padValue`.
 *
 * Args:
 * - `x`: input (N, C, H, W), or unbatched (C, H, W).
 * - `opts`: `kernel` (required), `stride` (1), `padding` (0), `dilation` (1), and `padValue` (0).
 *
 * Shape: (N, C, H, W) → (N, C·kh·kw, oh·ow) with row c·kh·kw + i·kw + j and column oy·ow + ox;
 * an unbatched input gives (C·kh·kw, oh·ow).
 *
 * @example
 * ```ts
 * const x = arange(16).reshape([1, 1, 4, 4]);
 * im2col(x, { kernel: 2, stride: 2 });  // (1, 4, 4): each column is one 2×2 block
 * ```
 */
export function im2col(x: Tensor, opts: WindowOptions & { padValue?: number }): Tensor {
  const op = 'im2col';
  checkTensor(op, 'x', x);
  if (x.rank !== 3 && x.rank !== 4) fail(op, `x must be (N, C, H, W) or (C, H, W), got ${fmt(x.shape)}`);
  checkOpts(op, opts);
  const k = toPair(op, 'kernel', opts.kernel, [0, 0], 1);
  const s = toPair(op, 'stride', opts.stride, [1, 1], 1);
  const p = toPair(op, 'padding', opts.padding, [0, 0], 0);
  const d = toPair(op, 'dilation', opts.dilation, [1, 1], 1);
  const padValue = opts.padValue ?? 0;
  if (typeof padValue !== 'number') fail(op, `padValue must be a number, got ${typeof padValue}`);
  checkFits(op, x, [x.shape[x.rank - 2], x.shape[x.rank - 1]], k, p, d);
  const t = new Temps();
  try {
    const x4 = x.rank === 4 ? x : t.keep(reshape(x, [1, ...x.shape]));
    const cols = apply1(op, [x4], windowParams(k, s, p, d, padValue));
    if (x.rank === 4) return cols;
    t.keep(cols);
    return reshape(cols, cols.shape.slice(1));
  } finally {
    t.dispose();
  }
}

/**
 * Sums columns back into an image (PyTorch's `fold`), the adjoint of {@link im2col} with
 * `padValue = 0`: every column entry is added to the pixel it was read from, and entries that
 * came from the padding are dropped. So ⟨im2col(x), y⟩ = ⟨x, col2im(y)⟩, and
 * `col2im(im2col(x))` multiplies each pixel by the number of windows covering it.
 *
 * Args:
 * - `cols`: columns (N, C·kh·kw, L), or unbatched (C·kh·kw, L), with L = oh·ow for `size`.
 * - `size`: the output's spatial size [H, W].
 * - `opts`: `kernel` (required), `stride` (1), `padding` (0), `dilation` (1).
 *
 * Shape: (N, C·kh·kw, oh·ow) → (N, C, H, W); an unbatched input gives (C, H, W).
 *
 * @example
 * ```ts
 * const cols = ones([1, 4, 9]);
 * col2im(cols, [4, 4], { kernel: 2 });  // (1, 1, 4, 4): how many 2×2 windows cover each pixel
 * ```
 */
export function col2im(cols: Tensor, size: readonly [number, number], opts: WindowOptions): Tensor {
  const op = 'col2im';
  checkTensor(op, 'cols', cols);
  if (cols.rank !== 2 && cols.rank !== 3) fail(op, `cols must be (N, C·kh·kw, L) or (C·kh·kw, L), got ${fmt(cols.shape)}`);
  const hw = toPair(op, 'size', size, [0, 0], 1);
  checkOpts(op, opts);
  const k = toPair(op, 'kernel', opts.kernel, [0, 0], 1);
  const s = toPair(op, 'stride', opts.stride, [1, 1], 1);
  const p = toPair(op, 'padding', opts.padding, [0, 0], 0);
  const d = toPair(op, 'dilation', opts.dilation, [1, 1], 1);
  const [rows, l] = cols.shape.slice(-2);
  const kk = k[0] * k[1];
  if (rows % kk !== 0) {
    fail(op, `cols ${fmt(cols.shape)} has ${rows} rows, not a multiple of kernel ${fmtPair(k)} (${kk} taps)`);
  }
  for (let a = 0; a < 2; a++) {
    if (d[a] * (k[a] - 1) + 1 > hw[a] + 2 * p[a]) {
      fail(op, `kernel ${fmtPair(k)} with dilation ${fmtPair(d)} is larger than the padded size ${fmtPair([hw[0] + 2 * p[0], hw[1] + 2 * p[1]])} (size ${fmtPair(hw)}, padding ${fmtPair(p)})`);
    }
  }
  const oh = Math.floor((hw[0] + 2 * p[0] - d[0] * (k[0] - 1) - 1) / s[0]) + 1;
  const ow = Math.floor((hw[1] + 2 * p[1] - d[1] * (k[1] - 1) - 1) / s[1]) + 1;
  if (l !== oh * ow) {
    fail(op, `cols ${fmt(cols.shape)} has ${l} columns but size ${fmtPair(hw)} with kernel ${fmtPair(k)}, stride ${fmtPair(s)}, padding ${fmtPair(p)} and dilation ${fmtPair(d)} gives ${oh}·${ow} = ${oh * ow} windows`);
  }
  const t = new Temps();
  try {
    const c3 = cols.rank === 3 ? cols : t.keep(reshape(cols, [1, ...cols.shape]));
    const img = apply1(op, [c3], { ...windowParams(k, s, p, d, 0), size: hw });
    if (cols.rank === 3) return img;
    t.keep(img);
    return reshape(img, img.shape.slice(1));
  } finally {
    t.dispose();
  }
}

// ---- convolution

/** Resolves `'same'`/`'valid'`/numbers into padding before and after each spatial dim. */
function resolvePadding(
  op: string,
  padding: Pair | 'same' | 'valid' | undefined,
  k: [number, number],
  s: [number, number],
  d: [number, number],
  strideArg: string,
): { before: [number, number]; after: [number, number] } {
  if (padding === 'valid') return { before: [0, 0], after: [0, 0] };
  if (padding === 'same') {
    if (s[0] !== 1 || s[1] !== 1) fail(op, `padding='same' requires stride 1, got stride ${strideArg}`);
    const total = [d[0] * (k[0] - 1), d[1] * (k[1] - 1)];
    const before: [number, number] = [Math.floor(total[0] / 2), Math.floor(total[1] / 2)];
    return { before, after: [total[0] - before[0], total[1] - before[1]] };
  }
  if (typeof padding === 'string') fail(op, `padding must be a number, a pair, 'same' or 'valid', got '${padding}'`);
  const p = toPair(op, 'padding', padding, [0, 0], 0);
  return { before: p, after: p };
}

interface ConvArgs {
  stride: [number, number];
  before: [number, number];
  after: [number, number];
  dilation: [number, number];
  groups: number;
}

/**
 * The convolution proper, on a 4-D input and weight that have been validated: the conv2d
 * primitive for one group; for several, im2col then one batched matmul of the weights of each
 * group with that group's columns.
 */
function convCore(x: Tensor, w: Tensor, bias: Tensor | undefined, a: ConvArgs, t: Temps): Tensor {
  const [n, , h] = x.shape;
  const [cOut, cg, kh, kw] = w.shape;
  const g = a.groups;
  const dtype = floatType(bias ? promoteTypes(promoteTypes(x.dtype, w.dtype), bias.dtype) : promoteTypes(x.dtype, w.dtype));
  let xi = x.dtype === dtype ? x : t.keep(cast(x, dtype));
  const wi = w.dtype === dtype ? w : t.keep(cast(w, dtype));
  // asymmetric ('same' with an even kernel span): pad the extra element explicitly at the end
  const extra = [a.after[0] - a.before[0], a.after[1] - a.before[1]];
  if (extra[0] > 0 || extra[1] > 0) xi = t.keep(pad(xi, [[0, 0], [0, 0], [0, extra[0]], [0, extra[1]]]));
  let y: Tensor; // (N, C_out, oh, ow)
  if (g === 1) {
    // the conv2d primitive: backends fuse im2col into the matmul's packing
    y = apply1('conv2d', [xi, wi], { stride: a.stride, padding: a.before, dilation: a.dilation });
  } else {
    const cols = t.keep(apply1('im2col', [xi], windowParams([kh, kw], a.stride, a.before, a.dilation, 0)));
    const l = cols.shape[2];
    const oh = Math.floor((h + a.before[0] + a.after[0] - a.dilation[0] * (kh - 1) - 1) / a.stride[0]) + 1;
    const kk = cg * kh * kw;
    // (g, C_out/g, K) @ (N, g, K, L) → (N, g, C_out/g, L)
    const wg = t.keep(reshape(wi, [g, cOut / g, kk]));
    const cg4 = t.keep(reshape(cols, [n, g, kk, l]));
    y = reshape(t.keep(matmul(wg, cg4)), [n, cOut, oh, l / oh]);
  }
  if (!bias) return y;
  t.keep(y);
  const bi = bias.dtype === dtype ? bias : t.keep(cast(bias, dtype));
  return add(y, t.keep(reshape(bi, [cOut, 1, 1])));
}

/**
 * 2-D convolution (PyTorch's `conv2d`, i.e. cross-correlation):
 *
 * out[n, o, y, x] = bias[o] + Σ_{c, i, j} weight[o, c, i, j] · x[n, g·C_in/groups + c, y·sh − ph + i·dh, x·sw − pw + j·dw]
 *
 * where g = o / (C_out/groups) is the group of output channel o and out-of-range input pixels
 * are 0. One group runs as the `conv2d` primitive (im2col and matmul, fused where the backend
 * can); several run as im2col followed by one batched matmul per group.
 *
 * Args:
 * - `x`: input (N, C_in, H, W), or unbatched (C_in, H, W).
 * - `weight`: filters (C_out, C_in/groups, kh, kw).
 * - `bias`: optional (C_out), added to every output pixel.
 * - `opts.stride` (1), `opts.padding` (0, a pair, `'same'` or `'valid'`), `opts.dilation` (1),
 *   `opts.groups` (1).
 *
 * Shape: (N, C_in, H, W) → (N, C_out, oh, ow) with
 * oh = floor((H + 2·ph − dh·(kh − 1) − 1) / sh) + 1 (likewise ow); unbatched gives (C_out, oh, ow).
 * Integer inputs compute in float32.
 *
 * @example
 * ```ts
 * const x = randn([8, 3, 32, 32]);
 * const w = randn([16, 3, 3, 3]);
 * const y = conv2d(x, w, undefined, { padding: 1 });      // (8, 16, 32, 32)
 * const dw = conv2d(y, randn([16, 1, 3, 3]), undefined, { groups: 16, padding: 'same' }); // depthwise
 * ```
 */
export function conv2d(x: Tensor, weight: Tensor, bias?: Tensor | null, opts: Conv2dOptions = {}): Tensor {
  const op = 'conv2d';
  checkTensor(op, 'x', x);
  checkTensor(op, 'weight', weight);
  if (bias != null) checkTensor(op, 'bias', bias);
  if (x.rank !== 3 && x.rank !== 4) fail(op, `input must be (N, C, H, W) or (C, H, W), got ${fmt(x.shape)}`);
  if (weight.rank !== 4) fail(op, `weight must be (C_out, C_in/groups, kh, kw), got ${fmt(weight.shape)}`);
  const groups = opts.groups ?? 1;
  if (!Number.isInteger(groups) || groups < 1) fail(op, `groups must be a positive integer, got ${groups}`);
  const [cOut, cg, kh, kw] = weight.shape;
  const cIn = x.shape[x.rank - 3];
  const hw: [number, number] = [x.shape[x.rank - 2], x.shape[x.rank - 1]];
  if (cIn % groups !== 0) fail(op, `groups=${groups} must divide the input channels, but input ${fmt(x.shape)} has ${cIn}`);
  if (cOut % groups !== 0) fail(op, `groups=${groups} must divide the output channels, but weight ${fmt(weight.shape)} has ${cOut}`);
  if (cg * groups !== cIn) {
    const g = groups > 1 ? `, groups ${groups}` : '';
    fail(op, `input has ${cIn} channels but weight expects ${cg * groups} (weight ${fmt(weight.shape)}${g})`);
  }
  if (bias != null && (bias.rank !== 1 || bias.shape[0] !== cOut)) {
    fail(op, `bias must have shape (${cOut},) to match weight ${fmt(weight.shape)}, got ${fmt(bias.shape)}`);
  }
  const k: [number, number] = [kh, kw];
  const stride = toPair(op, 'stride', opts.stride, [1, 1], 1);
  const dilation = toPair(op, 'dilation', opts.dilation, [1, 1], 1);
  if (kh === 0 || kw === 0) fail(op, `weight ${fmt(weight.shape)} has an empty kernel`);
  const { before, after } = resolvePadding(op, opts.padding, k, stride, dilation, fmtPair(stride));
  checkFits(op, x, hw, k, before, dilation, after);
  const t = new Temps();
  try {
    const x4 = x.rank === 4 ? x : t.keep(reshape(x, [1, ...x.shape]));
    const y = convCore(x4, weight, bias ?? undefined, { stride, before, after, dilation, groups }, t);
    if (x.rank === 4) return y;
    t.keep(y);
    return reshape(y, y.shape.slice(1));
  } finally {
    t.dispose();
  }
}

function toSingle(op: string, arg: string, v: number | readonly [number] | undefined, fallback: number, min: number): number {
  if (v === undefined) return fallback;
  const s = Array.isArray(v) && v.length === 1 ? v[0] : v;
  if (typeof s !== 'number' || !Number.isInteger(s) || s < min) {
    fail(op, `${arg} must be a ${min > 0 ? 'positive' : 'non-negative'} integer, got ${JSON.stringify(v)}`);
  }
  return s;
}

/**
 * 1-D convolution (PyTorch's `conv1d`):
 *
 * out[n, o, t] = bias[o] + Σ_{c, i} weight[o, c, i] · x[n, g·C_in/groups + c, t·stride − padding + i·dilation]
 *
 * Computed as {@link conv2d} on a height-1 image.
 *
 * Args:
 * - `x`: input (N, C_in, L), or unbatched (C_in, L).
 * - `weight`: filters (C_out, C_in/groups, k).
 * - `bias`: optional (C_out).
 * - `opts.stride` (1), `opts.padding` (0, `'same'` or `'valid'`), `opts.dilation` (1), `opts.groups` (1).
 *
 * Shape: (N, C_in, L) → (N, C_out, L_out), L_out = floor((L + 2·padding − dilation·(k − 1) − 1) / stride) + 1.
 *
 * @example
 * ```ts
 * const x = randn([4, 2, 100]);
 * const y = conv1d(x, randn([8, 2, 5]), undefined, { padding: 'same' });  // (4, 8, 100)
 * ```
 */
export function conv1d(x: Tensor, weight: Tensor, bias?: Tensor | null, opts: Conv1dOptions = {}): Tensor {
  const op = 'conv1d';
  checkTensor(op, 'x', x);
  checkTensor(op, 'weight', weight);
  if (bias != null) checkTensor(op, 'bias', bias);
  if (x.rank !== 2 && x.rank !== 3) fail(op, `input must be (N, C, L) or (C, L), got ${fmt(x.shape)}`);
  if (weight.rank !== 3) fail(op, `weight must be (C_out, C_in/groups, k), got ${fmt(weight.shape)}`);
  const groups = opts.groups ?? 1;
  if (!Number.isInteger(groups) || groups < 1) fail(op, `groups must be a positive integer, got ${groups}`);
  const [cOut, cg, k] = weight.shape;
  const cIn = x.shape[x.rank - 2];
  const len = x.shape[x.rank - 1];
  if (cIn % groups !== 0) fail(op, `groups=${groups} must divide the input channels, but input ${fmt(x.shape)} has ${cIn}`);
  if (cOut % groups !== 0) fail(op, `groups=${groups} must divide the output channels, but weight ${fmt(weight.shape)} has ${cOut}`);
  if (cg * groups !== cIn) {
    const g = groups > 1 ? `, groups ${groups}` : '';
    fail(op, `input has ${cIn} channels but weight expects ${cg * groups} (weight ${fmt(weight.shape)}${g})`);
  }
  if (bias != null && (bias.rank !== 1 || bias.shape[0] !== cOut)) {
    fail(op, `bias must have shape (${cOut},) to match weight ${fmt(weight.shape)}, got ${fmt(bias.shape)}`);
  }
  if (k === 0) fail(op, `weight ${fmt(weight.shape)} has an empty kernel`);
  const stride = toSingle(op, 'stride', opts.stride, 1, 1);
  const dilation = toSingle(op, 'dilation', opts.dilation, 1, 1);
  let padding: Pair | 'same' | 'valid';
  if (opts.padding === 'same' || opts.padding === 'valid') {
    if (opts.padding === 'same' && stride !== 1) fail(op, `padding='same' requires stride 1, got stride ${stride}`);
    padding = opts.padding;
  } else if (typeof opts.padding === 'string') {
    fail(op, `padding must be a number, 'same' or 'valid', got '${opts.padding as string}'`);
  } else {
    padding = [0, toSingle(op, 'padding', opts.padding, 0, 0)];
  }
  const { before, after } = resolvePadding(op, padding, [1, k], [1, stride], [1, dilation], String(stride));
  const span = dilation * (k - 1) + 1;
  if (span > len + before[1] + after[1]) {
    fail(op, `kernel ${k} with dilation ${dilation} is larger than the padded input length ${len + before[1] + after[1]} (input ${fmt(x.shape)}, padding ${before[1]})`);
  }
  const t = new Temps();
  try {
    const x4 = t.keep(reshape(x, [...x.shape.slice(0, -1), 1, len]));
    const x4b = x.rank === 3 ? x4 : t.keep(reshape(x4, [1, ...x4.shape]));
    const w4 = t.keep(reshape(weight, [cOut, cg, 1, k]));
    const y = t.keep(convCore(x4b, w4, bias ?? undefined, { stride: [1, stride], before, after, dilation: [1, dilation], groups }, t));
    const [n, co, , lo] = y.shape;
    return reshape(y, x.rank === 3 ? [n, co, lo] : [co, lo]);
  } finally {
    t.dispose();
  }
}

// ---- pooling

interface PoolSetup {
  x4: Tensor;
  k: [number, number];
  s: [number, number];
  p: [number, number];
  d: [number, number];
  oh: number;
  ow: number;
}

function poolSetup(op: string, x: Tensor, kernel: Pair, stride: Pair | undefined, padding: Pair | undefined, dilation: Pair | undefined, t: Temps): PoolSetup {
  checkTensor(op, 'x', x);
  if (x.rank !== 3 && x.rank !== 4) fail(op, `input must be (N, C, H, W) or (C, H, W), got ${fmt(x.shape)}`);
  const k = toPair(op, 'kernel', kernel, [0, 0], 1);
  const s = toPair(op, 'stride', stride, k, 1);
  const p = toPair(op, 'padding', padding, [0, 0], 0);
  const d = toPair(op, 'dilation', dilation, [1, 1], 1);
  if (p[0] > k[0] / 2 || p[1] > k[1] / 2) {
    fail(op, `padding ${fmtPair(p)} must be at most half the kernel ${fmtPair(k)}`);
  }
  const hw: [number, number] = [x.shape[x.rank - 2], x.shape[x.rank - 1]];
  checkFits(op, x, hw, k, p, d);
  const oh = Math.floor((hw[0] + 2 * p[0] - d[0] * (k[0] - 1) - 1) / s[0]) + 1;
  const ow = Math.floor((hw[1] + 2 * p[1] - d[1] * (k[1] - 1) - 1) / s[1]) + 1;
  const x4 = x.rank === 4 ? x : t.keep(reshape(x, [1, ...x.shape]));
  return { x4, k, s, p, d, oh, ow };
}

/** im2col of a pooling input, viewed as (N, C, kh·kw, L). */
function poolWindows(w: PoolSetup, padValue: number, t: Temps): Tensor {
  const [n, c] = w.x4.shape;
  const cols = t.keep(apply1('im2col', [w.x4], windowParams(w.k, w.s, w.p, w.d, padValue)));
  return t.keep(reshape(cols, [n, c, w.k[0] * w.k[1], w.oh * w.ow]));
}

/** Reshapes pooled (N, C, L) into (N, C, oh, ow), or (C, oh, ow) for an unbatched input. */
function finishPool(x: Tensor, pooled: Tensor, w: PoolSetup): Tensor {
  const [n, c] = w.x4.shape;
  return reshape(pooled, x.rank === 4 ? [n, c, w.oh, w.ow] : [c, w.oh, w.ow]);
}

/**
 * 2-D max pooling (PyTorch's `max_pool2d`):
 *
 * out[n, c, y, x] = max_{i, j} x[n, c, y·sh − ph + i·dh, x·sw − pw + j·dw]
 *
 * with padded positions reading −∞ (so they are never picked). NaN in a window propagates.
 *
 * Args:
 * - `x`: input (N, C, H, W), or unbatched (C, H, W).
 * - `kernel`: window size, a number or [kh, kw].
 * - `opts.stride` (default: the kernel), `opts.padding` (0; at most half the kernel),
 *   `opts.dilation` (1).
 *
 * Shape: (N, C, H, W) → (N, C, oh, ow), oh = floor((H + 2·ph − dh·(kh − 1) − 1) / sh) + 1.
 *
 * @example
 * ```ts
 * const x = randn([1, 16, 32, 32]);
 * maxPool2d(x, 2);                              // (1, 16, 16, 16)
 * maxPool2d(x, 3, { stride: 1, padding: 1 });   // (1, 16, 32, 32)
 * ```
 */
export function maxPool2d(x: Tensor, kernel: Pair, opts: MaxPool2dOptions = {}): Tensor {
  const op = 'maxPool2d';
  const t = new Temps();
  try {
    const w = poolSetup(op, x, kernel, opts.stride, opts.padding, opts.dilation, t);
    const windows = poolWindows(w, lowest(x.dtype), t);
    return finishPool(x, t.keep(max(windows, 2)), w);
  } finally {
    t.dispose();
  }
}

/**
 * 2-D average pooling (PyTorch's `avg_pool2d`):
 *
 * out[n, c, y, x] = (1 / D) Σ_{i, j} x[n, c, y·sh − ph + i, x·sw − pw + j]
 *
 * with padded positions reading 0. D is kh·kw when `countIncludePad` (the default, as in
 * PyTorch), otherwise the number of window positions inside the input. Integer inputs give float32.
 *
 * Args:
 * - `x`: input (N, C, H, W), or unbatched (C, H, W).
 * - `kernel`: window size, a number or [kh, kw].
 * - `opts.stride` (default: the kernel), `opts.padding` (0; at most half the kernel),
 *   `opts.countIncludePad` (true).
 *
 * Shape: (N, C, H, W) → (N, C, oh, ow), oh = floor((H + 2·ph − kh) / sh) + 1.
 *
 * @example
 * ```ts
 * const x = ones([1, 1, 2, 2]);
 * avgPool2d(x, 2, { stride: 1, padding: 1 });                          // corners: 1/4
 * avgPool2d(x, 2, { stride: 1, padding: 1, countIncludePad: false });  // all 1
 * ```
 */
export function avgPool2d(x: Tensor, kernel: Pair, opts: AvgPool2dOptions = {}): Tensor {
  const op = 'avgPool2d';
  const t = new Temps();
  try {
    const w = poolSetup(op, x, kernel, opts.stride, opts.padding, undefined, t);
    const countIncludePad = opts.countIncludePad ?? true;
    if (typeof countIncludePad !== 'boolean') fail(op, `countIncludePad must be a boolean, got ${typeof countIncludePad}`);
    const windows = poolWindows(w, 0, t);
    if (countIncludePad || (w.p[0] === 0 && w.p[1] === 0)) return finishPool(x, t.keep(mean(windows, 2)), w);
    // divide each window's sum by the number of real pixels in it: pool a ones image the same way
    const [, , h, wd] = w.x4.shape;
    const dtype = floatType(x.dtype);
    const one = t.keep(ones([1, 1, h, wd], { dtype, backend: x.backend }));
    const oneCols = t.keep(apply1('im2col', [one], windowParams(w.k, w.s, w.p, w.d, 0)));
    const counts = t.keep(sum(oneCols, 1)); // (1, L)
    const sums = t.keep(sum(windows, 2)); // (N, C, L)
    const sf = sums.dtype === dtype ? sums : t.keep(cast(sums, dtype));
    return finishPool(x, t.keep(div(sf, counts)), w);
  } finally {
    t.dispose();
  }
}
