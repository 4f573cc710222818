/** Adagrad: per-element learning rates that shrink with the accumulated squared gradients (torch.optim.Adagrad). */
import { fullLike } from '@ml/tensor';
import type { Tensor } from '@ml/tensor';
import { Optimizer, withDefaults } from './optimizer.js';
import type { ParamsInput, Update } from './optimizer.js';
import { boolean, nonNegative } from './validate.js';

/** Hyperparameters of {@link Adagrad}. */
export interface AdagradOptions {
  /** Learning rate γ (default 1e-2). */
  lr: number;
  /** Learning-rate decay η: step t uses γ / (1 + (t − 1)·η) (default 0). */
  lrDecay: number;
  /** L2 penalty λ added to the gradient (default 0). */
  weightDecay: number;
  /** Starting value of the accumulator G (default 0). */
  initialAccumulatorValue: number;
  /** ε added to √G (default 1e-10). */
  eps: number;
  /** Ascend the objective instead (default false). */
  maximize: boolean;
}

const DEFAULTS: AdagradOptions = { lr: 1e-2, lrDecay: 0, weightDecay: 0, initialAccumulatorValue: 0, eps: 1e-10, maximize: false };

/**
 * Adagrad (Duchi et al., 2011). For each parameter θ with gradient ∇ at step t:
 *
 * ```text
 * g ← ∇ (−∇ if maximize);  g ← g + λθ if λ ≠ 0
 * γ̃ ← γ / (1 + (t − 1)·η)
 * G ← G + g²                  (G starts at initialAccumulatorValue)
 * θ ← θ − γ̃ · g / (√G + ε)
 * ```
 *
 * Each element's effective rate γ̃/(√G + ε) can only decrease. State: `sum` (G).
 *
 * @example
 * ```ts
 * const opt = new Adagrad(model.parameters(), { lr: 0.1 });
 * ```
 */
export class Adagrad extends Optimizer<AdagradOptions> {
  readonly stateKeys = ['sum'] as const;

  constructor(params: ParamsInput<AdagradOptions>, opts?: Partial<AdagradOptions>) {
    super(params, withDefaults('Adagrad', DEFAULTS, opts));
  }

  protected validate(h: AdagradOptions): void {
    nonNegative('Adagrad', 'lr', h.lr);
    nonNegative('Adagrad', 'lrDecay', h.lrDecay);
    nonNegative('Adagrad', 'weightDecay', h.weightDecay);
    nonNegative('Adagrad', 'initialAccumulatorValue', h.initialAccumulatorValue);
    nonNegative('Adagrad', 'eps', h.eps);
    boolean('Adagrad', 'maximize', h.maximize);
  }

  protected override requiredState(): string[] {
    return ['sum'];
  }

  protected update(p: Tensor, grad: Tensor, h: AdagradOptions, step: number, state: Readonly<Record<string, Tensor>>): Update {
    let g = h.maximize ? grad.neg() : grad;
    if (h.weightDecay !== 0) g = g.add(p.mul(h.weightDecay));
    const clr = h.lr / (1 + (step - 1) * h.lrDecay);
    const sum = (state.sum ?? fullLike(p, h.initialAccumulatorValue)).add(g.square()); // G
    const std = sum.sqrt().add(h.eps);
    return { param: p.sub(g.div(std).mul(clr)), state: { sum } };
  }
}
