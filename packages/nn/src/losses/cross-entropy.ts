/** Cross-entropy and negative log-likelihood over classes, with PyTorch's exact semantics. */
import { isFloat, logSoftmax, scope, where } from '@ml/tensor';
import type { Tensor } from '@ml/tensor';
import { checkFloat, checkNumber, checkTensor, fmt, lossError } from './checks.js';
import { classIndex, gatherClasses } from './class-index.js';
import { checkReduction, reduce } from './reduction.js';
import type { Reduction, ReductionOptions } from './reduction.js';

/** Options of {@link nll}. */
export interface NllOptions extends ReductionOptions {
  /** w (C,): a rescaling weight per class; 'mean' then divides by Σ w[yᵢ] (see below). */
  weight?: Tensor;
  /** Targets equal to this are skipped: loss 0, and left out of the mean (default −100). */
  ignoreIndex?: number;
}

/** Options of {@link crossEntropy}. */
export interface CrossEntropyOptions extends NllOptions {
  /** ε ∈ [0, 1]: the target becomes (1 − ε)·target + ε/C (default 0). */
  labelSmoothing?: number;
}

interface Checked {
  kind: 'index' | 'prob';
  reduction: Reduction;
  weight: Tensor | undefined;
  ignoreIndex: number;
  smoothing: number;
}

/** Validates every argument before any work; the messages name the loss, argument and shapes. */
function check(loss: string, inputName: string, x: Tensor, target: Tensor, opts: CrossEntropyOptions, allowProbs: boolean): Checked {
  checkFloat(loss, inputName, x);
  if (x.rank < 1) lossError(loss, `${inputName} must be (C,), (N, C) or (N, C, d1, …), got a scalar`);
  checkTensor(loss, 'target', target);
  const reduction = checkReduction(loss, opts.reduction ?? 'mean');
  const ignoreIndex = checkNumber(loss, 'ignoreIndex', opts.ignoreIndex ?? -100, Number.isInteger, 'an integer');
  const smoothing = checkNumber(loss, 'labelSmoothing', opts.labelSmoothing ?? 0, (v) => v >= 0 && v <= 1, 'in [0, 1]');
  const c = x.rank === 1 ? x.shape[0] : x.shape[1];
  const { weight } = opts;
  if (weight !== undefined) {
    checkFloat(loss, 'weight', weight);
    if (weight.rank !== 1 || weight.shape[0] !== c) {
      lossError(loss, `weight must be (C,) = (${c},), one per class of ${inputName} ${fmt(x.shape)}; got ${fmt(weight.shape)}`);
    }
  }
  const indexShape = x.rank === 1 ? [] : [x.shape[0], ...x.shape.slice(2)];
  const is = (shape: readonly number[]) => target.rank === shape.length && target.shape.every((d, i) => d === shape[i]);
  let kind: Checked['kind'];
  if (allowProbs && is(x.shape)) {
    if (!isFloat(target.dtype)) lossError(loss, `class probabilities (target of the logits' shape ${fmt(x.shape)}) must be float, got ${target.dtype}`);
    kind = 'prob';
  } else if (is(indexShape)) {
    if (target.dtype !== 'int32') lossError(loss, `target ${fmt(target.shape)}: expected int32 class indices, got ${target.dtype}; use cast('int32')`);
    kind = 'index';
  } else {
    const probs = allowProbs ? `, or float class probabilities of the logits' shape ${fmt(x.shape)}` : '';
    lossError(loss, `target ${fmt(target.shape)} must be int32 class indices of shape ${fmt(indexShape)}${probs} (${inputName} ${fmt(x.shape)})`);
  }
  return { kind, reduction, weight, ignoreIndex, smoothing };
}

/**
 * The loss from log-probabilities `logp` (N, C, d…) and int32 targets (N, d…):
 *   ℓᵢ = (1 − ε)·w[yᵢ]·(−log pᵢ[yᵢ]) + (ε/C)·Σ_c w[c]·(−log pᵢ[c]),  0 where yᵢ is ignored;
 *   mean = Σᵢ ℓᵢ / Σ_{i not ignored} w[yᵢ]   (w ≡ 1 without weights: the count of kept targets).
 */
function indexLoss(loss: string, inputName: string, logp: Tensor, target: Tensor, o: Checked): Tensor {
  const c = logp.shape[1];
  const ignored = target.eq(o.ignoreIndex); // (N, d…)
  const index = classIndex(target, ignored, c); // (N, 1, d…)
  const picked = gatherClasses(loss, inputName, logp, index, target, o.ignoreIndex).squeeze(1); // (N, d…): log p[y]
  const w = o.weight?.cast(logp.dtype).reshape(logp.shape.map((d, i) => (i === 1 ? d : 1))); // (1, C, 1…)
  const wy = w ? gatherClasses(loss, inputName, w.expand(logp.shape), index, target, o.ignoreIndex).squeeze(1) : null; // (N, d…): w[y]
  let terms = wy ? picked.mul(wy).neg() : picked.neg();
  if (o.smoothing > 0) {
    const uniform = (w ? logp.mul(w) : logp).sum(1).neg(); // (N, d…): −Σ_c w[c] log p[c]
    terms = terms.mul(1 - o.smoothing).add(uniform.mul(o.smoothing / c));
  }
  const losses = where(ignored, 0, terms); // where, not a product: an ignored −∞ must not make NaN
  if (o.reduction !== 'mean') return reduce(losses, o.reduction);
  const kept = wy ? where(ignored, 0, wy).sum() : ignored.logicalNot().sum();
  return losses.sum().div(kept);
}

/**
 * The loss against class probabilities `target` of `logp`'s shape (N, C, d…):
 *   ℓᵢ = −Σ_c w[c]·tᵢ[c]·log pᵢ[c] with t = (1 − ε)·target + ε/C; mean = Σᵢ ℓᵢ / (N·d1·…).
 */
function probLoss(logp: Tensor, target: Tensor, o: Checked): Tensor {
  const c = logp.shape[1];
  const t = o.smoothing > 0 ? target.mul(1 - o.smoothing).add(o.smoothing / c) : target;
  const w = o.weight?.cast(logp.dtype).reshape(logp.shape.map((d, i) => (i === 1 ? d : 1)));
  const prod = w ? logp.mul(t).mul(w) : logp.mul(t); // (N, C, d…)
  return reduce(prod.sum(1).neg(), o.reduction); // (N, d…)
}

/** Runs `body` on batched (N, C, d…) inputs; an unbatched (C,) input becomes (1, C) and back. */
function batched(x: Tensor, target: Tensor, o: Checked, body: (x: Tensor, target: Tensor) => Tensor): Tensor {
  if (x.rank > 1) return body(x, target);
  const out = body(x.unsqueeze(0), target.unsqueeze(0));
  return o.reduction === 'none' ? out.reshape([]) : out;
}

/**
 * Cross-entropy between logits and targets, exactly PyTorch's `F.cross_entropy`. It is computed
 * from log p = logSoftmax(logits) along the class axis 1 (never log of a softmax), so it stays
 * finite for any finite logits.
 *
 * **Class indices** (int32 target yᵢ ∈ [0, C), or `ignoreIndex`), with ε = labelSmoothing and
 * class weights w (all 1 if not given):
 *
 *   ℓᵢ = (1 − ε)·w[yᵢ]·(−log pᵢ[yᵢ]) + (ε/C)·Σ_c w[c]·(−log pᵢ[c]),   ℓᵢ = 0 if yᵢ = ignoreIndex
 *   'mean' = Σᵢ ℓᵢ / Σ_{i: yᵢ ≠ ignoreIndex} w[yᵢ]   (the number of kept targets without weights;
 *   NaN if every target is ignored, as in PyTorch)
 *
 * i.e. the cross-entropy against (1 − ε)·onehot(y) + ε/C, where the smoothing part is weighted
 * per class c while the whole is normalised by the weights of the true classes (PyTorch's choice).
 *
 * **Class probabilities** (float target t of the logits' shape, "soft targets"; `ignoreIndex`
 * does not apply):
 *
 *   ℓᵢ = −Σ_c w[c]·t'ᵢ[c]·log pᵢ[c],  t' = (1 − ε)·t + ε/C;   'mean' = Σᵢ ℓᵢ / (N·d1·…)
 *
 * Here i runs over the batch and any extra dims (N, d1, …).
 *
 * @param logits (N, C), (N, C, d1, …) or unbatched (C,); float.
 * @param target int32 class indices (N,), (N, d1, …) or () for unbatched logits; or float class
 *   probabilities of the logits' shape. A float target of the indices' shape is refused (cast it).
 * @param opts.weight (C,) per-class weights.
 * @param opts.labelSmoothing ε ∈ [0, 1] (default 0).
 * @param opts.ignoreIndex class index to skip (default −100).
 * @param opts.reduction 'mean' (default, see above), 'sum', or 'none': (N, d1, …), or () unbatched.
 * @returns a 0-d tensor, or the per-position losses for 'none'.
 * @throws on a target index outside [0, C) (on the CPU at once; on other backends at the next read).
 * @example
 * ```ts
 * const logits = tensor([[2, 0, -1], [0.5, 1.5, 0]]); // (N=2, C=3)
 * crossEntropy(logits, tensor([0, 1], { dtype: 'int32' }));
 * crossEntropy(logits, labels, { weight: tensor([1, 2, 1]), labelSmoothing: 0.1, ignoreIndex: 0 });
 * crossEntropy(segLogits, masks); // (N, C, H, W) with int32 masks (N, H, W)
 * ```
 */
export function crossEntropy(logits: Tensor, target: Tensor, opts: CrossEntropyOptions = {}): Tensor {
  const o = check('crossEntropy', 'logits', logits, target, opts, true);
  return scope(() =>
    batched(logits, target, o, (x, t) => {
      const logp = logSoftmax(x, 1); // (N, C, d…)
      return o.kind === 'prob' ? probLoss(logp, t, o) : indexLoss('crossEntropy', 'logits', logp, t, o);
    }),
  );
}

/**
 * Negative log-likelihood of class indices given log-probabilities, PyTorch's `F.nll_loss`:
 *
 *   ℓᵢ = −w[yᵢ]·logProbsᵢ[yᵢ]   (0 where yᵢ = ignoreIndex)
 *   'mean' = Σᵢ ℓᵢ / Σ_{i: yᵢ ≠ ignoreIndex} w[yᵢ]
 *
 * `crossEntropy(x, y)` equals `nll(logSoftmax(x, 1), y)` (without label smoothing).
 *
 * @param logProbs (N, C), (N, C, d1, …) or (C,); float log-probabilities (not checked to be).
 * @param target int32 class indices (N,), (N, d1, …) or ().
 * @param opts.weight (C,) per-class weights.
 * @param opts.ignoreIndex class index to skip (default −100).
 * @param opts.reduction 'mean' (default), 'sum' or 'none' (the target's shape).
 * @example
 * ```ts
 * nll(logSoftmax(logits, 1), labels); // = crossEntropy(logits, labels)
 * ```
 */
export function nll(logProbs: Tensor, target: Tensor, opts: NllOptions = {}): Tensor {
  const o = check('nll', 'logProbs', logProbs, target, { ...opts, labelSmoothing: 0 }, false);
  return scope(() => batched(logProbs, target, o, (x, t) => indexLoss('nll', 'logProbs', x, t, o)));
}
