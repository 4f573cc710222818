/** RMSprop: divide by a running root-mean-square of the gradients (torch.optim.RMSprop). */
import { zerosLike } from '@ml/tensor';
import type { Tensor } from '@ml/tensor';
import { Optimizer, withDefaults } from './optimizer.js';
import type { ParamsInput, Update } from './optimizer.js';
import { boolean, inRange, nonNegative } from './validate.js';

/** Hyperparameters of {@link RMSprop}. */
export interface RMSpropOptions {
  /** Learning rate γ (default 1e-2). */
  lr: number;
  /** Smoothing constant α of the squared-gradient average (default 0.99). */
  alpha: number;
  /** ε added to the root mean square (default 1e-8). */
  eps: number;
  /** L2 penalty λ added to the gradient (default 0). */
  weightDecay: number;
  /** Momentum μ (default 0). */
  momentum: number;
  /** Divide by an estimate of the gradient's variance instead of its second moment (default false). */
  centered: boolean;
  /** Ascend the objective instead (default false). */
  maximize: boolean;
}

const DEFAULTS: RMSpropOptions = { lr: 1e-2, alpha: 0.99, eps: 1e-8, weightDecay: 0, momentum: 0, centered: false, maximize: false };

/**
 * RMSprop (Hinton's lecture 6e), as PyTorch writes it. For each parameter θ with gradient ∇:
 *
 * ```text
 * g ← ∇ (−∇ if maximize);  g ← g + λθ if λ ≠ 0
 * v ← α·v + (1 − α)·g²                       (v starts at 0)
 * if centered: ḡ ← α·ḡ + (1 − α)·g;  d ← √(v − ḡ²) + ε
 * else:        d ← √v + ε
 * if μ > 0: b ← μ·b + g/d;  θ ← θ − γ·b
 * else:     θ ← θ − γ·g/d
 * ```
 *
 * State: `square_avg` (v), `grad_avg` (ḡ, centered), `momentum_buffer` (b, μ > 0).
 *
 * @example
 * ```ts
 * const opt = new RMSprop(model.parameters(), { lr: 1e-3, centered: true });
 * ```
 */
export class RMSprop extends Optimizer<RMSpropOptions> {
  readonly stateKeys = ['square_avg', 'grad_avg', 'momentum_buffer'] as const;

  constructor(params: ParamsInput<RMSpropOptions>, opts?: Partial<RMSpropOptions>) {
    super(params, withDefaults('RMSprop', DEFAULTS, opts));
  }

  protected validate(h: RMSpropOptions): void {
    nonNegative('RMSprop', 'lr', h.lr);
    inRange('RMSprop', 'alpha', h.alpha, 0, 1, true);
    nonNegative('RMSprop', 'eps', h.eps);
    nonNegative('RMSprop', 'weightDecay', h.weightDecay);
    nonNegative('RMSprop', 'momentum', h.momentum);
    boolean('RMSprop', 'centered', h.centered);
    boolean('RMSprop', 'maximize', h.maximize);
  }

  protected override requiredState(h: RMSpropOptions): string[] {
    return h.centered ? ['square_avg', 'grad_avg'] : ['square_avg'];
  }

  protected update(p: Tensor, grad: Tensor, h: RMSpropOptions, _step: number, state: Readonly<Record<string, Tensor>>): Update {
    let g = h.maximize ? grad.neg() : grad;
    if (h.weightDecay !== 0) g = g.add(p.mul(h.weightDecay));
    const next: Record<string, Tensor> = {};
    const v = (next.square_avg = (state.square_avg ?? zerosLike(p)).mul(h.alpha).add(g.square().mul(1 - h.alpha)));
    let d: Tensor;
    if (h.centered) {
      const prev = state.grad_avg ?? zerosLike(p);
      const mean = (next.grad_avg = prev.add(g.sub(prev).mul(1 - h.alpha))); // lerp toward g
      d = v.sub(mean.square()).sqrt().add(h.eps);
    } else {
      d = v.sqrt().add(h.eps);
    }
    if (h.momentum > 0) {
      const b = (next.momentum_buffer = (state.momentum_buffer ?? zerosLike(p)).mul(h.momentum).add(g.div(d)));
      return { param: p.sub(b.mul(h.lr)), state: next };
    }
    return { param: p.sub(g.div(d).mul(h.lr)), state: next };
  }
}
