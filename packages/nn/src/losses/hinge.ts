/** The multiclass SVM (hinge) loss. */
import { arange, relu, scope, where } from '@ml/tensor';
import type { Tensor } from '@ml/tensor';
import { checkFloat, checkNumber, checkTensor, fmt, lossError } from './checks.js';
import { classIndex, gatherClasses } from './class-index.js';
import { checkReduction, reduce } from './reduction.js';
import type { ReductionOptions } from './reduction.js';

/** Options of {@link multiclassHinge}. */
export interface HingeOptions extends ReductionOptions {
  /** Δ, the margin the true class must win by (default 1). */
  margin?: number;
}

/**
 * Multiclass SVM loss (Weston–Watkins; the CS231n form): for scores sᵢ and true class yᵢ,
 *
 *   ℓᵢ = Σ_{j ≠ yᵢ} max(0, sᵢⱼ − sᵢ,yᵢ + Δ)
 *
 * zero once the true class beats every other by at least Δ. PyTorch's `F.multi_margin_loss`
 * (p = 1, no weight) is this divided by C: `multiclassHinge(s, y) / C`.
 *
 * @param scores s (N, C), float.
 * @param target y (N,), int32 class indices in [0, C).
 * @param opts.margin Δ (default 1).
 * @param opts.reduction 'mean' (default, over N), 'sum' or 'none' (N,).
 * @example
 * ```ts
 * const s = tensor([[3.2, 5.1, -1.7]]); // one sample, true class 0
 * multiclassHinge(s, tensor([0], { dtype: 'int32' })); // max(0, 5.1 − 3.2 + 1) + max(0, −1.7 − 3.2 + 1) = 2.9
 * ```
 */
export function multiclassHinge(scores: Tensor, target: Tensor, opts: HingeOptions = {}): Tensor {
  const loss = 'multiclassHinge';
  checkFloat(loss, 'scores', scores);
  checkTensor(loss, 'target', target);
  if (scores.rank !== 2) lossError(loss, `scores must be (N, C), got ${fmt(scores.shape)}`);
  if (target.rank !== 1 || target.shape[0] !== scores.shape[0]) {
    lossError(loss, `target ${fmt(target.shape)} must be (N,) = (${scores.shape[0]},) for scores ${fmt(scores.shape)}`);
  }
  if (target.dtype !== 'int32') lossError(loss, `target ${fmt(target.shape)}: expected int32 class indices, got ${target.dtype}; use cast('int32')`);
  const reduction = checkReduction(loss, opts.reduction ?? 'mean');
  const margin = checkNumber(loss, 'margin', opts.margin ?? 1, Number.isFinite, 'a finite number');
  const c = scores.shape[1];
  return scope(() => {
    const index = classIndex(target, null, c); // (N, 1)
    const correct = gatherClasses(loss, 'scores', scores, index, target, null); // (N, 1): s_y
    const hinge = relu(scores.sub(correct).add(margin)); // (N, C)
    const isTrue = arange(0, c, 1, { dtype: 'int32', backend: scores.backend }).eq(target.unsqueeze(1)); // (N, C)
    return reduce(where(isTrue, 0, hinge).sum(1), reduction); // (N,)
  });
}
