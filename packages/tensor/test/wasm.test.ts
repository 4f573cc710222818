// The CPU backend's WebAssembly path: float32 matmul against a float64 reference written here,
// through strided, transposed and batched views, results independent of the thread count, and
// the TypeScript kernels kept for small products and other dtypes.
import { describe, expect, it, vi } from 'vitest';
import { conv2d, createCpuBackend, loadWasmRuntime, matmul, memory, scope, tensor } from '../src/index.js';
import type { Backend, Tensor } from '../src/index.js';

const wasm1 = await loadWasmRuntime({ threads: 1 });
const wasm2 = await loadWasmRuntime({ threads: 2 });
const wasm3 = await loadWasmRuntime({ threads: 3 });

/** Deterministic values in [-1, 1) (a small LCG, so the test needs no RNG of the package). */
function values(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

/** C = A·B in float64 for row-major A (m, k), B (k, n). */
function refMatmul(a: ArrayLike<number>, b: ArrayLike<number>, m: number, k: number, n: number): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let p = 0; p < k; p++) {
      const x = a[i * k + p];
      for (let j = 0; j < n; j++) c[i * n + j] += x * b[p * n + j];
    }
  }
  return c;
}

/** Float32 sums of k products of values in [-1, 1): error grows like √k·ε. */
function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, k: number): void {
  expect(got.length).toBe(want.length);
  const tol = 4e-7 * Math.sqrt(k) * 4 + 1e-6;
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
  expect(worst).toBeLessThan(tol);
}

function on(backend: Backend, data: Float32Array | Float64Array, shape: number[], dtype: 'float32' | 'float64' = 'float32'): Tensor {
  return tensor(data, { shape, dtype, backend });
}

/**
 * conv2d in float64 by its definition: out[n,o,y,x] = Σ w[o,c,i,j]·x[n,c,y·sh−ph+i·dh, x·sw−pw+j·dw],
 * 0 outside the image.
 */
function refConv(x: ArrayLike<number>, w: ArrayLike<number>, [n, c, h, wd]: number[], [o, kh, kw]: number[], s: number[], p: number[], d: number[]): { out: Float64Array; oh: number; ow: number } {
  const oh = Math.floor((h + 2 * p[0] - d[0] * (kh - 1) - 1) / s[0]) + 1;
  const ow = Math.floor((wd + 2 * p[1] - d[1] * (kw - 1) - 1) / s[1]) + 1;
  const out = new Float64Array(n * o * oh * ow);
  for (let b = 0; b < n; b++) for (let f = 0; f < o; f++) for (let y = 0; y < oh; y++) for (let xo = 0; xo < ow; xo++) {
    let acc = 0;
    for (let ch = 0; ch < c; ch++) for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) {
      const iy = y * s[0] - p[0] + i * d[0];
      const ix = xo * s[1] - p[1] + j * d[1];
      if (iy < 0 || iy >= h || ix < 0 || ix >= wd) continue;
      acc += w[((f * c + ch) * kh + i) * kw + j] * x[((b * c + ch) * h + iy) * wd + ix];
    }
    out[((b * o + f) * oh + y) * ow + xo] = acc;
  }
  return { out, oh, ow };
}

describe('WebAssembly conv2d (im2col fused into the GEMM packing)', () => {
  const backend = createCpuBackend({ wasm: wasm2 });
  // [N, C, H, W, O, kh, kw, stride, padding, dilation]
  it.each([
    [64, 1, 28, 28, 6, 5, 5, 1, 0, 1], // LeNet's first layer: 8-pixel panels inside rows
    [8, 16, 32, 32, 32, 3, 3, 1, 1, 1], // ResNet-style: padding at the row ends
    [2, 3, 13, 11, 5, 3, 3, 1, 1, 1], // odd width: panels straddle output rows
    [2, 4, 15, 17, 7, 3, 5, 2, 2, 1], // stride 2, unequal kernel
    [1, 2, 20, 20, 3, 3, 3, 1, 2, 2], // dilation 2
    [1, 40, 9, 9, 70, 3, 3, 1, 1, 1], // K = 360 (two K blocks), O = 70 (two filter blocks)
    [1, 2, 30, 30, 4, 1, 1, 1, 0, 1], // 1×1, L = 900 (two pixel blocks)
    [3, 1, 4, 4, 2, 4, 4, 1, 0, 1], // kernel as large as the image: one pixel
  ])('(%i, %i, %i, %i) with %i filters %i×%i, stride %i, padding %i, dilation %i matches the float64 reference', (n, c, h, wd, o, kh, kw, st, pd, dl) => {
    const x = values(n * c * h * wd, n + c + h);
    const w = values(o * c * kh * kw, o + kh);
    const before = memory(backend);
    const spy = vi.spyOn(wasm2, 'conv2d');
    const got = scope(() => conv2d(on(backend, x, [n, c, h, wd]), on(backend, w, [o, c, kh, kw]), null, { stride: st, padding: pd, dilation: dl }).dataSync());
    const ranInWasm = spy.mock.calls.length;
    spy.mockRestore();
    expect(memory(backend)).toEqual(before);
    // the kernel runs here from 4096 multiply-adds (smaller ones stay on the TypeScript kernel)
    expect(ranInWasm).toBe(got.length * c * kh * kw >= 4096 ? 1 : 0);
    const ref = refConv(x, w, [n, c, h, wd], [o, kh, kw], [st, st], [pd, pd], [dl, dl]);
    expect(got.length).toBe(ref.out.length);
    expectClose(got, ref.out, c * kh * kw);
  });

  it("reads permuted and sliced operands through their strides, and 'same' padding of an even kernel", () => {
    const [n, c, h, wd, o] = [2, 3, 10, 12, 4];
    const xData = values(n * h * wd * c, 51); // stored (N, H, W, C)
    const wData = values(o * c * 4 * 4 * 2, 52); // twice the filters, every other one used
    const x = on(backend, xData, [n, h, wd, c]).permute([0, 3, 1, 2]); // (N, C, H, W) view
    const wAll = on(backend, wData, [o * 2, c, 4, 4]);
    const w = wAll.slice([[0, o * 2, 2]]); // (O, C, 4, 4), stride 2 along O
    const got = conv2d(x, w, null, { padding: 'same' }).dataSync();
    const xc = x.contiguous().dataSync();
    const wc = w.contiguous().dataSync();
    // 'same' with a 4-wide kernel pads 1 before and 2 after: pad the image by hand, then valid
    const hp = h + 3;
    const wp = wd + 3;
    const xp = new Float64Array(n * c * hp * wp);
    for (let b = 0; b < n * c; b++) for (let y = 0; y < h; y++) for (let xi = 0; xi < wd; xi++) xp[(b * hp + y + 1) * wp + xi + 1] = xc[(b * h + y) * wd + xi];
    const ref = refConv(xp, wc, [n, c, hp, wp], [o, 4, 4], [1, 1], [0, 0], [1, 1]);
    expect([ref.oh, ref.ow]).toEqual([h, wd]);
    expectClose(got, ref.out, c * 16);
  });

  it('gives bit-identical results on 1, 2 and 3 threads', () => {
    const x = values(5 * 20 * 24 * 24, 61);
    const w = values(36 * 20 * 3 * 3, 62);
    const outs = [wasm1, wasm2, wasm3].map((rt) => {
      const be = createCpuBackend({ wasm: rt });
      return conv2d(on(be, x, [5, 20, 24, 24]), on(be, w, [36, 20, 3, 3]), null, { padding: 1 }).dataSync();
    });
    expect(Array.from(outs[1])).toEqual(Array.from(outs[0]));
    expect(Array.from(outs[2])).toEqual(Array.from(outs[0]));
  });
});

describe('WebAssembly matmul', () => {
  const backend = createCpuBackend({ wasm: wasm2 });

  it.each([
    [1, 1, 1],
    [3, 5, 7],
    [17, 33, 9],
    [64, 256, 8],
    [65, 257, 17],
    [130, 600, 70],
    [33, 300, 1030], // N blocks of 512 columns
  ])('(%i, %i) · (%i, n) matches the float64 reference, edges and K blocks included', (m, k, n) => {
    const a = values(m * k, m + 1);
    const b = values(k * n, n + 7);
    const c = matmul(on(backend, a, [m, k]), on(backend, b, [k, n])).dataSync();
    expectClose(c, refMatmul(a, b, m, k, n), k);
  });

  it.each([
    [37, 45, 29],
    [70, 301, 530], // K and N blocks, panel and k tails, packed transposed
    [5, 600, 1030],
  ])('reads transposed (%i, %i) · (%i) and sliced operands through their strides', (m, k, n) => {
    const at = values(k * m, 3); // A stored as (k, m)
    const bt = values(n * k, 4); // B stored as (n, k)
    const a = new Float64Array(m * k);
    const b = new Float64Array(k * n);
    for (let i = 0; i < m; i++) for (let p = 0; p < k; p++) a[i * k + p] = at[p * m + i];
    for (let p = 0; p < k; p++) for (let j = 0; j < n; j++) b[p * n + j] = bt[j * k + p];
    const c = matmul(on(backend, at, [k, m]).transpose(), on(backend, bt, [n, k]).transpose()).dataSync();
    expectClose(c, refMatmul(a, b, m, k, n), k);
    // every other row of a (2m, k) matrix
    const wide = values(2 * m * k, 5);
    const rows = new Float64Array(m * k);
    for (let i = 0; i < m; i++) for (let p = 0; p < k; p++) rows[i * k + p] = wide[2 * i * k + p];
    const sliced = on(backend, wide, [m, 2, k]).slice(':, 0');
    expectClose(matmul(sliced, on(backend, Float32Array.from(b), [k, n])).dataSync(), refMatmul(rows, b, m, k, n), k);
  });

  it('batches, with a broadcast operand packed once', () => {
    const [bt, m, k, n] = [3, 20, 40, 24];
    const a = values(bt * m * k, 11);
    const b = values(k * n, 12);
    const bb = values(bt * k * n, 13);
    const c1 = matmul(on(backend, a, [bt, m, k]), on(backend, b, [k, n])).dataSync();
    const c2 = matmul(on(backend, a, [bt, m, k]), on(backend, bb, [bt, k, n])).dataSync();
    for (let i = 0; i < bt; i++) {
      const ai = a.subarray(i * m * k, (i + 1) * m * k);
      expectClose(c1.subarray(i * m * n, (i + 1) * m * n), refMatmul(ai, b, m, k, n), k);
      expectClose(c2.subarray(i * m * n, (i + 1) * m * n), refMatmul(ai, bb.subarray(i * k * n, (i + 1) * k * n), m, k, n), k);
    }
  });

  it('gives bit-identical results on 1, 2 and 3 threads', () => {
    const [m, k, n] = [300, 520, 600]; // several row, K and N blocks
    const a = values(m * k, 21);
    const b = values(k * n, 22);
    const outs = [wasm1, wasm2, wasm3].map((rt) => {
      const be = createCpuBackend({ wasm: rt });
      return matmul(on(be, a, [m, k]), on(be, b, [k, n])).dataSync();
    });
    expect(wasm3.threads).toBe(3);
    expect(Array.from(outs[1])).toEqual(Array.from(outs[0]));
    expect(Array.from(outs[2])).toEqual(Array.from(outs[0]));
    expectClose(outs[0], refMatmul(a, b, m, k, n), k);
  });

  it('keeps the TypeScript kernel for float64 and for small products', () => {
    const ts = createCpuBackend();
    const [m, k, n] = [40, 30, 20];
    const a = Float64Array.from(values(m * k, 31));
    const b = Float64Array.from(values(k * n, 32));
    const viaWasm = matmul(on(backend, a, [m, k], 'float64'), on(backend, b, [k, n], 'float64')).dataSync();
    const viaTs = matmul(on(ts, a, [m, k], 'float64'), on(ts, b, [k, n], 'float64')).dataSync();
    expect(Array.from(viaWasm)).toEqual(Array.from(viaTs));
    const s = values(32, 33);
    const s8 = values(64, 34);
    const small = matmul(on(backend, s, [4, 8]), on(backend, s8, [8, 8])).dataSync(); // 256 multiply-adds
    expect(Array.from(small)).toEqual(Array.from(matmul(on(ts, s, [4, 8]), on(ts, s8, [8, 8])).dataSync()));
  });

  it('runs on one thread over an unshared memory where SharedArrayBuffer is missing', async () => {
    vi.stubGlobal('SharedArrayBuffer', undefined);
    let single;
    try {
      single = await loadWasmRuntime({ threads: 4 });
    } finally {
      vi.unstubAllGlobals();
    }
    expect(single.threads).toBe(1);
    const be = createCpuBackend({ wasm: single });
    // the second product needs more memory than the runtime starts with: it grows
    for (const [m, k, n] of [[70, 90, 50], [2, 2000, 1500]]) {
      const a = values(m * k, 51);
      const b = values(k * n, 52);
      expectClose(matmul(on(be, a, [m, k]), on(be, b, [k, n])).dataSync(), refMatmul(a, b, m, k, n), k);
    }
  });

  it('keeps computing on the calling thread after dispose() stops the workers', async () => {
    const rt = await loadWasmRuntime({ threads: 2 });
    rt.dispose();
    const be = createCpuBackend({ wasm: rt });
    const [m, k, n] = [200, 100, 90];
    const a = values(m * k, 61);
    const b = values(k * n, 62);
    expectClose(matmul(on(be, a, [m, k]), on(be, b, [k, n])).dataSync(), refMatmul(a, b, m, k, n), k);
  });

  it('rejects a bad thread count', async () => {
    await expect(loadWasmRuntime({ threads: 0 })).rejects.toThrow(/threads must be a positive integer, got 0/);
    await expect(loadWasmRuntime({ matmulMinWork: -1 })).rejects.toThrow(/matmulMinWork/);
  });
});

/** The spacing of float32 values around |v| (the smallest subnormal at least). */
function ulp32(v: number): number {
  const a = Math.abs(v);
  if (a < 2 ** -126) return 2 ** -149;
  return 2 ** (Math.floor(Math.log2(a)) - 23);
}

describe('WebAssembly exp, log, tanh, sigmoid', () => {
  const rt = wasm2;
  const backend = createCpuBackend({ wasm: rt });
  const specials = [0, -0, 2 ** -149, 1e-40, 1e-38, -1e-38, 1e-8, -1e-8, 0.625, -0.625, 0.6249, 1, -1, 10, -10, 80, -80,
    88.7, 88.72, 88.73, 89, 100, -87.3, -100, -103.9, -104, -110, Infinity, -Infinity, NaN, 3.4e38, -3.4e38];
  const sweep = Float32Array.from([...specials, ...Array.from(values(40000, 71), (v, i) => v * (i % 2 ? 100 : 10))]);
  const refs: Record<string, (x: number) => number> = {
    exp: Math.exp,
    log: Math.log,
    tanh: Math.tanh,
    sigmoid: (x) => 1 / (1 + Math.exp(-x)),
  };

  it.each(Object.keys(refs))('%s is within 4 ulp of the float64 function, special values included', (name) => {
    const spy = vi.spyOn(rt, 'unary');
    const got = (on(backend, sweep, [sweep.length]) as any)[name]().dataSync() as Float32Array;
    expect(spy).toHaveBeenCalledTimes(1);
    spy.mockRestore();
    const bad: string[] = [];
    for (let i = 0; i < sweep.length; i++) {
      const want = Math.fround(refs[name](sweep[i]));
      const g = got[i];
      const ok = Number.isNaN(want) ? Number.isNaN(g) : g === want || Math.abs(g - want) <= 4 * ulp32(want);
      if (!ok && bad.length < 5) bad.push(`${name}(${sweep[i]}) = ${g}, want ${want}`);
    }
    expect(bad).toEqual([]);
  });

  it('keeps the TypeScript kernel below minElements and for float64', () => {
    const ts = createCpuBackend();
    const small = values(1000, 72);
    const spy = vi.spyOn(rt, 'unary');
    const a = on(backend, small, [1000]).exp().dataSync();
    const b = on(backend, Float64Array.from(sweep), [sweep.length], 'float64').tanh().dataSync();
    expect(spy).not.toHaveBeenCalled();
    spy.mockRestore();
    expect(Array.from(a)).toEqual(Array.from(on(ts, small, [1000]).exp().dataSync()));
    expect(Array.from(b)).toEqual(Array.from(on(ts, Float64Array.from(sweep), [sweep.length], 'float64').tanh().dataSync()));
  });
});

describe('WebAssembly sum and max over trailing axes', () => {
  /** Σ in float64 and max of each row of a (rows, r) array, NaN-propagating. */
  function refRows(x: Float32Array, rows: number, r: number): { sum: number[]; max: number[]; abs: number[] } {
    const out = { sum: [] as number[], max: [] as number[], abs: [] as number[] };
    for (let i = 0; i < rows; i++) {
      let s = 0, m = -Infinity, a = 0;
      for (let j = 0; j < r; j++) {
        const v = x[i * r + j];
        s += v;
        a += Math.abs(v);
        m = Number.isNaN(m) || Number.isNaN(v) ? NaN : Math.max(m, v);
      }
      out.sum.push(s);
      out.max.push(m);
      out.abs.push(a);
    }
    return out;
  }

  it.each([
    [1, 1000003], // a full reduction over 16 segments
    [3, 150001], // rows of three segments
    [1000, 1000], // softmax-sized rows
    [5, 7], // tiny rows (minElements 0 below)
  ])('(%i, %i): sums (accumulated in double) and maxima match the reference, on 1, 2 and 3 threads alike', (rows, r) => {
    const x = values(rows * r, rows + r);
    if (rows * r > 100) x[Math.floor(rows * r / 2) + 1] = 7; // a maximum inside a later segment
    const ref = refRows(x, rows, r);
    const results = [wasm1, wasm2, wasm3].map((rt0) => {
      const rt = rt0;
      const be = createCpuBackend({ wasm: rt });
      const spy = vi.spyOn(rt, 'reduceRows');
      const t = on(be, x, [rows, r]);
      const s = t.sum(-1).dataSync();
      const m = t.max(-1).dataSync();
      const ran = spy.mock.calls.length;
      spy.mockRestore();
      return { s, m, ran };
    });
    if (rows * r >= 8192) expect(results.map((r0) => r0.ran)).toEqual([2, 2, 2]);
    for (const { s, m } of results) {
      for (let i = 0; i < rows; i++) {
        // one rounding of a double-precision sum: within an ulp of float32, plus the double's own error
        expect(Math.abs(s[i] - ref.sum[i])).toBeLessThanOrEqual(ulp32(ref.sum[i]) + 1e-12 * ref.abs[i]);
        expect(m[i]).toBe(Math.fround(ref.max[i]));
      }
    }
    expect(Array.from(results[1].s)).toEqual(Array.from(results[0].s));
    expect(Array.from(results[2].s)).toEqual(Array.from(results[0].s));
  });

  it('propagates NaN, handles −∞ rows, and reduces a whole tensor as one row', async () => {
    const rt = await loadWasmRuntime({ threads: 2, minElements: 0 });
    const be = createCpuBackend({ wasm: rt });
    const r = 70000;
    const x = values(3 * r, 81);
    x[5] = NaN; // row 0, first segment
    x[r + 66000] = NaN; // row 1, second segment
    x.fill(-Infinity, 2 * r, 3 * r); // row 2
    const t = on(be, x, [3, r]);
    expect(Array.from(t.max(-1).dataSync()).map(String)).toEqual(['NaN', 'NaN', '-Infinity']);
    expect(Array.from(t.sum(-1).dataSync()).map(String)).toEqual(['NaN', 'NaN', '-Infinity']);
    const y = values(4 * 5 * 6, 82);
    const whole = on(be, y, [4, 5, 6]).sum().dataSync()[0];
    expect(Math.abs(whole - y.reduce((a, b) => a + b, 0))).toBeLessThan(1e-5);
    rt.dispose();
  });

  it('leaves other axes, other dtypes and strided inputs to the TypeScript kernel', () => {
    const be = createCpuBackend({ wasm: wasm2 });
    const ts = createCpuBackend();
    const x = values(200 * 300, 83);
    const spy = vi.spyOn(wasm2, 'reduceRows');
    const cols = on(be, x, [200, 300]).sum(0).dataSync(); // a leading axis
    const strided = on(be, x, [200, 300]).transpose().max(-1).dataSync(); // a transposed view
    expect(spy).not.toHaveBeenCalled();
    spy.mockRestore();
    expect(Array.from(cols)).toEqual(Array.from(on(ts, x, [200, 300]).sum(0).dataSync()));
    expect(Array.from(strided)).toEqual(Array.from(on(ts, x, [200, 300]).transpose().max(-1).dataSync()));
  });
});

describe('WebAssembly softmax and logSoftmax (rows of the last axis)', () => {
  /**
   * Softmax / log-softmax of each row in float64, with the primitive's NaN and ±∞ rules, and
   * |x − shift| per element: float32 rounds that difference, which exp turns into a relative error.
   */
  function refSoftmax(x: Float32Array, rows: number, r: number, log: boolean): { y: Float64Array; arg: Float64Array } {
    const y = new Float64Array(rows * r);
    const arg = new Float64Array(rows * r);
    for (let i = 0; i < rows; i++) {
      let m = -Infinity;
      for (let j = 0; j < r; j++) m = Number.isNaN(m) || Number.isNaN(x[i * r + j]) ? NaN : Math.max(m, x[i * r + j]);
      const shift = log && !Number.isFinite(m) ? 0 : m;
      let s = 0;
      for (let j = 0; j < r; j++) s += Math.exp(x[i * r + j] - shift);
      for (let j = 0; j < r; j++) {
        y[i * r + j] = log ? x[i * r + j] - shift - Math.log(s) : Math.exp(x[i * r + j] - shift) / s;
        arg[i * r + j] = Math.abs(x[i * r + j] - shift);
      }
    }
    return { y, arg };
  }

  it.each([
    [400, 1000],
    [3, 70001], // long rows
    [4097, 3], // short rows with a tail of 3
    [7, 1], // single-element rows
  ])('(%i, %i) matches float64 within a few ulp, on 1, 2 and 3 threads alike', { timeout: 30000 }, (rows, r) => {
    const x = Float32Array.from(values(rows * r, rows * 7 + r), (v) => v * 30);
    if (rows >= 4) {
      x[1 * r] = NaN; // row 1 has a NaN
      if (r > 1) x[2 * r + 1] = Infinity; // row 2 has +∞
      x.fill(-Infinity, 3 * r, 4 * r); // row 3 is all −∞
    }
    for (const log of [false, true]) {
      const { y: want, arg } = refSoftmax(x, rows, r, log);
      const outs = [wasm1, wasm2, wasm3].map((rt) => {
        const be = createCpuBackend({ wasm: rt });
        const spy = vi.spyOn(rt, 'softmaxRows');
        const t = on(be, x, [rows, r]);
        const y = (log ? t.logSoftmax(-1) : t.softmax(-1)).dataSync();
        expect(spy).toHaveBeenCalledTimes(rows * r >= 8192 ? 1 : 0);
        spy.mockRestore();
        return y;
      });
      expect(Array.from(outs[1])).toEqual(Array.from(outs[0]));
      expect(Array.from(outs[2])).toEqual(Array.from(outs[0]));
      const bad: string[] = [];
      outs[0].forEach((g, i) => {
        const w = want[i];
        // a few ulp, plus the rounding of x − shift in float32 (absolute for log, relative through
        // exp), plus for log the float32 rounding of Σ (an absolute error of ~2⁻²⁴ after the log)
        const tol = 8 * ulp32(w) + (log ? 2 * ulp32(arg[i]) + 2 ** -22 : Math.abs(w) * arg[i] * 2 ** -23);
        const ok = Number.isNaN(w) ? Number.isNaN(g) : g === w || Math.abs(g - w) <= tol;
        if (!ok && bad.length < 5) bad.push(`${log ? 'logSoftmax' : 'softmax'} row ${Math.floor(i / r)} col ${i % r}: ${g}, want ${w}`);
      });
      expect(bad).toEqual([]);
    }
  });

  it('leaves other axes and strided inputs to the TypeScript kernel', () => {
    const be = createCpuBackend({ wasm: wasm2 });
    const ts = createCpuBackend();
    const x = values(200 * 300, 91);
    const spy = vi.spyOn(wasm2, 'softmaxRows');
    const a = on(be, x, [200, 300]).softmax(0).dataSync();
    const b = on(be, x, [200, 300]).transpose().logSoftmax(-1).dataSync();
    expect(spy).not.toHaveBeenCalled();
    spy.mockRestore();
    expect(Array.from(a)).toEqual(Array.from(on(ts, x, [200, 300]).softmax(0).dataSync()));
    expect(Array.from(b)).toEqual(Array.from(on(ts, x, [200, 300]).transpose().logSoftmax(-1).dataSync()));
  });
});
