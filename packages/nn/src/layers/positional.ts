/**
 * Absolute position encodings added to token embeddings: the fixed sinusoids of the original
 * Transformer (Vaswani et al. 2017) and a learned table (GPT-2's `wpe`). Both take (B, T, C) or
 * (T, C) activations and add the rows of positions startPos … startPos + T − 1.
 */
import { random, scope, tensor } from '@ml/tensor';
import type { Key, Tensor } from '@ml/tensor';
import { Module } from '../module.js';
import { Buffer, Parameter } from '../parameter.js';
import { nextKey } from '../rng.js';
import { checkDtype, checkInt, checkPositive, checkTensor, fail, fmtShape } from './layer-utils.js';
import type { FloatDType } from './layer-utils.js';

/** Checks x (B, T, C) or (T, C) and startPos against a table (maxLen, dim); returns T. */
function checkPositionInput(where: string, x: Tensor, startPos: number, maxLen: number, dim: number): number {
  checkTensor(where, 'input', x);
  if ((x.rank !== 2 && x.rank !== 3) || x.shape[x.rank - 1] !== dim) fail(where, `expected input (B, T, ${dim}) or (T, ${dim}), got ${fmtShape(x.shape)}`);
  checkInt(where, 'startPos', startPos, 0);
  const T = x.shape[x.rank - 2];
  if (startPos + T > maxLen) fail(where, `positions ${startPos} … ${startPos + T - 1} exceed maxLen ${maxLen} (input ${fmtShape(x.shape)})`);
  return T;
}

/** Options of the `forward` of the position encodings. */
export interface PositionOptions {
  /** Position of the first row (default 0), for incremental decoding. */
  startPos?: number;
}

/**
 * The sinusoidal position encoding of "Attention Is All You Need":
 *
 *   PE[pos, 2i] = sin(pos / 10000^(2i/d)),   PE[pos, 2i+1] = cos(pos / 10000^(2i/d))
 *
 * held in the non-persistent buffer `pe` (maxLen, dim) (not in the state dict; computed in
 * float64, stored in `dtype`). An odd `dim` ends with a sine column.
 *
 * Shape: forward(x (B, T, C) or (T, C)) → x + PE[startPos : startPos + T] (same shape);
 * `encodings(T, startPos)` returns the rows themselves, (T, C).
 *
 * @example
 * ```ts
 * const pos = new SinusoidalPositionalEncoding(1024, 512);
 * const h = pos.forward(tokEmb); // (B, T, 512) + PE[0:T]
 * ```
 */
export class SinusoidalPositionalEncoding extends Module {
  readonly maxLen: number;
  readonly dim: number;
  pe: Buffer;

  constructor(maxLen: number, dim: number, opts: { base?: number; dtype?: FloatDType } = {}) {
    super();
    this.maxLen = checkInt('SinusoidalPositionalEncoding', 'maxLen', maxLen);
    this.dim = checkInt('SinusoidalPositionalEncoding', 'dim', dim);
    const base = checkPositive('SinusoidalPositionalEncoding', 'base', opts.base ?? 10000);
    const dtype = checkDtype('SinusoidalPositionalEncoding', opts.dtype ?? 'float32');
    const table = new Float64Array(maxLen * dim);
    for (let pos = 0; pos < maxLen; pos++) {
      for (let j = 0; j < dim; j++) {
        const i2 = j - (j % 2); // 2i
        const angle = pos / Math.pow(base, i2 / dim);
        table[pos * dim + j] = j % 2 === 0 ? Math.sin(angle) : Math.cos(angle);
      }
    }
    this.pe = new Buffer(tensor(table, { shape: [maxLen, dim], dtype }), { persistent: false });
  }

  /** The rows PE[startPos : startPos + length], (length, dim) (a view of the table). */
  encodings(length: number, startPos = 0): Tensor {
    const where = 'SinusoidalPositionalEncoding.encodings';
    checkInt(where, 'length', length, 0);
    checkInt(where, 'startPos', startPos, 0);
    if (startPos + length > this.maxLen) fail(where, `positions ${startPos} … ${startPos + length - 1} exceed maxLen ${this.maxLen}`);
    return this.pe.slice([[startPos, startPos + length]]);
  }

  /** x (B, T, C) or (T, C) → x + PE[startPos : startPos + T]. */
  forward(x: Tensor, opts: PositionOptions = {}): Tensor {
    const startPos = opts.startPos ?? 0;
    const T = checkPositionInput('SinusoidalPositionalEncoding.forward', x, startPos, this.maxLen, this.dim);
    return scope(() => x.add(this.pe.slice([[startPos, startPos + T]])));
  }

  override extraRepr(): string {
    return `max_len=${this.maxLen}, dim=${this.dim}`;
  }
}

/** Options of {@link LearnedPositionalEmbedding}. */
export interface LearnedPositionalEmbeddingOptions {
  /** Standard deviation of the initial N(0, std²) table (default 1, as `nn.Embedding`; GPT-2 uses 0.02). */
  std?: number;
  /** Key for the initialisation (default: the next key of the default stream). */
  key?: Key;
  /** Parameter dtype (default float32). */
  dtype?: FloatDType;
}

/**
 * A learned table of position vectors (GPT-2's `wpe`): an embedding looked up at positions
 * startPos … startPos + T − 1. The parameter `weight` (maxLen, dim), from N(0, std²), has the
 * name an `nn.Embedding` field would have, so `wpe.weight` loads from GPT-2 checkpoints.
 *
 * Shape: forward(x (B, T, C) or (T, C)) → x + weight[startPos : startPos + T] (same shape);
 * `encodings(T, startPos)` returns the rows, (T, C).
 *
 * @example
 * ```ts
 * const wpe = new LearnedPositionalEmbedding(1024, 768, { std: 0.02 });
 * const h = wpe.forward(wte.forward(tokens)); // (B, T, 768)
 * ```
 */
export class LearnedPositionalEmbedding extends Module {
  readonly maxLen: number;
  readonly dim: number;
  weight: Parameter;

  constructor(maxLen: number, dim: number, opts: LearnedPositionalEmbeddingOptions = {}) {
    super();
    this.maxLen = checkInt('LearnedPositionalEmbedding', 'maxLen', maxLen);
    this.dim = checkInt('LearnedPositionalEmbedding', 'dim', dim);
    const std = checkPositive('LearnedPositionalEmbedding', 'std', opts.std ?? 1);
    const dtype = checkDtype('LearnedPositionalEmbedding', opts.dtype ?? 'float32');
    this.weight = new Parameter(scope(() => random.normal(opts.key ?? nextKey(), [maxLen, dim], { dtype }).mul(std)));
  }

  /** The rows weight[startPos : startPos + length], (length, dim). */
  encodings(length: number, startPos = 0): Tensor {
    const where = 'LearnedPositionalEmbedding.encodings';
    checkInt(where, 'length', length, 0);
    checkInt(where, 'startPos', startPos, 0);
    if (startPos + length > this.maxLen) fail(where, `positions ${startPos} … ${startPos + length - 1} exceed maxLen ${this.maxLen}`);
    return this.weight.slice([[startPos, startPos + length]]);
  }

  /** x (B, T, C) or (T, C) → x + weight[startPos : startPos + T]. */
  forward(x: Tensor, opts: PositionOptions = {}): Tensor {
    const startPos = opts.startPos ?? 0;
    const T = checkPositionInput('LearnedPositionalEmbedding.forward', x, startPos, this.maxLen, this.dim);
    return scope(() => x.add(this.weight.slice([[startPos, startPos + T]])));
  }

  override extraRepr(): string {
    return `${this.maxLen}, ${this.dim}`;
  }
}
