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

  it('reads transposed and sliced operands through their strides', () => {
    const [m, k, n] = [37, 45, 29];
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

  it('runs conv2d (im2col + matmul) and leaves no buffers behind', () => {
    const ts = createCpuBackend();
    const x = values(2 * 3 * 14 * 14, 41);
    const w = values(8 * 3 * 5 * 5, 42);
    const before = memory(backend);
    const got = scope(() => conv2d(on(backend, x, [2, 3, 14, 14]), on(backend, w, [8, 3, 5, 5]), null, { padding: 2 }).dataSync());
    expect(memory(backend)).toEqual(before);
    const want = conv2d(on(ts, x, [2, 3, 14, 14]), on(ts, w, [8, 3, 5, 5]), null, { padding: 2 }).dataSync();
    expectClose(got, want, 75);
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
