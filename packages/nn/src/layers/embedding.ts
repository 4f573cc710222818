/** `Embedding`: a lookup table of learned vectors, and its functional form `embedding`. */
import { stopGradient } from '@ml/autograd';
import { arange, random, scope, where } from '@ml/tensor';
import type { Key, Tensor } from '@ml/tensor';
import { Module } from '../module.js';
import { Parameter } from '../parameter.js';
import { nextKey } from '../rng.js';
import { checkDtype, checkInt, checkTensor, fail, fmtShape } from './layer-utils.js';
import type { FloatDType } from './layer-utils.js';

/** Checks that `indices` are int32 and (when readable synchronously) inside [0, num). */
function checkIndices(op: string, indices: Tensor, num: number): void {
  checkTensor(op, 'indices', indices);
  if (indices.dtype !== 'int32') fail(op, `indices must be int32, got ${indices.dtype} (shape ${fmtShape(indices.shape)})`);
  if (!indices.backend.readSync) return; // other backends report out-of-range indices from the gather kernel
  const data = indices.dataSync();
  for (let i = 0; i < data.length; i++) {
    if (data[i] < 0 || data[i] >= num) {
      fail(op, `index ${data[i]} (at flat position ${i} of indices ${fmtShape(indices.shape)}) is out of range for ${num} embeddings`);
    }
  }
}

/**
 * Looks up rows of `weight`: out[…, :] = weight[indices[…], :] (PyTorch's `F.embedding`).
 * With `paddingIdx`, the rows looked up at that index pass no gradient back to `weight`.
 *
 * Args:
 * - `indices`: int32 of any shape, each in [0, num).
 * - `weight`: the table (num, dim).
 * - `paddingIdx`: optional index whose row gets no gradient.
 *
 * Shape: indices (…) → (…, dim).
 *
 * @example
 * ```ts
 * const tok = tensor([[1, 2, 0]], { dtype: 'int32' });
 * embedding(tok, table); // (1, 3, dim)
 * ```
 */
export function embedding(indices: Tensor, weight: Tensor, paddingIdx?: number | null): Tensor {
  checkTensor('embedding', 'weight', weight);
  if (weight.rank !== 2) fail('embedding', `weight must be (num, dim), got ${fmtShape(weight.shape)}`);
  let pad = paddingIdx ?? null;
  if (pad !== null && pad < 0) pad += weight.shape[0];
  return lookup('embedding', indices, weight, pad);
}

function lookup(op: string, indices: Tensor, weight: Tensor, paddingIdx: number | null): Tensor {
  const [num, dim] = weight.shape;
  checkIndices(op, indices, num);
  return scope(() => {
    const flat = indices.reshape([indices.size]); // (M,)
    let rows = weight.indexSelect(0, flat); // (M, dim)
    if (paddingIdx !== null) {
      // same values, but rows looked up at paddingIdx are constants: their gradient is dropped
      const keepGrad = flat.ne(paddingIdx).reshape([indices.size, 1]); // (M, 1)
      rows = where(keepGrad, rows, stopGradient(rows));
    }
    return rows.reshape([...indices.shape, dim]); // (…, dim)
  });
}

/** Options of {@link Embedding}. */
export interface EmbeddingOptions {
  /** Key for the random initialisation (default: the next key of the default stream). */
  key?: Key;
  /** Parameter dtype (default float32). */
  dtype?: FloatDType;
  /** An index whose row is initialised to zero and never receives gradient (padding tokens). Negative counts from the end. */
  paddingIdx?: number | null;
}

/**
 * A table of `numEmbeddings` learned vectors of size `embeddingDim`, indexed by int32 ids
 * (PyTorch's `nn.Embedding`). The table `weight` (num, dim) is initialised from N(0, 1); the row
 * `paddingIdx`, if given, is zero and gets no gradient.
 *
 * Shape: int32 indices (…) → (…, dim). Non-int32 or out-of-range indices throw.
 *
 * @example
 * ```ts
 * const emb = new Embedding(50257, 768);
 * const h = emb.forward(tokens); // (B, T) int32 → (B, T, 768)
 * ```
 */
export class Embedding extends Module {
  readonly numEmbeddings: number;
  readonly embeddingDim: number;
  readonly paddingIdx: number | null;
  weight: Parameter;

  constructor(numEmbeddings: number, embeddingDim: number, opts: EmbeddingOptions = {}) {
    super();
    this.numEmbeddings = checkInt('Embedding', 'numEmbeddings', numEmbeddings);
    this.embeddingDim = checkInt('Embedding', 'embeddingDim', embeddingDim);
    const dtype = checkDtype('Embedding', opts.dtype ?? 'float32');
    let pad = opts.paddingIdx ?? null;
    if (pad !== null) {
      if (!Number.isInteger(pad) || pad < -numEmbeddings || pad >= numEmbeddings) {
        fail('Embedding', `paddingIdx must be an integer in [${-numEmbeddings}, ${numEmbeddings}), got ${pad}`);
      }
      if (pad < 0) pad += numEmbeddings;
    }
    this.paddingIdx = pad;
    const w = random.normal(opts.key ?? nextKey(), [numEmbeddings, embeddingDim], { dtype });
    if (pad === null) this.weight = new Parameter(w);
    else {
      const row = pad;
      const zeroed = scope(() => where(arange(numEmbeddings, undefined, 1, { dtype: 'int32' }).eq(row).reshape([numEmbeddings, 1]), 0, w));
      w.dispose();
      this.weight = new Parameter(zeroed);
    }
  }

  forward(indices: Tensor): Tensor {
    return lookup('Embedding.forward', indices, this.weight, this.paddingIdx);
  }

  override extraRepr(): string {
    return `${this.numEmbeddings}, ${this.embeddingDim}${this.paddingIdx !== null ? `, padding_idx=${this.paddingIdx}` : ''}`;
  }
}
