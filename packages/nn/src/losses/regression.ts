/** Regression losses: squared error, absolute error, Huber and smooth L1. */
import { abs, scope, sub, where } from '@ml/tensor';
import type { Tensor } from '@ml/tensor';
import { checkFloat, checkNumber, checkSameShape } from './checks.js';
import { checkReduction, reduce } from './reduction.js';
import type { ReductionOptions } from './reduction.js';

/** Checks input/target and the reduction of an elementwise regression loss. */
function prepare(loss: string, input: Tensor, target: Tensor, opts: ReductionOptions) {
  checkFloat(loss, 'input', input);
  checkFloat(loss, 'target', target);
  checkSameShape(loss, 'input', input, 'target', target);
  return checkReduction(loss, opts.reduction ?? 'mean');
}

/**
 * Mean squared error: ℓᵢ = (xᵢ − yᵢ)², PyTorch's `F.mse_loss`.
 *
 * @param input x, any shape, float.
 * @param target y, the shape of `input` (no broadcasting).
 * @param opts.reduction 'mean' (default, over all elements), 'sum' or 'none' (input's shape).
 * @example
 * ```ts
 * mse(tensor([1, 2, 3]), tensor([1, 2, 5])); // (0 + 0 + 4) / 3 = 1.333
 * ```
 */
export function mse(input: Tensor, target: Tensor, opts: ReductionOptions = {}): Tensor {
  const reduction = prepare('mse', input, target, opts);
  return scope(() => {
    const d = sub(input, target);
    return reduce(d.mul(d), reduction);
  });
}

/**
 * Mean absolute error: ℓᵢ = |xᵢ − yᵢ|, PyTorch's `F.l1_loss` (gradient 0 where xᵢ = yᵢ).
 *
 * @param input x, any shape, float.
 * @param target y, the shape of `input`.
 * @param opts.reduction 'mean' (default), 'sum' or 'none'.
 * @example
 * ```ts
 * l1(tensor([1, 2, 3]), tensor([0, 2, 5])); // (1 + 0 + 2) / 3 = 1
 * ```
 */
export function l1(input: Tensor, target: Tensor, opts: ReductionOptions = {}): Tensor {
  const reduction = prepare('l1', input, target, opts);
  return scope(() => reduce(abs(sub(input, target)), reduction));
}

/** Options of {@link huber}. */
export interface HuberOptions extends ReductionOptions {
  /** δ > 0, where the loss turns from quadratic to linear (default 1). */
  delta?: number;
}

/**
 * Huber loss, PyTorch's `F.huber_loss`: with d = x − y,
 *
 *   ℓ = ½ d²           if |d| < δ
 *   ℓ = δ (|d| − ½ δ)  otherwise
 *
 * quadratic near 0 and linear (slope δ) in the tails, so outliers pull with bounded force.
 *
 * @param input x, any shape, float.
 * @param target y, the shape of `input`.
 * @param opts.delta δ > 0 (default 1).
 * @param opts.reduction 'mean' (default), 'sum' or 'none'.
 * @example
 * ```ts
 * huber(tensor([0.5, 3]), tensor([0, 0])); // (½·0.25 + 1·(3 − ½)) / 2 = 1.3125
 * ```
 */
export function huber(input: Tensor, target: Tensor, opts: HuberOptions = {}): Tensor {
  const reduction = prepare('huber', input, target, opts);
  const delta = checkNumber('huber', 'delta', opts.delta ?? 1, (v) => v > 0 && Number.isFinite(v), 'a positive number');
  return scope(() => {
    const d = sub(input, target);
    const a = abs(d);
    const quadratic = d.mul(d).mul(0.5);
    const linear = a.sub(0.5 * delta).mul(delta);
    return reduce(where(a.lt(delta), quadratic, linear), reduction);
  });
}

/** Options of {@link smoothL1}. */
export interface SmoothL1Options extends ReductionOptions {
  /** β ≥ 0, the width of the quadratic zone (default 1); β = 0 is plain L1. */
  beta?: number;
}

/**
 * Smooth L1 loss, PyTorch's `F.smooth_l1_loss`: with d = x − y,
 *
 *   ℓ = ½ d² / β   if |d| < β
 *   ℓ = |d| − ½ β  otherwise
 *
 * It equals huber(δ = β) / β: the linear part has slope 1 whatever β is.
 *
 * @param input x, any shape, float.
 * @param target y, the shape of `input`.
 * @param opts.beta β ≥ 0 (default 1); 0 gives {@link l1}.
 * @param opts.reduction 'mean' (default), 'sum' or 'none'.
 * @example
 * ```ts
 * smoothL1(tensor([0.5, 3]), tensor([0, 0])); // (0.125 + 2.5) / 2 = 1.3125
 * ```
 */
export function smoothL1(input: Tensor, target: Tensor, opts: SmoothL1Options = {}): Tensor {
  const reduction = prepare('smoothL1', input, target, opts);
  const beta = checkNumber('smoothL1', 'beta', opts.beta ?? 1, (v) => v >= 0 && Number.isFinite(v), 'a number ≥ 0');
  if (beta === 0) return l1(input, target, { reduction });
  return scope(() => {
    const d = sub(input, target);
    const a = abs(d);
    const quadratic = d.mul(d).mul(0.5 / beta);
    const linear = a.sub(0.5 * beta);
    return reduce(where(a.lt(beta), quadratic, linear), reduction);
  });
}
