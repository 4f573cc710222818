/**
 * Multi-head attention with Llama/Hugging Face projections (`q_proj`, `k_proj`, `v_proj`,
 * `o_proj`), grouped-query attention, rotary embeddings, padding masks, cross-attention and a
 * key/value cache for incremental decoding.
 */
import { random, scope, where } from '@ml/tensor';
import type { Key, Tensor } from '@ml/tensor';
import { Module } from '../module.js';
import { KeyStream, nextKey } from '../rng.js';
import { scaledDotProductAttention } from './attention.js';
import { KVCache } from './kv-cache.js';
import { checkDtype, checkInt, checkTensor, fail, fmtShape, reprBool } from './layer-utils.js';
import type { FloatDType } from './layer-utils.js';
import { Linear } from './linear.js';
import { RotaryEmbedding } from './rope.js';

/** Options of {@link MultiheadAttention}. */
export interface MultiheadAttentionOptions {
  /**
   * Number of key/value heads (default numHeads). Fewer gives grouped-query attention: each K/V
   * head serves numHeads / numKvHeads consecutive query heads; 1 is multi-query attention.
   */
  numKvHeads?: number;
  /** Biases in the four projections (default true; Llama uses false). */
  bias?: boolean;
  /** Dropout probability on the attention weights, in training mode (default 0). */
  dropout?: number;
  /** Rotary embeddings on queries and keys (`true`, or `{ base }`, default base 10000). */
  rope?: boolean | { base?: number; maxLen?: number };
  /** Feature size of `context` for cross-attention (default embedDim). */
  contextDim?: number;
  /** Key for the initialisation and the dropout masks (default: the default stream). */
  key?: Key;
  /** Parameter dtype (default float32). */
  dtype?: FloatDType;
}

/** Options of {@link MultiheadAttention.forward}. */
export interface MultiheadAttentionForwardOptions {
  /** Boolean (true = attend) or additive float mask, broadcastable to (B, numHeads, T, S). */
  mask?: Tensor | null;
  /** Causal self-attention: query t attends to positions ≤ its own (default false). */
  causal?: boolean;
  /** (B, S) boolean, true where a key is padding and must be ignored (PyTorch's convention). */
  keyPaddingMask?: Tensor | null;
  /** Keys and values come from `context` (B, S, contextDim) instead of x: cross-attention. */
  context?: Tensor | null;
  /** Cache of earlier keys and values (self-attention only); updated in place. */
  cache?: KVCache | null;
  /** Position of x's first token (default: cache.length with a cache, else 0); used by RoPE and the cache. */
  startPos?: number;
}

/**
 * Multi-head attention (Vaswani et al. 2017) over (B, T, C) inputs:
 *
 *   Q = x·W_qᵀ, K = x·W_kᵀ, V = x·W_vᵀ split into heads of size d = C / numHeads,
 *   headₕ = softmax(Qₕ·Kₕᵀ/√d + M)·Vₕ,   y = concat(head₁ … head_H)·W_oᵀ
 *
 * Modules: `qProj` (C → C), `kProj`, `vProj` (contextDim → numKvHeads·d), `oProj` (C → C), all
 * {@link Linear} (state keys `q_proj.weight` … as in Llama). With numKvHeads < numHeads (grouped-
 * query attention) query head h uses K/V head ⌊h / (numHeads / numKvHeads)⌋; with `rope`, queries
 * and keys are rotated at positions startPos … startPos + T − 1 (rotate-half convention).
 *
 * Incremental decoding: `createCache(B, maxLen)` and `forward(x, { cache })` append x's keys and
 * values and attend over every cached position; the result equals recomputing the whole sequence
 * with `causal: true`.
 *
 * Shape: x (B, T, C) → (B, T, C).
 *
 * @example
 * ```ts
 * const attn = new MultiheadAttention(512, 8, { numKvHeads: 2, rope: true, bias: false });
 * const y = attn.forward(x, { causal: true }); // (B, T, 512)
 * ```
 */
export class MultiheadAttention extends Module {
  readonly embedDim: number;
  readonly numHeads: number;
  readonly numKvHeads: number;
  readonly headDim: number;
  readonly contextDim: number;
  readonly dropout: number;
  qProj: Linear;
  kProj: Linear;
  vProj: Linear;
  oProj: Linear;
  rotary: RotaryEmbedding | null;
  readonly #dropoutKeys: KeyStream;

  constructor(embedDim: number, numHeads: number, opts: MultiheadAttentionOptions = {}) {
    super();
    const name = 'MultiheadAttention';
    this.embedDim = checkInt(name, 'embedDim', embedDim);
    this.numHeads = checkInt(name, 'numHeads', numHeads);
    this.numKvHeads = checkInt(name, 'numKvHeads', opts.numKvHeads ?? numHeads);
    if (embedDim % numHeads !== 0) fail(name, `embedDim (${embedDim}) must be divisible by numHeads (${numHeads})`);
    if (numHeads % this.numKvHeads !== 0) fail(name, `numHeads (${numHeads}) must be divisible by numKvHeads (${this.numKvHeads})`);
    this.headDim = embedDim / numHeads;
    this.contextDim = checkInt(name, 'contextDim', opts.contextDim ?? embedDim);
    const p = opts.dropout ?? 0;
    if (typeof p !== 'number' || !(p >= 0 && p < 1)) fail(name, `dropout must be a probability in [0, 1), got ${String(p)}`);
    this.dropout = p;
    const dtype = checkDtype(name, opts.dtype ?? 'float32');
    const bias = opts.bias ?? true;
    const [kq, kk, kv, ko, kd] = random.split(opts.key ?? nextKey(), 5);
    const kvDim = this.numKvHeads * this.headDim;
    this.qProj = new Linear(embedDim, embedDim, { bias, key: kq, dtype });
    this.kProj = new Linear(this.contextDim, kvDim, { bias, key: kk, dtype });
    this.vProj = new Linear(this.contextDim, kvDim, { bias, key: kv, dtype });
    this.oProj = new Linear(embedDim, embedDim, { bias, key: ko, dtype });
    const rope = opts.rope ?? false;
    this.rotary = rope ? new RotaryEmbedding(this.headDim, { ...(rope === true ? {} : rope), dtype }) : null;
    this.#dropoutKeys = new KeyStream(opts.key ? kd : undefined);
  }

  /** An empty cache for this layer: K/V (batch, numKvHeads, maxLen, headDim) in the parameters' dtype and backend. */
  createCache(batch: number, maxLen: number): KVCache {
    const w = this.kProj.weight;
    return new KVCache(batch, this.numKvHeads, maxLen, this.headDim, { dtype: w.dtype as FloatDType, backend: w.backend });
  }

  /** (B, T, heads·d) → (B, heads, T, d). */
  #splitHeads(x: Tensor, heads: number): Tensor {
    const [B, T] = x.shape;
    return x.reshape([B, T, heads, this.headDim]).transpose(1, 2);
  }

  /** (B, numKvHeads, S, d) → (B, numHeads, S, d), each K/V head repeated for its group of query heads. */
  #repeatKv(x: Tensor): Tensor {
    const group = this.numHeads / this.numKvHeads;
    if (group === 1) return x;
    const [B, Hkv, S, d] = x.shape;
    return x.unsqueeze(2).expand([B, Hkv, group, S, d]).reshape([B, this.numHeads, S, d]);
  }

  /** x (B, T, C) → (B, T, C); see {@link MultiheadAttentionForwardOptions}. */
  forward(x: Tensor, opts: MultiheadAttentionForwardOptions = {}): Tensor {
    const op = 'MultiheadAttention.forward';
    checkTensor(op, 'x', x);
    const C = this.embedDim;
    if (x.rank !== 3 || x.shape[2] !== C) fail(op, `expected x (B, T, ${C}), got ${fmtShape(x.shape)}`);
    const [B, T] = x.shape;
    const context = opts.context ?? null;
    const cache = opts.cache ?? null;
    if (context !== null) {
      checkTensor(op, 'context', context);
      if (context.rank !== 3 || context.shape[0] !== B || context.shape[2] !== this.contextDim) {
        fail(op, `expected context (${B}, S, ${this.contextDim}) for x ${fmtShape(x.shape)}, got ${fmtShape(context.shape)}`);
      }
      if (cache) fail(op, 'a KV cache is for self-attention; with a fixed context, compute its keys once instead');
      if (this.rotary) fail(op, 'rotary embeddings are for self-attention; cross-attention with rope is not supported');
    }
    if (cache) {
      if (!(cache instanceof KVCache)) fail(op, 'cache must be a KVCache (see createCache)');
      if (cache.batch !== B || cache.numKvHeads !== this.numKvHeads || cache.headDim !== this.headDim) {
        fail(op, `the cache holds (${cache.batch}, ${cache.numKvHeads}, ${cache.maxLen}, ${cache.headDim}), this layer needs (${B}, ${this.numKvHeads}, maxLen, ${this.headDim})`);
      }
    }
    const startPos = opts.startPos ?? cache?.length ?? 0;
    checkInt(op, 'startPos', startPos, 0);
    const S = context ? context.shape[1] : cache ? startPos + T : T;
    const pad = opts.keyPaddingMask ?? null;
    if (pad !== null) {
      checkTensor(op, 'keyPaddingMask', pad);
      if (pad.dtype !== 'bool' || pad.rank !== 2 || pad.shape[0] !== B || pad.shape[1] !== S) {
        fail(op, `expected a bool keyPaddingMask (${B}, ${S}) (B, S), got ${pad.dtype} ${fmtShape(pad.shape)}`);
      }
    }
    return scope(() => {
      const src = context ?? x;
      let q = this.#splitHeads(this.qProj.forward(x), this.numHeads); // (B, H, T, d)
      let k = this.#splitHeads(this.kProj.forward(src), this.numKvHeads); // (B, Hkv, S_new, d)
      let v = this.#splitHeads(this.vProj.forward(src), this.numKvHeads);
      if (this.rotary) {
        q = this.rotary.forward(q, startPos);
        k = this.rotary.forward(k, startPos);
      }
      if (cache) [k, v] = cache.update(k, v, startPos); // (B, Hkv, startPos + T, d)
      let mask = opts.mask ?? null;
      if (pad) {
        const keep = pad.logicalNot().reshape([B, 1, 1, S]); // (B, 1, 1, S), true = attend
        if (mask === null) mask = keep;
        else if (mask.dtype === 'bool') mask = mask.logicalAnd(keep);
        else mask = mask.add(where(keep, 0, -Infinity).cast(mask.dtype));
      }
      const y = scaledDotProductAttention(q, this.#repeatKv(k), this.#repeatKv(v), {
        mask,
        causal: opts.causal ?? false,
        dropoutP: this.training ? this.dropout : 0,
        key: this.training && this.dropout > 0 ? this.#dropoutKeys.next() : undefined,
      }); // (B, H, T, d)
      return this.oProj.forward(y.transpose(1, 2).reshape([B, T, C])); // (B, T, C)
    });
  }

  override extraRepr(): string {
    const parts = [`embed_dim=${this.embedDim}`, `num_heads=${this.numHeads}`];
    if (this.numKvHeads !== this.numHeads) parts.push(`num_kv_heads=${this.numKvHeads}`);
    if (this.dropout) parts.push(`dropout=${this.dropout}`);
    if (this.rotary) parts.push(`rope=${reprBool(true)}`);
    return parts.join(', ');
  }
}
