/**
 * Convolutions: `Conv1d` and `Conv2d` (on @ml/tensor's conv1d/conv2d, i.e. im2col + matmul), and
 * `ConvTranspose1d`/`ConvTranspose2d` with their functional form `convTranspose2d` (a matmul then
 * col2im, the adjoint of conv's im2col + matmul).
 */
import { col2im, conv1d, conv2d, random, scope } from '@ml/tensor';
import type { Key, Tensor } from '@ml/tensor';
import { Module } from '../module.js';
import { Parameter } from '../parameter.js';
import { nextKey } from '../rng.js';
import { checkDtype, checkInt, checkTensor, fail, fmtShape, reprTuple } from './layer-utils.js';
import type { FloatDType } from './layer-utils.js';

/** A size for both spatial dims, or `[height, width]`. */
export type Size2 = number | readonly [number, number];

/** Padding of a convolution: a size, a pair, `'same'` (output size = input size, stride 1) or `'valid'` (0). */
export type ConvPadding2d = Size2 | 'same' | 'valid';

function pair(where: string, arg: string, v: Size2 | undefined, fallback: number, min: number): [number, number] {
  if (v === undefined) return [fallback, fallback];
  if (typeof v === 'number') return [checkInt(where, arg, v, min), checkInt(where, arg, v, min)];
  if (!Array.isArray(v) || v.length !== 2) fail(where, `${arg} must be a number or a pair of numbers, got ${JSON.stringify(v)}`);
  return [checkInt(where, arg, v[0], min), checkInt(where, arg, v[1], min)];
}

function single(where: string, arg: string, v: number | undefined, fallback: number, min: number): number {
  return v === undefined ? fallback : checkInt(where, arg, v, min);
}

/** PyTorch's default convolution initialisation: U(−1/√fanIn, 1/√fanIn) for weight and bias. */
function initConv(key: Key | undefined, weightShape: number[], fanIn: number, outChannels: number, bias: boolean, dtype: FloatDType): [Parameter, Parameter | null] {
  const [kw, kb] = random.split(key ?? nextKey(), 2);
  const bound = 1 / Math.sqrt(fanIn);
  const u = { minval: -bound, maxval: bound, dtype };
  return [new Parameter(random.uniform(kw, weightShape, u)), bias ? new Parameter(random.uniform(kb, [outChannels], u)) : null];
}

function checkGroups(where: string, groups: number, inChannels: number, outChannels: number): void {
  if (inChannels % groups !== 0) fail(where, `groups=${groups} must divide inChannels=${inChannels}`);
  if (outChannels % groups !== 0) fail(where, `groups=${groups} must divide outChannels=${outChannels}`);
}

/** Options of {@link Conv2d}. */
export interface Conv2dOptions {
  /** Step between windows (default 1). */
  stride?: Size2;
  /** Zero padding (default 0): a size, a pair, `'same'` or `'valid'`. */
  padding?: ConvPadding2d;
  /** Spacing between kernel taps (default 1). */
  dilation?: Size2;
  /** Channel groups: in and out channels must both be divisible by it (default 1). */
  groups?: number;
  /** Learn an additive bias per output channel (default true). */
  bias?: boolean;
  /** Key for the random initialisation (default: the next key of the default stream). */
  key?: Key;
  /** Parameter dtype (default float32). */
  dtype?: FloatDType;
}

/** The `extraRepr` of a convolution, as PyTorch's `_ConvNd.extra_repr`. */
function convRepr(m: { inChannels: number; outChannels: number; kernelSize: readonly number[]; stride: readonly number[]; padding: readonly number[] | string; dilation: readonly number[]; groups: number; bias: unknown }, outputPadding?: readonly number[]): string {
  let s = `${m.inChannels}, ${m.outChannels}, kernel_size=${reprTuple(m.kernelSize)}, stride=${reprTuple(m.stride)}`;
  if (typeof m.padding === 'string') s += `, padding=${m.padding}`;
  else if (m.padding.some((p) => p !== 0)) s += `, padding=${reprTuple(m.padding)}`;
  if (m.dilation.some((d) => d !== 1)) s += `, dilation=${reprTuple(m.dilation)}`;
  if (outputPadding && outputPadding.some((p) => p !== 0)) s += `, output_padding=${reprTuple(outputPadding)}`;
  if (m.groups !== 1) s += `, groups=${m.groups}`;
  if (m.bias === null) s += ', bias=false';
  return s;
}

/** Fails unless the dilated kernel fits the padded spatial size (names the layer and the sizes). */
function checkFits(where: string, x: Tensor, sizes: readonly number[], kernel: readonly number[], dilation: readonly number[], padTotal: readonly number[]): void {
  for (let a = 0; a < sizes.length; a++) {
    const span = dilation[a] * (kernel[a] - 1) + 1;
    if (span > sizes[a] + padTotal[a]) {
      fail(where, `kernel ${reprTuple(kernel)} with dilation ${reprTuple(dilation)} spans ${span} but the padded input is ${sizes[a] + padTotal[a]} along spatial dim ${a} (input ${fmtShape(x.shape)})`);
    }
  }
}

/**
 * A 2-D convolution layer (PyTorch's `nn.Conv2d`):
 *
 * out[n, o] = bias[o] + Σ_{c in o's group} weight[o, c] ⋆ x[n, c]
 *
 * with ⋆ the cross-correlation with the given stride, zero padding and dilation.
 *
 * Parameters: `weight` (out, in/groups, kh, kw) and `bias` (out), from U(−1/√fanIn, 1/√fanIn)
 * with fanIn = in/groups·kh·kw, as PyTorch.
 *
 * Shape: (N, in, H, W) or (in, H, W) → (N, out, oh, ow) with
 * oh = floor((H + 2·ph − dh·(kh − 1) − 1) / sh) + 1 (likewise ow).
 *
 * @example
 * ```ts
 * const conv = new Conv2d(3, 16, 3, { padding: 1 });
 * conv.forward(x); // (8, 3, 32, 32) → (8, 16, 32, 32)
 * ```
 */
export class Conv2d extends Module {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number] | 'same' | 'valid';
  readonly dilation: [number, number];
  readonly groups: number;
  weight: Parameter;
  bias: Parameter | null;

  constructor(inChannels: number, outChannels: number, kernelSize: Size2, opts: Conv2dOptions = {}) {
    super();
    const where = 'Conv2d';
    this.inChannels = checkInt(where, 'inChannels', inChannels);
    this.outChannels = checkInt(where, 'outChannels', outChannels);
    this.kernelSize = pair(where, 'kernelSize', kernelSize, 1, 1);
    this.stride = pair(where, 'stride', opts.stride, 1, 1);
    this.dilation = pair(where, 'dilation', opts.dilation, 1, 1);
    this.groups = checkInt(where, 'groups', opts.groups ?? 1);
    checkGroups(where, this.groups, inChannels, outChannels);
    const padding = opts.padding ?? 0;
    if (padding === 'same' || padding === 'valid') {
      if (padding === 'same' && (this.stride[0] !== 1 || this.stride[1] !== 1)) fail(where, `padding='same' requires stride 1, got stride ${reprTuple(this.stride)}`);
      this.padding = padding;
    } else if (typeof padding === 'string') {
      fail(where, `padding must be a number, a pair, 'same' or 'valid', got '${padding}'`);
    } else {
      this.padding = pair(where, 'padding', padding, 0, 0);
    }
    const [kh, kw] = this.kernelSize;
    const cg = inChannels / this.groups;
    [this.weight, this.bias] = initConv(opts.key, [outChannels, cg, kh, kw], cg * kh * kw, outChannels, opts.bias ?? true, checkDtype(where, opts.dtype ?? 'float32'));
  }

  forward(x: Tensor): Tensor {
    const where = 'Conv2d.forward';
    checkTensor(where, 'input', x);
    if ((x.rank !== 3 && x.rank !== 4) || x.shape[x.rank - 3] !== this.inChannels) {
      fail(where, `expected input (N, ${this.inChannels}, H, W) or (${this.inChannels}, H, W), got ${fmtShape(x.shape)}`);
    }
    if (this.padding !== 'same') {
      const pad = this.padding === 'valid' ? [0, 0] : this.padding.map((p) => 2 * p);
      checkFits(where, x, x.shape.slice(-2), this.kernelSize, this.dilation, pad);
    }
    return conv2d(x, this.weight, this.bias, { stride: this.stride, padding: this.padding, dilation: this.dilation, groups: this.groups });
  }

  override extraRepr(): string {
    return convRepr(this);
  }
}

/** Options of {@link Conv1d}. */
export interface Conv1dOptions {
  /** Step between windows (default 1). */
  stride?: number;
  /** Zero padding (default 0), `'same'` or `'valid'`. */
  padding?: number | 'same' | 'valid';
  /** Spacing between kernel taps (default 1). */
  dilation?: number;
  /** Channel groups (default 1). */
  groups?: number;
  /** Learn an additive bias (default true). */
  bias?: boolean;
  /** Key for the random initialisation (default: the next key of the default stream). */
  key?: Key;
  /** Parameter dtype (default float32). */
  dtype?: FloatDType;
}

/**
 * A 1-D convolution layer (PyTorch's `nn.Conv1d`): out[n, o, t] = bias[o] +
 * Σ_{c, i} weight[o, c, i]·x[n, c, t·stride − padding + i·dilation].
 *
 * Parameters: `weight` (out, in/groups, k) and `bias` (out), from U(−1/√fanIn, 1/√fanIn),
 * fanIn = in/groups·k.
 *
 * Shape: (N, in, L) or (in, L) → (N, out, L_out), L_out = floor((L + 2·padding − dilation·(k − 1) − 1) / stride) + 1.
 *
 * @example
 * ```ts
 * const conv = new Conv1d(2, 8, 5, { padding: 'same' });
 * conv.forward(x); // (4, 2, 100) → (4, 8, 100)
 * ```
 */
export class Conv1d extends Module {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: [number];
  readonly stride: [number];
  readonly padding: [number] | 'same' | 'valid';
  readonly dilation: [number];
  readonly groups: number;
  weight: Parameter;
  bias: Parameter | null;

  constructor(inChannels: number, outChannels: number, kernelSize: number, opts: Conv1dOptions = {}) {
    super();
    const where = 'Conv1d';
    this.inChannels = checkInt(where, 'inChannels', inChannels);
    this.outChannels = checkInt(where, 'outChannels', outChannels);
    this.kernelSize = [checkInt(where, 'kernelSize', kernelSize)];
    this.stride = [single(where, 'stride', opts.stride, 1, 1)];
    this.dilation = [single(where, 'dilation', opts.dilation, 1, 1)];
    this.groups = checkInt(where, 'groups', opts.groups ?? 1);
    checkGroups(where, this.groups, inChannels, outChannels);
    const padding = opts.padding ?? 0;
    if (padding === 'same' || padding === 'valid') {
      if (padding === 'same' && this.stride[0] !== 1) fail(where, `padding='same' requires stride 1, got stride ${this.stride[0]}`);
      this.padding = padding;
    } else if (typeof padding === 'string') {
      fail(where, `padding must be a number, 'same' or 'valid', got '${padding}'`);
    } else {
      this.padding = [checkInt(where, 'padding', padding, 0)];
    }
    const cg = inChannels / this.groups;
    [this.weight, this.bias] = initConv(opts.key, [outChannels, cg, kernelSize], cg * kernelSize, outChannels, opts.bias ?? true, checkDtype(where, opts.dtype ?? 'float32'));
  }

  forward(x: Tensor): Tensor {
    const where = 'Conv1d.forward';
    checkTensor(where, 'input', x);
    if ((x.rank !== 2 && x.rank !== 3) || x.shape[x.rank - 2] !== this.inChannels) {
      fail(where, `expected input (N, ${this.inChannels}, L) or (${this.inChannels}, L), got ${fmtShape(x.shape)}`);
    }
    if (this.padding !== 'same') {
      const padTotal = this.padding === 'valid' ? 0 : 2 * this.padding[0];
      checkFits(where, x, x.shape.slice(-1), this.kernelSize, this.dilation, [padTotal]);
    }
    const padding = typeof this.padding === 'string' ? this.padding : this.padding[0];
    return conv1d(x, this.weight, this.bias, { stride: this.stride[0], padding, dilation: this.dilation[0], groups: this.groups });
  }

  override extraRepr(): string {
    return convRepr(this);
  }
}

/** Options of {@link convTranspose2d}. */
export interface ConvTranspose2dArgs {
  /** Stride of the convolution this one transposes (default 1). */
  stride?: Size2;
  /** Padding of the convolution this one transposes: rows/columns cropped from each side (default 0). */
  padding?: Size2;
  /** Extra rows/columns added at the end, to pick the output size when stride > 1 (default 0; less than stride or dilation). */
  outputPadding?: Size2;
  /** Spacing between kernel taps (default 1). */
  dilation?: Size2;
  /** Channel groups (default 1). */
  groups?: number;
}

/**
 * 2-D transposed convolution (PyTorch's `conv_transpose2d`): the adjoint of {@link conv2d}
 * with the same weight, stride, padding, dilation and groups. Each input pixel scatters a
 * weighted copy of the kernel into the output:
 *
 * out[n, g·C_out/g + o, y·sh − ph + i·dh, x·sw − pw + j·dw] += x[n, c, y, x] · weight[c, o, i, j]
 *
 * for input channels c of group g; positions outside the output are dropped. Computed as one
 * batched matmul per group (weightᵀ · x, giving columns) followed by `col2im`.
 *
 * Args:
 * - `x`: (N, C_in, H, W), or unbatched (C_in, H, W).
 * - `weight`: (C_in, C_out/groups, kh, kw) (the layout of the conv2d it transposes, in/out swapped).
 * - `bias`: optional (C_out).
 * - `opts`: `stride`, `padding`, `outputPadding`, `dilation`, `groups`.
 *
 * Shape: → (N, C_out, oh, ow) with oh = (H − 1)·sh − 2·ph + dh·(kh − 1) + oph + 1 (likewise ow).
 *
 * @example
 * ```ts
 * const up = convTranspose2d(x, w, null, { stride: 2, padding: 1, outputPadding: 1 }); // w (16, 8, 3, 3)
 * // x (1, 16, 14, 14) → (1, 8, 28, 28)
 * ```
 */
export function convTranspose2d(x: Tensor, weight: Tensor, bias?: Tensor | null, opts: ConvTranspose2dArgs = {}): Tensor {
  return transposeImpl('convTranspose2d', x, weight, bias ?? null, resolveTransposeArgs('convTranspose2d', opts));
}

interface TransposeArgs {
  stride: [number, number];
  padding: [number, number];
  outputPadding: [number, number];
  dilation: [number, number];
  groups: number;
}

function resolveTransposeArgs(where: string, opts: ConvTranspose2dArgs): TransposeArgs {
  const stride = pair(where, 'stride', opts.stride, 1, 1);
  const dilation = pair(where, 'dilation', opts.dilation, 1, 1);
  const padding = pair(where, 'padding', opts.padding, 0, 0);
  const outputPadding = pair(where, 'outputPadding', opts.outputPadding, 0, 0);
  for (let a = 0; a < 2; a++) {
    if (outputPadding[a] >= Math.max(stride[a], dilation[a])) {
      fail(where, `outputPadding ${reprTuple(outputPadding)} must be smaller than stride ${reprTuple(stride)} or dilation ${reprTuple(dilation)}`);
    }
  }
  return { stride, padding, outputPadding, dilation, groups: checkInt(where, 'groups', opts.groups ?? 1) };
}

function transposeImpl(where: string, x: Tensor, weight: Tensor, bias: Tensor | null, a: TransposeArgs): Tensor {
  checkTensor(where, 'input', x);
  checkTensor(where, 'weight', weight);
  if (weight.rank !== 4) fail(where, `weight must be (C_in, C_out/groups, kh, kw), got ${fmtShape(weight.shape)}`);
  const [cIn, cOutG, kh, kw] = weight.shape;
  const g = a.groups;
  if (cIn % g !== 0) fail(where, `groups=${g} must divide the weight's input channels, weight ${fmtShape(weight.shape)}`);
  if ((x.rank !== 3 && x.rank !== 4) || x.shape[x.rank - 3] !== cIn) {
    fail(where, `expected input (N, ${cIn}, H, W) or (${cIn}, H, W) for weight ${fmtShape(weight.shape)}, got ${fmtShape(x.shape)}`);
  }
  const cOut = cOutG * g;
  if (bias !== null) {
    checkTensor(where, 'bias', bias);
    if (bias.rank !== 1 || bias.shape[0] !== cOut) fail(where, `bias must be (${cOut},), got ${fmtShape(bias.shape)}`);
  }
  const [h, w] = x.shape.slice(-2);
  const k = [kh, kw];
  // the uncropped output: every tap of every input pixel lands inside it
  const full: [number, number] = [0, 1].map((d) => ([h, w][d] - 1) * a.stride[d] + a.dilation[d] * (k[d] - 1) + 1) as [number, number];
  const out = [0, 1].map((d) => full[d] - 2 * a.padding[d] + a.outputPadding[d]);
  if (out[0] <= 0 || out[1] <= 0) {
    fail(where, `the output size (${out.join(', ')}) is not positive: input ${fmtShape(x.shape)}, kernel ${reprTuple(k)}, stride ${reprTuple(a.stride)}, padding ${reprTuple(a.padding)}`);
  }
  return scope(() => {
    const n = x.rank === 4 ? x.shape[0] : 1;
    const cInG = cIn / g;
    const kk = kh * kw;
    const xg = x.reshape([n, g, cInG, h * w]); // (N, g, C_in/g, H·W)
    const wT = weight.reshape([g, cInG, cOutG * kk]).transpose(); // (g, C_out/g·kh·kw, C_in/g)
    const cols = wT.matmul(xg).reshape([n, cOut * kk, h * w]); // (N, C_out·kh·kw, H·W)
    const img = col2im(cols, full, { kernel: [kh, kw], stride: a.stride, dilation: a.dilation }); // (N, C_out, Hf, Wf)
    // crop `padding` from the start, keep `out` rows/columns; rows past the uncropped end are zeros
    const stop = [0, 1].map((d) => Math.min(full[d], a.padding[d] + out[d]));
    let y = img.slice([null, null, [a.padding[0], stop[0]], [a.padding[1], stop[1]]]);
    const extra = [0, 1].map((d) => a.padding[d] + out[d] - stop[d]);
    if (extra[0] > 0 || extra[1] > 0) y = y.pad([[0, 0], [0, 0], [0, extra[0]], [0, extra[1]]]);
    if (bias !== null) y = y.add(bias.reshape([cOut, 1, 1]));
    return x.rank === 4 ? y : y.reshape([cOut, out[0], out[1]]);
  });
}

/** Options of {@link ConvTranspose2d}. */
export interface ConvTranspose2dOptions extends ConvTranspose2dArgs {
  /** Learn an additive bias (default true). */
  bias?: boolean;
  /** Key for the random initialisation (default: the next key of the default stream). */
  key?: Key;
  /** Parameter dtype (default float32). */
  dtype?: FloatDType;
}

/**
 * A 2-D transposed convolution layer (PyTorch's `nn.ConvTranspose2d`), the adjoint of
 * {@link Conv2d}: used to upsample (stride > 1) in decoders and generators. See
 * {@link convTranspose2d} for the formula.
 *
 * Parameters: `weight` (in, out/groups, kh, kw) and `bias` (out), from U(−1/√fanIn, 1/√fanIn) with
 * fanIn = out/groups·kh·kw (PyTorch computes fans from the weight's shape).
 *
 * Shape: (N, in, H, W) or (in, H, W) → (N, out, oh, ow), oh = (H − 1)·sh − 2·ph + dh·(kh − 1) + oph + 1.
 *
 * @example
 * ```ts
 * const up = new ConvTranspose2d(16, 8, 4, { stride: 2, padding: 1 });
 * up.forward(x); // (1, 16, 14, 14) → (1, 8, 28, 28)
 * ```
 */
export class ConvTranspose2d extends Module {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number];
  readonly outputPadding: [number, number];
  readonly dilation: [number, number];
  readonly groups: number;
  weight: Parameter;
  bias: Parameter | null;

  constructor(inChannels: number, outChannels: number, kernelSize: Size2, opts: ConvTranspose2dOptions = {}) {
    super();
    const where = 'ConvTranspose2d';
    this.inChannels = checkInt(where, 'inChannels', inChannels);
    this.outChannels = checkInt(where, 'outChannels', outChannels);
    this.kernelSize = pair(where, 'kernelSize', kernelSize, 1, 1);
    const a = resolveTransposeArgs(where, opts);
    this.stride = a.stride;
    this.padding = a.padding;
    this.outputPadding = a.outputPadding;
    this.dilation = a.dilation;
    this.groups = a.groups;
    checkGroups(where, this.groups, inChannels, outChannels);
    const [kh, kw] = this.kernelSize;
    const og = outChannels / this.groups;
    [this.weight, this.bias] = initConv(opts.key, [inChannels, og, kh, kw], og * kh * kw, outChannels, opts.bias ?? true, checkDtype(where, opts.dtype ?? 'float32'));
  }

  forward(x: Tensor): Tensor {
    return transposeImpl('ConvTranspose2d.forward', x, this.weight, this.bias, this);
  }

  override extraRepr(): string {
    return convRepr(this, this.outputPadding);
  }
}

/** Options of {@link ConvTranspose1d}. */
export interface ConvTranspose1dOptions {
  /** Stride of the convolution this one transposes (default 1). */
  stride?: number;
  /** Padding of the convolution this one transposes (default 0). */
  padding?: number;
  /** Extra elements at the end (default 0; less than stride or dilation). */
  outputPadding?: number;
  /** Spacing between kernel taps (default 1). */
  dilation?: number;
  /** Channel groups (default 1). */
  groups?: number;
  /** Learn an additive bias (default true). */
  bias?: boolean;
  /** Key for the random initialisation (default: the next key of the default stream). */
  key?: Key;
  /** Parameter dtype (default float32). */
  dtype?: FloatDType;
}

/**
 * A 1-D transposed convolution layer (PyTorch's `nn.ConvTranspose1d`), the adjoint of
 * {@link Conv1d}; computed as {@link convTranspose2d} on a height-1 image.
 *
 * Parameters: `weight` (in, out/groups, k), `bias` (out).
 *
 * Shape: (N, in, L) or (in, L) → (N, out, (L − 1)·stride − 2·padding + dilation·(k − 1) + outputPadding + 1).
 *
 * @example
 * ```ts
 * new ConvTranspose1d(8, 4, 4, { stride: 2, padding: 1 }).forward(x); // (2, 8, 50) → (2, 4, 100)
 * ```
 */
export class ConvTranspose1d extends Module {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: [number];
  readonly stride: [number];
  readonly padding: [number];
  readonly outputPadding: [number];
  readonly dilation: [number];
  readonly groups: number;
  weight: Parameter;
  bias: Parameter | null;

  constructor(inChannels: number, outChannels: number, kernelSize: number, opts: ConvTranspose1dOptions = {}) {
    super();
    const where = 'ConvTranspose1d';
    this.inChannels = checkInt(where, 'inChannels', inChannels);
    this.outChannels = checkInt(where, 'outChannels', outChannels);
    this.kernelSize = [checkInt(where, 'kernelSize', kernelSize)];
    this.stride = [single(where, 'stride', opts.stride, 1, 1)];
    this.padding = [single(where, 'padding', opts.padding, 0, 0)];
    this.outputPadding = [single(where, 'outputPadding', opts.outputPadding, 0, 0)];
    this.dilation = [single(where, 'dilation', opts.dilation, 1, 1)];
    this.groups = checkInt(where, 'groups', opts.groups ?? 1);
    if (this.outputPadding[0] >= Math.max(this.stride[0], this.dilation[0])) {
      fail(where, `outputPadding ${this.outputPadding[0]} must be smaller than stride ${this.stride[0]} or dilation ${this.dilation[0]}`);
    }
    checkGroups(where, this.groups, inChannels, outChannels);
    const og = outChannels / this.groups;
    [this.weight, this.bias] = initConv(opts.key, [inChannels, og, kernelSize], og * kernelSize, outChannels, opts.bias ?? true, checkDtype(where, opts.dtype ?? 'float32'));
  }

  forward(x: Tensor): Tensor {
    const where = 'ConvTranspose1d.forward';
    checkTensor(where, 'input', x);
    if ((x.rank !== 2 && x.rank !== 3) || x.shape[x.rank - 2] !== this.inChannels) {
      fail(where, `expected input (N, ${this.inChannels}, L) or (${this.inChannels}, L), got ${fmtShape(x.shape)}`);
    }
    return scope(() => {
      const x4 = x.reshape([...x.shape.slice(0, -1), 1, x.shape[x.rank - 1]]); // (N, C, 1, L)
      const w4 = this.weight.reshape([this.inChannels, this.outChannels / this.groups, 1, this.kernelSize[0]]);
      const y = transposeImpl(where, x4, w4, this.bias, {
        stride: [1, this.stride[0]],
        padding: [0, this.padding[0]],
        outputPadding: [0, this.outputPadding[0]],
        dilation: [1, this.dilation[0]],
        groups: this.groups,
      });
      return y.reshape([...y.shape.slice(0, -2), y.shape[y.rank - 1]]); // (N, out, L_out)
    });
  }

  override extraRepr(): string {
    return convRepr(this, this.outputPadding);
  }
}
