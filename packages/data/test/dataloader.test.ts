import { readFileSync } from 'node:fs';
import { DataLoader, Subset, TensorDataset } from '@ml/data';
import type { Dataset } from '@ml/data';
import { arange, memory, random, Tensor, tensor } from '@ml/tensor';
import { describe, expect, it } from 'vitest';

const chi2 = JSON.parse(readFileSync(new URL('./fixtures/chi2_critical.json', import.meta.url), 'utf8')) as { critical: Record<string, number> };

/** A TensorDataset whose sample i holds i (int32) and [i, -i] (float32). */
function idDataset(n: number) {
  const ids = arange(0, n, 1, { dtype: 'int32' });
  const x = tensor(Float32Array.from({ length: 2 * n }, (_, k) => (k % 2 === 0 ? k / 2 : -(k - 1) / 2)), { shape: [n, 2] });
  return new TensorDataset(ids, x);
}

/** Iterates one epoch; returns the sample ids of each batch (checking x agrees with the id). */
async function epochIds(loader: AsyncIterable<Tensor[]>): Promise<number[][]> {
  const out: number[][] = [];
  for await (const [ids, x] of loader) {
    const i = Array.from(await ids.data());
    expect(await x.array()).toEqual(i.map((v) => [v, -v]));
    out.push(i);
    ids.dispose();
    x.dispose();
  }
  return out;
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe('DataLoader: every sample once per epoch', () => {
  it('in order without shuffle, the last batch smaller', async () => {
    const loader = new DataLoader(idDataset(23), { batchSize: 5 });
    expect(loader.length).toBe(5);
    const batches = await epochIds(loader);
    expect(batches.map((b) => b.length)).toEqual([5, 5, 5, 5, 3]);
    expect(batches.flat()).toEqual(range(23));
  });

  it('dropLast drops the incomplete batch and nothing else', async () => {
    const loader = new DataLoader(idDataset(23), { batchSize: 5, dropLast: true });
    expect(loader.length).toBe(4);
    const batches = await epochIds(loader);
    expect(batches.map((b) => b.length)).toEqual([5, 5, 5, 5]);
    expect(batches.flat()).toEqual(range(20));
    const exact = new DataLoader(idDataset(20), { batchSize: 5, dropLast: true });
    expect((await epochIds(exact)).flat()).toEqual(range(20));
  });

  it('shuffled: each epoch is a permutation (with dropLast: distinct samples, all but n mod B)', async () => {
    const loader = new DataLoader(idDataset(23), { batchSize: 4, shuffle: true, key: random.key(3) });
    for (let e = 0; e < 3; e++) {
      const ids = (await epochIds(loader)).flat();
      expect([...ids].sort((a, b) => a - b)).toEqual(range(23));
    }
    const dropping = new DataLoader(idDataset(23), { batchSize: 4, shuffle: true, key: random.key(3), dropLast: true });
    const ids = (await epochIds(dropping)).flat();
    expect(ids).toHaveLength(20);
    expect(new Set(ids).size).toBe(20);
    // dropping cuts the same order: the first 20 of the non-dropping loader's epoch 0
    expect(ids).toEqual(Array.from(loader.order(0).subarray(0, 20)));
  });
});

describe('DataLoader: keyed shuffling', () => {
  it('epoch e uses random.permutation(fold(key, e), n); iterating advances the epoch', async () => {
    const key = random.key(11);
    const loader = new DataLoader(idDataset(10), { batchSize: 3, shuffle: true, key });
    for (let e = 0; e < 3; e++) {
      const perm = random.permutation(random.fold(key, e), 10);
      expect(loader.epoch).toBe(e);
      expect((await epochIds(loader)).flat()).toEqual(Array.from(await perm.data()));
      perm.dispose();
    }
    expect(loader.epoch).toBe(3);
  });

  it('epochs differ; the same key replays the same epochs; epoch can be set', async () => {
    const make = () => new DataLoader(idDataset(50), { batchSize: 8, shuffle: true, key: random.key(5) });
    const a = make();
    const e0 = (await epochIds(a)).flat();
    const e1 = (await epochIds(a)).flat();
    expect(e1).not.toEqual(e0);
    const b = make();
    expect((await epochIds(b)).flat()).toEqual(e0);
    expect((await epochIds(b)).flat()).toEqual(e1);
    b.epoch = 0;
    expect((await epochIds(b)).flat()).toEqual(e0);
    const other = new DataLoader(idDataset(50), { batchSize: 8, shuffle: true, key: random.key(6) });
    expect((await epochIds(other)).flat()).not.toEqual(e0);
  });

  it('the position of an element is uniform (chi-square, alpha = 0.001)', () => {
    const n = 10;
    const epochs = 3000;
    const loader = new DataLoader({ length: n, get: (i) => i }, { batchSize: 4, shuffle: true, key: random.key(2024) });
    const table = Array.from({ length: n }, () => new Array<number>(n).fill(0)); // table[element][position]
    for (let e = 0; e < epochs; e++) {
      const order = loader.order(e);
      expect([...order].sort((a, b) => a - b)).toEqual(range(n));
      order.forEach((el, pos) => table[el][pos]++);
    }
    const expected = epochs / n;
    const stat = (counts: number[]) => counts.reduce((s, c) => s + (c - expected) ** 2 / expected, 0);
    // one element over the n positions: n − 1 = 9 degrees of freedom
    expect(stat(table[0])).toBeLessThan(chi2.critical['9']);
    // the whole element × position table of a permutation: (n − 1)² = 81 degrees of freedom
    expect(table.reduce((s, row) => s + stat(row), 0)).toBeLessThan(chi2.critical['81']);
    // and the test has power: an order that is only ever rotated is rejected
    const rotated = Array.from({ length: n }, () => new Array<number>(n).fill(0));
    for (let e = 0; e < epochs; e++) for (let el = 0; el < n; el++) rotated[el][(el + (e % 3)) % n]++;
    expect(stat(rotated[0])).toBeGreaterThan(chi2.critical['9']);
  });
});

describe('DataLoader: batches', () => {
  it('a plain dataset is collated sample by sample; collate and transform apply', async () => {
    const ds: Dataset<{ v: number; sq: number }> = { length: 7, get: (i) => ({ v: i, sq: i * i }) };
    const loader = new DataLoader(ds, { batchSize: 3 });
    const got: number[][] = [];
    for await (const b of loader) {
      expect(b.v.dtype).toBe('int32');
      got.push(Array.from(await b.sq.data()));
    }
    expect(got).toEqual([[0, 1, 4], [9, 16, 25], [36]]);

    const summed = new DataLoader(ds, { batchSize: 4, collate: (s) => s.reduce((a, x) => a + x.v, 0), transform: (total: number) => `sum=${total}` });
    const out: string[] = [];
    for await (const s of summed) out.push(s);
    expect(out).toEqual(['sum=6', 'sum=15']);
  });

  it('a transform on a TensorDataset batch frees the untransformed batch', async () => {
    const ds = idDataset(12);
    const loader = new DataLoader(ds, { batchSize: 5, transform: ([ids, x]: Tensor[]) => x.mul(2).add(ids.reshape([-1, 1])) });
    const before = memory();
    const rows: number[][] = [];
    for await (const y of loader) {
      expect(memory().tensors).toBe(before.tensors + 1);
      rows.push(...((await y.array()) as number[][]));
      y.dispose();
    }
    expect(memory()).toEqual(before);
    expect(rows).toEqual(range(12).map((i) => [3 * i, i - 2 * i])); // 2·(i, −i) + i
  });

  it('memory is flat over epochs when batches are disposed (and a Subset batches through its dataset)', async () => {
    const ds = new Subset(idDataset(40), range(30).map((i) => 39 - i));
    const loader = new DataLoader(ds, { batchSize: 7, shuffle: true, key: random.key(1) });
    const before = memory();
    for (let e = 0; e < 3; e++) {
      const seen: number[] = [];
      for await (const [ids, x] of loader) {
        seen.push(...(await ids.data()));
        ids.dispose();
        x.dispose();
      }
      expect([...seen].sort((a, b) => a - b)).toEqual(range(30).map((i) => i + 10));
    }
    expect(memory()).toEqual(before);
  });

  it('breaking out of an epoch still advances the epoch', async () => {
    const loader = new DataLoader(idDataset(10), { batchSize: 2, shuffle: true, key: random.key(0) });
    for await (const [ids, x] of loader) {
      ids.dispose();
      x.dispose();
      break;
    }
    expect(loader.epoch).toBe(1);
  });
});

describe('DataLoader: bad arguments', () => {
  const ds = idDataset(4);
  it.each([0, -1, 2.5, Number.NaN, '4'])('batchSize %s', (batchSize) => {
    expect(() => new DataLoader(ds, { batchSize: batchSize as number })).toThrow(`DataLoader: batchSize must be a positive integer, got ${String(batchSize)}`);
  });

  it('shuffle without a key, a malformed key, a non-dataset', () => {
    expect(() => new DataLoader(ds, { batchSize: 2, shuffle: true })).toThrow('DataLoader: shuffle needs a PRNG key');
    expect(() => new DataLoader(ds, { batchSize: 2, shuffle: true, key: [1, -1] as never })).toThrow('fold: key must be a pair of uint32 words');
    expect(() => new DataLoader([1, 2, 3] as never, { batchSize: 2 })).toThrow('DataLoader: dataset must have an integer length and a get(i) method');
    expect(() => new DataLoader(ds, { batchSize: 2, shuffle: 'yes' as never })).toThrow('DataLoader: shuffle must be a boolean');
    expect(() => new DataLoader(ds, undefined as never)).toThrow('DataLoader: batchSize must be a positive integer, got undefined');
    expect(() => new DataLoader(ds, { batchSize: 2 }).order(-1)).toThrow('DataLoader.order: epoch must be a non-negative integer');
  });
});
