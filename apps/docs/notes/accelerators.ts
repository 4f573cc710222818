/**
 * Accelerators: what a GPU does differently from a CPU, measured. The same matrix products run on
 * @ml/tensor's CPU backend (its TypeScript kernels, then its WebAssembly SIMD kernels) and, when
 * this browser has WebGPU, on the WebGPU backend: timed over a range of sizes, checked equal, and
 * plotted. Then one-at-a-time versus batched products, which is why batching matters.
 */
import * as Plot from '@observablehq/plot';
import { createCpuBackend, loadWasmRuntime, tensor } from '@ml/tensor';
import type { Backend, Tensor, WasmRuntime, WasmRuntimeOptions } from '@ml/tensor';
import type { NoteContext } from '../src/runtime/context.js';

// ---- Arithmetic

/** FLOPs of an (n, k) @ (k, m) product: one multiply and one add per term. */
export const matmulFlops = (n: number, k = n, m = n) => 2 * n * k * m;

/** GFLOP/s of `flops` done in `ms` milliseconds. */
export const gflops = (flops: number, ms: number) => flops / (ms * 1e6);

/**
 * Arithmetic intensity: FLOPs per byte of memory traffic, counting the least traffic possible
 * (every float32 input read once, the output written once).
 */
export const intensity = (flops: number, floatsMoved: number) => flops / (4 * floatsMoved);

/** The arithmetic intensity of a few operations, from their formulas alone. */
export function intensityTable(): { op: string; FLOPs: number; 'bytes moved': number; 'FLOPs/byte': number }[] {
  const rows: [string, number, number][] = [
    ['add, 1M elements', 1 << 20, 3 * (1 << 20)],
    ['matrix × vector, 4096²', matmulFlops(4096, 4096, 1), 4096 * 4096 + 2 * 4096],
    ['matrix × 64 vectors at once, 4096²', matmulFlops(4096, 4096, 64), 4096 * 4096 + 2 * 4096 * 64],
    ['matmul 256²', matmulFlops(256), 3 * 256 * 256],
    ['matmul 1024²', matmulFlops(1024), 3 * 1024 * 1024],
    ['matmul 4096²', matmulFlops(4096), 3 * 4096 * 4096],
  ];
  return rows.map(([op, flops, floats]) => ({ op, FLOPs: flops, 'bytes moved': 4 * floats, 'FLOPs/byte': round(intensity(flops, floats), 3) }));
}

// ---- Inputs and checks

/** Float32 numbers uniform in [-1, 1) from a fixed seed (mulberry32): the same on every backend. */
export function uniform(count: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = 2 * (((t ^ (t >>> 14)) >>> 0) / 4294967296) - 1;
  }
  return out;
}

/** max |x − y| as a fraction of max |y| (y is the reference). */
export function relDiff(x: ArrayLike<number>, y: ArrayLike<number>): number {
  if (x.length !== y.length) return Infinity;
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < y.length; i++) {
    const d = Math.abs(x[i] - y[i]);
    if (Number.isNaN(d)) return Infinity; // a NaN where the other has a number (or both NaN) never agrees
    diff = Math.max(diff, d);
    scale = Math.max(scale, Math.abs(y[i]));
  }
  return diff / Math.max(scale, 1e-30);
}

/** Float32 products of n up to a few thousand agree with float64 to about 1e-6 of their largest entry. */
export const TOLERANCE = 1e-4;

/** Rows `rows` of the n×n product a·b in float64, to check a float32 result against. */
function referenceRows(a: Float32Array, b: Float32Array, n: number, rows: number[]): Float64Array {
  const out = new Float64Array(rows.length * n);
  rows.forEach((i, r) => {
    for (let p = 0; p < n; p++) {
      const av = a[i * n + p];
      for (let j = 0; j < n; j++) out[r * n + j] += av * b[p * n + j];
    }
  });
  return out;
}

const pickRows = (c: Float32Array, n: number, rows: number[]) => {
  const out = new Float32Array(rows.length * n);
  rows.forEach((i, r) => out.set(c.subarray(i * n, (i + 1) * n), r * n));
  return out;
};

// ---- Timing

/**
 * Waits until `t` has been computed. A GPU runs work asynchronously: `matmul` returns as soon as
 * the work is queued, so we read one element back, which waits for everything queued before it.
 */
export async function ready(t: Tensor): Promise<void> {
  const one = t.rank === 0 ? t : t.slice(t.shape.map(() => 0));
  try {
    await one.item();
  } finally {
    if (one !== t) one.dispose();
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((p, q) => p - q);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/**
 * One warm-up run (the GPU compiles its kernels then), then at least 3 runs and 150 ms (a single
 * run when the warm-up took over a second); the median. `tick` runs between runs (it lets the
 * page repaint and the reader press Stop).
 */
async function timeIt(f: () => Promise<void>, tick: () => Promise<void>): Promise<{ ms: number; runs: number }> {
  const t0 = performance.now();
  await f();
  const minRuns = performance.now() - t0 > 1000 ? 1 : 3;
  await tick();
  const times: number[] = [];
  let total = 0;
  while ((times.length < minRuns || total < 150) && times.length < 20) {
    const t0 = performance.now();
    await f();
    const ms = performance.now() - t0;
    times.push(ms);
    total += ms;
    await tick();
  }
  return { ms: median(times), runs: times.length };
}

export type Timing = {
  backend: string;
  n: number;
  ms: number;
  'GFLOP/s': number;
  runs: number;
};

/** One size's differences; null where a backend did not run that size. */
export type Agreement = {
  n: number;
  'cpu vs float64': number | null;
  'cpu+wasm vs float64': number | null;
  'webgpu vs float64': number | null;
  'webgpu vs cpu': number | null;
  agree: boolean;
};

export interface Options {
  /** Matrix sizes to try, smallest first. */
  sizes?: number[];
  /** A backend stops at the size where one run is predicted (×8 per doubling) to exceed this. */
  maxRunMs?: number;
  /** Size of the batching experiment: W is (d, d), applied to `vectors` vectors. */
  batching?: { d: number; vectors: number };
  /** Options of the WebAssembly runtime (`loadWasmRuntime`), e.g. `{ threads: 1 }`. */
  wasm?: WasmRuntimeOptions;
}

/** The WebGPU backend of this page, or why there is none. */
export function findGpu(ctx: NoteContext): { gpu: Backend | null; name: string; reason?: string } {
  if (ctx.backend.name === 'webgpu') {
    const adapter = (ctx.backend as { adapterName?: string }).adapterName;
    return { gpu: ctx.backend, name: adapter ?? 'unknown adapter' };
  }
  const hasGpu = Boolean((globalThis as { navigator?: { gpu?: unknown } }).navigator?.gpu);
  const reason = hasGpu
    ? 'the page runs on the CPU backend (WebGPU gave no adapter, or the address asks for ?backend=cpu)'
    : 'this runtime has no WebGPU (navigator.gpu is missing)';
  return { gpu: null, name: 'none', reason };
}

/**
 * Why the WebAssembly runtime got `threads` threads. Its matmul is synchronous: the calling
 * thread takes a share of the work, then blocks (Atomics.wait) until the worker threads have done
 * theirs. A page's main thread may not block, so there it computes alone.
 */
export function threadsNote(threads: number): string {
  const page = typeof document !== 'undefined'; // a page's main thread (a Worker has no document)
  if (threads > 1) return `${threads} threads share each large product`;
  return page
    ? "1 thread: a page's main thread may not block in Atomics.wait, which it must do to wait for worker threads (a Worker in a cross-origin-isolated page can use several)"
    : '1 thread (this machine reports one core, or { threads: 1 } was asked for)';
}

/** The measurements, given the WebAssembly runtime or the error that kept it from loading. */
async function measure(ctx: NoteContext, wasm: WasmRuntime | Error, options: Options) {
  const sizes = options.sizes ?? [64, 128, 256, 512, 1024, 2048];
  const maxRunMs = options.maxRunMs ?? 1500;
  const batching = options.batching ?? { d: 512, vectors: 64 };

  // ---- 1. Which processors this page can use.
  const found = findGpu(ctx);
  // 'cpu' is always the plain backend, so that its row measures the TypeScript kernels.
  const backends: [string, Backend][] = [['cpu', createCpuBackend()]];
  if (!(wasm instanceof Error)) backends.push(['cpu+wasm', createCpuBackend({ wasm })]);
  if (found.gpu) backends.push(['webgpu', found.gpu]);
  ctx.print(`CPU backend: @ml/tensor's own kernels, in JavaScript on one thread`);
  ctx.print(
    wasm instanceof Error
      ? `CPU backend with WebAssembly: not available here (${wasm.message})`
      : `CPU backend with WebAssembly: SIMD kernels compiled from C, ${threadsNote(wasm.threads)}`,
  );
  ctx.print(found.gpu ? `WebGPU backend: ${found.name}` : `WebGPU: not available here (${found.reason})`);

  // ---- 2. Arithmetic intensity, from the formulas: FLOPs per byte that must cross the memory bus.
  const intensityRows = intensityTable();
  ctx.table(intensityRows, { caption: 'Work per byte of memory traffic (float32, each input read once)' });

  // ---- 3. The same n×n product on every backend, over sizes, checked before it is timed.
  const timings: Timing[] = [];
  const outputs = new Map<number, Map<string, Float32Array>>();
  const stopped = new Set<string>();
  const failed = new Map<string, string>(); // a backend other than 'cpu' that cannot run a step, and why
  const inputs = new Map<number, { a: Float32Array; b: Float32Array }>();
  for (const [si, n] of sizes.entries()) {
    // Predict this size from the previous one (n³ work: ×8 per doubling) and stop in time.
    for (const [name] of backends) {
      const last = timings.filter((t) => t.backend === name).at(-1);
      if (last && last.ms * (n / last.n) ** 3 > maxRunMs) stopped.add(name);
    }
    if (backends.every(([name]) => stopped.has(name))) break;
    const a = uniform(n * n, 1000 + n);
    const b = uniform(n * n, 2000 + n);
    inputs.set(n, { a, b });
    for (const [name, backend] of backends) {
      if (stopped.has(name)) continue;
      const tick = () => ctx.progress((0.8 * si) / sizes.length, `${name}: ${n}×${n}`);
      await tick();
      const A = tensor(a, { shape: [n, n], backend });
      const B = tensor(b, { shape: [n, n], backend });
      try {
        const C = A.matmul(B);
        const c = (await C.data()) as Float32Array;
        C.dispose();
        if (!outputs.has(n)) outputs.set(n, new Map());
        outputs.get(n)!.set(name, c);
        const { ms, runs } = await timeIt(async () => {
          const out = A.matmul(B);
          await ready(out);
          out.dispose();
        }, tick);
        timings.push({ backend: name, n, ms: round(ms, 3), 'GFLOP/s': round(gflops(matmulFlops(n), ms), 3), runs });
      } catch (e) {
        // The CPU must work; another backend may lack a kernel or lose its device: say so, go on without it.
        if (name === 'cpu' || (e instanceof Error && e.name === 'AbortError')) throw e;
        failed.set(name, e instanceof Error ? e.message.split('\n')[0] : String(e));
        stopped.add(name);
        ctx.print(`${name} stopped at ${n}×${n}: ${failed.get(name)}`);
      } finally {
        A.dispose();
        B.dispose();
      }
    }
  }
  const working = backends.filter(([name]) => !failed.has(name));
  ctx.table(timings, { caption: 'C = A·B, n×n float32: median time per product, waiting for the result' });

  // ---- 4. Equal results: every product against float64 on sampled rows, WebGPU against the CPU everywhere.
  const agreement: Agreement[] = [];
  for (const [n, byBackend] of outputs) {
    const { a, b } = inputs.get(n)!;
    const rows = [...new Set([0, Math.floor(n / 3), Math.floor((2 * n) / 3), n - 1])];
    const ref = referenceRows(a, b, n, rows);
    const vsFloat64 = (name: string) => {
      const c = byBackend.get(name);
      return c ? relDiff(pickRows(c, n, rows), ref) : null;
    };
    const c = byBackend.get('cpu');
    const g = byBackend.get('webgpu');
    const row: Agreement = {
      n,
      'cpu vs float64': vsFloat64('cpu'),
      'cpu+wasm vs float64': vsFloat64('cpu+wasm'),
      'webgpu vs float64': vsFloat64('webgpu'),
      'webgpu vs cpu': g && c ? relDiff(g, c) : null,
      agree: false,
    };
    const diffs = [row['cpu vs float64'], row['cpu+wasm vs float64'], row['webgpu vs float64'], row['webgpu vs cpu']];
    row.agree = diffs.every((d) => d === null || d <= TOLERANCE);
    agreement.push(row);
  }
  const dash = (d: number | null) => d ?? '–';
  ctx.table(
    agreement.map((r) => ({
      n: r.n,
      'cpu vs float64': dash(r['cpu vs float64']),
      'cpu+wasm vs float64': dash(r['cpu+wasm vs float64']),
      'webgpu vs float64': dash(r['webgpu vs float64']),
      'webgpu vs cpu': dash(r['webgpu vs cpu']),
      agree: r.agree ? '✓' : '✗',
    })),
    { caption: `max |difference| / max |reference| (tolerance ${TOLERANCE}); float64 on 4 sampled rows` },
  );
  const allAgree = agreement.every((r) => r.agree);
  ctx.print(allAgree ? 'Every backend computed the same products (within float32 rounding).' : 'Some results disagree: see ✗ above.');

  // ---- 5. Plots: time on log-log axes (a slope of 3 is n³ work), and throughput.
  const first = timings.find((t) => t.backend === 'cpu');
  const guide = first ? sizes.filter((n) => n >= first.n).map((n) => ({ n, ms: first.ms * (n / first.n) ** 3 })) : [];
  const maxMs = Math.max(...timings.map((t) => t.ms));
  ctx.plot({
    grid: true,
    x: { type: 'log', base: 2, label: 'n (matrix size)' },
    y: { type: 'log', label: 'ms per product' },
    color: { legend: true },
    marks: [
      Plot.line(guide.filter((p) => p.ms <= 4 * maxMs), { x: 'n', y: 'ms', strokeDasharray: '4 4', stroke: '#999' }),
      Plot.line(timings, { x: 'n', y: 'ms', stroke: 'backend', marker: 'circle' }),
      Plot.text(guide.slice(-1).filter((p) => p.ms <= 4 * maxMs), { x: 'n', y: 'ms', text: () => '∝ n³', dx: 14, fill: '#999' }),
    ],
  });
  ctx.plot({
    grid: true,
    x: { type: 'log', base: 2, label: 'n (matrix size)' },
    y: { label: 'GFLOP/s', zero: true },
    color: { legend: true },
    marks: [Plot.line(timings, { x: 'n', y: 'GFLOP/s', stroke: 'backend', marker: 'circle' })],
  });

  // ---- 6. Asynchronous GPUs: when matmul returns versus when the product is done.
  const queued: { backend: string; n: number; 'returned after ms': number; 'ready after ms': number }[] = [];
  // the largest size up to 512 that every backend ran
  const measuredByAll = (n: number) => working.every(([name]) => timings.some((t) => t.backend === name && t.n === n));
  const nq = sizes.filter((n) => n <= 512 && measuredByAll(n)).at(-1) ?? sizes[0];
  for (const [name, backend] of working) {
    if (!measuredByAll(nq)) break;
    const { a, b } = inputs.get(nq)!;
    const A = tensor(a, { shape: [nq, nq], backend });
    const B = tensor(b, { shape: [nq, nq], backend });
    const warm = A.matmul(B);
    await ready(warm);
    warm.dispose();
    const t0 = performance.now();
    const C = A.matmul(B);
    const t1 = performance.now();
    await ready(C);
    const t2 = performance.now();
    queued.push({ backend: name, n: nq, 'returned after ms': round(t1 - t0, 3), 'ready after ms': round(t2 - t0, 3) });
    for (const t of [A, B, C]) t.dispose();
  }
  ctx.table(queued, { caption: `One ${nq}×${nq} product: the call returns, then the result is ready` });

  // ---- 7. Why batching matters: v vectors through the same (d, d) matrix, one at a time or at once.
  const { d, vectors } = batching;
  const wData = uniform(d * d, 7);
  const xData = uniform(d * vectors, 8); // (d, vectors): one vector per column
  const batchRows: { backend: string; way: string; products: number; ms: number; 'GFLOP/s': number; 'FLOPs/byte': number }[] = [];
  let batchAgree = true;
  for (const [si, [name, backend]] of working.entries()) {
    const tick = () => ctx.progress(0.8 + (0.2 * si) / working.length, `${name}: batching`);
    await tick();
    const W = tensor(wData, { shape: [d, d], backend });
    const X = tensor(xData, { shape: [d, vectors], backend });
    const columns = Array.from({ length: vectors }, (_, j) => tensor(xData.filter((_, i) => i % vectors === j), { shape: [d, 1], backend }));
    try {
      // Equal results first: column j of W·X is W·x_j.
      const Y = W.matmul(X);
      const y = (await Y.data()) as Float32Array;
      Y.dispose();
      for (const j of [0, vectors - 1]) {
        const yj = W.matmul(columns[j]);
        const col = (await yj.data()) as Float32Array;
        yj.dispose();
        if (relDiff(col, y.filter((_, i) => i % vectors === j)) > TOLERANCE) batchAgree = false;
      }
      const flops = matmulFlops(d, d, vectors);
      const oneByOne = await timeIt(async () => {
        const outs = columns.map((x) => W.matmul(x));
        await ready(outs[outs.length - 1]);
        for (const o of outs) o.dispose();
      }, tick);
      const atOnce = await timeIt(async () => {
        const out = W.matmul(X);
        await ready(out);
        out.dispose();
      }, tick);
      batchRows.push(
        { backend: name, way: 'one vector at a time', products: vectors, ms: round(oneByOne.ms, 3), 'GFLOP/s': round(gflops(flops, oneByOne.ms), 3), 'FLOPs/byte': round(intensity(matmulFlops(d, d, 1), d * d + 2 * d), 3) },
        { backend: name, way: 'all at once (one matmul)', products: 1, ms: round(atOnce.ms, 3), 'GFLOP/s': round(gflops(flops, atOnce.ms), 3), 'FLOPs/byte': round(intensity(flops, d * d + 2 * d * vectors), 3) },
      );
    } finally {
      for (const t of [W, X, ...columns]) t.dispose();
    }
  }
  ctx.table(batchRows, { caption: `${vectors} vectors of size ${d} through one ${d}×${d} matrix` });
  ctx.print(batchAgree ? 'Batched and one-at-a-time products agree.' : 'Batched and one-at-a-time products disagree!');
  await ctx.progress(1);

  return {
    wasm: wasm instanceof Error
      ? { available: false, reason: wasm.message }
      : { available: true, threads: wasm.threads, ...(failed.has('cpu+wasm') ? { failed: failed.get('cpu+wasm') } : {}) },
    webgpu: found.gpu ? { available: true, adapter: found.name, ...(failed.has('webgpu') ? { failed: failed.get('webgpu') } : {}) } : { available: false, reason: found.reason },
    intensity: intensityRows,
    timings,
    agreement,
    allAgree,
    queued,
    batching: batchRows,
    batchAgree,
  };
}

/**
 * Loads the WebAssembly runtime (or keeps the error that stopped it), runs the measurements, and
 * stops the runtime's worker threads at the end, whatever happened.
 */
export default async function run(ctx: NoteContext, options: Options = {}) {
  let wasm: WasmRuntime | Error;
  try {
    wasm = await loadWasmRuntime(options.wasm);
  } catch (e) {
    wasm = e instanceof Error ? e : new Error(String(e));
  }
  try {
    return await measure(ctx, wasm, options);
  } finally {
    if (!(wasm instanceof Error)) wasm.dispose();
  }
}

function round(x: number, digits: number): number {
  if (!Number.isFinite(x) || x === 0) return x;
  const scale = 10 ** (digits - 1 - Math.floor(Math.log10(Math.abs(x))));
  return Math.round(x * scale) / scale;
}
