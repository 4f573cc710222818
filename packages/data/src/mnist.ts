/**
 * MNIST from IDX files: the four standard files, their checksums, and `mnistFromIdx`, which turns
 * an images file and a labels file into tensors.
 */
import { tensor } from '@ml/tensor';
import type { Tensor } from '@ml/tensor';
import { decodeIdx, isGzip, gunzip } from './idx.js';

/** Mean and standard deviation of the MNIST training pixels (in [0, 1]), as torchvision uses. */
export const MNIST_MEAN = 0.1307;
export const MNIST_STD = 0.3081;

/** The default mirror of the MNIST files (the original site no longer serves them reliably). */
export const MNIST_MIRROR = 'https://storage.googleapis.com/cvdf-datasets/mnist/';

/** The standard MNIST files of each split. */
export const MNIST_FILES = {
  train: { images: 'train-images-idx3-ubyte.gz', labels: 'train-labels-idx1-ubyte.gz' },
  test: { images: 't10k-images-idx3-ubyte.gz', labels: 't10k-labels-idx1-ubyte.gz' },
} as const;

/** SHA-256 (hex) of the four standard `.gz` files. */
export const MNIST_SHA256: Readonly<Record<string, string>> = {
  'train-images-idx3-ubyte.gz': '440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609',
  'train-labels-idx1-ubyte.gz': '3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c',
  't10k-images-idx3-ubyte.gz': '8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6',
  't10k-labels-idx1-ubyte.gz': 'f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6',
};

/** Images and labels of an image-classification set. */
export interface ImageData {
  /** float32 (N, 1, H, W): pixels in [0, 1], or standardised with `normalize`. */
  images: Tensor;
  /** int32 (N,): the class of each image. */
  labels: Tensor;
}

/** Options of {@link mnistFromIdx} and friends. */
export interface MnistOptions {
  /** Standardise the pixels: `(x − 0.1307) / 0.3081` (default false: `x = byte / 255` in [0, 1]). */
  normalize?: boolean;
}

/**
 * Pixel bytes (0..255) as float32 pixels: `b / 255`, then `(x − mean) / std` with `normalize`.
 * @internal
 */
export function pixelsToFloat(bytes: ArrayLike<number>, normalize: boolean): Float32Array {
  const out = new Float32Array(bytes.length);
  if (normalize) {
    for (let i = 0; i < out.length; i++) out[i] = (bytes[i] / 255 - MNIST_MEAN) / MNIST_STD;
  } else {
    for (let i = 0; i < out.length; i++) out[i] = bytes[i] / 255;
  }
  return out;
}

/**
 * MNIST-style tensors from an IDX images file `(N, H, W)` of bytes and an IDX labels file `(N,)`
 * of bytes in 0..9. Accepts raw or gzip-compressed files (decompressed with `DecompressionStream`).
 *
 * `images[n, 0, i, j] = pixel / 255` (torchvision's `ToTensor`), or `(pixel/255 − 0.1307) / 0.3081`
 * with `normalize: true`.
 *
 * @returns `images` float32 (N, 1, H, W), `labels` int32 (N,)
 * @example
 * ```ts
 * const { images, labels } = await mnistFromIdx(imageBytes, labelBytes); // (10000, 1, 28, 28), (10000,)
 * ```
 */
export async function mnistFromIdx(imagesBytes: Uint8Array, labelsBytes: Uint8Array, opts: MnistOptions = {}): Promise<ImageData> {
  const op = 'mnistFromIdx';
  const decode = async (bytes: Uint8Array, what: string) => {
    try {
      return decodeIdx(isGzip(bytes) ? await gunzip(bytes) : bytes);
    } catch (e) {
      throw new Error(`${op}: ${what}: ${(e as Error).message}`);
    }
  };
  const img = await decode(imagesBytes, 'images file');
  const lab = await decode(labelsBytes, 'labels file');
  if (img.type !== 'uint8' || img.shape.length !== 3) {
    throw new Error(`${op}: images must be uint8 of shape (N, H, W), got ${img.type} (${img.shape.join(', ')})`);
  }
  if (lab.type !== 'uint8' || lab.shape.length !== 1) {
    throw new Error(`${op}: labels must be uint8 of shape (N,), got ${lab.type} (${lab.shape.join(', ')})`);
  }
  const [n, h, w] = img.shape;
  if (lab.shape[0] !== n) throw new Error(`${op}: ${n} images but ${lab.shape[0]} labels`);
  const bad = lab.data.findIndex((v) => v > 9);
  if (bad >= 0) throw new Error(`${op}: label ${lab.data[bad]} at index ${bad} is not a digit 0..9`);
  return {
    images: tensor(pixelsToFloat(img.data, opts.normalize ?? false), { shape: [n, 1, h, w] }), // (N, 1, H, W)
    labels: tensor(Int32Array.from(lab.data)), // (N,)
  };
}
