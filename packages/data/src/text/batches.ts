/**
 * Language-model batches from one long token sequence (Karpathy's GPT lecture): a train/val split
 * and random windows of `blockSize` tokens with their next-token targets.
 */
import { arange, random, scope, Tensor } from '@ml/tensor';
import type { Key } from '@ml/tensor';

function checkFraction(op: string, frac: number): void {
  if (typeof frac !== 'number' || !(frac >= 0 && frac <= 1)) throw new RangeError(`${op}: fraction must be in [0, 1], got ${String(frac)}`);
}

/**
 * Splits a text, or a 1-D token tensor, into its first `⌊fraction · n⌋` elements (train) and the
 * rest (validation), as `n = int(0.9 * len(data)); train_data = data[:n]; val_data = data[n:]`.
 * A text is split by characters (code points), so `n` counts what a {@link CharTokenizer} encodes.
 *
 * @param fraction  share of the training part (default 0.9)
 * @returns `{ train, val }`: strings for a string, views (no copies) for a tensor
 * @example
 * ```ts
 * const { train, val } = splitText(tensor(tok.encode(text), { dtype: 'int32' }), 0.9);
 * ```
 */
export function splitText(data: string, fraction?: number): { train: string; val: string };
export function splitText(data: Tensor, fraction?: number): { train: Tensor; val: Tensor };
export function splitText(data: string | Tensor, fraction = 0.9): { train: string | Tensor; val: string | Tensor } {
  const op = 'splitText';
  checkFraction(op, fraction);
  if (data instanceof Tensor) {
    if (data.rank !== 1) throw new Error(`${op}: expected a 1-D token tensor, got shape (${data.shape.join(', ')})`);
    const n = Math.floor(fraction * data.shape[0]);
    return { train: data.slice([[0, n]]), val: data.slice([[n, null]]) };
  }
  if (typeof data !== 'string') throw new TypeError(`${op}: expected a string or a 1-D tensor`);
  if (!/[\uD800-\uDFFF]/.test(data)) {
    const n = Math.floor(fraction * data.length); // one code unit per character
    return { train: data.slice(0, n), val: data.slice(n) };
  }
  const chars = [...data];
  const n = Math.floor(fraction * chars.length);
  return { train: chars.slice(0, n).join(''), val: chars.slice(n).join('') };
}

/**
 * A random batch of `batchSize` windows of `blockSize` consecutive tokens and their targets, the
 * same windows shifted by one token (Karpathy's `get_batch`):
 * `i_b ~ U{0, …, n − blockSize − 1}`, `x[b, t] = data[i_b + t]`, `y[b, t] = data[i_b + t + 1]`.
 *
 * @param data       1-D token tensor (N,) of int32 (or uint8) ids, N > blockSize
 * @param key        PRNG key of the window starts
 * @returns `[x, y]`, each (batchSize, blockSize) int32
 * @example
 * ```ts
 * const [x, y] = getBatch(trainData, 8, 4, random.fold(key, step)); // (4, 8), (4, 8)
 * ```
 */
export function getBatch(data: Tensor, blockSize: number, batchSize: number, key: Key): [Tensor, Tensor] {
  const op = 'getBatch';
  if (!(data instanceof Tensor) || data.rank !== 1) {
    throw new Error(`${op}: data must be a 1-D token tensor, got ${data instanceof Tensor ? `shape (${data.shape.join(', ')})` : String(data)}`);
  }
  for (const [name, v] of [['blockSize', blockSize], ['batchSize', batchSize]] as const) {
    if (!Number.isInteger(v) || v <= 0) throw new RangeError(`${op}: ${name} must be a positive integer, got ${String(v)}`);
  }
  if (data.dtype !== 'int32' && data.dtype !== 'uint8') throw new Error(`${op}: data must hold integer token ids (int32 or uint8), got ${data.dtype}`);
  const n = data.shape[0];
  if (n <= blockSize) throw new Error(`${op}: data has ${n} tokens; a window of blockSize ${blockSize} plus its target needs at least ${blockSize + 1}`);
  return scope(() => {
    const starts = random.randint(key, [batchSize, 1], 0, n - blockSize, { backend: data.backend }); // (B, 1)
    const offsets = arange(0, blockSize, 1, { dtype: 'int32', backend: data.backend }); // (T,)
    const idx = starts.add(offsets).reshape([batchSize * blockSize]); // (B·T,)
    const ids = data.dtype === 'int32' ? data : data.cast('int32');
    const x = ids.indexSelect(0, idx).reshape([batchSize, blockSize]); // (B, T)
    const y = ids.indexSelect(0, idx.add(1)).reshape([batchSize, blockSize]); // (B, T)
    return [x, y] as [Tensor, Tensor];
  });
}

/**
 * An endless stream of {@link getBatch} batches; step `s` uses the key `fold(key, s)`.
 * @example
 * ```ts
 * const batches = charBatches(trainData, 256, 64, random.key(1337));
 * for (let step = 0; step < 5000; step++) {
 *   const [x, y] = batches.next().value;
 * }
 * ```
 */
export function* charBatches(data: Tensor, blockSize: number, batchSize: number, key: Key): Generator<[Tensor, Tensor], never, undefined> {
  for (let step = 0; ; step++) yield getBatch(data, blockSize, batchSize, random.fold(key, step));
}
