/**
 * The SwiGLU feed-forward of Llama (Shazeer 2020, "GLU Variants Improve Transformer"):
 * a SiLU-gated linear unit between two projections.
 */
import { random, scope } from '@ml/tensor';
import type { Key, Tensor } from '@ml/tensor';
import { Module } from '../module.js';
import { nextKey } from '../rng.js';
import { checkDtype, checkInt, checkPositive, checkTensor, fail, fmtShape } from './layer-utils.js';
import type { FloatDType } from './layer-utils.js';
import { Linear } from './linear.js';

/**
 * Llama's hidden size for a model dim d: h = ⌊2·4d/3⌋, times `ffnDimMultiplier` if given (then
 * floored), rounded up to a multiple of `multipleOf` (default 256).
 *
 * @example
 * ```ts
 * llamaHiddenDim(4096);                 // 11008 (Llama 2 7B)
 * llamaHiddenDim(4096, 1024, 1.3);      // 14336 (Llama 3 8B)
 * ```
 */
export function llamaHiddenDim(dim: number, multipleOf = 256, ffnDimMultiplier?: number): number {
  checkInt('llamaHiddenDim', 'dim', dim);
  checkInt('llamaHiddenDim', 'multipleOf', multipleOf);
  let hidden = Math.floor((2 * 4 * dim) / 3);
  if (ffnDimMultiplier !== undefined) hidden = Math.floor(checkPositive('llamaHiddenDim', 'ffnDimMultiplier', ffnDimMultiplier) * hidden);
  return multipleOf * Math.ceil(hidden / multipleOf);
}

/** Options of {@link SwiGLU}. */
export interface SwiGLUOptions {
  /** Hidden size (default: {@link llamaHiddenDim} of dim with `multipleOf` and `ffnDimMultiplier`). */
  hiddenDim?: number;
  /** Rounding of the default hidden size (default 256, as Llama). */
  multipleOf?: number;
  /** Scales the default hidden size before rounding (Llama 3 uses 1.3). */
  ffnDimMultiplier?: number;
  /** Biases in the three projections (default false, as Llama). */
  bias?: boolean;
  /** Key for the initialisation (default: the default stream). */
  key?: Key;
  /** Parameter dtype (default float32). */
  dtype?: FloatDType;
}

/**
 * The SwiGLU feed-forward of Llama: y = w2(silu(w1·x) ⊙ w3·x), silu(u) = u·σ(u).
 *
 * Modules (Meta's Llama names): `w1` (gate, dim → hidden), `w3` (up, dim → hidden), `w2` (down,
 * hidden → dim), {@link Linear} layers without bias by default. (Hugging Face calls them
 * `gate_proj`, `up_proj`, `down_proj`.)
 *
 * Shape: (…, dim) → (…, dim).
 *
 * @example
 * ```ts
 * const ffn = new SwiGLU(4096);       // hidden 11008
 * const y = ffn.forward(h);           // (B, T, 4096)
 * new SwiGLU(64, { hiddenDim: 172 }); // explicit hidden size
 * ```
 */
export class SwiGLU extends Module {
  readonly dim: number;
  readonly hiddenDim: number;
  w1: Linear;
  w2: Linear;
  w3: Linear;

  constructor(dim: number, opts: SwiGLUOptions = {}) {
    super();
    this.dim = checkInt('SwiGLU', 'dim', dim);
    this.hiddenDim = opts.hiddenDim !== undefined ? checkInt('SwiGLU', 'hiddenDim', opts.hiddenDim) : llamaHiddenDim(dim, opts.multipleOf ?? 256, opts.ffnDimMultiplier);
    const dtype = checkDtype('SwiGLU', opts.dtype ?? 'float32');
    const bias = opts.bias ?? false;
    const [k1, k2, k3] = random.split(opts.key ?? nextKey(), 3);
    this.w1 = new Linear(dim, this.hiddenDim, { bias, key: k1, dtype });
    this.w2 = new Linear(this.hiddenDim, dim, { bias, key: k2, dtype });
    this.w3 = new Linear(dim, this.hiddenDim, { bias, key: k3, dtype });
  }

  forward(x: Tensor): Tensor {
    const where = 'SwiGLU.forward';
    checkTensor(where, 'input', x);
    if (x.rank === 0 || x.shape[x.rank - 1] !== this.dim) fail(where, `expected input (…, ${this.dim}), got ${fmtShape(x.shape)}`);
    return scope(() => {
      const gate = this.w1.forward(x); // (…, hidden)
      const up = this.w3.forward(x); // (…, hidden)
      return this.w2.forward(gate.mul(gate.sigmoid()).mul(up)); // (…, dim)
    });
  }

  override extraRepr(): string {
    return `dim=${this.dim}, hidden_dim=${this.hiddenDim}`;
  }
}
