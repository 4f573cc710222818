/** AdamW: Adam with decoupled weight decay (torch.optim.AdamW). */
import { withDefaults } from './optimizer.js';
import type { ParamsInput } from './optimizer.js';
import { Adam } from './adam.js';
import type { AdamOptions } from './adam.js';

const DEFAULTS: AdamOptions = { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 1e-2, amsgrad: false, maximize: false };

/**
 * AdamW (Loshchilov & Hutter, 2019): Adam whose weight decay shrinks the parameter directly,
 * θ ← θ·(1 − γλ), before the Adam step, instead of adding λθ to the gradient. The decay is then
 * not divided by √v̂, so every weight decays at the same relative rate γλ per step; with Adam's L2
 * penalty, weights with large gradients barely decay. Default weightDecay 1e-2.
 *
 * @example
 * ```ts
 * const opt = new AdamW(model.parameters(), { lr: 6e-4, betas: [0.9, 0.95], weightDecay: 0.1 });
 * ```
 */
export class AdamW extends Adam {
  constructor(params: ParamsInput<AdamOptions>, opts?: Partial<AdamOptions>) {
    super(params, withDefaults('AdamW', DEFAULTS, opts));
  }

  protected override get decoupled(): boolean {
    return true;
  }
}
