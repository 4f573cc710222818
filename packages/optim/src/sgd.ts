/**
 * Stochastic gradient descent with momentum, dampening, Nesterov momentum, L2 weight decay and
 * maximization: exactly torch.optim.SGD.
 */
import type { Tensor } from '@ml/tensor';
import { Optimizer, withDefaults } from './optimizer.js';
import type { ParamsInput, Update } from './optimizer.js';
import { boolean, inRange, nonNegative } from './validate.js';

/** Hyperparameters of {@link SGD}. */
export interface SGDOptions {
  /** Learning rate γ (default 1e-3). */
  lr: number;
  /** Momentum μ (default 0: plain SGD). */
  momentum: number;
  /** Dampening τ of the momentum (default 0). */
  dampening: number;
  /** L2 penalty λ added to the gradient (default 0). */
  weightDecay: number;
  /** Nesterov momentum (needs momentum > 0 and dampening 0; default false). */
  nesterov: boolean;
  /** Ascend the objective instead (default false). */
  maximize: boolean;
}

const DEFAULTS: SGDOptions = { lr: 1e-3, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false, maximize: false };

/**
 * SGD, as PyTorch writes it (momentum accumulates gradients, the learning rate multiplies the
 * buffer). For each parameter θ with gradient ∇ at step t:
 *
 * ```text
 * g ← ∇ (−∇ if maximize)
 * g ← g + λθ                         if λ ≠ 0
 * if μ ≠ 0:
 *   b ← g at t = 1, else μ·b + (1 − τ)·g
 *   g ← g + μ·b if nesterov, else b
 * θ ← θ − γ·g
 * ```
 *
 * State: `momentum_buffer` (when μ ≠ 0).
 *
 * @example
 * ```ts
 * const opt = new SGD(model.parameters(), { lr: 0.1, momentum: 0.9, nesterov: true });
 * backward(loss); opt.step(); opt.zeroGrad();
 * ```
 */
export class SGD extends Optimizer<SGDOptions> {
  readonly stateKeys = ['momentum_buffer'] as const;

  constructor(params: ParamsInput<SGDOptions>, opts?: Partial<SGDOptions>) {
    super(params, withDefaults('SGD', DEFAULTS, opts));
  }

  protected validate(h: SGDOptions): void {
    nonNegative('SGD', 'lr', h.lr);
    nonNegative('SGD', 'momentum', h.momentum);
    inRange('SGD', 'dampening', h.dampening, 0, 1, true);
    nonNegative('SGD', 'weightDecay', h.weightDecay);
    boolean('SGD', 'nesterov', h.nesterov);
    boolean('SGD', 'maximize', h.maximize);
    if (h.nesterov && (h.momentum <= 0 || h.dampening !== 0)) {
      throw new Error(`SGD: nesterov needs momentum > 0 and dampening 0, got momentum ${h.momentum} and dampening ${h.dampening}`);
    }
  }

  protected update(p: Tensor, grad: Tensor, h: SGDOptions, _step: number, state: Readonly<Record<string, Tensor>>): Update {
    let g = h.maximize ? grad.neg() : grad;
    if (h.weightDecay !== 0) g = g.add(p.mul(h.weightDecay));
    if (h.momentum === 0) return { param: p.sub(g.mul(h.lr)) };
    const prev = state.momentum_buffer;
    const buf = prev === undefined ? g : prev.mul(h.momentum).add(g.mul(1 - h.dampening));
    const d = h.nesterov ? g.add(buf.mul(h.momentum)) : buf;
    return { param: p.sub(d.mul(h.lr)), state: { momentum_buffer: buf } };
  }
}
