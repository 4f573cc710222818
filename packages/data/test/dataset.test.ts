import { defaultCollate, mapDataset, randomSplit, Subset, TensorDataset } from '@ml/data';
import type { Dataset } from '@ml/data';
import { arange, memory, random, tensor } from '@ml/tensor';
import { describe, expect, it } from 'vitest';

/** (n, 2) float32 rows [i, 10·i] and (n,) int32 labels i % 3. */
function rows(n: number) {
  const x = tensor(Float32Array.from({ length: 2 * n }, (_, k) => (k % 2 === 0 ? k / 2 : 10 * ((k - 1) / 2))), { shape: [n, 2] });
  const y = tensor(Int32Array.from({ length: n }, (_, i) => i % 3));
  return { x, y };
}

describe('TensorDataset', () => {
  it('sample i is the i-th slice of every tensor', async () => {
    const { x, y } = rows(5);
    const ds = new TensorDataset(x, y);
    expect(ds.length).toBe(5);
    const [xi, yi] = ds.get(3);
    expect(xi.shape).toEqual([2]);
    expect(yi.shape).toEqual([]);
    expect(await xi.array()).toEqual([3, 30]);
    expect(await yi.item()).toBe(0);
    xi.dispose();
    yi.dispose();
    x.dispose();
    y.dispose();
  });

  it('getBatch gathers rows in the given order, one tensor per input', async () => {
    const { x, y } = rows(6);
    const ds = new TensorDataset(x, y);
    const [bx, by] = ds.getBatch(Int32Array.of(4, 0, 4, 2));
    expect(bx.shape).toEqual([4, 2]);
    expect(await bx.array()).toEqual([[4, 40], [0, 0], [4, 40], [2, 20]]);
    expect(by.dtype).toBe('int32');
    expect(await by.array()).toEqual([1, 0, 1, 2]);
    for (const t of [bx, by, x, y]) t.dispose();
  });

  it('getBatch on n-d tensors, contiguous or not, picks whole samples', async () => {
    const images = arange(0, 30, 1, { dtype: 'int32' }).reshape([5, 1, 2, 3]); // sample i holds 6i..6i+5
    const perm = arange(0, 30, 1, { dtype: 'int32' }).reshape([2, 5, 3]).permute([1, 0, 2]); // (5, 2, 3), a strided view
    expect(perm.isContiguous).toBe(false);
    const before = memory();
    const [a, b] = new TensorDataset(images, perm).getBatch(Int32Array.of(3, 1, 3));
    expect(memory().tensors).toBe(before.tensors + 2); // no temporaries
    expect(a.shape).toEqual([3, 1, 2, 3]);
    expect(Array.from(await a.data())).toEqual([3, 1, 3].flatMap((i) => [0, 1, 2, 3, 4, 5].map((k) => 6 * i + k)));
    expect(b.shape).toEqual([3, 2, 3]);
    // perm[i, j, k] = 15j + 3i + k
    expect(await b.array()).toEqual([3, 1, 3].map((i) => [0, 1].map((j) => [0, 1, 2].map((k) => 15 * j + 3 * i + k))));
    for (const t of [a, b, images, perm]) t.dispose();
  });

  it('getBatch leaves no temporaries behind', () => {
    const { x, y } = rows(6);
    const ds = new TensorDataset(x, y);
    const before = memory();
    const batch = ds.getBatch(Int32Array.of(1, 2, 3));
    expect(memory().tensors - before.tensors).toBe(2);
    batch.forEach((t) => t.dispose());
    expect(memory()).toEqual(before);
    x.dispose();
    y.dispose();
  });

  it('rejects tensors whose first dims disagree, scalars, and no tensors, naming the shapes', () => {
    const a = tensor([[1, 2], [3, 4], [5, 6]]);
    const b = tensor([1, 2]);
    expect(() => new TensorDataset(a, b)).toThrow('TensorDataset: tensors must have the same first dim (number of samples), got shapes (3, 2), (2)');
    expect(() => new TensorDataset(a, tensor(1))).toThrow('TensorDataset: tensor 1 is a scalar');
    expect(() => new TensorDataset()).toThrow('TensorDataset: needs at least one tensor');
    expect(() => new TensorDataset(a, [1, 2, 3] as never)).toThrow('TensorDataset: argument 1 is not a Tensor');
    const ds = new TensorDataset(a);
    expect(() => ds.get(3)).toThrow('TensorDataset.get: index 3 is out of range for a dataset of length 3');
    expect(() => ds.get(-1)).toThrow(RangeError);
    expect(() => ds.get(1.5)).toThrow(RangeError);
    expect(() => ds.getBatch(Int32Array.of(0, 3))).toThrow('TensorDataset.getBatch: index 3 (position 1) is out of range');
  });
});

describe('Subset, randomSplit, mapDataset', () => {
  const squares: Dataset<number> = { length: 20, get: (i) => i * i };

  it('Subset picks samples by index and batches through the wrapped dataset', async () => {
    const sub = new Subset(squares, [3, 1, 4]);
    expect(sub.length).toBe(3);
    expect([0, 1, 2].map((i) => sub.get(i))).toEqual([9, 1, 16]);
    expect(() => sub.get(3)).toThrow('Subset.get: index 3 is out of range for a dataset of length 3');
    expect(() => new Subset(squares, [0, 20])).toThrow('Subset: index 20 (position 1) is out of range for a dataset of length 20');
    expect(() => new Subset(squares, [0.5])).toThrow('Subset: index 0.5 at position 0 is not an int32');
    expect(sub.getBatch).toBeUndefined();

    const t = arange(0, 10, 1, { dtype: 'int32' }).mul(7);
    const tsub = new Subset(new TensorDataset(t), [9, 8, 0]);
    const [b] = tsub.getBatch!(Int32Array.of(2, 0)) as [typeof t];
    expect(await b.array()).toEqual([0, 63]);
    b.dispose();
    t.dispose();
  });

  it('randomSplit by counts: disjoint, covering, reproducible, key-dependent', () => {
    const key = random.key(7);
    const parts = randomSplit(squares, [12, 5, 3], key);
    expect(parts.map((p) => p.length)).toEqual([12, 5, 3]);
    const all = parts.flatMap((p) => Array.from(p.indices));
    expect([...all].sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(parts[1].get(0)).toBe(parts[1].indices[0] ** 2);
    const again = randomSplit(squares, [12, 5, 3], key);
    expect(again.map((p) => Array.from(p.indices))).toEqual(parts.map((p) => Array.from(p.indices)));
    const other = randomSplit(squares, [12, 5, 3], random.key(8));
    expect(Array.from(other[0].indices)).not.toEqual(Array.from(parts[0].indices));
  });

  it('randomSplit by fractions follows PyTorch: floor, then one extra each from the first', () => {
    const ds: Dataset<number> = { length: 11, get: (i) => i };
    // 0.5·11 = 5.5, 0.3·11 = 3.3, 0.2·11 = 2.2 → floors 5, 3, 2 (10); the 1 left goes to the first
    expect(randomSplit(ds, [0.5, 0.3, 0.2], random.key(0)).map((p) => p.length)).toEqual([6, 3, 2]);
    // 1/3 each of 10 → 3, 3, 3 and one left → 4, 3, 3
    expect(randomSplit({ length: 10, get: (i) => i }, [1 / 3, 1 / 3, 1 / 3], random.key(0)).map((p) => p.length)).toEqual([4, 3, 3]);
  });

  it('randomSplit rejects sizes that fit neither rule', () => {
    expect(() => randomSplit(squares, [10, 5], random.key(0))).toThrow('randomSplit: sizes [10, 5] must be counts that sum to the dataset length 20 or fractions that sum to 1');
    expect(() => randomSplit(squares, [0.5, 0.6], random.key(0))).toThrow('must be counts that sum');
    expect(() => randomSplit(squares, [-1, 21], random.key(0))).toThrow('randomSplit: sizes must be non-negative numbers');
    expect(() => randomSplit(squares, [], random.key(0))).toThrow('randomSplit: sizes must not be empty');
  });

  it('mapDataset transforms samples lazily', () => {
    let calls = 0;
    const m = mapDataset(squares, (v, i) => {
      calls++;
      return `${i}:${v}`;
    });
    expect(calls).toBe(0);
    expect(m.length).toBe(20);
    expect(m.get(4)).toBe('4:16');
    expect(calls).toBe(1);
  });
});

describe('defaultCollate', () => {
  it('stacks tensors, turns numbers into int32/float32 and booleans into bool, recurses into tuples and objects', async () => {
    const a = tensor([1, 2]);
    const b = tensor([3, 4]);
    const out = defaultCollate([
      { x: a, n: 1, f: 0.5, ok: true, name: 'a', pair: [1, a] as [number, typeof a] },
      { x: b, n: 2, f: 2, ok: false, name: 'b', pair: [5, b] as [number, typeof b] },
    ]);
    expect(out.x.shape).toEqual([2, 2]);
    expect(await out.x.array()).toEqual([[1, 2], [3, 4]]);
    expect(out.n.dtype).toBe('int32');
    expect(await out.n.array()).toEqual([1, 2]);
    expect(out.f.dtype).toBe('float32');
    expect(await out.f.array()).toEqual([0.5, 2]);
    expect(out.ok.dtype).toBe('bool');
    expect(await out.ok.array()).toEqual([true, false]);
    expect(out.name).toEqual(['a', 'b']);
    expect(await out.pair[0].array()).toEqual([1, 5]);
    expect(await out.pair[1].array()).toEqual([[1, 2], [3, 4]]);
  });

  it('names the sample that does not fit', () => {
    expect(() => defaultCollate([tensor([1, 2]), tensor([1, 2, 3])])).toThrow(
      'defaultCollate: sample 1 is a tensor of shape (3), but sample 0 is a tensor of shape (2); every sample must have the same shape',
    );
    expect(() => defaultCollate([{ x: 1 }, { y: 1 }])).toThrow('defaultCollate: sample 1 is an object with keys {y}, but sample 0 is an object with keys {x}');
    expect(() => defaultCollate([[1, 2], [1, 'a']])).toThrow('defaultCollate: item 1 of sample 1 is string, but item 1 of sample 0 is number');
    expect(() => defaultCollate([])).toThrow('defaultCollate: needs at least one sample');
    expect(() => defaultCollate([null])).toThrow('defaultCollate: cannot collate null; pass a collate function');
  });
});
