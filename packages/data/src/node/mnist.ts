/** MNIST from the four standard files, downloaded once into a cache folder. */
import { join } from 'node:path';
import { MNIST_FILES, MNIST_MIRROR, MNIST_SHA256, mnistFromIdx } from '../mnist.js';
import type { ImageData, MnistOptions } from '../mnist.js';
import { defaultCacheDir, downloadCached } from './download.js';

/** Options of {@link loadMnist}. */
export interface LoadMnistOptions extends MnistOptions {
  /** `'train'` (60,000 digits) or `'test'` (10,000). */
  split: 'train' | 'test';
  /** Folder of the cached `.gz` files (default `<defaultCacheDir()>/mnist`). */
  cacheDir?: string;
  /** Base URL the files are fetched from (default {@link MNIST_MIRROR}). */
  mirror?: string;
  /** SHA-256 per file name, to replace the standard ones (for another copy of the files). */
  checksums?: Record<string, string>;
  /** Download timeout per file in milliseconds (default 300 000). */
  timeoutMs?: number;
}

/**
 * Loads an MNIST split: the images and labels `.gz` files are taken from `cacheDir` when a copy
 * with the right SHA-256 is there, else downloaded from `mirror`, verified and cached (atomically).
 *
 * @returns `images` float32 (N, 1, 28, 28) in [0, 1] (or standardised with `normalize`), `labels` int32 (N,)
 * @throws a clear message when offline, on an HTTP error or on a checksum mismatch
 * @example
 * ```ts
 * const { images, labels } = await loadMnist({ split: 'train', cacheDir: 'data/mnist' }); // (60000, 1, 28, 28)
 * ```
 */
export async function loadMnist(opts: LoadMnistOptions): Promise<ImageData> {
  const op = 'loadMnist';
  const split = opts?.split;
  if (split !== 'train' && split !== 'test') throw new Error(`${op}: split must be 'train' or 'test', got ${String(split)}`);
  const cacheDir = opts.cacheDir ?? join(defaultCacheDir(), 'mnist');
  const mirror = (opts.mirror ?? MNIST_MIRROR).replace(/\/*$/, '/');
  const sums = { ...MNIST_SHA256, ...opts.checksums };
  const fetchFile = (name: string) =>
    downloadCached({ url: mirror + name, path: join(cacheDir, name), sha256: sums[name], op, timeoutMs: opts.timeoutMs });
  const files = MNIST_FILES[split];
  const [images, labels] = await Promise.all([fetchFile(files.images), fetchFile(files.labels)]);
  return mnistFromIdx(images, labels, { normalize: opts.normalize });
}
