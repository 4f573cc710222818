import { gzipSync } from 'node:zlib';
import { decodeIdx, encodeIdx, gunzip, MNIST_MEAN, MNIST_STD, mnistFromIdx, readIdx } from '@ml/data';
import type { IdxArray } from '@ml/data';
import { describe, expect, it } from 'vitest';

const u8 = (...b: number[]) => Uint8Array.from(b);
const header = (type: number, dims: number[]) => [0, 0, type, dims.length, ...dims.flatMap((d) => [d >>> 24, (d >>> 16) & 255, (d >>> 8) & 255, d & 255])];

describe('decodeIdx on hand-built files', () => {
  it('unsigned bytes (0x08), 2-D', () => {
    const a = decodeIdx(u8(0, 0, 0x08, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 4, 5, 255));
    expect(a.type).toBe('uint8');
    expect(a.shape).toEqual([2, 3]);
    expect(a.data).toBeInstanceOf(Uint8Array);
    expect(Array.from(a.data)).toEqual([1, 2, 3, 4, 5, 255]);
  });

  it('signed bytes (0x09), big-endian int16 (0x0B) and int32 (0x0C)', () => {
    expect(Array.from(decodeIdx(u8(...header(0x09, [3]), 0x80, 0xff, 0x7f)).data)).toEqual([-128, -1, 127]);
    const s = decodeIdx(u8(...header(0x0b, [2]), 0x01, 0x02, 0xff, 0xfe));
    expect(s.type).toBe('int16');
    expect(Array.from(s.data)).toEqual([0x0102, -2]);
    const i = decodeIdx(u8(...header(0x0c, [2]), 0x80, 0, 0, 1, 0, 1, 0, 0));
    expect(i.type).toBe('int32');
    expect(Array.from(i.data)).toEqual([-(2 ** 31) + 1, 65536]);
  });

  it('big-endian float32 (0x0D) and float64 (0x0E)', () => {
    // 1.5 = 0x3FC00000, -2 = 0xC0000000; 0.1 = 0x3FB999999999999A
    const f = decodeIdx(u8(...header(0x0d, [2]), 0x3f, 0xc0, 0, 0, 0xc0, 0, 0, 0));
    expect(f.type).toBe('float32');
    expect(Array.from(f.data)).toEqual([1.5, -2]);
    const d = decodeIdx(u8(...header(0x0e, [1, 1]), 0x3f, 0xb9, 0x99, 0x99, 0x99, 0x99, 0x99, 0x9a));
    expect(d.shape).toEqual([1, 1]);
    expect(d.data[0]).toBe(0.1);
  });

  it('3-D images with large dims read their dims big-endian', () => {
    const n = 258; // 0x00000102
    const bytes = new Uint8Array([...header(0x08, [n, 2, 2]), ...Array.from({ length: n * 4 }, (_, i) => i % 251)]);
    const a = decodeIdx(bytes);
    expect(a.shape).toEqual([258, 2, 2]);
    expect(a.data[1031]).toBe(1031 % 251);
  });

  it('works on a view into a larger buffer', () => {
    const big = u8(9, 9, ...header(0x0b, [1]), 0x12, 0x34, 9);
    expect(Array.from(decodeIdx(big.subarray(2, big.length - 1)).data)).toEqual([0x1234]);
  });
});

describe('decodeIdx on malformed files', () => {
  it.each([
    ['too short for a magic number', u8(0, 0, 8), 'decodeIdx: truncated file: 3 bytes, the magic number alone needs 4'],
    ['bad magic', u8(1, 0, 8, 1, 0, 0, 0, 1, 7), 'decodeIdx: bad magic number 0x01 0x00 0x08 0x01: an IDX file starts with 0x00 0x00'],
    ['unknown type code', u8(0, 0, 0x0a, 1, 0, 0, 0, 1, 7), 'decodeIdx: unknown type code 0x0a'],
    ['truncated header', u8(0, 0, 8, 3, 0, 0, 0, 1, 0, 0), 'decodeIdx: truncated header: 3 dims need 16 header bytes, the file has 10'],
    ['truncated data', u8(...header(0x08, [2, 2]), 1, 2, 3), 'decodeIdx: truncated: shape (2, 2) of uint8 needs 12 + 4 = 16 bytes, the file has 15'],
    ['trailing bytes', u8(...header(0x08, [2]), 1, 2, 3), 'decodeIdx: size mismatch: shape (2) of uint8 needs 8 + 2 = 10 bytes, the file has 11'],
    ['int16 with an odd byte count', u8(...header(0x0b, [2]), 1, 2, 3), 'decodeIdx: truncated: shape (2) of int16 needs 8 + 4 = 12 bytes, the file has 11'],
  ])('%s', (_, bytes, message) => {
    expect(() => decodeIdx(bytes)).toThrow(message);
  });

  it('gzip input is detected with a clear message; readIdx decompresses it', async () => {
    const raw = u8(...header(0x08, [3]), 7, 8, 9);
    const gz = new Uint8Array(gzipSync(raw));
    expect(() => decodeIdx(gz)).toThrow('decodeIdx: the bytes are gzip-compressed (they start with 1f 8b); decompress them first');
    expect(Array.from((await readIdx(gz)).data)).toEqual([7, 8, 9]);
    expect(await gunzip(gz)).toEqual(raw);
    await expect(gunzip(u8(0x1f, 0x8b, 1, 2, 3, 4, 5))).rejects.toThrow('gunzip: invalid gzip data');
  });

  it('not a Uint8Array', () => {
    expect(() => decodeIdx([0, 0, 8, 0] as never)).toThrow('decodeIdx: expected a Uint8Array');
  });
});

describe('encodeIdx', () => {
  const cases: IdxArray[] = [
    { type: 'uint8', shape: [2, 2], data: Uint8Array.of(0, 1, 128, 255) },
    { type: 'int8', shape: [3], data: Int8Array.of(-128, 0, 127) },
    { type: 'int16', shape: [2], data: Int16Array.of(-32768, 32767) },
    { type: 'int32', shape: [1, 2], data: Int32Array.of(-(2 ** 31), 2 ** 31 - 1) },
    { type: 'float32', shape: [2], data: Float32Array.of(Math.fround(Math.PI), -0.5) },
    { type: 'float64', shape: [2], data: Float64Array.of(Math.E, -1e300) },
  ];
  it.each(cases)('round trips $type', (arr) => {
    const back = decodeIdx(encodeIdx(arr));
    expect(back.type).toBe(arr.type);
    expect(back.shape).toEqual(arr.shape);
    expect(back.data).toEqual(arr.data);
  });

  it('writes the header and big-endian data as specified', () => {
    expect(Array.from(encodeIdx({ type: 'int16', shape: [1], data: Int16Array.of(0x0102) }))).toEqual([...header(0x0b, [1]), 1, 2]);
  });
});

describe('mnistFromIdx', () => {
  const images = u8(...header(0x08, [3, 2, 2]), ...[0, 255, 51, 102, 1, 2, 3, 4, 10, 20, 30, 40]);
  const labels = u8(...header(0x08, [3]), 7, 0, 9);

  it('images (N, 1, H, W) = byte / 255, labels int32', async () => {
    const { images: x, labels: y } = await mnistFromIdx(images, labels);
    expect(x.shape).toEqual([3, 1, 2, 2]);
    expect(x.dtype).toBe('float32');
    const px = [0, 255, 51, 102, 1, 2, 3, 4, 10, 20, 30, 40];
    expect(Array.from(await x.data())).toEqual(px.map((b) => Math.fround(b / 255)));
    expect(y.dtype).toBe('int32');
    expect(await y.array()).toEqual([7, 0, 9]);
    x.dispose();
    y.dispose();
  });

  it('normalize: (x − 0.1307) / 0.3081; gzip files are decompressed', async () => {
    const { images: x, labels: y } = await mnistFromIdx(new Uint8Array(gzipSync(images)), new Uint8Array(gzipSync(labels)), { normalize: true });
    const px = [0, 255, 51, 102, 1, 2, 3, 4, 10, 20, 30, 40];
    const got = Array.from(await x.data());
    px.forEach((b, i) => expect(got[i]).toBeCloseTo((b / 255 - MNIST_MEAN) / MNIST_STD, 6));
    x.dispose();
    y.dispose();
  });

  it('rejects mismatched counts, non-digit labels, wrong ranks and types', async () => {
    await expect(mnistFromIdx(images, u8(...header(0x08, [2]), 1, 2))).rejects.toThrow('mnistFromIdx: 3 images but 2 labels');
    await expect(mnistFromIdx(images, u8(...header(0x08, [3]), 1, 10, 2))).rejects.toThrow('mnistFromIdx: label 10 at index 1 is not a digit 0..9');
    await expect(mnistFromIdx(labels, labels)).rejects.toThrow('mnistFromIdx: images must be uint8 of shape (N, H, W), got uint8 (3)');
    await expect(mnistFromIdx(images, images)).rejects.toThrow('mnistFromIdx: labels must be uint8 of shape (N,), got uint8 (3, 2, 2)');
    await expect(mnistFromIdx(images, u8(0, 0, 8))).rejects.toThrow('mnistFromIdx: labels file: decodeIdx: truncated file');
  });
});
