/** Softmax and log-softmax: primitives (fused per row in every backend), with integer inputs cast first. */
import { floatType, isFloat } from '../dtype.js';
import { apply1, assertAlive } from '../engine.js';
import { normalizeAxis } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { cast } from './elementwise.js';

/**
 * softmax(x)ᵢ = exp(xᵢ − m) / Σⱼ exp(xⱼ − m) along `axis`, with m = max(x) so that large logits
 * cannot overflow (a row containing NaN gives NaN). Integer inputs give float32. One primitive:
 * backends compute it per row in a single kernel.
 * @example `tensor([3.2, 5.1, -1.7]).softmax()` → `[0.130, 0.869, 0.001]`
 */
export function softmax(x: Tensor, axis = -1): Tensor {
  const ax = normalizeAxis('softmax', axis, x.rank);
  assertAlive('softmax', x);
  if (x.size === 0) return cast(x, floatType(x.dtype)); // nothing to normalize
  if (isFloat(x.dtype)) return apply1('softmax', [x], { axis: ax });
  const xf = cast(x, floatType(x.dtype));
  try {
    return apply1('softmax', [xf], { axis: ax });
  } finally {
    xf.dispose();
  }
}

/**
 * log softmax(x) = (x − m) − log Σ exp(x − m) along `axis`, with m = max(x): exact for any
 * logits (the max is never added back and subtracted again); a row whose max is ±∞ uses 0 as
 * the shift, so a row of −∞ gives NaN as in PyTorch. One primitive, like {@link softmax}.
 */
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  const ax = normalizeAxis('logSoftmax', axis, x.rank);
  assertAlive('logSoftmax', x);
  if (x.size === 0) return cast(x, floatType(x.dtype));
  if (isFloat(x.dtype)) return apply1('logSoftmax', [x], { axis: ax });
  const xf = cast(x, floatType(x.dtype));
  try {
    return apply1('logSoftmax', [xf], { axis: ax });
  } finally {
    xf.dispose();
  }
}
