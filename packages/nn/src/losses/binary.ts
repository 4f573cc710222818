/** Binary (and multi-label) classification losses: BCE on probabilities or logits, and focal loss. */
import { clip, log, scope, sigmoid, softplus, where } from '@ml/tensor';
import type { Tensor } from '@ml/tensor';
import { checkBroadcastsTo, checkFloat, checkNumber, checkSameShape, fmt, lossError } from './checks.js';
import { checkReduction, reduce } from './reduction.js';
import type { ReductionOptions } from './reduction.js';

/** Options of {@link bce}. */
export interface BceOptions extends ReductionOptions {
  /** A rescaling weight that broadcasts to the input's shape. */
  weight?: Tensor;
}

/** Options of {@link bceWithLogits}. */
export interface BceWithLogitsOptions extends BceOptions {
  /** p, the weight of the positive term, broadcast to the input (typically (C,) per class). */
  posWeight?: Tensor;
}

function checkPair(loss: string, inputName: string, input: Tensor, target: Tensor, weights: [string, Tensor | undefined][]) {
  checkFloat(loss, inputName, input);
  checkFloat(loss, 'target', target);
  checkSameShape(loss, inputName, input, 'target', target);
  for (const [name, w] of weights) {
    if (w === undefined) continue;
    checkFloat(loss, name, w);
    checkBroadcastsTo(loss, name, w, input.shape, inputName);
  }
}

/** max(log x, −100), with gradient 0 (not NaN) where x = 0. */
function clampedLog(x: Tensor): Tensor {
  const positive = x.gt(0);
  const logged = clip(log(where(positive, x, 1)), -100, null);
  return where(positive, logged, -100);
}

/**
 * Binary cross-entropy on probabilities, PyTorch's `F.binary_cross_entropy`:
 *
 *   ℓᵢ = −wᵢ·[yᵢ·log pᵢ + (1 − yᵢ)·log(1 − pᵢ)]
 *
 * with each log clamped to ≥ −100 as PyTorch does, so p = 0 or 1 gives a finite loss. Prefer
 * {@link bceWithLogits}, which is exact for large logits.
 *
 * @param probs p ∈ [0, 1], any shape, float (values outside [0, 1] are an error on backends that
 *   read synchronously, as in PyTorch).
 * @param target y, the shape of `probs` (usually 0/1; soft labels in [0, 1] work too).
 * @param opts.weight w, broadcast to probs' shape (default 1).
 * @param opts.reduction 'mean' (default, plain mean over all elements), 'sum' or 'none'.
 * @example
 * ```ts
 * bce(tensor([0.9, 0.2]), tensor([1, 0])); // −(log 0.9 + log 0.8) / 2 = 0.164
 * ```
 */
export function bce(probs: Tensor, target: Tensor, opts: BceOptions = {}): Tensor {
  checkPair('bce', 'probs', probs, target, [['weight', opts.weight]]);
  const reduction = checkReduction('bce', opts.reduction ?? 'mean');
  if (probs.backend.readSync) {
    const data = probs.dataSync();
    for (let i = 0; i < data.length; i++) {
      if (data[i] < 0 || data[i] > 1) lossError('bce', `probs ${fmt(probs.shape)} must lie in [0, 1], found ${data[i]}; for logits use bceWithLogits`);
    }
  }
  return scope(() => {
    const pos = target.mul(clampedLog(probs));
    const neg = target.neg().add(1).mul(clampedLog(probs.neg().add(1)));
    const losses = pos.add(neg).neg();
    return reduce(opts.weight ? losses.mul(opts.weight) : losses, reduction);
  });
}

/**
 * Binary cross-entropy on logits, PyTorch's `F.binary_cross_entropy_with_logits`:
 *
 *   ℓᵢ = −wᵢ·[pᵢ·yᵢ·log σ(xᵢ) + (1 − yᵢ)·log(1 − σ(xᵢ))]
 *      =  wᵢ·[(1 − yᵢ)·xᵢ + (1 + (pᵢ − 1)·yᵢ)·softplus(−xᵢ)]
 *
 * computed in the second (softplus) form, finite and exact for any finite logits.
 *
 * @param logits x, any shape, float.
 * @param target y, the shape of `logits` (0/1 labels, or probabilities).
 * @param opts.weight w, broadcast to logits' shape (default 1).
 * @param opts.posWeight p, broadcast to logits' shape, e.g. (C,) for C labels (default 1):
 *   p > 1 raises recall, p < 1 precision.
 * @param opts.reduction 'mean' (default, over all elements), 'sum' or 'none'.
 * @example
 * ```ts
 * bceWithLogits(tensor([2.2, -1.4]), tensor([1, 0])); // (softplus(−2.2) + softplus(−1.4)) / 2
 * bceWithLogits(x, y, { posWeight: tensor([3, 1, 1]) }); // x, y (N, 3)
 * ```
 */
export function bceWithLogits(logits: Tensor, target: Tensor, opts: BceWithLogitsOptions = {}): Tensor {
  checkPair('bceWithLogits', 'logits', logits, target, [['weight', opts.weight], ['posWeight', opts.posWeight]]);
  const reduction = checkReduction('bceWithLogits', opts.reduction ?? 'mean');
  return scope(() => {
    const spNeg = softplus(logits.neg()); // −log σ(x)
    const negative = target.neg().add(1).mul(logits); // (1 − y)·x
    const scale = opts.posWeight ? opts.posWeight.sub(1).mul(target).add(1) : null; // 1 + (p − 1)·y
    const losses = negative.add(scale ? scale.mul(spNeg) : spNeg);
    return reduce(opts.weight ? losses.mul(opts.weight) : losses, reduction);
  });
}

/** Options of {@link focal}. */
export interface FocalOptions extends ReductionOptions {
  /** α ∈ [0, 1] weighs positives against negatives (default 0.25); a negative α turns it off. */
  alpha?: number;
  /** γ ≥ 0 focuses on hard examples (default 2); γ = 0 with α < 0 is plain BCE. */
  gamma?: number;
}

/**
 * Sigmoid focal loss (Lin et al., 2017) with torchvision's `sigmoid_focal_loss` semantics:
 *
 *   ℓᵢ = αₜ·(1 − pₜ)^γ·BCEWithLogits(xᵢ, yᵢ),   p = σ(x)
 *   pₜ = p·y + (1 − p)·(1 − y),   αₜ = α·y + (1 − α)·(1 − y)   (αₜ = 1 when α < 0)
 *
 * 1 − pₜ is computed as y·σ(−x) + (1 − y)·σ(x), which is equal but keeps its precision when
 * p saturates. Unlike torchvision (whose default reduction is 'none'), the default is 'mean'.
 *
 * @param logits x, any shape, float: one independent binary problem per element.
 * @param target y, the shape of `logits`: 0/1 labels as floats (multi-label targets work).
 * @param opts.alpha α (default 0.25; < 0 disables the weighting).
 * @param opts.gamma γ ≥ 0 (default 2).
 * @param opts.reduction 'mean' (default, over all elements), 'sum' or 'none'.
 * @example
 * ```ts
 * focal(logits, targets); // logits, targets (N, C); targets 0/1 float32
 * focal(logits, targets, { alpha: -1, gamma: 0 }); // = bceWithLogits(logits, targets)
 * ```
 */
export function focal(logits: Tensor, target: Tensor, opts: FocalOptions = {}): Tensor {
  checkPair('focal', 'logits', logits, target, []);
  const reduction = checkReduction('focal', opts.reduction ?? 'mean');
  const alpha = checkNumber('focal', 'alpha', opts.alpha ?? 0.25, (v) => v <= 1, 'at most 1 (negative disables it)');
  const gamma = checkNumber('focal', 'gamma', opts.gamma ?? 2, (v) => v >= 0 && Number.isFinite(v), 'a number ≥ 0');
  return scope(() => {
    const oneMinusY = target.neg().add(1);
    let losses = oneMinusY.mul(logits).add(softplus(logits.neg())); // BCE with logits
    if (gamma !== 0) {
      const miss = target.mul(sigmoid(logits.neg())).add(oneMinusY.mul(sigmoid(logits))); // 1 − pₜ
      losses = losses.mul(miss.pow(gamma));
    }
    if (alpha >= 0) losses = losses.mul(target.mul(alpha).add(oneMinusY.mul(1 - alpha)));
    return reduce(losses, reduction);
  });
}
