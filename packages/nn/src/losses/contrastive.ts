/** Contrastive losses: InfoNCE and SimCLR's NT-Xent. */
import { arange, concat, eye, gather, logSoftmax, maximum, scope, sqrt, where } from '@ml/tensor';
import type { Tensor } from '@ml/tensor';
import { checkFloat, checkNumber, checkSameShape, fmt, lossError } from './checks.js';
import { checkReduction, reduce } from './reduction.js';
import type { ReductionOptions } from './reduction.js';

/** Options of {@link infoNCE}. */
export interface InfoNCEOptions extends ReductionOptions {
  /** τ > 0: similarities are divided by it before the softmax (default 0.1). */
  temperature?: number;
  /**
   * Explicit negative keys: (M, D) shared by every query, or (N, M, D) per query. Without them,
   * the loss is SimCLR's NT-Xent over the 2N views (see {@link infoNCE}).
   */
  negatives?: Tensor;
}

/** Rows scaled to unit L2 norm: x / max(‖x‖, 1e-8), as in PyTorch's cosine_similarity. */
function normalize(x: Tensor): Tensor {
  return x.div(maximum(sqrt(x.mul(x).sum(-1, true)), 1e-8));
}

/**
 * InfoNCE (van den Oord et al., 2018): a softmax cross-entropy that asks each query to pick its
 * positive key out of a set of candidates, by cosine similarity over a temperature τ.
 *
 * **Without `negatives`: NT-Xent** (SimCLR, Chen et al., 2020). z1 and z2 are two views of the
 * same N examples; stack them as 2N views zₖ, and let sₖₗ = cos(zₖ, zₗ)/τ. Each view's positive
 * is the other view of its example, k⁺ = k ± N; the other 2N − 2 views are its negatives, and
 * self-similarity is masked out:
 *
 *   ℓₖ = −log( exp(sₖ,ₖ⁺) / Σ_{l ≠ k} exp(sₖₗ) ),   k = 0 … 2N − 1
 *
 * 'none' returns the 2N losses, z1's views first; 'mean' averages them (SimCLR's loss).
 *
 * **With `negatives`** (z1 = queries q, z2 = positive keys k⁺, negatives kⱼ⁻):
 *
 *   ℓᵢ = −log( exp(cos(qᵢ, kᵢ⁺)/τ) / (exp(cos(qᵢ, kᵢ⁺)/τ) + Σⱼ exp(cos(qᵢ, kᵢⱼ⁻)/τ)) ),  i < N
 *
 * with kᵢⱼ⁻ = negatives[j] for (M, D) negatives, negatives[i, j] for (N, M, D); 'none' gives (N,).
 *
 * Cosines use x / max(‖x‖, 1e-8), and the loss is taken from logSoftmax, stable for small τ.
 *
 * @param z1 (N, D): first views, or queries; float.
 * @param z2 (N, D): second views, or positive keys.
 * @param opts.temperature τ > 0 (default 0.1).
 * @param opts.negatives (M, D) or (N, M, D), optional.
 * @param opts.reduction 'mean' (default), 'sum' or 'none'.
 * @example
 * ```ts
 * const loss = infoNCE(projector(encoder(augment1(x))), projector(encoder(augment2(x))), { temperature: 0.5 });
 * infoNCE(queries, keys, { negatives: memoryBank }); // (N, D), (N, D), (M, D)
 * ```
 */
export function infoNCE(z1: Tensor, z2: Tensor, opts: InfoNCEOptions = {}): Tensor {
  const loss = 'infoNCE';
  checkFloat(loss, 'z1', z1);
  checkFloat(loss, 'z2', z2);
  if (z1.rank !== 2) lossError(loss, `z1 must be (N, D), got ${fmt(z1.shape)}`);
  checkSameShape(loss, 'z1', z1, 'z2', z2);
  const reduction = checkReduction(loss, opts.reduction ?? 'mean');
  const tau = checkNumber(loss, 'temperature', opts.temperature ?? 0.1, (v) => v > 0 && Number.isFinite(v), 'a positive number');
  const { negatives } = opts;
  if (negatives !== undefined) {
    checkFloat(loss, 'negatives', negatives);
    const [n, d] = z1.shape;
    const ok = negatives.rank === 2 ? negatives.shape[1] === d : negatives.rank === 3 && negatives.shape[0] === n && negatives.shape[2] === d;
    if (!ok) lossError(loss, `negatives ${fmt(negatives.shape)} must be (M, ${d}) or (${n}, M, ${d}) for z1 ${fmt(z1.shape)}`);
  }
  return scope(() => reduce(negatives ? withNegatives(z1, z2, negatives, tau) : ntXentLosses(z1, z2, tau), reduction));
}

/** The 2N NT-Xent losses (2N,). */
function ntXentLosses(z1: Tensor, z2: Tensor, tau: number): Tensor {
  const n = z1.shape[0];
  const z = normalize(concat([z1, z2], 0)); // (2N, D)
  const sim = z.matmul(z.transpose()).div(tau); // (2N, 2N)
  const self = eye(2 * n, 2 * n, 0, { dtype: 'bool', backend: z.backend });
  const logp = logSoftmax(where(self, -Infinity, sim), 1); // (2N, 2N): no view is its own candidate
  const k = arange(0, 2 * n, 1, { dtype: 'int32', backend: z.backend });
  const partner = k.add(n).mod(2 * n).unsqueeze(1); // (2N, 1): k + N mod 2N
  return gather(logp, 1, partner).squeeze(1).neg(); // (2N,)
}

/** The N losses (N,) against explicit negatives; the positive is candidate 0. */
function withNegatives(q: Tensor, kPos: Tensor, negatives: Tensor, tau: number): Tensor {
  const qn = normalize(q); // (N, D)
  const pos = qn.mul(normalize(kPos)).sum(-1, true); // (N, 1)
  const kn = normalize(negatives);
  const neg = kn.rank === 2
    ? qn.matmul(kn.transpose()) // (N, D) @ (D, M) → (N, M)
    : qn.unsqueeze(1).matmul(kn.transpose()).squeeze(1); // (N, 1, D) @ (N, D, M) → (N, M)
  const logp = logSoftmax(concat([pos, neg], 1).div(tau), 1); // (N, 1 + M)
  return logp.slice(':, 0').neg(); // (N,)
}

/**
 * SimCLR's NT-Xent loss: {@link infoNCE} without explicit negatives.
 * @example `ntXent(z1, z2, { temperature: 0.5 })` // z1, z2 (N, D): two views of N examples
 */
export function ntXent(z1: Tensor, z2: Tensor, opts: Omit<InfoNCEOptions, 'negatives'> = {}): Tensor {
  return infoNCE(z1, z2, { temperature: opts.temperature, reduction: opts.reduction });
}
