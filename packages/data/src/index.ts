/**
 * @ml/data: datasets and a DataLoader for @ml/tensor, MNIST (IDX files and 10,000 bundled digits),
 * Iris, and tokenizers for language models. Runs in browsers and Node; file and network loaders
 * (full MNIST, Tiny Shakespeare) are in `@ml/data/node`.
 *
 * @example
 * ```ts
 * import { DataLoader, TensorDataset, mnistSplit } from '@ml/data';
 * import { random } from '@ml/tensor';
 * const { train } = await mnistSplit();                      // 8000 digits
 * const loader = new DataLoader(new TensorDataset(train.images, train.labels), { batchSize: 64, shuffle: true, key: random.key(0) });
 * for await (const [x, y] of loader) { … }                    // x (64, 1, 28, 28), y (64,)
 * ```
 * @packageDocumentation
 */
export { hasGetBatch, mapDataset, randomSplit, Subset, TensorDataset } from './dataset.js';
export type { BatchDataset, Dataset } from './dataset.js';
export { defaultCollate } from './collate.js';
export type { Collated } from './collate.js';
export { DataLoader } from './dataloader.js';
export type { DataLoaderOptions } from './dataloader.js';
export { decodeIdx, encodeIdx, gunzip, isGzip, readIdx } from './idx.js';
export type { IdxArray, IdxType } from './idx.js';
export { MNIST_FILES, MNIST_MEAN, MNIST_MIRROR, MNIST_SHA256, MNIST_STD, mnistFromIdx } from './mnist.js';
export type { ImageData, MnistOptions } from './mnist.js';
export { mnistDigits, mnistSplit } from './mnist-digits.js';
export type { MnistSplitOptions } from './mnist-digits.js';
export { iris } from './iris.js';
export type { IrisData } from './iris.js';
export { CharTokenizer } from './text/char-tokenizer.js';
export { BPETokenizer } from './text/bpe.js';
export type { BPEJson, BPELevel, BPETrainOptions } from './text/bpe.js';
export { charBatches, getBatch, splitText } from './text/batches.js';
