/**
 * Pooling layers: `MaxPool2d` and `AvgPool2d` (on @ml/tensor's maxPool2d/avgPool2d, with
 * PyTorch's `ceilMode` and `divisorOverride` added here), and `AdaptiveAvgPool2d` (averaging
 * matrices applied to rows and columns) with its functional form `adaptiveAvgPool2d`.
 */
import { avgPool2d, im2col, maxPool2d, scope, tensor } from '@ml/tensor';
import type { Tensor } from '@ml/tensor';
import { Module } from '../module.js';
import { checkFloat, checkInt, checkTensor, fail, fmtShape, reprBool, reprTuple } from './layer-utils.js';
import type { Size2 } from './conv.js';

function pair(where: string, arg: string, v: Size2 | undefined, fallback: [number, number], min: number): [number, number] {
  if (v === undefined) return fallback;
  if (typeof v === 'number') return [checkInt(where, arg, v, min), checkInt(where, arg, v, min)];
  if (!Array.isArray(v) || v.length !== 2) fail(where, `${arg} must be a number or a pair of numbers, got ${JSON.stringify(v)}`);
  return [checkInt(where, arg, v[0], min), checkInt(where, arg, v[1], min)];
}

function checkImage(where: string, x: Tensor): void {
  checkTensor(where, 'input', x);
  if (x.rank !== 3 && x.rank !== 4) fail(where, `expected input (N, C, H, W) or (C, H, W), got ${fmtShape(x.shape)}`);
}

/** The window settings shared by max and average pooling. */
interface Window {
  kernel: [number, number];
  stride: [number, number];
  padding: [number, number];
  dilation: [number, number];
  ceilMode: boolean;
}

function resolveWindow(where: string, kernelSize: Size2, opts: { stride?: Size2 | null; padding?: Size2; dilation?: Size2; ceilMode?: boolean }): Window {
  const kernel = pair(where, 'kernelSize', kernelSize, [1, 1], 1);
  const stride = opts.stride == null ? kernel : pair(where, 'stride', opts.stride, kernel, 1);
  const padding = pair(where, 'padding', opts.padding, [0, 0], 0);
  const dilation = pair(where, 'dilation', opts.dilation, [1, 1], 1);
  for (let a = 0; a < 2; a++) {
    if (padding[a] > kernel[a] / 2) fail(where, `padding ${reprTuple(padding)} must be at most half the kernel size ${reprTuple(kernel)}`);
  }
  return { kernel, stride, padding, dilation, ceilMode: opts.ceilMode ?? false };
}

/**
 * Output size along one dim (PyTorch's `pooling_output_shape`): floor or ceil of
 * (size + 2p − d(k − 1) − 1)/s + 1; in ceil mode the last window must start inside the input or
 * the left padding.
 */
function outSize(size: number, k: number, s: number, p: number, d: number, ceil: boolean): number {
  const span = size + 2 * p - d * (k - 1) - 1;
  let out = Math.floor((span + (ceil ? s - 1 : 0)) / s) + 1;
  if (ceil && (out - 1) * s >= size + p) out--;
  return out;
}

/** Output size and the extra padding at the end that ceil mode needs, per spatial dim. */
function geometry(where: string, x: Tensor, w: Window): { out: [number, number]; extra: [number, number] } {
  const hw = x.shape.slice(-2);
  const out: [number, number] = [0, 0];
  const extra: [number, number] = [0, 0];
  for (let a = 0; a < 2; a++) {
    const span = w.dilation[a] * (w.kernel[a] - 1) + 1;
    if (span > hw[a] + 2 * w.padding[a]) {
      fail(where, `kernel ${reprTuple(w.kernel)} with dilation ${reprTuple(w.dilation)} spans ${span} but the padded input is ${hw[a] + 2 * w.padding[a]} along spatial dim ${a} (input ${fmtShape(x.shape)})`);
    }
    out[a] = outSize(hw[a], w.kernel[a], w.stride[a], w.padding[a], w.dilation[a], w.ceilMode);
    extra[a] = Math.max(0, (out[a] - 1) * w.stride[a] + span - (hw[a] + 2 * w.padding[a]));
  }
  return { out, extra };
}

/** Pads the end of the two spatial dims of a 3-D or 4-D tensor. */
function padEnd(x: Tensor, extra: [number, number], value: number, before: [number, number] = [0, 0]): Tensor {
  const lead = x.shape.slice(0, -2).map(() => [0, 0] as [number, number]);
  return x.pad([...lead, [before[0], extra[0]], [before[1], extra[1]]], value);
}

/** A size as PyTorch prints what it was given: one number when both dims agree. */
function reprSize(p: readonly [number, number]): string {
  return p[0] === p[1] ? String(p[0]) : reprTuple(p);
}

function windowRepr(w: Window): string {
  return `kernel_size=${reprSize(w.kernel)}, stride=${reprSize(w.stride)}, padding=${reprSize(w.padding)}`;
}

/** Options of {@link MaxPool2d}. */
export interface MaxPool2dOptions {
  /** Step between windows (default: the kernel size). */
  stride?: Size2 | null;
  /** Implicit −∞ padding on both sides, at most half the kernel (default 0). */
  padding?: Size2;
  /** Spacing between window taps (default 1). */
  dilation?: Size2;
  /** Round the output size up, so windows may overhang the end of the input (default false). */
  ceilMode?: boolean;
}

/**
 * 2-D max pooling (PyTorch's `nn.MaxPool2d`): out[n, c, y, x] = max over the window at
 * (y·sh − ph, x·sw − pw) with taps dh, dw apart; padding never wins.
 *
 * Shape: (N, C, H, W) or (C, H, W) → (N, C, oh, ow), oh = floor((H + 2·ph − dh·(kh − 1) − 1) / sh) + 1
 * (ceil instead of floor with `ceilMode`, with PyTorch's rule that the last window starts inside
 * the input or left padding).
 *
 * @example
 * ```ts
 * new MaxPool2d(2).forward(x); // (8, 16, 32, 32) → (8, 16, 16, 16)
 * ```
 */
export class MaxPool2d extends Module {
  readonly #w: Window;

  constructor(kernelSize: Size2, opts: MaxPool2dOptions = {}) {
    super();
    this.#w = resolveWindow('MaxPool2d', kernelSize, opts);
  }

  get kernelSize(): [number, number] { return this.#w.kernel; }
  get stride(): [number, number] { return this.#w.stride; }
  get padding(): [number, number] { return this.#w.padding; }
  get dilation(): [number, number] { return this.#w.dilation; }
  get ceilMode(): boolean { return this.#w.ceilMode; }

  forward(x: Tensor): Tensor {
    const where = 'MaxPool2d.forward';
    checkImage(where, x);
    const w = this.#w;
    const { extra } = geometry(where, x, w);
    const opts = { stride: w.stride, padding: w.padding, dilation: w.dilation };
    if (extra[0] === 0 && extra[1] === 0) return maxPool2d(x, w.kernel, opts);
    const low = x.dtype === 'float32' || x.dtype === 'float64' ? -Infinity : x.dtype === 'int32' ? -2147483648 : 0;
    return scope(() => maxPool2d(padEnd(x, extra, low), w.kernel, opts));
  }

  override extraRepr(): string {
    return `${windowRepr(this.#w)}, dilation=${reprSize(this.#w.dilation)}, ceil_mode=${reprBool(this.#w.ceilMode)}`;
  }
}

/** Options of {@link AvgPool2d}. */
export interface AvgPool2dOptions {
  /** Step between windows (default: the kernel size). */
  stride?: Size2 | null;
  /** Implicit zero padding on both sides, at most half the kernel (default 0). */
  padding?: Size2;
  /** Round the output size up (default false). */
  ceilMode?: boolean;
  /** Count the zero padding in the divisor (default true, as PyTorch). */
  countIncludePad?: boolean;
  /** Divide every window sum by this instead. */
  divisorOverride?: number | null;
}

/**
 * 2-D average pooling (PyTorch's `nn.AvgPool2d`): out = (sum of the window) / D, where D is
 * `divisorOverride` if given; otherwise the window's size clipped to the padded input
 * (`countIncludePad`, the default) or the number of real input pixels in the window.
 *
 * Shape: (N, C, H, W) or (C, H, W) → (N, C, oh, ow), oh = floor((H + 2·ph − kh) / sh) + 1 (ceil with `ceilMode`).
 *
 * @example
 * ```ts
 * new AvgPool2d(3, { stride: 2, padding: 1 }).forward(x); // (1, 8, 32, 32) → (1, 8, 16, 16)
 * ```
 */
export class AvgPool2d extends Module {
  readonly #w: Window;
  readonly countIncludePad: boolean;
  readonly divisorOverride: number | null;

  constructor(kernelSize: Size2, opts: AvgPool2dOptions = {}) {
    super();
    this.#w = resolveWindow('AvgPool2d', kernelSize, opts);
    this.countIncludePad = opts.countIncludePad ?? true;
    const d = opts.divisorOverride ?? null;
    if (d !== null && (typeof d !== 'number' || !Number.isFinite(d) || d === 0)) fail('AvgPool2d', `divisorOverride must be a non-zero number, got ${String(d)}`);
    this.divisorOverride = d;
  }

  get kernelSize(): [number, number] { return this.#w.kernel; }
  get stride(): [number, number] { return this.#w.stride; }
  get padding(): [number, number] { return this.#w.padding; }
  get ceilMode(): boolean { return this.#w.ceilMode; }

  forward(x: Tensor): Tensor {
    const where = 'AvgPool2d.forward';
    checkImage(where, x);
    const w = this.#w;
    const { out, extra } = geometry(where, x, w);
    if (extra[0] === 0 && extra[1] === 0 && this.divisorOverride === null) {
      return avgPool2d(x, w.kernel, { stride: w.stride, padding: w.padding, countIncludePad: this.countIncludePad });
    }
    // window sums over the explicitly padded input, divided by PyTorch's per-window divisor
    const hw = x.shape.slice(-2);
    const divisor = (a: number, i: number): number => {
      const start = i * w.stride[a] - w.padding[a];
      const end = Math.min(start + w.kernel[a], hw[a] + w.padding[a]);
      return this.countIncludePad ? end - start : Math.min(end, hw[a]) - Math.max(start, 0);
    };
    const counts: number[] = [];
    for (let i = 0; i < out[0]; i++) for (let j = 0; j < out[1]; j++) counts.push(this.divisorOverride ?? divisor(0, i) * divisor(1, j));
    return scope(() => {
      const xf = x.dtype === 'float64' ? x : x.cast('float32');
      const padded = padEnd(xf, [w.padding[0] + extra[0], w.padding[1] + extra[1]], 0, w.padding);
      const x4 = padded.rank === 4 ? padded : padded.reshape([1, ...padded.shape]);
      const [n, c] = x4.shape;
      const cols = im2col(x4, { kernel: w.kernel, stride: w.stride }); // (N, C·kh·kw, oh·ow)
      const sums = cols.reshape([n, c, w.kernel[0] * w.kernel[1], out[0] * out[1]]).sum(2); // (N, C, oh·ow)
      const y = sums.div(tensor(counts, { dtype: xf.dtype, backend: x.backend }));
      return y.reshape([...x.shape.slice(0, -2), out[0], out[1]]);
    });
  }

  override extraRepr(): string {
    return windowRepr(this.#w);
  }
}

/** An output size of adaptive pooling: one size for both dims, or `[oh, ow]` with null keeping the input's size. */
export type AdaptiveSize = number | readonly [number | null, number | null];

/** The (out, size) averaging matrix: row i averages input positions floor(i·size/out) ≤ j < ceil((i+1)·size/out). */
function binMatrix(size: number, out: number): number[] {
  const m = new Array<number>(out * size).fill(0);
  for (let i = 0; i < out; i++) {
    const start = Math.floor((i * size) / out);
    const end = Math.ceil(((i + 1) * size) / out);
    for (let j = start; j < end; j++) m[i * size + j] = 1 / (end - start);
  }
  return m;
}

/**
 * Adaptive average pooling to a fixed output size (PyTorch's `adaptive_avg_pool2d`): output cell
 * (i, j) averages input rows floor(i·H/oh) ≤ r < ceil((i+1)·H/oh) and the same bins of columns.
 * The bins are rectangles, so this is A_h · x · A_wᵀ with averaging matrices A_h (oh, H) and
 * A_w (ow, W).
 *
 * Args:
 * - `x`: (N, C, H, W) or (C, H, W), float.
 * - `outputSize`: oh and ow (a number for both; null keeps the input's size).
 *
 * Shape: → (N, C, oh, ow).
 *
 * @example
 * ```ts
 * adaptiveAvgPool2d(x, 1); // global average pooling: (8, 512, 7, 7) → (8, 512, 1, 1)
 * ```
 */
export function adaptiveAvgPool2d(x: Tensor, outputSize: AdaptiveSize): Tensor {
  return adaptive('adaptiveAvgPool2d', x, resolveAdaptive('adaptiveAvgPool2d', outputSize));
}

function resolveAdaptive(where: string, outputSize: AdaptiveSize): [number | null, number | null] {
  const s = typeof outputSize === 'number' ? [outputSize, outputSize] : outputSize;
  if (!Array.isArray(s) || s.length !== 2) fail(where, `outputSize must be a number or a pair, got ${JSON.stringify(outputSize)}`);
  return [s[0] === null ? null : checkInt(where, 'outputSize', s[0]), s[1] === null ? null : checkInt(where, 'outputSize', s[1])];
}

function adaptive(where: string, x: Tensor, size: [number | null, number | null]): Tensor {
  checkImage(where, x);
  checkFloat(where, 'input', x);
  const [h, w] = x.shape.slice(-2);
  if (h === 0 || w === 0) fail(where, `input ${fmtShape(x.shape)} has an empty spatial dim`);
  const oh = size[0] ?? h;
  const ow = size[1] ?? w;
  return scope(() => {
    const opts = { dtype: x.dtype, backend: x.backend };
    const ah = tensor(binMatrix(h, oh), { ...opts, shape: [oh, h] }); // (oh, H)
    const awT = tensor(binMatrix(w, ow), { ...opts, shape: [ow, w] }).transpose(); // (W, ow)
    return ah.matmul(x).matmul(awT); // (…, oh, W) → (…, oh, ow)
  });
}

/**
 * Adaptive average pooling (PyTorch's `nn.AdaptiveAvgPool2d`): any input size to a fixed output
 * size; see {@link adaptiveAvgPool2d}.
 *
 * Shape: (N, C, H, W) or (C, H, W) → (N, C, oh, ow).
 *
 * @example
 * ```ts
 * new AdaptiveAvgPool2d([7, 7]).forward(x); // (1, 512, 13, 17) → (1, 512, 7, 7)
 * ```
 */
export class AdaptiveAvgPool2d extends Module {
  readonly outputSize: [number | null, number | null];

  constructor(outputSize: AdaptiveSize) {
    super();
    this.outputSize = resolveAdaptive('AdaptiveAvgPool2d', outputSize);
  }

  forward(x: Tensor): Tensor {
    return adaptive('AdaptiveAvgPool2d.forward', x, this.outputSize);
  }

  override extraRepr(): string {
    const [h, w] = this.outputSize;
    return `output_size=${h === w && h !== null ? h : `(${h ?? 'None'}, ${w ?? 'None'})`}`;
  }
}
