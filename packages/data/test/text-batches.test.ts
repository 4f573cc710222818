import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CharTokenizer, charBatches, getBatch, splitText } from '@ml/data';
import { TINY_SHAKESPEARE_SHA256, tinyShakespeare } from '@ml/data/node';
import { arange, memory, random, tensor } from '@ml/tensor';
import { describe, expect, it } from 'vitest';

const chi2 = JSON.parse(readFileSync(new URL('./fixtures/chi2_critical.json', import.meta.url), 'utf8')) as { critical: Record<string, number> };

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const shakespearePath = resolve(repoRoot, '..', 'shared', 'data', 'tinyshakespeare.txt');
const haveShakespeare = existsSync(shakespearePath);
if (!haveShakespeare) console.warn(`[@ml/data] skipping the Tiny Shakespeare tests: ${shakespearePath} is absent`);

describe('splitText', () => {
  it('first ⌊0.9·n⌋ characters for training, the rest for validation', () => {
    expect(splitText('abcdefghij', 0.9)).toEqual({ train: 'abcdefghi', val: 'j' });
    expect(splitText('abcdefghijk')).toEqual({ train: 'abcdefghi', val: 'jk' }); // ⌊9.9⌋ = 9
    expect(splitText('ab😀cd', 0.5)).toEqual({ train: 'ab', val: '😀cd' }); // 5 characters, ⌊2.5⌋ = 2
  });

  it('a 1-D token tensor splits into views', async () => {
    const data = arange(0, 10, 1, { dtype: 'int32' });
    const { train, val } = splitText(data, 0.75);
    expect(await train.array()).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(await val.array()).toEqual([7, 8, 9]);
    expect(() => splitText(data, 1.5)).toThrow('splitText: fraction must be in [0, 1], got 1.5');
    expect(() => splitText(data.reshape([2, 5]), 0.5)).toThrow('splitText: expected a 1-D token tensor, got shape (2, 5)');
  });
});

describe('getBatch', () => {
  it('x[b, t] = data[s_b + t], y = x shifted by one: (B, T) int32', async () => {
    const data = tensor(Int32Array.from({ length: 50 }, (_, i) => (i * 7) % 50)); // a permutation of 0..49
    const [x, y] = getBatch(data, 8, 4, random.key(0));
    expect(x.shape).toEqual([4, 8]);
    expect(y.shape).toEqual([4, 8]);
    expect(x.dtype).toBe('int32');
    const d = await data.data();
    const xs = (await x.array()) as number[][];
    const ys = (await y.array()) as number[][];
    for (let b = 0; b < 4; b++) {
      const s = d.indexOf(xs[b][0]); // the window's start
      expect(s).toBeGreaterThanOrEqual(0);
      expect(s).toBeLessThan(50 - 8);
      for (let t = 0; t < 8; t++) {
        expect(xs[b][t]).toBe(d[s + t]);
        expect(ys[b][t]).toBe(d[s + t + 1]);
      }
      expect(ys[b].slice(0, -1)).toEqual(xs[b].slice(1));
    }
  });

  it('window starts are uniform over 0..n−T−1 (chi-square, alpha = 0.001), and the last token can be a target', async () => {
    const T = 3;
    const data = arange(0, 13, 1, { dtype: 'int32' }); // 10 possible starts
    const B = 5000;
    const [x, y] = getBatch(data, T, B, random.key(99));
    const xs = await x.data();
    const counts = new Array<number>(10).fill(0);
    for (let b = 0; b < B; b++) counts[xs[b * T]]++;
    const stat = counts.reduce((s, c) => s + (c - B / 10) ** 2 / (B / 10), 0);
    expect(stat).toBeLessThan(chi2.critical['9']);
    expect(Math.max(...(await y.data()))).toBe(12);
  });

  it('uint8 tokens (bytes) give int32 batches', async () => {
    const bytes = tensor(Uint8Array.from({ length: 20 }, (_, i) => 200 + i));
    const [x, y] = getBatch(bytes, 4, 3, random.key(1));
    expect(x.dtype).toBe('int32');
    const xs = (await x.array()) as number[][];
    const ys = (await y.array()) as number[][];
    xs.forEach((row, b) => row.forEach((v, t) => expect(ys[b][t]).toBe(v + 1)));
    expect(Math.min(...xs.flat())).toBeGreaterThanOrEqual(200);
  });

  it('same key → same batch; charBatches steps with fold(key, step); memory holds only x and y', async () => {
    const data = arange(0, 100, 1, { dtype: 'int32' });
    const key = random.key(3);
    const [a] = getBatch(data, 5, 3, key);
    const [b] = getBatch(data, 5, 3, key);
    expect(await a.array()).toEqual(await b.array());
    const stream = charBatches(data, 5, 3, key);
    const s0 = stream.next().value;
    const s1 = stream.next().value;
    const [f1] = getBatch(data, 5, 3, random.fold(key, 1));
    expect(await s0[0].array()).toEqual(await getBatch(data, 5, 3, random.fold(key, 0))[0].array());
    expect(await s1[0].array()).toEqual(await f1.array());
    const before = memory();
    const batch = getBatch(data, 16, 8, key);
    expect(memory().tensors).toBe(before.tensors + 2);
    batch.forEach((t) => t.dispose());
    expect(memory()).toEqual(before);
  });

  it('bad arguments', () => {
    const data = arange(0, 8, 1, { dtype: 'int32' });
    expect(() => getBatch(data, 8, 2, random.key(0))).toThrow('getBatch: data has 8 tokens; a window of blockSize 8 plus its target needs at least 9');
    expect(() => getBatch(data, 0, 2, random.key(0))).toThrow('getBatch: blockSize must be a positive integer, got 0');
    expect(() => getBatch(data, 2, 1.5, random.key(0))).toThrow('getBatch: batchSize must be a positive integer, got 1.5');
    expect(() => getBatch(data.reshape([2, 4]), 2, 2, random.key(0))).toThrow('getBatch: data must be a 1-D token tensor, got shape (2, 4)');
    expect(() => getBatch(data.cast('float32'), 2, 2, random.key(0))).toThrow('getBatch: data must hold integer token ids (int32 or uint8), got float32');
  });
});

describe('Tiny Shakespeare (the shared copy)', () => {
  it.skipIf(!haveShakespeare)('1,115,394 characters, 65 distinct; checksum; Karpathy\'s vocabulary and split', async () => {
    const text = await tinyShakespeare({ path: shakespearePath, sha256: TINY_SHAKESPEARE_SHA256 });
    expect(text.length).toBe(1115394);
    expect(text.startsWith('First Citizen:\nBefore we proceed any further, hear me speak.')).toBe(true);
    const tok = new CharTokenizer(text);
    expect(tok.vocabSize).toBe(65);
    expect(tok.chars.join('')).toBe("\n !$&',-.3:;?ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");
    expect(tok.encode('hii there')).toEqual([46, 47, 47, 1, 58, 46, 43, 56, 43]);
    const ids = tok.encode(text);
    expect(tok.decode(ids)).toBe(text);
    const data = tensor(Int32Array.from(ids));
    const { train, val } = splitText(data, 0.9);
    expect(train.shape).toEqual([1003854]);
    expect(val.shape).toEqual([111540]);
    const [x, y] = getBatch(train, 8, 4, random.key(1337));
    const xs = (await x.array()) as number[][];
    const ys = (await y.array()) as number[][];
    for (let b = 0; b < 4; b++) {
      const window = tok.decode([...xs[b], ys[b][7]]);
      expect(text.slice(0, 1003854).includes(window)).toBe(true);
      expect(ys[b].slice(0, -1)).toEqual(xs[b].slice(1));
    }
    data.dispose();
  });
});
