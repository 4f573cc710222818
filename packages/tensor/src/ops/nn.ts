/** Neural-network building blocks written in primitives: softmax and log-softmax. */
import { floatType } from '../dtype.js';
import { assertAlive } from '../engine.js';
import { normalizeAxis } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { cast, div, exp, isFinite, log, sub, where } from './elementwise.js';
import { max, sum } from './reduce.js';

/**
 * softmax(x)ᵢ = exp(xᵢ − m) / Σⱼ exp(xⱼ − m) along `axis`, with m = max(x) so that large logits
 * cannot overflow. Integer inputs give float32.
 * @example `tensor([3.2, 5.1, -1.7]).softmax()` → `[0.130, 0.869, 0.001]`
 */
export function softmax(x: Tensor, axis = -1): Tensor {
  const ax = normalizeAxis('softmax', axis, x.rank);
  assertAlive('softmax', x);
  if (x.size === 0) return cast(x, floatType(x.dtype)); // nothing to normalize (max would have no identity)
  const xf = cast(x, floatType(x.dtype));
  const m = max(xf, ax, true);
  const shifted = sub(xf, m);
  const e = exp(shifted);
  const s = sum(e, ax, true);
  try {
    return div(e, s);
  } finally {
    for (const t of [xf, m, shifted, e, s]) t.dispose();
  }
}

/**
 * log softmax(x) = (x − m) − log Σ exp(x − m) along `axis`, with m = max(x): exact for any
 * logits (the max is never added back and subtracted again).
 */
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  const ax = normalizeAxis('logSoftmax', axis, x.rank);
  assertAlive('logSoftmax', x);
  if (x.size === 0) return cast(x, floatType(x.dtype));
  const t: Tensor[] = [];
  const k = (v: Tensor) => (t.push(v), v);
  try {
    const xf = k(cast(x, floatType(x.dtype)));
    const mRaw = k(max(xf, ax, true));
    const m = k(where(k(isFinite(mRaw)), mRaw, 0)); // keeps −∞ rows from producing NaN
    const shifted = k(sub(xf, m));
    return sub(shifted, k(log(k(sum(k(exp(shifted)), ax, true)))));
  } finally {
    for (const v of t) v.dispose();
  }
}
