/**
 * The pre-norm transformer block of GPT-2 / nanoGPT (and, with RMSNorm, SwiGLU, RoPE and
 * grouped-query attention, of Llama):
 *
 *   x = x + dropout(attn(norm₁(x)))
 *   x = x + dropout(mlp(norm₂(x)))
 */
import { random, scope } from '@ml/tensor';
import type { Key, Tensor } from '@ml/tensor';
import { Module } from '../module.js';
import { nextKey } from '../rng.js';
import { Dropout } from './dropout.js';
import type { KVCache } from './kv-cache.js';
import { checkDtype, checkInt, checkTensor, fail, fmtShape } from './layer-utils.js';
import type { FloatDType } from './layer-utils.js';
import { MLP } from './mlp.js';
import { MultiheadAttention } from './multihead-attention.js';
import { LayerNorm, RMSNorm } from './norm.js';
import { SwiGLU } from './swiglu.js';

/** Options of {@link TransformerBlock}. */
export interface TransformerBlockOptions {
  /** `'layer'` (LayerNorm, GPT-2; default) or `'rms'` (RMSNorm, Llama). */
  norm?: 'layer' | 'rms';
  /** Epsilon of the norms (default 1e-5 for LayerNorm, 1e-6 for RMSNorm). */
  normEps?: number;
  /** `'gelu'` ({@link MLP}, 4·dim hidden; default) or `'swiglu'` ({@link SwiGLU}). */
  mlp?: 'gelu' | 'swiglu';
  /** Hidden size of the feed-forward (default 4·dim for gelu, Llama's rule for swiglu). */
  hiddenDim?: number;
  /** Key/value heads of the attention (default numHeads; fewer = grouped-query attention). */
  numKvHeads?: number;
  /** Rotary embeddings in the attention (`true` or `{ base }`; default false). */
  rope?: boolean | { base?: number; maxLen?: number };
  /** Dropout probability on the attention weights and on both residual branches (default 0). */
  dropout?: number;
  /** Biases in the linear layers and the LayerNorms (default true). */
  bias?: boolean;
  /** Key for the initialisation and the dropout masks (default: the default stream). */
  key?: Key;
  /** Parameter dtype (default float32). */
  dtype?: FloatDType;
}

/** Options of {@link TransformerBlock.forward}. */
export interface TransformerBlockForwardOptions {
  /** Boolean (true = attend) or additive float mask, broadcastable to (B, numHeads, T, S). */
  mask?: Tensor | null;
  /** Causal self-attention (default true: a decoder block). */
  causal?: boolean;
  /** (B, S) boolean, true where a key is padding. */
  keyPaddingMask?: Tensor | null;
  /** KV cache of this block's attention (see `attn.createCache`). */
  cache?: KVCache | null;
  /** Position of the first token (default: cache.length with a cache, else 0). */
  startPos?: number;
}

/**
 * A pre-norm transformer block (GPT-2, nanoGPT; Llama with `norm: 'rms'`, `mlp: 'swiglu'`,
 * `rope: true`, `bias: false`):
 *
 *   x = x + dropout(attn(ln1(x), causal))
 *   x = x + dropout(mlp(ln2(x)))
 *
 * Modules: `ln1`, `attn` ({@link MultiheadAttention}: `attn.qProj` …), `ln2`, `mlp` ({@link MLP}
 * or {@link SwiGLU}); `drop` is the residual dropout.
 *
 * Shape: x (B, T, dim) → (B, T, dim).
 *
 * @example
 * ```ts
 * const block = new TransformerBlock(768, 12, { dropout: 0.1 });            // GPT-2 small
 * const llama = new TransformerBlock(4096, 32, { numKvHeads: 8, norm: 'rms', mlp: 'swiglu', rope: true, bias: false });
 * const y = block.forward(x); // (B, T, 768), causal
 * ```
 */
export class TransformerBlock extends Module {
  readonly dim: number;
  readonly numHeads: number;
  ln1: LayerNorm | RMSNorm;
  attn: MultiheadAttention;
  ln2: LayerNorm | RMSNorm;
  mlp: MLP | SwiGLU;
  drop: Dropout;

  constructor(dim: number, numHeads: number, opts: TransformerBlockOptions = {}) {
    super();
    const name = 'TransformerBlock';
    this.dim = checkInt(name, 'dim', dim);
    this.numHeads = checkInt(name, 'numHeads', numHeads);
    const dtype = checkDtype(name, opts.dtype ?? 'float32');
    const norm = opts.norm ?? 'layer';
    const mlp = opts.mlp ?? 'gelu';
    if (norm !== 'layer' && norm !== 'rms') fail(name, `norm must be 'layer' or 'rms', got '${String(norm)}'`);
    if (mlp !== 'gelu' && mlp !== 'swiglu') fail(name, `mlp must be 'gelu' or 'swiglu', got '${String(mlp)}'`);
    const p = opts.dropout ?? 0;
    const bias = opts.bias ?? true;
    const [ka, km, kd] = random.split(opts.key ?? nextKey(), 3);
    const makeNorm = () =>
      norm === 'layer' ? new LayerNorm(dim, { eps: opts.normEps ?? 1e-5, bias, dtype }) : new RMSNorm(dim, { eps: opts.normEps ?? 1e-6, dtype });
    this.ln1 = makeNorm();
    this.attn = new MultiheadAttention(dim, numHeads, { numKvHeads: opts.numKvHeads, bias, dropout: p, rope: opts.rope, key: ka, dtype });
    this.ln2 = makeNorm();
    this.mlp = mlp === 'gelu'
      ? new MLP(dim, { hiddenDim: opts.hiddenDim, bias, key: km, dtype })
      : new SwiGLU(dim, { hiddenDim: opts.hiddenDim, bias, key: km, dtype });
    this.drop = new Dropout(p, { key: opts.key ? kd : undefined });
  }

  /** x (B, T, dim) → (B, T, dim); causal by default. */
  forward(x: Tensor, opts: TransformerBlockForwardOptions = {}): Tensor {
    const where = 'TransformerBlock.forward';
    checkTensor(where, 'x', x);
    if (x.rank !== 3 || x.shape[2] !== this.dim) fail(where, `expected x (B, T, ${this.dim}), got ${fmtShape(x.shape)}`);
    return scope(() => {
      const a = this.attn.forward(this.ln1.forward(x), { ...opts, causal: opts.causal ?? true });
      const h = x.add(this.drop.forward(a)); // (B, T, dim)
      return h.add(this.drop.forward(this.mlp.forward(this.ln2.forward(h))));
    });
  }
}
