/**
 * A key/value cache for incremental decoding: the keys and values of the positions already seen,
 * so that generating one more token costs one query against the cache instead of a full pass.
 */
import { concat, keep, scope, zeros } from '@ml/tensor';
import type { Backend, Tensor } from '@ml/tensor';
import { checkInt, checkTensor, fail, fmtShape } from './layer-utils.js';
import type { FloatDType } from './layer-utils.js';

/** Options of {@link KVCache}. */
export interface KVCacheOptions {
  /** dtype of the stored keys and values (default float32). */
  dtype?: FloatDType;
  backend?: Backend;
}

/**
 * Keys and values (B, numKvHeads, maxLen, headDim) of one attention layer, filled from position 0
 * up to `length`. `update` writes new entries at `startPos` (default: the end) and returns the
 * filled prefix; positions past `maxLen` are an error. Tensors are immutable, so each update
 * builds new storage tensors (O(maxLen) copying) and frees the old ones.
 *
 * The cache owns its tensors (they survive `scope`); call `dispose()` when done. Decode under
 * `noGrad` so no autograd graph is kept alive through the cache.
 *
 * @example
 * ```ts
 * const cache = attn.createCache(1, 256);
 * noGrad(() => {
 *   let y = attn.forward(prompt, { cache, causal: true }); // (1, T, C)
 *   y = attn.forward(next, { cache });                      // (1, 1, C) at position T
 * });
 * cache.dispose();
 * ```
 */
export class KVCache {
  readonly batch: number;
  readonly numKvHeads: number;
  readonly maxLen: number;
  readonly headDim: number;
  /** Keys (B, numKvHeads, maxLen, headDim); entries at and after `length` are zeros or stale. */
  k: Tensor;
  /** Values (B, numKvHeads, maxLen, headDim). */
  v: Tensor;
  /** Number of filled positions. */
  length = 0;

  constructor(batch: number, numKvHeads: number, maxLen: number, headDim: number, opts: KVCacheOptions = {}) {
    this.batch = checkInt('KVCache', 'batch', batch);
    this.numKvHeads = checkInt('KVCache', 'numKvHeads', numKvHeads);
    this.maxLen = checkInt('KVCache', 'maxLen', maxLen);
    this.headDim = checkInt('KVCache', 'headDim', headDim);
    const shape = [batch, numKvHeads, maxLen, headDim];
    this.k = zeros(shape, { dtype: opts.dtype ?? 'float32', backend: opts.backend });
    this.v = zeros(shape, { dtype: opts.dtype ?? 'float32', backend: opts.backend });
    keep([this.k, this.v]);
  }

  /**
   * Writes k, v (B, numKvHeads, T, headDim) at positions startPos … startPos + T − 1 (default
   * startPos = length; a smaller one rewinds, e.g. to regenerate) and sets `length` to
   * startPos + T. Returns the keys and values of positions 0 … startPos + T − 1, each
   * (B, numKvHeads, startPos + T, headDim).
   */
  update(k: Tensor, v: Tensor, startPos = this.length): [Tensor, Tensor] {
    const where = 'KVCache.update';
    checkTensor(where, 'k', k);
    checkTensor(where, 'v', v);
    const want = [this.batch, this.numKvHeads, k.shape[2], this.headDim];
    for (const [name, t] of [['k', k], ['v', v]] as const) {
      if (t.rank !== 4 || t.shape.some((d, i) => d !== want[i]) || t.shape[2] !== k.shape[2]) {
        fail(where, `expected ${name} (${this.batch}, ${this.numKvHeads}, T, ${this.headDim}), got k ${fmtShape(k.shape)}, v ${fmtShape(v.shape)}`);
      }
    }
    checkInt(where, 'startPos', startPos, 0);
    if (startPos > this.length) fail(where, `startPos ${startPos} is past the ${this.length} filled positions: positions in between would be garbage`);
    const T = k.shape[2];
    const end = startPos + T;
    if (end > this.maxLen) fail(where, `cannot write ${T} position(s) at startPos ${startPos}: the cache holds maxLen = ${this.maxLen}`);
    const write = (old: Tensor, update: Tensor): Tensor => {
      const next = scope(() => {
        const parts: Tensor[] = [];
        if (startPos > 0) parts.push(old.slice([null, null, [0, startPos]]));
        parts.push(update.dtype === old.dtype ? update : update.cast(old.dtype));
        if (end < this.maxLen) parts.push(old.slice([null, null, [end, this.maxLen]]));
        return concat(parts, 2);
      });
      keep(next);
      old.dispose();
      return next;
    };
    this.k = write(this.k, k);
    this.v = write(this.v, v);
    this.length = end;
    return [this.k.slice([null, null, [0, end]]), this.v.slice([null, null, [0, end]])];
  }

  /** Forgets every position (length 0); the storage is kept. */
  reset(): void {
    this.length = 0;
  }

  /** Frees the keys and values. */
  dispose(): void {
    this.k.dispose();
    this.v.dispose();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}
