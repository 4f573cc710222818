/** Custom gradients, stopGradient and activation checkpointing. */
import { addHook, alias, keep, removeHook, scope } from '@ml/tensor';
import type { OpRecord, Tensor } from '@ml/tensor';
import { mapTree } from './pytree.js';
import { activeForwardLevels, activeLevels, gradEnabled, noGrad } from './state.js';
import { vjpWith } from './transforms.js';

/**
 * Treats `x` as a constant: the result has x's values, and no gradient flows through it.
 * @example `loss = mse(pred, stopGradient(target))`
 */
export function stopGradient(x: Tensor): Tensor {
  return alias(x, { track: true });
}

/** Records one node in every active reverse level whose gradient rule is `backward`. */
function recordEverywhere(
  op: string,
  inputs: Tensor[],
  outputs: Tensor[],
  backward: (cotangents: readonly Tensor[]) => (Tensor | null)[],
  onRelease?: () => void,
): void {
  const levels = gradEnabled() ? activeLevels.filter((l) => inputs.some((t) => l.isTracked(t))) : [];
  let pending = levels.length;
  const release = () => {
    if (--pending === 0) onRelease?.();
  };
  if (pending === 0) onRelease?.();
  for (const level of levels) {
    level.record(op, inputs, outputs, {}, { save: { inputs: false, outputs: false }, vjp: (_ctx, gs) => backward(gs) }, release);
  }
}

/**
 * A function with a hand-written gradient. `forward(...xs)` returns `[output, residuals]` (any
 * tensors the backward needs); `backward(residuals, cotangent)` returns one cotangent per input
 * (null for none). The forward's own ops are not recorded. Residuals other than the inputs and the
 * output belong to the op (they are freed with its graph).
 *
 * @example
 * ```ts
 * // clip the gradient of x ↦ x² to [−1, 1]
 * const square = customVjp(
 *   (x: Tensor) => [x.square(), x] as const,
 *   (x, g) => [g.mul(x).mul(2).clip(-1, 1)],
 * );
 * ```
 */
export function customVjp<Args extends Tensor[], R extends Tensor, Res>(
  forward: (...xs: Args) => readonly [R, Res],
  backward: (residuals: Res, cotangent: Tensor) => (Tensor | null)[],
): (...xs: Args) => R {
  return (...xs: Args) => {
    if (activeForwardLevels.some((l) => xs.some((t) => l.tangentOf(t)))) {
      throw new Error('customVjp: a function with a custom vjp cannot be differentiated in forward mode (jvp)');
    }
    const [out, residuals] = noGrad(() => scope(() => forward(...xs)));
    // The backward may run after the caller disposed an input or the output (a closed scope), so
    // those are held by views; the other residuals were made by forward and belong to this op.
    const saved: Tensor[] = [];
    const held = mapTree(residuals, (t) => {
      const s = xs.includes(t as Args[number]) || t === out ? alias(t) : keep(t);
      saved.push(s);
      return s;
    }) as Res;
    recordEverywhere('customVjp', xs, [out], ([g]) => backward(held, g), () => {
      for (const t of saved) t.dispose();
    });
    return out;
  };
}

/**
 * Activation checkpointing: `checkpoint(f)` computes the same values and gradients as `f`, but
 * saves only f's inputs; the backward pass runs f again to get the intermediates it needs. Trades
 * compute for memory on deep models. Tensors being differentiated must reach f as arguments (f
 * may not capture them): reading one from a closure is an error.
 */
export function checkpoint<Args extends Tensor[], R extends Tensor>(f: (...xs: Args) => R): (...xs: Args) => R {
  /**
   * The recomputation differentiates f with respect to its arguments only, so a differentiated
   * tensor that f reads from a closure would silently get no gradient through f: refuse it.
   */
  const withoutCaptures = <T>(xs: readonly Tensor[], fn: () => T): T => {
    const fromArgs = new Set(xs.map((x) => x.id));
    const hook = (r: OpRecord): void => {
      for (const t of r.inputs) {
        if (!fromArgs.has(t.id) && activeLevels.some((l) => l.isTracked(t))) {
          throw new Error(
            `checkpoint: f reads a tensor of shape (${t.shape.join(', ')}) that is being differentiated but is not one of ` +
              `its arguments (its gradient through f would be lost); pass it to the checkpointed function as an argument`,
          );
        }
      }
      if (r.inputs.some((t) => fromArgs.has(t.id))) for (const o of r.outputs) fromArgs.add(o.id);
    };
    addHook(hook);
    try {
      return fn();
    } finally {
      removeHook(hook);
    }
  };
  return (...xs: Args) => {
    const reverse = gradEnabled() && activeLevels.some((l) => xs.some((t) => l.isTracked(t)));
    const forward = activeForwardLevels.some((l) => xs.some((t) => l.tangentOf(t)));
    if (!reverse || forward) return f(...xs); // nothing to save, or tangents must flow through f
    const out = noGrad(() => scope(() => withoutCaptures(xs, () => f(...xs)))); // f's intermediates are freed right away
    // views the levels see (as identity ops), so an outer level also differentiates the
    // recomputation in the backward pass (second derivatives)
    const saved = xs.map((x) => alias(x, { notify: true }));
    recordEverywhere(
      'checkpoint',
      xs,
      [out],
      ([g]) => {
        const [y, pullback] = vjpWith({ op: 'checkpoint' }, f, ...(saved as Args));
        y.dispose();
        return pullback(g) as Tensor[];
      },
      () => saved.forEach((s) => s.dispose()),
    );
    return out;
  };
}

