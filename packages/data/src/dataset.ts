/**
 * Datasets: anything with a `length` and a `get(i)`, as PyTorch's map-style `Dataset`.
 * `TensorDataset` wraps tensors that share their first dim; `Subset` and `randomSplit` pick
 * samples by index; `mapDataset` transforms samples lazily.
 */
import { scope, Tensor } from '@ml/tensor';
import type { Key } from '@ml/tensor';
import { checkIndices, hostPermutation, indexTensor } from './host.js';

/**
 * A map-style dataset: `length` samples, sample `i` is `get(i)` for `0 ≤ i < length`.
 * @example
 * ```ts
 * const squares: Dataset<number> = { length: 10, get: (i) => i * i };
 * ```
 */
export interface Dataset<T> {
  /** Number of samples. */
  readonly length: number;
  /** Sample `i`, `0 ≤ i < length`. */
  get(i: number): T;
}

/**
 * A dataset that can also build a whole batch at once from sample indices (faster than `get` per
 * sample and collating). {@link DataLoader} uses `getBatch` when a dataset has it.
 */
export interface BatchDataset<T, B> extends Dataset<T> {
  /** The batch of samples `indices[0], indices[1], …`, already collated. */
  getBatch(indices: Int32Array): B;
}

/** Whether `ds` has a `getBatch` method. */
export function hasGetBatch<T, B>(ds: Dataset<T>): ds is BatchDataset<T, B> {
  return typeof (ds as Partial<BatchDataset<T, B>>).getBatch === 'function';
}

/** Checks that `i` is an integer index in `[0, length)`. */
export function checkIndex(op: string, i: number, length: number): void {
  if (!Number.isInteger(i) || i < 0 || i >= length) {
    throw new RangeError(`${op}: index ${String(i)} is out of range for a dataset of length ${length}`);
  }
}

/**
 * Tensors that share their first dim, as samples: sample `i` is `[t0[i], t1[i], …]` (views, no
 * copies). A batch is `[t0[idx], t1[idx], …]`, built with one `indexSelect` per tensor.
 *
 * The dataset does not own the tensors: dispose them yourself when you are done.
 *
 * @example
 * ```ts
 * const ds = new TensorDataset(images, labels); // (N, 1, 28, 28), (N,)
 * const [x, y] = ds.get(0);                     // (1, 28, 28), ()
 * ```
 */
export class TensorDataset<T extends Tensor[] = Tensor[]> implements BatchDataset<T, T> {
  /** The wrapped tensors. */
  readonly tensors: T;
  readonly length: number;

  constructor(...tensors: T) {
    const op = 'TensorDataset';
    if (tensors.length === 0) throw new Error(`${op}: needs at least one tensor`);
    tensors.forEach((t, i) => {
      if (!(t instanceof Tensor)) throw new TypeError(`${op}: argument ${i} is not a Tensor`);
      if (t.rank === 0) throw new Error(`${op}: tensor ${i} is a scalar; every tensor needs a first (sample) dim`);
    });
    const n = tensors[0].shape[0];
    if (tensors.some((t) => t.shape[0] !== n)) {
      const shapes = tensors.map((t) => `(${t.shape.join(', ')})`).join(', ');
      throw new Error(`${op}: tensors must have the same first dim (number of samples), got shapes ${shapes}`);
    }
    this.tensors = tensors;
    this.length = n;
  }

  get(i: number): T {
    checkIndex('TensorDataset.get', i, this.length);
    return this.tensors.map((t) => t.slice([i])) as T;
  }

  getBatch(indices: Int32Array): T {
    checkIndices('TensorDataset.getBatch', indices, this.length);
    const idx = new Map<Tensor['backend'], Tensor>(); // one index tensor per backend
    try {
      return this.tensors.map((t) => {
        if (!idx.has(t.backend)) idx.set(t.backend, indexTensor(indices, t.backend));
        return selectRows(t, idx.get(t.backend)!);
      }) as T;
    } finally {
      for (const i of idx.values()) i.dispose();
    }
  }
}

/**
 * `t[idx]` along the first dim. A contiguous tensor of rank > 2 is gathered as a matrix
 * (N, rest) of rows, which the gather kernels walk faster than the n-d view.
 */
function selectRows(t: Tensor, idx: Tensor): Tensor {
  if (t.rank <= 2 || !t.isContiguous) return t.indexSelect(0, idx);
  const rest = t.shape.slice(1);
  const rowSize = rest.reduce((a, b) => a * b, 1);
  return scope(() => t.reshape([t.shape[0], rowSize]).indexSelect(0, idx).reshape([idx.size, ...rest])); // (B, ...rest)
}

/**
 * The samples `indices[0], indices[1], …` of `dataset`, as `torch.utils.data.Subset`.
 * @example
 * ```ts
 * const firstHundred = new Subset(ds, Array.from({ length: 100 }, (_, i) => i));
 * ```
 */
export class Subset<T, B = never> implements Dataset<T> {
  readonly dataset: Dataset<T>;
  readonly indices: Int32Array;
  /** Present when the wrapped dataset batches itself (a TensorDataset, say). */
  readonly getBatch?: (indices: Int32Array) => B;

  constructor(dataset: Dataset<T>, indices: ArrayLike<number>) {
    const idx = Int32Array.from(indices as ArrayLike<number>);
    for (let k = 0; k < indices.length; k++) {
      if (idx[k] !== indices[k]) {
        throw new RangeError(`Subset: index ${String(indices[k])} at position ${k} is not an int32`);
      }
    }
    checkIndices('Subset', idx, dataset.length);
    this.dataset = dataset;
    this.indices = idx;
    if (hasGetBatch<T, B>(dataset)) {
      this.getBatch = (batch: Int32Array) => {
        checkIndices('Subset.getBatch', batch, idx.length);
        return dataset.getBatch(batch.map((i) => idx[i]));
      };
    }
  }

  get length(): number {
    return this.indices.length;
  }

  get(i: number): T {
    checkIndex('Subset.get', i, this.indices.length);
    return this.dataset.get(this.indices[i]);
  }
}

/**
 * Splits a dataset into non-overlapping random subsets, as `torch.utils.data.random_split`.
 *
 * The samples are shuffled with `random.permutation(key, n)` and cut into consecutive pieces of
 * the given sizes. Sizes are either counts that sum to `dataset.length`, or fractions that sum
 * to 1: fraction `f` gets `⌊f·n⌋` samples and the remaining ones go one each to the first
 * subsets, round-robin (PyTorch's rule).
 *
 * @param sizes  counts or fractions
 * @param key    PRNG key of the shuffle (same key → same split)
 * @example
 * ```ts
 * const [train, val] = randomSplit(ds, [0.9, 0.1], random.key(0));
 * ```
 */
export function randomSplit<T>(dataset: Dataset<T>, sizes: readonly number[], key: Key): Subset<T, unknown>[] {
  const op = 'randomSplit';
  const n = dataset.length;
  if (sizes.length === 0) throw new Error(`${op}: sizes must not be empty`);
  if (sizes.some((s) => typeof s !== 'number' || !Number.isFinite(s) || s < 0)) {
    throw new Error(`${op}: sizes must be non-negative numbers, got [${sizes.join(', ')}]`);
  }
  let counts: number[];
  const total = sizes.reduce((a, b) => a + b, 0);
  if (sizes.every((s) => Number.isInteger(s)) && total === n) {
    counts = [...sizes];
  } else if (Math.abs(total - 1) < 1e-9 && sizes.every((s) => s <= 1)) {
    counts = sizes.map((f) => Math.floor(f * n));
    let rest = n - counts.reduce((a, b) => a + b, 0);
    for (let i = 0; rest > 0; i = (i + 1) % counts.length, rest--) counts[i]++;
  } else {
    throw new Error(`${op}: sizes [${sizes.join(', ')}] must be counts that sum to the dataset length ${n} or fractions that sum to 1`);
  }
  const perm = hostPermutation(key, n);
  const out: Subset<T, unknown>[] = [];
  let start = 0;
  for (const c of counts) {
    out.push(new Subset(dataset, perm.subarray(start, start + c)));
    start += c;
  }
  return out;
}

/**
 * A dataset whose samples are `fn(dataset.get(i), i)`, computed when asked for (a per-sample
 * transform, as torchvision's `transform=` argument).
 * @example
 * ```ts
 * const flat = mapDataset(ds, ([x, y]) => [x.reshape([784]), y]);
 * ```
 */
export function mapDataset<T, U>(dataset: Dataset<T>, fn: (sample: T, i: number) => U): Dataset<U> {
  return {
    get length() {
      return dataset.length;
    },
    get: (i: number) => fn(dataset.get(i), i),
  };
}
