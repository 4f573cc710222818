import { describe, expect, test } from 'vitest';
import { apply1, memory } from '../src/engine.js';
import { arange, ones, tensor, zeros } from '../src/ops/create.js';
import { avgPool2d, col2im, conv1d, conv2d, im2col, maxPool2d } from '../src/ops/conv.js';
import type { Tensor } from '../src/tensor.js';

// ---- fixed-seed random data

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const rng = mulberry32(12345);

function randData(n: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = rng() * 2 - 1;
  return out;
}

const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

function rand(shape: number[]): { t: Tensor; data: Float64Array } {
  const data = randData(size(shape));
  return { t: tensor(data, { shape }), data };
}

function expectClose(actual: Tensor, expected: Float64Array, shape: readonly number[], tol = 1e-10): void {
  expect(actual.shape).toEqual(shape);
  const got = actual.dataSync();
  expect(got.length).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < got.length; i++) {
    const e = expected[i];
    const g = got[i];
    if (e === g) continue; // also covers ±Infinity
    worst = Math.max(worst, Math.abs(g - e) / Math.max(1, Math.abs(e)));
  }
  expect(worst).toBeLessThanOrEqual(tol);
}

// ---- naive float64 references

interface Conv2dRef {
  n: number; c: number; h: number; w: number;
  o: number; kh: number; kw: number;
  stride: [number, number];
  /** padding before/after: [top, bottom, left, right] */
  pad: [number, number, number, number];
  dilation: [number, number];
  groups: number;
}

/** Direct convolution: 7 nested loops over n, o, y, x, c, i, j. */
function refConv2d(x: Float64Array, w: Float64Array, bias: Float64Array | null, r: Conv2dRef): { out: Float64Array; shape: number[] } {
  const [sh, sw] = r.stride;
  const [pt, pb, pl, pr] = r.pad;
  const [dh, dw] = r.dilation;
  const oh = Math.floor((r.h + pt + pb - dh * (r.kh - 1) - 1) / sh) + 1;
  const ow = Math.floor((r.w + pl + pr - dw * (r.kw - 1) - 1) / sw) + 1;
  const cg = r.c / r.groups;
  const og = r.o / r.groups;
  const out = new Float64Array(r.n * r.o * oh * ow);
  for (let n = 0; n < r.n; n++) {
    for (let o = 0; o < r.o; o++) {
      const g = Math.floor(o / og);
      for (let y = 0; y < oh; y++) {
        for (let xx = 0; xx < ow; xx++) {
          let acc = bias ? bias[o] : 0;
          for (let c = 0; c < cg; c++) {
            for (let i = 0; i < r.kh; i++) {
              for (let j = 0; j < r.kw; j++) {
                const iy = y * sh - pt + i * dh;
                const ix = xx * sw - pl + j * dw;
                if (iy < 0 || iy >= r.h || ix < 0 || ix >= r.w) continue;
                const cin = g * cg + c;
                acc += w[((o * cg + c) * r.kh + i) * r.kw + j] * x[((n * r.c + cin) * r.h + iy) * r.w + ix];
              }
            }
          }
          out[((n * r.o + o) * oh + y) * ow + xx] = acc;
        }
      }
    }
  }
  return { out, shape: [r.n, r.o, oh, ow] };
}

interface PoolRef {
  n: number; c: number; h: number; w: number;
  k: [number, number];
  stride: [number, number];
  pad: [number, number];
  dilation: [number, number];
}

function refPool(x: Float64Array, r: PoolRef, mode: 'max' | 'avg-include' | 'avg-exclude'): { out: Float64Array; shape: number[] } {
  const [kh, kw] = r.k;
  const [sh, sw] = r.stride;
  const [ph, pw] = r.pad;
  const [dh, dw] = r.dilation;
  const oh = Math.floor((r.h + 2 * ph - dh * (kh - 1) - 1) / sh) + 1;
  const ow = Math.floor((r.w + 2 * pw - dw * (kw - 1) - 1) / sw) + 1;
  const out = new Float64Array(r.n * r.c * oh * ow);
  for (let b = 0; b < r.n * r.c; b++) {
    for (let y = 0; y < oh; y++) {
      for (let xx = 0; xx < ow; xx++) {
        let m = -Infinity;
        let s = 0;
        let count = 0;
        for (let i = 0; i < kh; i++) {
          for (let j = 0; j < kw; j++) {
            const iy = y * sh - ph + i * dh;
            const ix = xx * sw - pw + j * dw;
            if (iy < 0 || iy >= r.h || ix < 0 || ix >= r.w) continue;
            const v = x[(b * r.h + iy) * r.w + ix];
            m = Math.max(m, v);
            s += v;
            count++;
          }
        }
        out[(b * oh + y) * ow + xx] = mode === 'max' ? m : mode === 'avg-include' ? s / (kh * kw) : s / count;
      }
    }
  }
  return { out, shape: [r.n, r.c, oh, ow] };
}

/** Direct unfold: (N, C, H, W) → (N, C·kh·kw, oh·ow). */
function refIm2col(x: Float64Array, r: PoolRef, padValue: number): { out: Float64Array; shape: number[] } {
  const [kh, kw] = r.k;
  const [sh, sw] = r.stride;
  const [ph, pw] = r.pad;
  const [dh, dw] = r.dilation;
  const oh = Math.floor((r.h + 2 * ph - dh * (kh - 1) - 1) / sh) + 1;
  const ow = Math.floor((r.w + 2 * pw - dw * (kw - 1) - 1) / sw) + 1;
  const rows = r.c * kh * kw;
  const l = oh * ow;
  const out = new Float64Array(r.n * rows * l);
  for (let n = 0; n < r.n; n++) {
    for (let c = 0; c < r.c; c++) {
      for (let i = 0; i < kh; i++) {
        for (let j = 0; j < kw; j++) {
          const row = c * kh * kw + i * kw + j;
          for (let y = 0; y < oh; y++) {
            for (let xx = 0; xx < ow; xx++) {
              const iy = y * sh - ph + i * dh;
              const ix = xx * sw - pw + j * dw;
              const inside = iy >= 0 && iy < r.h && ix >= 0 && ix < r.w;
              out[(n * rows + row) * l + y * ow + xx] = inside ? x[((n * r.c + c) * r.h + iy) * r.w + ix] : padValue;
            }
          }
        }
      }
    }
  }
  return { out, shape: [r.n, rows, l] };
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

// ---- im2col / col2im

describe('im2col', () => {
  test('hand-checked 2×2 blocks of a 4×4 image', () => {
    const x = arange(16, undefined, 1, { dtype: 'float32' }).reshape([1, 1, 4, 4]);
    const cols = im2col(x, { kernel: 2, stride: 2 });
    expect(cols.shape).toEqual([1, 4, 4]);
    // row i·kw + j holds tap (i, j) of every block; column = block index
    expect(cols.arraySync()).toEqual([[
      [0, 2, 8, 10],
      [1, 3, 9, 11],
      [4, 6, 12, 14],
      [5, 7, 13, 15],
    ]]);
  });

  const cases: PoolRef[] = [
    { n: 2, c: 3, h: 5, w: 6, k: [3, 3], stride: [1, 1], pad: [0, 0], dilation: [1, 1] },
    { n: 1, c: 2, h: 7, w: 5, k: [3, 2], stride: [2, 1], pad: [1, 2], dilation: [1, 1] },
    { n: 2, c: 1, h: 9, w: 8, k: [2, 3], stride: [3, 2], pad: [2, 1], dilation: [2, 3] },
    { n: 1, c: 2, h: 4, w: 40, k: [1, 3], stride: [1, 1], pad: [0, 1], dilation: [1, 1] }, // long rows
    { n: 1, c: 1, h: 3, w: 3, k: [3, 3], stride: [1, 1], pad: [0, 0], dilation: [1, 1] },
    { n: 1, c: 2, h: 2, w: 3, k: [2, 2], stride: [5, 5], pad: [1, 1], dilation: [1, 1] }, // windows in padding
  ];
  for (const [ci, r] of cases.entries()) {
    test(`matches a direct unfold (case ${ci})`, () => {
      const { t: x, data } = rand([r.n, r.c, r.h, r.w]);
      for (const padValue of [0, -Infinity, 7]) {
        const cols = im2col(x, { kernel: r.k, stride: r.stride, padding: r.pad, dilation: r.dilation, padValue });
        const ref = refIm2col(data, r, padValue);
        expectClose(cols, ref.out, ref.shape, 0);
      }
    });
  }

  test('reads non-contiguous inputs (permuted and strided views)', () => {
    const r: PoolRef = { n: 2, c: 3, h: 5, w: 4, k: [2, 3], stride: [1, 2], pad: [1, 1], dilation: [1, 1] };
    const { t: nhwc } = rand([r.n, r.h, r.w, r.c]);
    const x = nhwc.permute([0, 3, 1, 2]);
    expect(x.isContiguous).toBe(false);
    const ref = refIm2col(x.contiguous().dataSync() as Float64Array, r, 0);
    expectClose(im2col(x, { kernel: r.k, stride: r.stride, padding: r.pad }), ref.out, ref.shape, 0);
    const { t: big } = rand([2, 3, 10, 8]);
    const sliced = big.slice('..., ::2, ::2');
    const ref2 = refIm2col(sliced.contiguous().dataSync() as Float64Array, r, 0);
    expectClose(im2col(sliced, { kernel: r.k, stride: r.stride, padding: r.pad }), ref2.out, ref2.shape, 0);
  });

  test('unbatched (C, H, W) gives (C·kh·kw, L)', () => {
    const { t: x } = rand([2, 4, 4]);
    const cols = im2col(x, { kernel: 2 });
    expect(cols.shape).toEqual([8, 9]);
    expect(cols.arraySync()).toEqual(im2col(x.reshape([1, 2, 4, 4]), { kernel: 2 }).reshape([8, 9]).arraySync());
  });

  test('int32 with a large negative pad value', () => {
    const x = tensor([[[[1, -2], [3, -4]]]], { dtype: 'int32' });
    const cols = im2col(x, { kernel: 2, padding: 1, padValue: -2147483648 });
    expect(cols.dtype).toBe('int32');
    expect(cols.shape).toEqual([1, 4, 9]);
    expect((cols.arraySync() as number[][][])[0][0]).toEqual([
      -2147483648, -2147483648, -2147483648, -2147483648, 1, -2, -2147483648, 3, -4,
    ]);
  });
});

describe('col2im', () => {
  test('counts the windows covering each pixel', () => {
    const counts = col2im(ones([1, 4, 4]), [3, 3], { kernel: 2 });
    expect(counts.arraySync()).toEqual([[[[1, 2, 1], [2, 4, 2], [1, 2, 1]]]]);
    // stride larger than the kernel leaves gaps; padding drops entries
    const gaps = col2im(ones([1, 1, 4]), [3, 3], { kernel: 1, stride: 2 });
    expect(gaps.arraySync()).toEqual([[[[1, 0, 1], [0, 0, 0], [1, 0, 1]]]]);
    const padded = col2im(ones([4, 9]), [2, 2], { kernel: 2, padding: 1 });
    expect(padded.arraySync()).toEqual([[[4, 4], [4, 4]]]);
  });

  const cases: PoolRef[] = [
    { n: 2, c: 3, h: 5, w: 6, k: [3, 3], stride: [1, 1], pad: [0, 0], dilation: [1, 1] },
    { n: 1, c: 2, h: 7, w: 5, k: [3, 2], stride: [2, 1], pad: [1, 2], dilation: [1, 1] },
    { n: 2, c: 2, h: 9, w: 8, k: [2, 3], stride: [3, 2], pad: [2, 1], dilation: [2, 3] },
    { n: 1, c: 1, h: 6, w: 6, k: [2, 2], stride: [3, 4], pad: [0, 1], dilation: [1, 1] },
  ];
  for (const [ci, r] of cases.entries()) {
    test(`is the adjoint of im2col: <im2col(x), y> = <x, col2im(y)> (case ${ci})`, () => {
      const { t: x, data: xd } = rand([r.n, r.c, r.h, r.w]);
      const opts = { kernel: r.k, stride: r.stride, padding: r.pad, dilation: r.dilation };
      const cols = im2col(x, opts);
      const { t: y, data: yd } = rand([...cols.shape]);
      const back = col2im(y, [r.h, r.w], opts);
      expect(back.shape).toEqual([r.n, r.c, r.h, r.w]);
      const lhs = dot(cols.dataSync(), yd);
      const rhs = dot(xd, back.dataSync());
      expect(Math.abs(lhs - rhs)).toBeLessThan(1e-10 * Math.max(1, Math.abs(lhs)));
    });
  }

  test('reads non-contiguous columns', () => {
    const { t: yt } = rand([1, 9, 4]); // (N, L, C·kk), transposed below
    const y = yt.transpose(1, 2);
    expect(y.isContiguous).toBe(false);
    const a = col2im(y, [4, 4], { kernel: 2 });
    const b = col2im(y.contiguous(), [4, 4], { kernel: 2 });
    expect(a.arraySync()).toEqual(b.arraySync());
  });
});

// ---- convolution

interface ConvCase {
  name: string;
  n: number; c: number; h: number; w: number; o: number; k: [number, number];
  stride?: [number, number];
  padding?: [number, number];
  dilation?: [number, number];
  groups?: number;
  bias?: boolean;
}

const convCases: ConvCase[] = [
  { name: 'plain 3×3', n: 2, c: 3, h: 7, w: 6, o: 4, k: [3, 3] },
  { name: 'stride and padding per dim, bias', n: 2, c: 3, h: 8, w: 7, o: 5, k: [3, 2], stride: [2, 1], padding: [1, 2], bias: true },
  { name: 'dilation', n: 1, c: 2, h: 9, w: 10, o: 3, k: [3, 3], stride: [2, 3], padding: [2, 1], dilation: [2, 3] },
  { name: 'groups=2', n: 2, c: 4, h: 6, w: 6, o: 6, k: [2, 3], stride: [1, 2], padding: [1, 0], dilation: [1, 2], groups: 2, bias: true },
  { name: 'depthwise', n: 1, c: 4, h: 5, w: 5, o: 8, k: [3, 3], padding: [1, 1], groups: 4, bias: true },
  { name: '1×1 kernel', n: 3, c: 5, h: 4, w: 3, o: 2, k: [1, 1], bias: true },
  { name: 'kernel equal to padded input', n: 1, c: 2, h: 3, w: 4, o: 2, k: [5, 6], padding: [1, 1] },
  { name: 'wide image', n: 1, c: 2, h: 3, w: 70, o: 3, k: [3, 5], padding: [1, 2] },
];

describe('conv2d', () => {
  for (const cc of convCases) {
    test(`matches direct convolution: ${cc.name}`, () => {
      const groups = cc.groups ?? 1;
      const { t: x, data: xd } = rand([cc.n, cc.c, cc.h, cc.w]);
      const { t: w, data: wd } = rand([cc.o, cc.c / groups, ...cc.k]);
      const b = cc.bias ? rand([cc.o]) : null;
      const stride = cc.stride ?? [1, 1];
      const padding = cc.padding ?? [0, 0];
      const dilation = cc.dilation ?? [1, 1];
      const y = conv2d(x, w, b?.t, { stride, padding, dilation, groups });
      const ref = refConv2d(xd, wd, b?.data ?? null, {
        n: cc.n, c: cc.c, h: cc.h, w: cc.w, o: cc.o, kh: cc.k[0], kw: cc.k[1],
        stride, pad: [padding[0], padding[0], padding[1], padding[1]], dilation, groups,
      });
      expect(y.dtype).toBe('float64');
      expectClose(y, ref.out, ref.shape);
    });
  }

  test('hand-checked values (PyTorch semantics: cross-correlation, zero padding)', () => {
    const x = arange(1, 10, 1, { dtype: 'float32' }).reshape([1, 1, 3, 3]);
    expect(conv2d(x, ones([1, 1, 2, 2])).arraySync()).toEqual([[[[12, 16], [24, 28]]]]);
    expect(conv2d(x, ones([1, 1, 3, 3]), null, { padding: 1, stride: 2 }).arraySync()).toEqual([[[[12, 16], [24, 28]]]]);
    // not flipped: a kernel picking its top-left tap reads x[y, x]
    const pick = tensor([[[[1, 0], [0, 0]]]]);
    expect(conv2d(x, pick).arraySync()).toEqual([[[[1, 2], [4, 5]]]]);
    expect(conv2d(x, pick, tensor([10])).arraySync()).toEqual([[[[11, 12], [14, 15]]]]);
  });

  test("padding 'same' (odd and even kernel spans) and 'valid'", () => {
    for (const [k, d] of [[[3, 3], [1, 1]], [[4, 2], [1, 1]], [[3, 2], [2, 3]], [[2, 5], [3, 1]]] as [[number, number], [number, number]][]) {
      const { t: x, data: xd } = rand([2, 3, 6, 7]);
      const { t: w, data: wd } = rand([2, 3, ...k]);
      const y = conv2d(x, w, undefined, { padding: 'same', dilation: d });
      const th = d[0] * (k[0] - 1);
      const tw = d[1] * (k[1] - 1);
      // PyTorch: the smaller half before, the extra element after
      const pad: [number, number, number, number] = [Math.floor(th / 2), th - Math.floor(th / 2), Math.floor(tw / 2), tw - Math.floor(tw / 2)];
      const ref = refConv2d(xd, wd, null, { n: 2, c: 3, h: 6, w: 7, o: 2, kh: k[0], kw: k[1], stride: [1, 1], pad, dilation: d, groups: 1 });
      expect(ref.shape).toEqual([2, 2, 6, 7]);
      expectClose(y, ref.out, ref.shape);
    }
    const { t: x } = rand([1, 2, 5, 5]);
    const { t: w } = rand([3, 2, 3, 3]);
    expect(conv2d(x, w, null, { padding: 'valid' }).arraySync()).toEqual(conv2d(x, w).arraySync());
  });

  test('unbatched input (C, H, W)', () => {
    const { t: x } = rand([3, 6, 5]);
    const { t: w } = rand([4, 3, 3, 3]);
    const { t: b } = rand([4]);
    const y = conv2d(x, w, b, { padding: 1, stride: [2, 1] });
    expect(y.shape).toEqual([4, 3, 5]);
    const batched = conv2d(x.reshape([1, 3, 6, 5]), w, b, { padding: 1, stride: [2, 1] });
    expect(y.arraySync()).toEqual(batched.reshape([4, 3, 5]).arraySync());
  });

  test('non-contiguous input and weight views', () => {
    const { t: nhwc } = rand([2, 6, 5, 4]);
    const x = nhwc.permute([0, 3, 1, 2]); // (2, 4, 6, 5)
    const { t: wt } = rand([3, 3, 2, 6]); // (kh, kw, C_in/g, C_out) → (C_out, C_in/g, kh, kw)
    const w = wt.permute([3, 2, 0, 1]);
    expect(x.isContiguous || w.isContiguous).toBe(false);
    const opts = { padding: [1, 0] as [number, number], groups: 2 };
    const y = conv2d(x, w, null, opts);
    const ref = refConv2d(x.contiguous().dataSync() as Float64Array, w.contiguous().dataSync() as Float64Array, null, {
      n: 2, c: 4, h: 6, w: 5, o: 6, kh: 3, kw: 3, stride: [1, 1], pad: [1, 1, 0, 0], dilation: [1, 1], groups: 2,
    });
    expectClose(y, ref.out, ref.shape);
    const { t: big } = rand([2, 4, 12, 5]);
    const strided = big.slice(':, :, ::2'); // (2, 4, 6, 5), row stride doubled
    const y2 = conv2d(strided, w, null, opts);
    const ref2 = refConv2d(strided.contiguous().dataSync() as Float64Array, w.contiguous().dataSync() as Float64Array, null, {
      n: 2, c: 4, h: 6, w: 5, o: 6, kh: 3, kw: 3, stride: [1, 1], pad: [1, 1, 0, 0], dilation: [1, 1], groups: 2,
    });
    expectClose(y2, ref2.out, ref2.shape);
  });

  test('float32 and integer inputs', () => {
    const { data: xd } = rand([2, 3, 6, 6]);
    const { data: wd } = rand([4, 3, 3, 3]);
    const x = tensor(Float32Array.from(xd), { shape: [2, 3, 6, 6] });
    const w = tensor(Float32Array.from(wd), { shape: [4, 3, 3, 3] });
    const y = conv2d(x, w, null, { padding: 1 });
    expect(y.dtype).toBe('float32');
    const ref = refConv2d(Float64Array.from(x.dataSync()), Float64Array.from(w.dataSync()), null, {
      n: 2, c: 3, h: 6, w: 6, o: 4, kh: 3, kw: 3, stride: [1, 1], pad: [1, 1, 1, 1], dilation: [1, 1], groups: 1,
    });
    expectClose(y, ref.out, ref.shape, 1e-5);
    const xi = arange(1, 10, 1, { dtype: 'int32' }).reshape([1, 1, 3, 3]);
    const yi = conv2d(xi, ones([1, 1, 2, 2], { dtype: 'int32' }));
    expect(yi.dtype).toBe('float32');
    expect(yi.arraySync()).toEqual([[[[12, 16], [24, 28]]]]);
  });

  test('disposes every intermediate', () => {
    const { t: x } = rand([2, 4, 6, 6]);
    const { t: w } = rand([4, 2, 2, 3]);
    const { t: b } = rand([4]);
    const { t: xu } = rand([4, 5, 5]);
    const before = memory().tensors;
    const outs = [
      conv2d(x, w, b, { groups: 2, padding: 'same' }),
      conv2d(x.permute([0, 1, 3, 2]), w, null, { groups: 2, stride: 2 }),
      conv2d(xu, w, b, { groups: 2 }),
      conv1d(x.reshape([2, 4, 36]), w.reshape([4, 2, 6]), b, { groups: 2, padding: 'same' }),
      maxPool2d(x, 3, { stride: 1, padding: 1 }),
      avgPool2d(xu, 2, { padding: 1, countIncludePad: false }),
      avgPool2d(x, [2, 3]),
      im2col(xu, { kernel: 2 }),
      col2im(im2col(xu, { kernel: 2 }), [5, 5], { kernel: 2 }),
    ];
    // the permute/reshape views created in the argument lists above are 3 tensors, and the inner
    // im2col of the last line 1 more
    expect(memory().tensors).toBe(before + outs.length + 3 + 1);
  });
});

describe('conv1d', () => {
  const cases = [
    { n: 2, c: 3, l: 20, o: 4, k: 3, stride: 1, padding: 0, dilation: 1, groups: 1, bias: true },
    { n: 1, c: 4, l: 17, o: 6, k: 4, stride: 3, padding: 2, dilation: 2, groups: 2, bias: false },
    { n: 3, c: 2, l: 9, o: 2, k: 5, stride: 2, padding: 1, dilation: 1, groups: 2, bias: true },
  ];
  for (const [ci, cc] of cases.entries()) {
    test(`matches direct convolution (case ${ci})`, () => {
      const { t: x, data: xd } = rand([cc.n, cc.c, cc.l]);
      const { t: w, data: wd } = rand([cc.o, cc.c / cc.groups, cc.k]);
      const b = cc.bias ? rand([cc.o]) : null;
      const y = conv1d(x, w, b?.t, { stride: cc.stride, padding: cc.padding, dilation: cc.dilation, groups: cc.groups });
      const ref = refConv2d(xd, wd, b?.data ?? null, {
        n: cc.n, c: cc.c, h: 1, w: cc.l, o: cc.o, kh: 1, kw: cc.k,
        stride: [1, cc.stride], pad: [0, 0, cc.padding, cc.padding], dilation: [1, cc.dilation], groups: cc.groups,
      });
      expectClose(y, ref.out, [cc.n, cc.o, ref.shape[3]]);
    });
  }

  test('hand-checked values, unbatched input and padding modes', () => {
    const x = tensor([[1, 2, 3, 4, 5]]); // unbatched (C=1, L=5)
    expect(conv1d(x, tensor([[[1, 0, -1]]])).arraySync()).toEqual([[-2, -2, -2]]);
    // 'same' with an even kernel pads the extra zero at the end (as PyTorch does)
    const x4 = tensor([[[1, 2, 3, 4]]]);
    expect(conv1d(x4, tensor([[[1, 1]]]), null, { padding: 'same' }).arraySync()).toEqual([[[3, 5, 7, 4]]]);
    expect(conv1d(x4, tensor([[[1, 1, 1]]]), null, { padding: 'same', dilation: 2 }).arraySync()).toEqual([[[4, 6, 4, 6]]]);
    expect(conv1d(x4, tensor([[[1, 1]]]), null, { padding: 'valid' }).arraySync()).toEqual([[[3, 5, 7]]]);
    expect(conv1d(x4, tensor([[[1, 1]]]), tensor([1]), { padding: 1, stride: 2 }).arraySync()).toEqual([[[2, 6, 5]]]);
  });

  test('non-contiguous input', () => {
    const { t: nlc } = rand([2, 11, 3]);
    const x = nlc.transpose(1, 2); // (2, 3, 11)
    const { t: w, data: wd } = rand([4, 3, 3]);
    const y = conv1d(x, w, null, { padding: 1 });
    const ref = refConv2d(x.contiguous().dataSync() as Float64Array, wd, null, {
      n: 2, c: 3, h: 1, w: 11, o: 4, kh: 1, kw: 3, stride: [1, 1], pad: [0, 0, 1, 1], dilation: [1, 1], groups: 1,
    });
    expectClose(y, ref.out, [2, 4, 11]);
  });
});

// ---- pooling

const poolCases: PoolRef[] = [
  { n: 2, c: 3, h: 6, w: 6, k: [2, 2], stride: [2, 2], pad: [0, 0], dilation: [1, 1] },
  { n: 1, c: 2, h: 7, w: 5, k: [3, 3], stride: [1, 1], pad: [1, 1], dilation: [1, 1] },
  { n: 2, c: 2, h: 9, w: 8, k: [3, 2], stride: [2, 3], pad: [1, 1], dilation: [1, 1] },
  { n: 1, c: 3, h: 10, w: 9, k: [3, 3], stride: [2, 1], pad: [1, 0], dilation: [2, 3] },
];

describe('maxPool2d', () => {
  for (const [ci, r] of poolCases.entries()) {
    test(`matches direct pooling (case ${ci})`, () => {
      const { t: x, data } = rand([r.n, r.c, r.h, r.w]);
      const y = maxPool2d(x, r.k, { stride: r.stride, padding: r.pad, dilation: r.dilation });
      const ref = refPool(data, r, 'max');
      expectClose(y, ref.out, ref.shape, 0);
    });
  }

  test('padding is never picked, even when every value is negative', () => {
    const { data } = rand([1, 2, 5, 5]);
    const neg = data.map((v) => -1 - Math.abs(v));
    const x = tensor(neg, { shape: [1, 2, 5, 5] });
    const r: PoolRef = { n: 1, c: 2, h: 5, w: 5, k: [3, 3], stride: [2, 2], pad: [1, 1], dilation: [1, 1] };
    const y = maxPool2d(x, 3, { stride: 2, padding: 1 });
    expect(Math.max(...y.dataSync())).toBeLessThan(-1);
    expectClose(y, refPool(neg, r, 'max').out, [1, 2, 3, 3], 0);
    const xi = tensor([[[-5, -3], [-7, -9]]], { dtype: 'int32' });
    expect(maxPool2d(xi, 2, { stride: 1, padding: 1 }).arraySync()).toEqual([[[-5, -3, -3], [-5, -3, -3], [-7, -7, -9]]]);
  });

  test('hand-checked values, default stride, unbatched and non-contiguous inputs', () => {
    const x = arange(16, undefined, 1, { dtype: 'float32' }).reshape([1, 4, 4]);
    expect(maxPool2d(x, 2).arraySync()).toEqual([[[5, 7], [13, 15]]]);
    expect(maxPool2d(x, [1, 2]).arraySync()).toEqual([[[1, 3], [5, 7], [9, 11], [13, 15]]]);
    expect(maxPool2d(x.transpose(1, 2), 2).arraySync()).toEqual([[[5, 13], [7, 15]]]);
    expect(maxPool2d(tensor([[[1, NaN], [0, 2]]]), 2).dataSync()[0]).toBeNaN();
  });
});

describe('avgPool2d', () => {
  for (const [ci, r] of poolCases.entries()) {
    if (r.dilation[0] !== 1 || r.dilation[1] !== 1) continue;
    test(`matches direct pooling in both count modes (case ${ci})`, () => {
      const { t: x, data } = rand([r.n, r.c, r.h, r.w]);
      const inc = avgPool2d(x, r.k, { stride: r.stride, padding: r.pad });
      expectClose(inc, refPool(data, r, 'avg-include').out, refPool(data, r, 'avg-include').shape);
      const exc = avgPool2d(x, r.k, { stride: r.stride, padding: r.pad, countIncludePad: false });
      expectClose(exc, refPool(data, r, 'avg-exclude').out, refPool(data, r, 'avg-exclude').shape);
    });
  }

  test('hand-checked values (PyTorch: padding zeros count by default)', () => {
    const x = arange(16, undefined, 1, { dtype: 'float32' }).reshape([1, 1, 4, 4]);
    expect(avgPool2d(x, 2).arraySync()).toEqual([[[[2.5, 4.5], [10.5, 12.5]]]]);
    const one = ones([1, 2, 2]);
    expect(avgPool2d(one, 2, { stride: 1, padding: 1 }).arraySync()).toEqual([
      [[0.25, 0.5, 0.25], [0.5, 1, 0.5], [0.25, 0.5, 0.25]],
    ]);
    expect(avgPool2d(one, 2, { stride: 1, padding: 1, countIncludePad: false }).arraySync()).toEqual([
      [[1, 1, 1], [1, 1, 1], [1, 1, 1]],
    ]);
    const xi = tensor([[[[1, 2], [3, 5]]]], { dtype: 'int32' });
    const yi = avgPool2d(xi, 2, { stride: 1, padding: 1, countIncludePad: false });
    expect(yi.dtype).toBe('float32');
    expect(yi.arraySync()).toEqual([[[[1, 1.5, 2], [2, 2.75, 3.5], [3, 4, 5]]]]);
  });

  test('non-contiguous input', () => {
    const { t: nhwc } = rand([2, 5, 6, 3]);
    const x = nhwc.permute([0, 3, 1, 2]);
    const r: PoolRef = { n: 2, c: 3, h: 5, w: 6, k: [3, 2], stride: [3, 2], pad: [1, 1], dilation: [1, 1] };
    const data = x.contiguous().dataSync() as Float64Array;
    const ref = refPool(data, r, 'avg-exclude');
    expectClose(avgPool2d(x, [3, 2], { padding: 1, countIncludePad: false }), ref.out, ref.shape);
  });
});

// ---- errors

describe('errors', () => {
  const x = zeros([1, 3, 5, 5]);

  test('conv2d', () => {
    expect(() => conv2d(x, zeros([8, 4, 3, 3]))).toThrow('conv2d: input has 3 channels but weight expects 4 (weight (8, 4, 3, 3))');
    expect(() => conv2d(zeros([1, 4, 5, 5]), zeros([8, 1, 3, 3]), null, { groups: 3 }))
      .toThrow('conv2d: groups=3 must divide the input channels, but input (1, 4, 5, 5) has 4');
    expect(() => conv2d(zeros([1, 4, 5, 5]), zeros([6, 1, 3, 3]), null, { groups: 4 }))
      .toThrow('conv2d: groups=4 must divide the output channels, but weight (6, 1, 3, 3) has 6');
    expect(() => conv2d(zeros([1, 4, 5, 5]), zeros([4, 1, 3, 3]), null, { groups: 2 }))
      .toThrow('conv2d: input has 4 channels but weight expects 2 (weight (4, 1, 3, 3), groups 2)');
    expect(() => conv2d(x, zeros([2, 3, 7, 3])))
      .toThrow('conv2d: kernel (7, 3) with dilation (1, 1) is larger than the padded input (5, 5) (input (1, 3, 5, 5), padding (0, 0))');
    expect(() => conv2d(x, zeros([2, 3, 3, 3]), null, { dilation: 3 })).toThrow(/conv2d: kernel \(3, 3\) with dilation \(3, 3\) is larger .*\(1, 3, 5, 5\)/);
    expect(() => conv2d(x, zeros([2, 3, 3, 3]), null, { stride: 0 })).toThrow('conv2d: stride must be a positive integer or a pair of them, got 0');
    expect(() => conv2d(x, zeros([2, 3, 3, 3]), null, { stride: [1, -2] })).toThrow(/conv2d: stride must be a positive integer/);
    expect(() => conv2d(x, zeros([2, 3, 3, 3]), null, { dilation: 0 })).toThrow('conv2d: dilation must be a positive integer or a pair of them, got 0');
    expect(() => conv2d(x, zeros([2, 3, 3, 3]), null, { padding: -1 })).toThrow('conv2d: padding must be a non-negative integer or a pair of them, got -1');
    expect(() => conv2d(x, zeros([2, 3, 3, 3]), null, { groups: 0 })).toThrow('conv2d: groups must be a positive integer, got 0');
    expect(() => conv2d(x, zeros([2, 3, 3, 3]), null, { padding: 'same', stride: 2 })).toThrow("conv2d: padding='same' requires stride 1, got stride (2, 2)");
    expect(() => conv2d(zeros([3, 5]), zeros([2, 3, 3, 3]))).toThrow('conv2d: input must be (N, C, H, W) or (C, H, W), got (3, 5)');
    expect(() => conv2d(x, zeros([2, 3, 3]))).toThrow('conv2d: weight must be (C_out, C_in/groups, kh, kw), got (2, 3, 3)');
    expect(() => conv2d(x, zeros([2, 3, 3, 3]), zeros([3]))).toThrow('conv2d: bias must have shape (2,) to match weight (2, 3, 3, 3), got (3,)');
    expect(() => conv2d(x, zeros([2, 3, 3, 3]), zeros([1, 2]))).toThrow('conv2d: bias must have shape (2,) to match weight (2, 3, 3, 3), got (1, 2)');
  });

  test('conv1d', () => {
    const x1 = zeros([2, 3, 10]);
    expect(() => conv1d(x1, zeros([4, 2, 3]))).toThrow('conv1d: input has 3 channels but weight expects 2 (weight (4, 2, 3))');
    expect(() => conv1d(x1, zeros([4, 3, 11])))
      .toThrow('conv1d: kernel 11 with dilation 1 is larger than the padded input length 10 (input (2, 3, 10), padding 0)');
    expect(() => conv1d(x1, zeros([4, 3, 3]), null, { stride: 0 })).toThrow('conv1d: stride must be a positive integer, got 0');
    expect(() => conv1d(x1, zeros([4, 3, 3]), null, { padding: -2 })).toThrow('conv1d: padding must be a non-negative integer, got -2');
    expect(() => conv1d(x1, zeros([4, 3, 3]), null, { padding: 'same', stride: 2 })).toThrow("conv1d: padding='same' requires stride 1, got stride 2");
    expect(() => conv1d(x1, zeros([4, 1, 3]), null, { groups: 2 })).toThrow('conv1d: groups=2 must divide the input channels, but input (2, 3, 10) has 3');
    expect(() => conv1d(zeros([3]), zeros([4, 3, 3]))).toThrow('conv1d: input must be (N, C, L) or (C, L), got (3,)');
    expect(() => conv1d(x1, zeros([4, 3, 3, 1]))).toThrow('conv1d: weight must be (C_out, C_in/groups, k), got (4, 3, 3, 1)');
    expect(() => conv1d(x1, zeros([4, 3, 3]), zeros([5]))).toThrow('conv1d: bias must have shape (4,) to match weight (4, 3, 3), got (5,)');
  });

  test('pooling', () => {
    expect(() => maxPool2d(x, 3, { padding: 2 })).toThrow('maxPool2d: padding (2, 2) must be at most half the kernel (3, 3)');
    expect(() => maxPool2d(x, 6))
      .toThrow('maxPool2d: kernel (6, 6) with dilation (1, 1) is larger than the padded input (5, 5) (input (1, 3, 5, 5), padding (0, 0))');
    expect(() => maxPool2d(x, 2, { stride: 0 })).toThrow('maxPool2d: stride must be a positive integer or a pair of them, got 0');
    expect(() => maxPool2d(x, 0)).toThrow('maxPool2d: kernel must be a positive integer or a pair of them, got 0');
    expect(() => maxPool2d(x, 2, { dilation: [1, 0] })).toThrow('maxPool2d: dilation must be a positive integer or a pair of them, got [1,0]');
    expect(() => maxPool2d(zeros([5, 5]), 2)).toThrow('maxPool2d: input must be (N, C, H, W) or (C, H, W), got (5, 5)');
    expect(() => avgPool2d(zeros([1, 1, 1, 5, 5]), 2)).toThrow('avgPool2d: input must be (N, C, H, W) or (C, H, W), got (1, 1, 1, 5, 5)');
    expect(() => avgPool2d(x, [2, 4], { padding: [1, 3] })).toThrow('avgPool2d: padding (1, 3) must be at most half the kernel (2, 4)');
    expect(() => avgPool2d(x, 2, { padding: -1 })).toThrow('avgPool2d: padding must be a non-negative integer or a pair of them, got -1');
  });

  test('im2col and col2im', () => {
    expect(() => im2col(x, {} as never)).toThrow('im2col: opts must be an object with at least a kernel size');
    expect(() => im2col(x, { kernel: [2, 2, 2] as never })).toThrow('im2col: kernel must be a positive integer or a pair of them, got [2,2,2]');
    expect(() => im2col(zeros([5, 5]), { kernel: 2 })).toThrow('im2col: x must be (N, C, H, W) or (C, H, W), got (5, 5)');
    expect(() => im2col(x, { kernel: 6 })).toThrow(/im2col: kernel \(6, 6\) .* \(input \(1, 3, 5, 5\)/);
    expect(() => col2im(zeros([1, 5, 9]), [4, 4], { kernel: 2 })).toThrow('col2im: cols (1, 5, 9) has 5 rows, not a multiple of kernel (2, 2) (4 taps)');
    expect(() => col2im(zeros([1, 4, 8]), [4, 4], { kernel: 2 })).toThrow(/col2im: cols \(1, 4, 8\) has 8 columns but size \(4, 4\) .* gives 3·3 = 9 windows/);
    expect(() => col2im(zeros([4, 8]), [1, 4], { kernel: 2 })).toThrow(/col2im: kernel \(2, 2\) .* size \(1, 4\)/);
    expect(() => col2im(zeros([1, 2, 3, 4]), [4, 4], { kernel: 2 })).toThrow('col2im: cols must be (N, C·kh·kw, L) or (C·kh·kw, L), got (1, 2, 3, 4)');
  });
});

describe('the conv2d primitive validates its params', () => {
  const x = zeros([1, 2, 5, 5]);
  const w = zeros([3, 2, 3, 3]);
  const base = { stride: [1, 1], padding: [0, 0], dilation: [1, 1] };
  test.each([
    ['stride', { ...base, stride: [0, 1] }, /conv2d: stride must be a pair of integers >= 1, got \[0,1\]/],
    ['padding', { ...base, padding: [-1, 0] }, /conv2d: padding must be a pair of integers >= 0/],
    ['dilation', { ...base, dilation: [1.5, 1] }, /conv2d: dilation must be a pair of integers >= 1/],
    ['a missing pair', { stride: [1, 1], padding: [0, 0] }, /conv2d: dilation must be a pair/],
  ])("%s", (_name, params, message) => {
    expect(() => apply1('conv2d', [x, w], params)).toThrow(message);
  });
});
