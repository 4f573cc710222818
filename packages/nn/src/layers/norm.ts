/**
 * Normalisation over features: `LayerNorm` (mean and variance over the trailing dims) and
 * `RMSNorm` (root mean square over the last dim, as in Llama), with their functional forms.
 */
import { ones, scope, zeros } from '@ml/tensor';
import type { Tensor } from '@ml/tensor';
import { Module } from '../module.js';
import { Parameter } from '../parameter.js';
import { checkDtype, checkFloat, checkInt, checkPositive, checkTensor, fail, fmtShape, reprBool, reprNumber, reprTuple } from './layer-utils.js';
import type { FloatDType } from './layer-utils.js';

function toShape(where: string, normalizedShape: number | readonly number[]): number[] {
  const shape = typeof normalizedShape === 'number' ? [normalizedShape] : [...normalizedShape];
  if (!Array.isArray(normalizedShape) && typeof normalizedShape !== 'number') fail(where, `normalizedShape must be a number or an array of numbers, got ${String(normalizedShape)}`);
  if (shape.length === 0) fail(where, 'normalizedShape must have at least one dim');
  shape.forEach((d) => checkInt(where, 'normalizedShape', d));
  return shape;
}

/** Fails unless the trailing dims of `x` are `shape`. */
function checkTrailing(where: string, x: Tensor, shape: readonly number[]): void {
  const k = shape.length;
  const tail = x.shape.slice(x.rank - k);
  if (x.rank < k || tail.some((d, i) => d !== shape[i])) {
    fail(where, `expected input (…, ${shape.join(', ')}), got ${fmtShape(x.shape)}`);
  }
}

function checkParam(where: string, arg: string, p: Tensor | null | undefined, shape: readonly number[]): void {
  if (p == null) return;
  checkTensor(where, arg, p);
  if (p.rank !== shape.length || p.shape.some((d, i) => d !== shape[i])) fail(where, `${arg} must have shape ${fmtShape(shape)}, got ${fmtShape(p.shape)}`);
}

/**
 * Layer normalisation (PyTorch's `F.layer_norm`): over the trailing dims D = `normalizedShape`,
 *
 * x̂ = (x − mean_D(x)) / √(var_D(x) + eps),  y = γ ⊙ x̂ + β,
 *
 * with the biased variance var_D(x) = mean_D((x − mean_D(x))²). Normalisation comes first, the
 * affine map γ, β after it.
 *
 * Args:
 * - `x`: input (…, *normalizedShape), float.
 * - `normalizedShape`: the trailing dims to normalise over (a number for one dim).
 * - `weight` γ, `bias` β: optional, of shape `normalizedShape`.
 * - `eps`: added to the variance (default 1e-5).
 *
 * Shape: unchanged.
 *
 * @example
 * ```ts
 * layerNorm(x, 768, gamma, beta); // x (B, T, 768)
 * ```
 */
export function layerNorm(x: Tensor, normalizedShape: number | readonly number[], weight?: Tensor | null, bias?: Tensor | null, eps = 1e-5): Tensor {
  const where = 'layerNorm';
  const shape = toShape(where, normalizedShape);
  checkTensor(where, 'x', x);
  checkFloat(where, 'x', x);
  checkTrailing(where, x, shape);
  checkParam(where, 'weight', weight, shape);
  checkParam(where, 'bias', bias, shape);
  checkPositive(where, 'eps', eps);
  return normalize(x, shape, weight ?? null, bias ?? null, eps);
}

function normalize(x: Tensor, shape: readonly number[], weight: Tensor | null, bias: Tensor | null, eps: number): Tensor {
  const axes = shape.map((_, i) => x.rank - shape.length + i);
  return scope(() => {
    const mu = x.mean(axes, true); // (…, 1, …, 1)
    const xc = x.sub(mu);
    const variance = xc.square().mean(axes, true); // biased
    let y = xc.mul(variance.add(eps).rsqrt()); // x̂
    if (weight) y = y.mul(weight);
    if (bias) y = y.add(bias);
    return y;
  });
}

/** Options of {@link LayerNorm}. */
export interface LayerNormOptions {
  /** Added to the variance (default 1e-5). */
  eps?: number;
  /** Learn a per-element scale γ (and shift β) (default true). */
  elementwiseAffine?: boolean;
  /** With `elementwiseAffine`, learn the shift β too (default true). */
  bias?: boolean;
  /** Parameter dtype (default float32). */
  dtype?: FloatDType;
}

/**
 * Layer normalisation over the trailing dims (PyTorch's `nn.LayerNorm`):
 * y = γ ⊙ (x − mean) / √(var + eps) + β, with mean and biased variance over `normalizedShape`.
 *
 * Parameters: `weight` γ (ones) and `bias` β (zeros), of shape `normalizedShape`; null when
 * `elementwiseAffine` is false (β also with `bias: false`).
 *
 * Shape: (…, *normalizedShape) → same.
 *
 * @example
 * ```ts
 * const ln = new LayerNorm(768);
 * ln.forward(x); // (B, T, 768)
 * ```
 */
export class LayerNorm extends Module {
  readonly normalizedShape: readonly number[];
  readonly eps: number;
  readonly elementwiseAffine: boolean;
  weight: Parameter | null;
  bias: Parameter | null;

  constructor(normalizedShape: number | number[], opts: LayerNormOptions = {}) {
    super();
    this.normalizedShape = toShape('LayerNorm', normalizedShape);
    this.eps = checkPositive('LayerNorm', 'eps', opts.eps ?? 1e-5);
    this.elementwiseAffine = opts.elementwiseAffine ?? true;
    const dtype = checkDtype('LayerNorm', opts.dtype ?? 'float32');
    this.weight = this.elementwiseAffine ? new Parameter(ones(this.normalizedShape, { dtype })) : null;
    this.bias = this.elementwiseAffine && (opts.bias ?? true) ? new Parameter(zeros(this.normalizedShape, { dtype })) : null;
  }

  forward(x: Tensor): Tensor {
    const where = 'LayerNorm.forward';
    checkTensor(where, 'input', x);
    checkFloat(where, 'input', x);
    checkTrailing(where, x, this.normalizedShape);
    return normalize(x, this.normalizedShape, this.weight, this.bias, this.eps);
  }

  override extraRepr(): string {
    return `${reprTuple(this.normalizedShape)}, eps=${reprNumber(this.eps)}, elementwise_affine=${reprBool(this.elementwiseAffine)}`;
  }
}

/**
 * Root-mean-square normalisation over the last dim (Llama's RMSNorm):
 *
 * y = x / √(mean(x²) + eps) ⊙ weight.
 *
 * No mean is subtracted and there is no bias.
 *
 * Args:
 * - `x`: input (…, dim), float.
 * - `weight`: optional (dim).
 * - `eps`: added to the mean square (default 1e-6).
 *
 * Shape: unchanged.
 *
 * @example
 * ```ts
 * rmsNorm(h, g); // h (B, T, 4096), g (4096)
 * ```
 */
export function rmsNorm(x: Tensor, weight?: Tensor | null, eps = 1e-6): Tensor {
  const where = 'rmsNorm';
  checkTensor(where, 'x', x);
  checkFloat(where, 'x', x);
  if (x.rank === 0) fail(where, 'x must have at least one dim, got a scalar');
  checkParam(where, 'weight', weight, [x.shape[x.rank - 1]]);
  checkPositive(where, 'eps', eps);
  return rms(x, weight ?? null, eps);
}

function rms(x: Tensor, weight: Tensor | null, eps: number): Tensor {
  return scope(() => {
    const y = x.mul(x.square().mean(-1, true).add(eps).rsqrt()); // (…, dim)
    return weight ? y.mul(weight) : y;
  });
}

/** Options of {@link RMSNorm}. */
export interface RMSNormOptions {
  /** Added to the mean square (default 1e-6). */
  eps?: number;
  /** Parameter dtype (default float32). */
  dtype?: FloatDType;
}

/**
 * RMS normalisation over the last dim, as in Llama: y = x / √(mean(x²) + eps) ⊙ weight.
 *
 * Parameters: `weight` (dim), initialised to ones.
 *
 * Shape: (…, dim) → same.
 *
 * @example
 * ```ts
 * const norm = new RMSNorm(4096);
 * norm.forward(h); // (B, T, 4096)
 * ```
 */
export class RMSNorm extends Module {
  readonly dim: number;
  readonly eps: number;
  weight: Parameter;

  constructor(dim: number, opts: RMSNormOptions = {}) {
    super();
    this.dim = checkInt('RMSNorm', 'dim', dim);
    this.eps = checkPositive('RMSNorm', 'eps', opts.eps ?? 1e-6);
    this.weight = new Parameter(ones([dim], { dtype: checkDtype('RMSNorm', opts.dtype ?? 'float32') }));
  }

  forward(x: Tensor): Tensor {
    const where = 'RMSNorm.forward';
    checkTensor(where, 'input', x);
    checkFloat(where, 'input', x);
    checkTrailing(where, x, [this.dim]);
    return rms(x, this.weight, this.eps);
  }

  override extraRepr(): string {
    return `(${this.dim},), eps=${reprNumber(this.eps)}`;
  }
}

/** Options of {@link GroupNorm}. */
export interface GroupNormOptions {
  /** Added to the variance (default 1e-5). */
  eps?: number;
  /** Learn a per-channel scale γ and shift β (default true). */
  affine?: boolean;
  /** Parameter dtype (default float32). */
  dtype?: FloatDType;
}

/**
 * Group normalisation (PyTorch's `F.group_norm`): the C channels are split into G groups of C/G
 * consecutive channels, and each (sample, group) is normalised over its channels and spatial
 * positions with the biased variance; then γ, β per channel:
 *
 * y = γ_c·(x − μ_{n,g})/√(σ²_{n,g} + eps) + β_c.
 *
 * Args:
 * - `x`: (N, C, *), float.
 * - `numGroups`: G, dividing C.
 * - `weight` γ, `bias` β: optional (C).
 * - `eps`: default 1e-5.
 *
 * Shape: unchanged.
 *
 * @example
 * ```ts
 * groupNorm(x, 8, gamma, beta); // x (N, 32, H, W)
 * ```
 */
export function groupNorm(x: Tensor, numGroups: number, weight?: Tensor | null, bias?: Tensor | null, eps = 1e-5): Tensor {
  const where = 'groupNorm';
  checkTensor(where, 'x', x);
  checkFloat(where, 'x', x);
  checkInt(where, 'numGroups', numGroups);
  if (x.rank < 2) fail(where, `expected input (N, C, *), got ${fmtShape(x.shape)}`);
  const c = x.shape[1];
  if (c % numGroups !== 0) fail(where, `numGroups=${numGroups} must divide the ${c} channels of input ${fmtShape(x.shape)}`);
  checkParam(where, 'weight', weight, [c]);
  checkParam(where, 'bias', bias, [c]);
  checkPositive(where, 'eps', eps);
  return grouped(x, numGroups, weight ?? null, bias ?? null, eps);
}

function grouped(x: Tensor, g: number, weight: Tensor | null, bias: Tensor | null, eps: number): Tensor {
  return scope(() => {
    const n = x.shape[0];
    const xg = x.reshape([n, g, x.size / Math.max(n * g, 1)]); // (N, G, C/G·spatial)
    const mu = xg.mean(2, true);
    const xc = xg.sub(mu);
    const variance = xc.square().mean(2, true); // biased
    let y = xc.mul(variance.add(eps).rsqrt()).reshape(x.shape); // (N, C, *)
    const channel = x.shape.map((d, i) => (i === 1 ? d : 1)); // (1, C, 1, …)
    if (weight) y = y.mul(weight.reshape(channel));
    if (bias) y = y.add(bias.reshape(channel));
    return y;
  });
}

/**
 * Group normalisation layer (PyTorch's `nn.GroupNorm`); see {@link groupNorm}. Independent of the
 * batch size, so training and eval behave the same.
 *
 * Parameters: `weight` γ (ones) and `bias` β (zeros) of shape (numChannels), or null with
 * `affine: false`.
 *
 * Shape: (N, C, *) → same.
 *
 * @example
 * ```ts
 * const gn = new GroupNorm(8, 64);
 * gn.forward(x); // (N, 64, H, W)
 * ```
 */
export class GroupNorm extends Module {
  readonly numGroups: number;
  readonly numChannels: number;
  readonly eps: number;
  readonly affine: boolean;
  weight: Parameter | null;
  bias: Parameter | null;

  constructor(numGroups: number, numChannels: number, opts: GroupNormOptions = {}) {
    super();
    this.numGroups = checkInt('GroupNorm', 'numGroups', numGroups);
    this.numChannels = checkInt('GroupNorm', 'numChannels', numChannels);
    if (numChannels % numGroups !== 0) fail('GroupNorm', `numGroups=${numGroups} must divide numChannels=${numChannels}`);
    this.eps = checkPositive('GroupNorm', 'eps', opts.eps ?? 1e-5);
    this.affine = opts.affine ?? true;
    const dtype = checkDtype('GroupNorm', opts.dtype ?? 'float32');
    this.weight = this.affine ? new Parameter(ones([numChannels], { dtype })) : null;
    this.bias = this.affine ? new Parameter(zeros([numChannels], { dtype })) : null;
  }

  forward(x: Tensor): Tensor {
    const where = 'GroupNorm.forward';
    checkTensor(where, 'input', x);
    checkFloat(where, 'input', x);
    if (x.rank < 2 || x.shape[1] !== this.numChannels) fail(where, `expected input (N, ${this.numChannels}, *), got ${fmtShape(x.shape)}`);
    return grouped(x, this.numGroups, this.weight, this.bias, this.eps);
  }

  override extraRepr(): string {
    return `${this.numGroups}, ${this.numChannels}, eps=${reprNumber(this.eps)}, affine=${reprBool(this.affine)}`;
  }
}
