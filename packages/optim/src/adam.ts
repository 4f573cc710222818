/** Adam with L2 weight decay, optional AMSGrad, and bias correction (torch.optim.Adam). */
import { adamStep, zerosLike } from '@ml/tensor';
import type { Tensor } from '@ml/tensor';
import { Optimizer, withDefaults } from './optimizer.js';
import type { ParamsInput, Update } from './optimizer.js';
import { boolean, inRange, nonNegative } from './validate.js';

/** Hyperparameters of {@link Adam} and {@link AdamW}. */
export interface AdamOptions {
  /** Learning rate γ (default 1e-3). */
  lr: number;
  /** Decay rates (β₁, β₂) of the first- and second-moment averages, each in [0, 1) (default [0.9, 0.999]). */
  betas: readonly [number, number];
  /** ε added to √v̂ (default 1e-8). */
  eps: number;
  /** Weight decay λ: an L2 penalty added to the gradient for Adam, decoupled for AdamW (Adam 0, AdamW 1e-2). */
  weightDecay: number;
  /** Divide by the running maximum of v̂ (AMSGrad; default false). */
  amsgrad: boolean;
  /** Ascend the objective instead (default false). */
  maximize: boolean;
}

const DEFAULTS: AdamOptions = { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: false, maximize: false };

/**
 * Adam (Kingma & Ba, 2015), as PyTorch writes it. For each parameter θ with gradient ∇ at step t:
 *
 * ```text
 * g ← ∇ (−∇ if maximize)
 * g ← g + λθ                      if λ ≠ 0   (L2 penalty: Adam; AdamW instead does θ ← θ·(1 − γλ))
 * m ← β₁·m + (1 − β₁)·g            v ← β₂·v + (1 − β₂)·g²          (both start at 0)
 * v̂ ← max(v̂_prev, v) if amsgrad, else v
 * θ ← θ − γ/(1 − β₁ᵗ) · m / (√v̂ / √(1 − β₂ᵗ) + ε)
 * ```
 *
 * The step moves θ *against* m (the gradient's average), by about γ per element early on.
 * State: `exp_avg` (m), `exp_avg_sq` (v), `max_exp_avg_sq` (amsgrad).
 *
 * @example
 * ```ts
 * const opt = new Adam(model.parameters(), { lr: 3e-4 });
 * ```
 */
export class Adam extends Optimizer<AdamOptions> {
  readonly stateKeys = ['exp_avg', 'exp_avg_sq', 'max_exp_avg_sq'] as const;

  constructor(params: ParamsInput<AdamOptions>, opts?: Partial<AdamOptions>) {
    super(params, withDefaults('Adam', DEFAULTS, opts));
  }

  /** Whether weight decay is decoupled (AdamW) rather than an L2 penalty. */
  protected get decoupled(): boolean {
    return false;
  }

  protected validate(h: AdamOptions): void {
    const owner = this.constructor.name;
    nonNegative(owner, 'lr', h.lr);
    if (!Array.isArray(h.betas) || h.betas.length !== 2) throw new Error(`${owner}: betas must be a pair [β1, β2], got ${String(h.betas)}`);
    inRange(owner, 'betas[0]', h.betas[0], 0, 1);
    inRange(owner, 'betas[1]', h.betas[1], 0, 1);
    nonNegative(owner, 'eps', h.eps);
    nonNegative(owner, 'weightDecay', h.weightDecay);
    boolean(owner, 'amsgrad', h.amsgrad);
    boolean(owner, 'maximize', h.maximize);
  }

  protected override requiredState(h: AdamOptions): string[] {
    return h.amsgrad ? ['exp_avg', 'exp_avg_sq', 'max_exp_avg_sq'] : ['exp_avg', 'exp_avg_sq'];
  }

  protected update(p: Tensor, grad: Tensor, h: AdamOptions, step: number, state: Readonly<Record<string, Tensor>>): Update {
    const [b1, b2] = h.betas;
    let g = h.maximize ? grad.neg() : grad;
    let theta = p;
    if (h.weightDecay !== 0) {
      if (this.decoupled) theta = p.mul(1 - h.lr * h.weightDecay);
      else g = g.add(p.mul(h.weightDecay));
    }
    // m, v and the step fused into one pass over memory (the adamStep primitive)
    const m0 = state.exp_avg ?? zerosLike(p);
    const v0 = state.exp_avg_sq ?? zerosLike(p);
    const vMax = h.amsgrad ? (state.max_exp_avg_sq ?? zerosLike(p)) : undefined;
    const r = adamStep(theta, g, m0, v0, { lr: h.lr, beta1: b1, beta2: b2, eps: h.eps, step, vMax });
    const next: Record<string, Tensor> = { exp_avg: r.m, exp_avg_sq: r.v };
    if (r.vMax) next.max_exp_avg_sq = r.vMax;
    return { param: r.param, state: next };
  }
}
