/** Losses on embeddings: triplet margin and cosine embedding. */
import { abs, minimum, relu, scope, sqrt, where } from '@ml/tensor';
import type { Tensor } from '@ml/tensor';
import { checkFloat, checkNumber, checkSameShape, checkTensor, fmt, lossError } from './checks.js';
import { checkReduction, reduce } from './reduction.js';
import type { ReductionOptions } from './reduction.js';

/** Options of {@link tripletMargin}. */
export interface TripletOptions extends ReductionOptions {
  /** m, how much farther the negative must be than the positive (default 1). */
  margin?: number;
  /** The norm's order p > 0 (default 2). */
  p?: number;
  /** ε added to every difference before the norm, as PyTorch's pairwise_distance (default 1e-6). */
  eps?: number;
  /** Use min(d(a, n), d(p, n)) as the negative distance ("distance swap", default false). */
  swap?: boolean;
}

/** PyTorch's pairwise_distance: ‖x1 − x2 + ε‖_p along the last dim. */
function distance(x1: Tensor, x2: Tensor, p: number, eps: number): Tensor {
  const d = x1.sub(x2).add(eps);
  if (p === 2) return sqrt(d.mul(d).sum(-1));
  if (p === 1) return abs(d).sum(-1);
  return abs(d).pow(p).sum(-1).pow(1 / p);
}

/**
 * Triplet margin loss, PyTorch's `F.triplet_margin_loss`: with d(x, y) = ‖x − y + ε‖_p,
 *
 *   ℓᵢ = max(d(aᵢ, pᵢ) − d(aᵢ, nᵢ) + m, 0)
 *
 * The loss is positive exactly when d(a, p) − d(a, n) > −m, i.e. when the negative is not at
 * least m farther from the anchor than the positive is (d(a, n) < d(a, p) + m); it is zero
 * once d(a, n) ≥ d(a, p) + m.
 *
 * @param anchor a (N, D) or (D,), float.
 * @param positive p, the shape of `anchor`.
 * @param negative n, the shape of `anchor`.
 * @param opts.margin m (default 1).
 * @param opts.p the norm's order (default 2).
 * @param opts.eps ε (default 1e-6).
 * @param opts.swap use min(d(a, n), d(p, n)) (default false).
 * @param opts.reduction 'mean' (default, over N), 'sum' or 'none' (N,) (() for (D,) inputs).
 * @example
 * ```ts
 * tripletMargin(embed(anchors), embed(sameClass), embed(otherClass), { margin: 0.2 }); // (N, D) each
 * ```
 */
export function tripletMargin(anchor: Tensor, positive: Tensor, negative: Tensor, opts: TripletOptions = {}): Tensor {
  const loss = 'tripletMargin';
  checkFloat(loss, 'anchor', anchor);
  checkFloat(loss, 'positive', positive);
  checkFloat(loss, 'negative', negative);
  if (anchor.rank !== 1 && anchor.rank !== 2) lossError(loss, `anchor must be (N, D) or (D,), got ${fmt(anchor.shape)}`);
  checkSameShape(loss, 'anchor', anchor, 'positive', positive);
  checkSameShape(loss, 'anchor', anchor, 'negative', negative);
  const reduction = checkReduction(loss, opts.reduction ?? 'mean');
  const margin = checkNumber(loss, 'margin', opts.margin ?? 1, Number.isFinite, 'a finite number');
  const p = checkNumber(loss, 'p', opts.p ?? 2, (v) => v > 0 && Number.isFinite(v), 'a positive number');
  const eps = checkNumber(loss, 'eps', opts.eps ?? 1e-6, (v) => v >= 0 && Number.isFinite(v), 'a number ≥ 0');
  return scope(() => {
    const dPos = distance(anchor, positive, p, eps); // (N,)
    let dNeg = distance(anchor, negative, p, eps); // (N,)
    if (opts.swap) dNeg = minimum(dNeg, distance(positive, negative, p, eps));
    return reduce(relu(dPos.sub(dNeg).add(margin)), reduction);
  });
}

/** Options of {@link cosineEmbedding}. */
export interface CosineEmbeddingOptions extends ReductionOptions {
  /** m: dissimilar pairs are penalised while cos > m (default 0; sensible values lie in [−1, 1]). */
  margin?: number;
}

/**
 * Cosine embedding loss, PyTorch's `F.cosine_embedding_loss`: with
 * cos = x1·x2 / √((‖x1‖² + 1e-12)(‖x2‖² + 1e-12)),
 *
 *   ℓᵢ = 1 − cosᵢ              if yᵢ = 1   (pull similar pairs together)
 *   ℓᵢ = max(0, cosᵢ − m)      if yᵢ = −1  (push dissimilar pairs below the margin)
 *
 * @param x1 (N, D) or (D,), float.
 * @param x2 the shape of `x1`.
 * @param y (N,) (or () for (D,) inputs), values 1 or −1, any numeric dtype (other values are an
 *   error on backends that read synchronously; elsewhere they give 0, as in PyTorch).
 * @param opts.margin m (default 0).
 * @param opts.reduction 'mean' (default, over N), 'sum' or 'none' (N,).
 * @example
 * ```ts
 * cosineEmbedding(u, v, tensor([1, -1, 1]), { margin: 0.5 }); // u, v (3, D)
 * ```
 */
export function cosineEmbedding(x1: Tensor, x2: Tensor, y: Tensor, opts: CosineEmbeddingOptions = {}): Tensor {
  const loss = 'cosineEmbedding';
  checkFloat(loss, 'x1', x1);
  checkFloat(loss, 'x2', x2);
  checkTensor(loss, 'y', y);
  if (x1.rank !== 1 && x1.rank !== 2) lossError(loss, `x1 must be (N, D) or (D,), got ${fmt(x1.shape)}`);
  checkSameShape(loss, 'x1', x1, 'x2', x2);
  const yShape = x1.shape.slice(0, -1);
  if (y.rank !== yShape.length || y.shape.some((d, i) => d !== yShape[i])) {
    lossError(loss, `y ${fmt(y.shape)} must be ${fmt(yShape)}, one label per pair of x1 ${fmt(x1.shape)}`);
  }
  if (y.dtype === 'bool') lossError(loss, 'y must hold 1 or −1, got a bool tensor');
  const reduction = checkReduction(loss, opts.reduction ?? 'mean');
  const margin = checkNumber(loss, 'margin', opts.margin ?? 0, Number.isFinite, 'a finite number');
  if (y.backend.readSync) {
    const data = y.dataSync();
    for (let i = 0; i < data.length; i++) {
      if (data[i] !== 1 && data[i] !== -1) lossError(loss, `y must hold 1 or −1, found ${data[i]} (y ${fmt(y.shape)})`);
    }
  }
  return scope(() => {
    const dot = x1.mul(x2).sum(-1); // (N,)
    const sq1 = x1.mul(x1).sum(-1).add(1e-12);
    const sq2 = x2.mul(x2).sum(-1).add(1e-12);
    const cos = dot.div(sqrt(sq1.mul(sq2))); // (N,)
    const similar = cos.neg().add(1);
    const dissimilar = relu(cos.sub(margin));
    return reduce(where(y.eq(1), similar, where(y.eq(-1), dissimilar, 0)), reduction);
  });
}
