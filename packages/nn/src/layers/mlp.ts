/** The GPT-2 / nanoGPT feed-forward: Linear → GELU → Linear with a 4× wider hidden layer. */
import { random, scope } from '@ml/tensor';
import type { Key, Tensor } from '@ml/tensor';
import { Module } from '../module.js';
import { nextKey } from '../rng.js';
import { checkDtype, checkInt, checkTensor, fail, fmtShape } from './layer-utils.js';
import type { FloatDType } from './layer-utils.js';
import { Linear } from './linear.js';

/** Options of {@link MLP}. */
export interface MLPOptions {
  /** Hidden size (default 4·dim). */
  hiddenDim?: number;
  /** Biases in both projections (default true). */
  bias?: boolean;
  /** GELU: exact erf form (`'none'`, default) or GPT-2's tanh approximation (`'tanh'`). */
  approximate?: 'none' | 'tanh';
  /** Key for the initialisation (default: the default stream). */
  key?: Key;
  /** Parameter dtype (default float32). */
  dtype?: FloatDType;
}

/**
 * The transformer feed-forward of GPT-2 and nanoGPT: y = fc2(gelu(fc1(x))), hidden size 4·dim.
 *
 * Modules: `fc1` (dim → hidden) and `fc2` (hidden → dim), {@link Linear}. (nanoGPT names them
 * `c_fc` and `c_proj`.)
 *
 * Shape: (…, dim) → (…, dim).
 *
 * @example
 * ```ts
 * const mlp = new MLP(768);       // 768 → 3072 → 768
 * const y = mlp.forward(h);       // (B, T, 768)
 * ```
 */
export class MLP extends Module {
  readonly dim: number;
  readonly hiddenDim: number;
  readonly approximate: 'none' | 'tanh';
  fc1: Linear;
  fc2: Linear;

  constructor(dim: number, opts: MLPOptions = {}) {
    super();
    this.dim = checkInt('MLP', 'dim', dim);
    this.hiddenDim = checkInt('MLP', 'hiddenDim', opts.hiddenDim ?? 4 * dim);
    this.approximate = opts.approximate ?? 'none';
    if (this.approximate !== 'none' && this.approximate !== 'tanh') fail('MLP', `approximate must be 'none' or 'tanh', got '${String(this.approximate)}'`);
    const dtype = checkDtype('MLP', opts.dtype ?? 'float32');
    const [k1, k2] = random.split(opts.key ?? nextKey(), 2);
    this.fc1 = new Linear(dim, this.hiddenDim, { bias: opts.bias ?? true, key: k1, dtype });
    this.fc2 = new Linear(this.hiddenDim, dim, { bias: opts.bias ?? true, key: k2, dtype });
  }

  forward(x: Tensor): Tensor {
    const where = 'MLP.forward';
    checkTensor(where, 'input', x);
    if (x.rank === 0 || x.shape[x.rank - 1] !== this.dim) fail(where, `expected input (…, ${this.dim}), got ${fmtShape(x.shape)}`);
    return scope(() => this.fc2.forward(this.fc1.forward(x).gelu(this.approximate))); // (…, dim)
  }

  override extraRepr(): string {
    return `dim=${this.dim}, hidden_dim=${this.hiddenDim}${this.approximate === 'tanh' ? ", approximate='tanh'" : ''}`;
  }
}
