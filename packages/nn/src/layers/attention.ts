/**
 * Scaled dot-product attention, the core of every attention layer:
 *
 *   Attention(Q, K, V) = softmax(Q·Kᵀ · scale + M) · V,   scale = 1/√d (d = the head dim)
 *
 * with masks in PyTorch's conventions (a boolean mask is true where a query may attend; a float
 * mask is added to the scores) and a causal option. Rows where every key is masked give zeros.
 */
import { arange, broadcastShapes, scope, where } from '@ml/tensor';
import type { Key, Tensor } from '@ml/tensor';
import { nextKey } from '../rng.js';
import { dropout } from './dropout.js';
import { checkTensor, fail, fmtShape } from './layer-utils.js';

/** Options of {@link scaledDotProductAttention}. */
export interface AttentionOptions {
  /**
   * Broadcastable to (…, L, S). Boolean: true where query i may attend to key j (as PyTorch's
   * `scaled_dot_product_attention`; note the opposite of `nn.MultiheadAttention`'s `attn_mask`).
   * Float: added to the scores (0 to keep, −∞ to mask, or any bias such as ALiBi).
   */
  mask?: Tensor | null;
  /**
   * Query i attends to key j only if j ≤ i + (S − L): the lower triangle including the diagonal,
   * aligned at the bottom right, so that L new queries over S cached keys see the S − L earlier
   * keys. For L = S this is PyTorch's `is_causal`. Combined with `mask` by logical and.
   */
  causal?: boolean;
  /** Multiplies Q·Kᵀ (default 1/√d with d = q's last dim). */
  scale?: number;
  /** Dropout probability on the attention weights (default 0; pass 0 at evaluation). */
  dropoutP?: number;
  /** Key of the dropout mask (default: the next key of the default stream). */
  key?: Key;
}

/**
 * The boolean causal mask (L, S): true where j ≤ i + (S − L) (lower triangle with the diagonal,
 * bottom-right aligned).
 *
 * @example
 * ```ts
 * causalMask(3, 3); // [[T, F, F], [T, T, F], [T, T, T]]
 * causalMask(1, 4); // [[T, T, T, T]]: one new query sees every cached key
 * ```
 */
export function causalMask(L: number, S: number, opts: { backend?: Tensor['backend'] } = {}): Tensor {
  return scope(() => {
    const i = arange(L, undefined, 1, { backend: opts.backend }).reshape([L, 1]); // (L, 1)
    const j = arange(S, undefined, 1, { backend: opts.backend }).reshape([1, S]); // (1, S)
    return j.le(i.add(S - L)); // (L, S)
  });
}

/**
 * softmax(q·kᵀ·scale + mask)·v over the last two dims, batched over the leading ones.
 *
 * Args:
 * - `q`: queries (…, L, d); `k`: keys (…, S, d); `v`: values (…, S, dv). Leading dims broadcast.
 * - `opts.mask`: boolean (true = attend) or additive float mask, broadcastable to (…, L, S).
 * - `opts.causal`: lower-triangular mask including the diagonal (bottom-right aligned).
 * - `opts.scale`: default 1/√d (the head dim, not the model dim).
 * - `opts.dropoutP`, `opts.key`: dropout on the attention weights.
 *
 * Fully masked rows: a query that may attend to no key (every entry of its row masked, by
 * booleans, −∞ additive entries or the causal rule) gets an output of zeros and passes zero
 * gradient, instead of PyTorch's NaN. This is what padded query rows want; check your masks if
 * you did not expect such rows.
 *
 * Shape: (…, L, d), (…, S, d), (…, S, dv) → (…, L, dv).
 *
 * @example
 * ```ts
 * const y = scaledDotProductAttention(q, k, v, { causal: true }); // (B, H, T, 64) each → (B, H, T, 64)
 * ```
 */
export function scaledDotProductAttention(q: Tensor, k: Tensor, v: Tensor, opts: AttentionOptions = {}): Tensor {
  const op = 'scaledDotProductAttention';
  checkTensor(op, 'q', q);
  checkTensor(op, 'k', k);
  checkTensor(op, 'v', v);
  for (const [name, t] of [['q', q], ['k', k], ['v', v]] as const) {
    if (t.rank < 2) fail(op, `${name} must be (…, ${name === 'q' ? 'L' : 'S'}, d), got ${fmtShape(t.shape)}`);
    if (t.dtype !== 'float32' && t.dtype !== 'float64') fail(op, `${name} must be float32 or float64, got ${t.dtype}`);
  }
  const [L, d] = q.shape.slice(-2);
  const [S, dk] = k.shape.slice(-2);
  const shapes = `q ${fmtShape(q.shape)}, k ${fmtShape(k.shape)}, v ${fmtShape(v.shape)}`;
  if (dk !== d) fail(op, `q and k must have the same last dim: ${shapes}`);
  if (v.shape[v.rank - 2] !== S) fail(op, `k and v must have the same number of keys S: ${shapes}`);
  let batch: number[];
  try {
    batch = broadcastShapes(op, broadcastShapes(op, q.shape.slice(0, -2), k.shape.slice(0, -2)), v.shape.slice(0, -2));
  } catch {
    fail(op, `the leading dims of q, k and v do not broadcast: ${shapes}`);
  }
  const mask = opts.mask ?? null;
  if (mask !== null) {
    checkTensor(op, 'mask', mask);
    if (mask.dtype !== 'bool' && mask.dtype !== 'float32' && mask.dtype !== 'float64') fail(op, `mask must be bool or float, got ${mask.dtype}`);
    // the mask must broadcast to the scores without enlarging them
    const scoreShape = [...batch, L, S];
    let joint: readonly number[] = [];
    try {
      joint = broadcastShapes(op, mask.shape, scoreShape);
    } catch {
      // reported below
    }
    if (joint.length !== scoreShape.length || joint.some((n, i) => n !== scoreShape[i])) {
      fail(op, `mask ${fmtShape(mask.shape)} does not broadcast to the scores ${fmtShape(scoreShape)} (…, L, S)`);
    }
  }
  const scale = opts.scale ?? 1 / Math.sqrt(d);
  if (typeof scale !== 'number' || !Number.isFinite(scale)) fail(op, `scale must be a finite number, got ${String(scale)}`);
  const p = opts.dropoutP ?? 0;
  if (typeof p !== 'number' || !(p >= 0 && p <= 1)) fail(op, `dropoutP must be in [0, 1], got ${String(p)}`);

  return scope(() => {
    let scores = q.matmul(k.transpose(-2, -1)).mul(scale); // (…, L, S)
    let allowed: Tensor | null = opts.causal ? causalMask(L, S, { backend: q.backend }) : null; // (L, S)
    if (mask?.dtype === 'bool') allowed = allowed ? allowed.logicalAnd(mask) : mask;
    else if (mask) scores = scores.add(mask);
    const masked = allowed !== null || mask !== null;
    if (allowed) scores = where(allowed, scores, -Infinity);
    let weights: Tensor;
    if (!masked) weights = scores.softmax(-1);
    else {
      // a row whose scores are all −∞ would give 0/0 = NaN: give it weights 0 (and gradient 0)
      const dead = scores.max(-1, true).eq(-Infinity); // (…, L, 1)
      weights = where(dead, 0, where(dead, 0, scores).softmax(-1));
    }
    if (p > 0) weights = dropout(weights, p, opts.key ?? nextKey(), true);
    return weights.matmul(v); // (…, L, dv)
  });
}
