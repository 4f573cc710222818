/** How a loss turns per-element values into its result (PyTorch's `reduction` argument). */
import type { Tensor } from '@ml/tensor';
import { lossError } from './checks.js';

/**
 * `'mean'` (default): the average over every element; `'sum'`: their total; `'none'`: the
 * per-element losses, unreduced. Losses that weight their terms say what 'mean' divides by.
 */
export type Reduction = 'mean' | 'sum' | 'none';

/** The option every loss takes. */
export interface ReductionOptions {
  /** 'mean' (default), 'sum' or 'none'. */
  reduction?: Reduction;
}

/** Checks a reduction name; `extra` lists loss-specific ones (klDiv's 'batchmean'). */
export function checkReduction<R extends string = Reduction>(loss: string, reduction: unknown, extra: readonly string[] = []): R {
  const allowed = ['mean', 'sum', 'none', ...extra];
  if (typeof reduction !== 'string' || !allowed.includes(reduction)) {
    const list = allowed.map((r) => `'${r}'`);
    const names = `${list.slice(0, -1).join(', ')} or ${list[list.length - 1]}`;
    lossError(loss, `reduction must be ${names}, got ${typeof reduction === 'string' ? `'${reduction}'` : String(reduction)}`);
  }
  return reduction as R;
}

/**
 * Applies `reduction` to per-element losses: mean → 0-d mean over all elements (NaN when there
 * are none, as in PyTorch), sum → 0-d sum, none → `losses` itself.
 */
export function reduce(losses: Tensor, reduction: Reduction): Tensor {
  if (reduction === 'none') return losses;
  return reduction === 'sum' ? losses.sum() : losses.mean();
}
