/** Fused optimizer updates: one primitive per update rule, so a step is one pass over memory. */
import { apply } from '../engine.js';
import { fail } from '../errors.js';
import { Tensor } from '../tensor.js';

/** Hyperparameters of {@link adamStep}. */
export interface AdamStepOptions {
  /** Decay rate β₁ of the first-moment average, in [0, 1). */
  beta1: number;
  /** Decay rate β₂ of the second-moment average, in [0, 1). */
  beta2: number;
  /** ε added to the denominator. */
  eps: number;
  /** Learning rate γ. */
  lr: number;
  /** The step number t ≥ 1 (for bias correction). */
  step: number;
  /** AMSGrad: the running maximum of v (pass it to divide by max(vMax, v') instead of v'). */
  vMax?: Tensor;
}

/** What {@link adamStep} returns: the new parameter and moments. */
export interface AdamStepResult {
  param: Tensor;
  m: Tensor;
  v: Tensor;
  /** The new running maximum (only with `vMax`). */
  vMax?: Tensor;
}

/**
 * One Adam update of a parameter, fused into a single primitive (PyTorch's fused Adam):
 *
 * ```text
 * m' = β₁·m + (1 − β₁)·g          v' = β₂·v + (1 − β₂)·g²
 * v̂  = max(vMax, v') with AMSGrad, else v'
 * θ' = θ − γ/(1 − β₁ᵗ) · m' / (√v̂ / √(1 − β₂ᵗ) + ε)
 * ```
 *
 * The same arithmetic as the dozen elementwise ops it replaces, in one read of each input and
 * one write of each output. Weight decay, `maximize` and the like are applied to `grad` or
 * `param` by the caller (see Adam and AdamW in @ml/optim). Not differentiable.
 *
 * Args: `param`, `grad`, `m`, `v` (and `opts.vMax`): float tensors of one shape and dtype.
 * Returns new tensors; the inputs are unchanged.
 *
 * @example
 * ```ts
 * const { param, m, v } = adamStep(w, dw, m0, v0, { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, step: 1 });
 * ```
 */
export function adamStep(param: Tensor, grad: Tensor, m: Tensor, v: Tensor, opts: AdamStepOptions): AdamStepResult {
  const op = 'adamStep';
  const { beta1, beta2, eps, lr, step } = opts;
  if (!(beta1 >= 0 && beta1 < 1)) fail(op, `beta1 must be in [0, 1), got ${beta1}`);
  if (!(beta2 >= 0 && beta2 < 1)) fail(op, `beta2 must be in [0, 1), got ${beta2}`);
  if (!(eps >= 0)) fail(op, `eps must be >= 0, got ${eps}`);
  if (!(lr >= 0) || !Number.isFinite(lr)) fail(op, `lr must be a finite number >= 0, got ${lr}`);
  if (!Number.isInteger(step) || step < 1) fail(op, `step must be an integer >= 1, got ${step}`);
  const inputs = opts.vMax ? [param, grad, m, v, opts.vMax] : [param, grad, m, v];
  ['param', 'grad', 'm', 'v', 'vMax'].slice(0, inputs.length).forEach((name, i) => {
    if (!(inputs[i] instanceof Tensor)) fail(op, `${name} must be a Tensor, got ${typeof inputs[i]}`);
  });
  const params = { beta1, beta2, eps, stepSize: lr / (1 - beta1 ** step), vScale: 1 / Math.sqrt(1 - beta2 ** step) };
  const [p2, m2, v2, vMax2] = apply(op, inputs, params);
  return opts.vMax ? { param: p2, m: m2, v: v2, vMax: vMax2 } : { param: p2, m: m2, v: v2 };
}
