/**
 * @ml/data/node: the data sets that need files or the network (Node only). Downloads are verified
 * against SHA-256 checksums and cached atomically, so a cache holds only complete, verified files.
 * @packageDocumentation
 */
export { defaultCacheDir, downloadCached, sha256Hex, writeFileAtomic } from './node/download.js';
export type { DownloadOptions } from './node/download.js';
export { loadMnist } from './node/mnist.js';
export type { LoadMnistOptions } from './node/mnist.js';
export { TINY_SHAKESPEARE_SHA256, TINY_SHAKESPEARE_URL, tinyShakespeare } from './node/shakespeare.js';
export type { TinyShakespeareOptions } from './node/shakespeare.js';
