/**
 * DataLoader: iterates a dataset in batches, optionally shuffled with a keyed permutation.
 */
import { random, scope } from '@ml/tensor';
import type { Key } from '@ml/tensor';
import { defaultCollate } from './collate.js';
import type { Collated } from './collate.js';
import { hasGetBatch } from './dataset.js';
import type { Dataset } from './dataset.js';
import { hostPermutation } from './host.js';

/** Options of {@link DataLoader}. */
export interface DataLoaderOptions<T, B, O> {
  /** Samples per batch, a positive integer. */
  batchSize: number;
  /** Visit the samples in a new random order every epoch (default false). */
  shuffle?: boolean;
  /** PRNG key of the shuffle; required when `shuffle` is true. Epoch `e` uses `fold(key, e)`. */
  key?: Key;
  /** Drop the last batch when it is smaller than `batchSize` (default false). */
  dropLast?: boolean;
  /** Turns a list of samples into a batch (default: {@link defaultCollate}, or the dataset's own `getBatch`). */
  collate?: (samples: T[]) => B;
  /** Applied to every collated batch (normalise, flatten, augment a whole batch at once). */
  transform?: (batch: B) => O;
}

/**
 * Iterates a dataset in batches, as `torch.utils.data.DataLoader` (single process, map-style).
 *
 * Epoch `e` visits the samples in the order `random.permutation(fold(key, e), n)` when
 * `shuffle` is true, else `0, 1, …, n−1`, and cuts that order into batches of `batchSize` (the last
 * one smaller unless `dropLast`). Every sample appears exactly once per epoch; different epochs get
 * different orders, and the same key gives the same orders in every run.
 *
 * Each `for await` over the loader is one epoch: it uses `loader.epoch` and then increments it, so
 * looping over the loader repeatedly walks through epochs 0, 1, 2, …. Set `loader.epoch` to
 * replay or skip to an epoch (when resuming from a checkpoint, say).
 *
 * Batches: a dataset with `getBatch` (a {@link TensorDataset}: one `indexSelect` per tensor) builds
 * each batch itself; otherwise samples are fetched with `get` and collated ({@link defaultCollate},
 * or `collate`). Then `transform` runs on the batch. Intermediate tensors are freed; the yielded
 * batch belongs to the caller (dispose it, or iterate inside `scope`).
 *
 * @example
 * ```ts
 * const loader = new DataLoader(new TensorDataset(images, labels), { batchSize: 64, shuffle: true, key: random.key(0) });
 * for (let epoch = 0; epoch < 10; epoch++) {
 *   for await (const [x, y] of loader) {   // x (64, 1, 28, 28), y (64,)
 *     scope(() => step(x, y));
 *     x.dispose(); y.dispose();
 *   }
 * }
 * ```
 */
export class DataLoader<T, B = Collated<T>, O = B> implements AsyncIterable<O> {
  readonly dataset: Dataset<T>;
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly dropLast: boolean;
  readonly key: Key | undefined;
  /** The epoch the next iteration uses (then increments). */
  epoch = 0;
  readonly #collate: ((samples: T[]) => B) | undefined;
  readonly #transform: ((batch: B) => O) | undefined;

  constructor(dataset: Dataset<T>, opts: DataLoaderOptions<T, B, O>) {
    const op = 'DataLoader';
    if (dataset === null || typeof dataset !== 'object' || typeof dataset.get !== 'function' || !Number.isInteger(dataset.length) || dataset.length < 0) {
      throw new TypeError(`${op}: dataset must have an integer length and a get(i) method`);
    }
    const { batchSize, shuffle = false, dropLast = false, key, collate, transform } = opts ?? ({} as DataLoaderOptions<T, B, O>);
    if (typeof batchSize !== 'number' || !Number.isInteger(batchSize) || batchSize <= 0) {
      throw new RangeError(`${op}: batchSize must be a positive integer, got ${String(batchSize)}`);
    }
    if (typeof shuffle !== 'boolean') throw new TypeError(`${op}: shuffle must be a boolean, got ${String(shuffle)}`);
    if (typeof dropLast !== 'boolean') throw new TypeError(`${op}: dropLast must be a boolean, got ${String(dropLast)}`);
    if (shuffle && key === undefined) {
      throw new Error(`${op}: shuffle needs a PRNG key, e.g. { shuffle: true, key: random.key(0) }`);
    }
    if (key !== undefined) random.fold(key, 0); // validates the key (throws a clear error)
    if (collate !== undefined && typeof collate !== 'function') throw new TypeError(`${op}: collate must be a function`);
    if (transform !== undefined && typeof transform !== 'function') throw new TypeError(`${op}: transform must be a function`);
    this.dataset = dataset;
    this.batchSize = batchSize;
    this.shuffle = shuffle;
    this.dropLast = dropLast;
    this.key = key;
    this.#collate = collate;
    this.#transform = transform;
  }

  /** Number of batches per epoch: `⌊n / batchSize⌋` with `dropLast`, else `⌈n / batchSize⌉`. */
  get length(): number {
    const n = this.dataset.length;
    return this.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
  }

  /** The order in which epoch `epoch` visits the samples (all of them, before dropping any). */
  order(epoch: number = this.epoch): Int32Array {
    if (!Number.isInteger(epoch) || epoch < 0 || epoch >= 2 ** 32) {
      throw new RangeError(`DataLoader.order: epoch must be a non-negative integer below 2^32, got ${String(epoch)}`);
    }
    const n = this.dataset.length;
    if (!this.shuffle) return Int32Array.from({ length: n }, (_, i) => i);
    return hostPermutation(random.fold(this.key!, epoch), n);
  }

  /** The sample indices of each batch of epoch `epoch`. */
  batchIndices(epoch: number = this.epoch): Int32Array[] {
    const order = this.order(epoch);
    return Array.from({ length: this.length }, (_, b) => order.subarray(b * this.batchSize, Math.min(order.length, (b + 1) * this.batchSize)));
  }

  /** The batch of the given sample indices, collated and transformed. */
  batch(indices: Int32Array): O {
    return scope(() => {
      const ds = this.dataset;
      let raw: B;
      if (this.#collate) raw = this.#collate(Array.from(indices, (i) => ds.get(i)));
      else if (hasGetBatch<T, B>(ds)) raw = ds.getBatch(indices);
      else raw = defaultCollate(Array.from(indices, (i) => ds.get(i))) as B;
      return this.#transform ? this.#transform(raw) : (raw as unknown as O);
    });
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<O, void, undefined> {
    const epoch = this.epoch;
    this.epoch = epoch + 1;
    for (const indices of this.batchIndices(epoch)) yield this.batch(indices);
  }
}
