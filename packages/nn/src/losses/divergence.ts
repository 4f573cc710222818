/** Kullback–Leibler divergence, PyTorch's convention (input in log space). */
import { log, scope, where } from '@ml/tensor';
import type { Tensor } from '@ml/tensor';
import { checkFloat, checkSameShape } from './checks.js';
import { checkReduction, reduce } from './reduction.js';

/** Options of {@link klDiv}. */
export interface KlDivOptions {
  /** Whether `target` holds log-probabilities too (default false). */
  logTarget?: boolean;
  /**
   * 'mean' (default: over all elements, which is *not* the KL divergence), 'batchmean' (sum / N:
   * the mathematically meaningful one), 'sum' or 'none'.
   */
  reduction?: 'mean' | 'sum' | 'none' | 'batchmean';
}

/**
 * KL divergence KL(target ‖ input) elementwise, PyTorch's `F.kl_div`: `input` holds
 * log-probabilities log q; `target` holds probabilities p (or log p with `logTarget`):
 *
 *   ℓᵢ = pᵢ·(log pᵢ − log qᵢ)   with 0·log 0 = 0        (logTarget = false)
 *   ℓᵢ = exp(tᵢ)·(tᵢ − log qᵢ)                           (logTarget = true, t = log p)
 *
 * Summed over a distribution's entries this is KL(p ‖ q) = Σ p log(p/q). With distributions
 * along the last dim of (N, C), `reduction: 'batchmean'` gives the mean KL per sample.
 *
 * @param input log q, any shape, float (e.g. `logSoftmax(logits)`).
 * @param target p (or log p), the shape of `input`.
 * @param opts.logTarget whether target is log p (default false).
 * @param opts.reduction 'mean' (default, over all elements), 'batchmean' (sum / input.shape[0];
 *   the sum for a 0-d input), 'sum' or 'none'.
 * @example
 * ```ts
 * const logQ = logSoftmax(studentLogits, -1);        // (N, C)
 * const p = softmax(teacherLogits, -1);              // (N, C)
 * klDiv(logQ, p, { reduction: 'batchmean' });        // mean over N of KL(p ‖ q)
 * ```
 */
export function klDiv(input: Tensor, target: Tensor, opts: KlDivOptions = {}): Tensor {
  checkFloat('klDiv', 'input', input);
  checkFloat('klDiv', 'target', target);
  checkSameShape('klDiv', 'input', input, 'target', target);
  const reduction = checkReduction<'mean' | 'sum' | 'none' | 'batchmean'>('klDiv', opts.reduction ?? 'mean', ['batchmean']);
  return scope(() => {
    let losses: Tensor;
    if (opts.logTarget) {
      losses = target.exp().mul(target.sub(input));
    } else {
      const zero = target.eq(0);
      const pLogP = where(zero, 0, target.mul(log(where(zero, 1, target)))); // xlogy(p, p): 0 at p = 0
      losses = pLogP.sub(target.mul(input));
    }
    if (reduction !== 'batchmean') return reduce(losses, reduction);
    const total = losses.sum();
    return input.rank === 0 ? total : total.div(input.shape[0]);
  });
}
