/**
 * Gradient clipping, as torch.nn.utils.clip_grad_norm_ and clip_grad_value_. Tensors are
 * immutable, so "in place" means: each `p.grad` is replaced by the clipped gradient and the old
 * one is disposed.
 */
import { noGrad } from '@ml/autograd';
import { div, keep, promoteTypes, scope, stack, zeros } from '@ml/tensor';
import type { Tensor } from '@ml/tensor';

/** One tensor or any iterable of tensors (`model.parameters()`). */
export type GradParams = Tensor | Iterable<Tensor>;

/** The distinct tensors of `params` that have a gradient. */
function withGrads(owner: string, params: GradParams): Tensor[] {
  const list = (params as { __isTensor?: unknown }).__isTensor ? [params as Tensor] : [...(params as Iterable<Tensor>)];
  const out = new Set<Tensor>();
  list.forEach((p, i) => {
    if (!(p as { __isTensor?: unknown } | null)?.__isTensor) throw new Error(`${owner}: params[${i}] is not a Tensor`);
    if (p.grad && p.grad.isDisposed) throw new Error(`${owner}: the gradient of params[${i}] was disposed`);
    if (p.grad) out.add(p);
  });
  return [...out];
}

function checkNormType(owner: string, normType: number): void {
  if (typeof normType !== 'number' || Number.isNaN(normType) || normType <= 0) {
    throw new Error(`${owner}: normType must be a positive number or Infinity, got ${String(normType)}`);
  }
}

/** ‖x‖_p of all elements: max |x| for p = ∞, √Σx² for p = 2, (Σ|x|ᵖ)^(1/p) otherwise. */
function vectorNorm(x: Tensor, p: number): Tensor {
  if (x.size === 0) return zeros([], { dtype: x.dtype, backend: x.backend });
  if (p === Infinity) return x.abs().max();
  if (p === 2) return x.square().sum().sqrt();
  if (p === 1) return x.abs().sum();
  return x.abs().pow(p).sum().pow(1 / p);
}

/** The p-norm of all gradients together (the norm of the per-gradient norms), as a 0-d tensor. */
function totalNorm(grads: Tensor[], p: number): Tensor {
  const dtype = grads.map((g) => g.dtype).reduce((a, b) => promoteTypes(a, b));
  const norms = grads.map((g) => vectorNorm(g, p).cast(dtype)); // each ()
  return vectorNorm(stack(norms), p); // ()
}

/** Replaces each gradient by `fn(grad)`, disposing the old one. */
function replaceGrads(params: Tensor[], fn: (g: Tensor) => Tensor): void {
  const next = params.map((p) => fn(p.grad as Tensor));
  params.forEach((p, i) => {
    p.grad?.dispose();
    p.grad = keep(next[i]);
  });
}

/** Scales every gradient by min(1, maxNorm / (total + 1e-6)), computed on the device. */
function scaleByNorm(params: Tensor[], total: Tensor, maxNorm: number): void {
  const coef = div(maxNorm, total.add(1e-6)).clip(null, 1); // ()
  replaceGrads(params, (g) => g.mul(coef.cast(g.dtype)));
}

function checkMaxNorm(owner: string, maxNorm: number): void {
  if (typeof maxNorm !== 'number' || Number.isNaN(maxNorm) || maxNorm < 0) throw new Error(`${owner}: maxNorm must be a non-negative number, got ${String(maxNorm)}`);
}

/**
 * Clips the gradients of `params` so that their total p-norm, the norm of all gradient elements
 * taken together, is at most `maxNorm`:
 *
 * ```text
 * total = ‖(‖g₁‖_p, ‖g₂‖_p, …)‖_p          (max |g| for p = ∞)
 * g ← g · min(1, maxNorm / (total + 1e-6))
 * ```
 *
 * Parameters without a gradient are skipped. Returns the total norm *before* clipping, read back
 * as a number (so this is async: reading a GPU value is). If the total norm is NaN or ±∞, the
 * gradients are scaled anyway (to NaN: the step will then be worthless) unless `errorIfNonfinite`,
 * which throws instead and leaves the gradients untouched, as PyTorch's `error_if_nonfinite`.
 * For a version that never waits for the device, see {@link clipGradNormTensor}.
 *
 * @param params tensors whose `.grad` to clip (`model.parameters()`)
 * @param maxNorm the largest allowed total norm (Infinity: measure only)
 * @param normType p (default 2; Infinity for the max norm)
 * @example
 * ```ts
 * backward(loss);
 * const norm = await clipGradNorm(model.parameters(), 1.0); // GPT training clips at 1
 * opt.step();
 * ```
 */
export async function clipGradNorm(params: GradParams, maxNorm: number, normType = 2, opts: { errorIfNonfinite?: boolean } = {}): Promise<number> {
  const owner = 'clipGradNorm';
  checkMaxNorm(owner, maxNorm);
  checkNormType(owner, normType);
  const ps = withGrads(owner, params);
  if (ps.length === 0) return 0;
  const total = noGrad(() => scope(() => totalNorm(ps.map((p) => p.grad as Tensor), normType)));
  try {
    const value = await total.item();
    if (!Number.isFinite(value) && opts.errorIfNonfinite) {
      throw new Error(
        `${owner}: the total norm of order ${normType} of the gradients is ${value}, so they cannot be clipped; pass { errorIfNonfinite: false } to scale them by it anyway`,
      );
    }
    noGrad(() => scope(() => scaleByNorm(ps, total, maxNorm)));
    return value;
  } finally {
    total.dispose();
  }
}

/**
 * {@link clipGradNorm} without reading anything back: clips the gradients and returns the total
 * norm before clipping as a 0-d tensor (dispose it when done), so a training step on a GPU never
 * waits for the device. There is no `errorIfNonfinite` here, since checking it needs the value;
 * a NaN or infinite norm turns the gradients into NaN. With no gradients it returns 0 (float32).
 *
 * @example
 * ```ts
 * const norm = clipGradNormTensor(model.parameters(), 1.0); // ()
 * opt.step();
 * log(await norm.item()); norm.dispose();
 * ```
 */
export function clipGradNormTensor(params: GradParams, maxNorm: number, normType = 2): Tensor {
  const owner = 'clipGradNormTensor';
  checkMaxNorm(owner, maxNorm);
  checkNormType(owner, normType);
  const ps = withGrads(owner, params);
  if (ps.length === 0) return zeros([]);
  return noGrad(() =>
    scope(() => {
      const total = totalNorm(ps.map((p) => p.grad as Tensor), normType);
      scaleByNorm(ps, total, maxNorm);
      return total;
    }),
  );
}

/**
 * Clips every gradient element to [−clipValue, clipValue] (torch.nn.utils.clip_grad_value_).
 * NaN stays NaN.
 *
 * @example
 * ```ts
 * clipGradValue(model.parameters(), 0.5);
 * ```
 */
export function clipGradValue(params: GradParams, clipValue: number): void {
  const owner = 'clipGradValue';
  if (typeof clipValue !== 'number' || Number.isNaN(clipValue) || clipValue < 0) throw new Error(`${owner}: clipValue must be a non-negative number, got ${String(clipValue)}`);
  const ps = withGrads(owner, params);
  noGrad(() => scope(() => replaceGrads(ps, (g) => g.clip(-clipValue, clipValue))));
}
