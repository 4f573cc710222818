import { afterAll, describe, expect, it, vi } from 'vitest';
import { createCpuBackend, setBackend, WasmRuntime } from '@ml/tensor';
import { webgpu } from '@ml/gpu-webgpu';
import type { Backend } from '@ml/tensor';
import { availableParallelism } from 'node:os';
import { format } from 'node:util';
import run, { gflops, intensity, intensityTable, matmulFlops, relDiff, threadsNote, TOLERANCE } from '../notes/accelerators.js';
import type { Agreement, Options, Timing } from '../notes/accelerators.js';
import type { NoteContext } from '../src/runtime/context.js';
import { runNote } from './record.js';

interface Result {
  wasm: { available: boolean; threads?: number; reason?: string; failed?: string };
  webgpu: { available: boolean; adapter?: string; reason?: string; failed?: string };
  intensity: ReturnType<typeof intensityTable>;
  timings: Timing[];
  agreement: Agreement[];
  allAgree: boolean;
  queued: { backend: string; n: number; 'returned after ms': number; 'ready after ms': number }[];
  batching: { backend: string; way: string; products: number; ms: number; 'GFLOP/s': number; 'FLOPs/byte': number }[];
  batchAgree: boolean;
}

/** Small sizes, so the tests that run the note on two backends stay quick. */
const SMALL: Options = { sizes: [16, 32, 64], batching: { d: 64, vectors: 8 } };

/** Runs the note with `backend` as the page's backend, recording what it prints and returns. */
async function runOn(backend: Backend, options: Options, overrides: Partial<NoteContext> = {}) {
  setBackend(backend);
  const lines: string[] = [];
  const ctx: NoteContext = {
    print: (...values) => void lines.push(format(...values)),
    table: () => {},
    plot: () => {},
    progress: async () => {},
    signal: new AbortController().signal,
    backend,
    ...overrides,
  };
  const result = (await run(ctx, options)) as Result;
  return { lines, result };
}

/**
 * A stand-in for the WebGPU backend: the CPU backend under the name 'webgpu' (Node has no
 * navigator.gpu). `corrupt` makes its matmul wrong, to see the note catch it; `noMatmul` takes
 * the kernel away, as on a backend that does not have it yet.
 */
function standInGpu({ corrupt = false, noMatmul = false } = {}): Backend {
  const cpu = createCpuBackend();
  return new Proxy(cpu, {
    get(target, key) {
      if (key === 'name') return 'webgpu';
      if (key === 'adapterName') return 'stand-in adapter';
      if (key === 'hasKernel' && noMatmul) return (op: string) => op !== 'matmul' && target.hasKernel(op);
      if (key === 'run' && corrupt) {
        return (op: string, inputs: never[], outputs: { storage: Float32Array }[], params: object) => {
          target.run(op, inputs, outputs as never, params);
          if (op === 'matmul') outputs[0].storage[0] += 1;
        };
      }
      const v = Reflect.get(target, key, target) as unknown;
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

const CPU_BACKENDS = ['cpu', 'cpu+wasm'];

describe('notes/accelerators: in Node, on the CPU backend', async () => {
  // Watch the WebAssembly runtime the note loads: that its matmul runs, and that it is disposed.
  const wasmMatmul = vi.spyOn(WasmRuntime.prototype, 'matmul');
  const wasmDispose = vi.spyOn(WasmRuntime.prototype, 'dispose');
  const rec = await runNote(run);
  const r = rec.result as Result;
  const wasmProducts = wasmMatmul.mock.results.filter((res) => res.type === 'return' && res.value === true).length;
  const disposed = wasmDispose.mock.contexts.slice() as WasmRuntime[];
  wasmMatmul.mockRestore();
  wasmDispose.mockRestore();

  it('reports WebGPU as unavailable, with the reason', () => {
    expect(r.webgpu.available).toBe(false);
    expect(r.webgpu.reason).toMatch(/navigator\.gpu/);
    expect(rec.lines).toContain('WebGPU: not available here (this runtime has no WebGPU (navigator.gpu is missing))');
    expect(new Set(r.timings.map((t) => t.backend))).toEqual(new Set(CPU_BACKENDS));
  });

  it('loads the WebAssembly runtime with every core in Node, says so, and stops its threads at the end', () => {
    const cores = availableParallelism();
    expect(r.wasm).toEqual({ available: true, threads: cores });
    expect(rec.lines).toContain(`CPU backend with WebAssembly: SIMD kernels compiled from C, ${threadsNote(cores)}`);
    expect(wasmProducts).toBeGreaterThan(0); // the cpu+wasm row really ran the WebAssembly kernel
    expect(disposed).toHaveLength(1); // run() disposed the one runtime it loaded
    expect(disposed[0].threads).toBe(cores);
  });

  it('times each CPU product over growing sizes, GFLOP/s consistent with the times', () => {
    for (const name of CPU_BACKENDS) {
      const ns = r.timings.filter((t) => t.backend === name).map((t) => t.n);
      expect(ns.slice(0, 3)).toEqual([64, 128, 256]); // 256² takes milliseconds: never cut by the time limit
      expect(ns).toEqual([...ns].sort((a, b) => a - b));
    }
    for (const t of r.timings) {
      expect(t.ms).toBeGreaterThan(0);
      expect(t.runs).toBeGreaterThanOrEqual(1);
      // both rounded to 3 significant digits: within about 1% of each other
      expect(Math.abs(t['GFLOP/s'] / gflops(matmulFlops(t.n), t.ms) - 1)).toBeLessThan(0.011);
    }
  });

  it('finds the WebAssembly kernels faster than the TypeScript ones on the largest size both ran', () => {
    const n = Math.max(...r.timings.filter((t) => t.backend === 'cpu').map((t) => t.n));
    const at = (name: string) => r.timings.find((t) => t.backend === name && t.n === n)!;
    expect(n).toBeGreaterThanOrEqual(512);
    expect(at('cpu+wasm')['GFLOP/s']).toBeGreaterThan(at('cpu')['GFLOP/s']);
  });

  it('checks both CPU products against float64 at every size it timed', () => {
    const timed = (name: string) => r.timings.filter((t) => t.backend === name).map((t) => t.n);
    const checked = (key: 'cpu vs float64' | 'cpu+wasm vs float64') => r.agreement.filter((a) => a[key] !== null).map((a) => a.n);
    expect(r.agreement.map((a) => a.n)).toEqual([...new Set(r.timings.map((t) => t.n))]);
    expect(checked('cpu vs float64')).toEqual(timed('cpu'));
    expect(checked('cpu+wasm vs float64')).toEqual(timed('cpu+wasm'));
    for (const a of r.agreement) {
      for (const d of [a['cpu vs float64'], a['cpu+wasm vs float64']]) if (d !== null) expect(d).toBeLessThan(1e-5); // well inside TOLERANCE
      expect(a['webgpu vs float64']).toBeNull();
      expect(a['webgpu vs cpu']).toBeNull();
      expect(a.agree).toBe(true);
    }
    expect(r.allAgree).toBe(true);
    expect(rec.lines).toContain('Every backend computed the same products (within float32 rounding).');
  });

  it('plots time (log-log) and GFLOP/s, and tabulates the arithmetic intensity', () => {
    expect(rec.plots).toHaveLength(2);
    expect(rec.plots[0].x).toMatchObject({ type: 'log' });
    expect(rec.plots[0].y).toMatchObject({ type: 'log' });
    const byOp = Object.fromEntries(r.intensity.map((row) => [row.op, row['FLOPs/byte']]));
    expect(byOp['add, 1M elements']).toBeCloseTo(1 / 12, 4); // 1 FLOP per 12 bytes
    expect(byOp['matmul 256²']).toBeCloseTo(256 / 6, 1); // n/6 for an n×n product
    expect(byOp['matmul 4096²']).toBeCloseTo(4096 / 6, 0);
    expect(byOp['matrix × vector, 4096²']).toBeCloseTo(0.5, 2); // one matrix element read per 2 FLOPs
    expect(byOp['matrix × 64 vectors at once, 4096²']).toBeCloseTo(31, 0); // ≈ 64/2: b/2 for b vectors
  });

  it('shows that batching the same vectors into one product is faster and agrees', () => {
    expect(r.batchAgree).toBe(true);
    expect(r.batching.map((b) => b.backend)).toEqual(['cpu', 'cpu', 'cpu+wasm', 'cpu+wasm']);
    for (const [oneByOne, atOnce] of [r.batching.slice(0, 2), r.batching.slice(2)]) {
      expect(oneByOne.way).toBe('one vector at a time');
      expect(atOnce.way).toBe('all at once (one matmul)');
      expect(atOnce['FLOPs/byte']).toBeGreaterThan(50 * oneByOne['FLOPs/byte']);
    }
  });

  it('times when the call returns and when the result is ready', () => {
    expect(r.queued.map((q) => q.backend)).toEqual(CPU_BACKENDS);
    for (const q of r.queued) expect(q['ready after ms']).toBeGreaterThanOrEqual(q['returned after ms']);
  });
});

describe('notes/accelerators: comparing two backends', () => {
  it('times both and finds equal results when the page runs on a (stand-in) WebGPU backend', async () => {
    const { lines, result } = await runOn(standInGpu(), SMALL);
    expect(result.webgpu).toEqual({ available: true, adapter: 'stand-in adapter' });
    expect(lines).toContain('WebGPU backend: stand-in adapter');
    for (const name of ['cpu', 'cpu+wasm', 'webgpu']) expect(result.timings.filter((t) => t.backend === name).map((t) => t.n)).toEqual([16, 32, 64]);
    for (const a of result.agreement) {
      expect(a['webgpu vs cpu']).toBe(0); // the same kernels underneath
      expect(a['webgpu vs float64']).toBeLessThan(TOLERANCE);
      expect(a['cpu+wasm vs float64']).toBeLessThan(TOLERANCE);
      expect(a.agree).toBe(true);
    }
    expect(result.queued.map((q) => q.backend)).toEqual(['cpu', 'cpu+wasm', 'webgpu']);
    expect(result.batching.map((b) => b.backend)).toEqual(['cpu', 'cpu', 'cpu+wasm', 'cpu+wasm', 'webgpu', 'webgpu']);
  });

  it('flags a backend whose products are wrong', async () => {
    const { lines, result } = await runOn(standInGpu({ corrupt: true }), SMALL);
    expect(result.allAgree).toBe(false);
    for (const a of result.agreement) {
      expect(a.agree).toBe(false);
      expect(a['cpu vs float64']).toBeLessThan(TOLERANCE);
      expect(a['webgpu vs cpu']!).toBeGreaterThan(TOLERANCE);
    }
    expect(lines).toContain('Some results disagree: see ✗ above.');
  });

  it('goes on without a GPU backend that cannot multiply, and says why', async () => {
    const { lines, result } = await runOn(standInGpu({ noMatmul: true }), SMALL);
    expect(result.webgpu.available).toBe(true);
    expect(result.webgpu.failed).toMatch(/no kernel for primitive "matmul"/);
    expect(lines.some((l) => l.startsWith('webgpu stopped at 16×16: '))).toBe(true);
    expect(new Set(result.timings.map((t) => t.backend))).toEqual(new Set(CPU_BACKENDS));
    expect(result.allAgree).toBe(true);
    expect(result.batching.map((b) => b.backend)).toEqual(['cpu', 'cpu', 'cpu+wasm', 'cpu+wasm']);
  });

  it('goes on without the WebAssembly row when the runtime cannot load, and says why', async () => {
    const dispose = vi.spyOn(WasmRuntime.prototype, 'dispose');
    try {
      const { lines, result } = await runOn(createCpuBackend(), { ...SMALL, wasm: { threads: 0 } });
      expect(result.wasm.available).toBe(false);
      expect(result.wasm.reason).toMatch(/threads must be a positive integer, got 0/);
      expect(lines).toContain(`CPU backend with WebAssembly: not available here (${result.wasm.reason})`);
      expect(result.timings.map((t) => t.backend)).toEqual(['cpu', 'cpu', 'cpu']);
      for (const a of result.agreement) expect(a['cpu+wasm vs float64']).toBeNull();
      expect(result.allAgree).toBe(true);
      expect(result.batching.map((b) => b.backend)).toEqual(['cpu', 'cpu']);
      expect(dispose).not.toHaveBeenCalled(); // nothing was loaded, nothing to stop
    } finally {
      dispose.mockRestore();
    }
  });

  it('disposes the WebAssembly runtime when the reader stops the note midway', async () => {
    const dispose = vi.spyOn(WasmRuntime.prototype, 'dispose');
    let ticks = 0;
    const progress = async () => {
      // what ctx.progress does once the reader pressed Stop
      if (++ticks === 5) throw new DOMException('stopped', 'AbortError');
    };
    try {
      await expect(runOn(createCpuBackend(), SMALL, { progress })).rejects.toThrow('stopped');
      expect(ticks).toBe(5);
      expect(dispose).toHaveBeenCalledTimes(1);
    } finally {
      dispose.mockRestore();
    }
  });

  it('stops a backend before a size predicted to exceed the time limit', async () => {
    const { result } = await runOn(createCpuBackend(), { ...SMALL, sizes: [32, 64, 4096], maxRunMs: 500 });
    // 4096³ is 2¹⁸ times 64³: over 0.5 s per run unless a 64³ product took under 2 µs (275 GFLOP/s)
    for (const name of CPU_BACKENDS) expect(result.timings.filter((t) => t.backend === name).map((t) => t.n)).toEqual([32, 64]);
  });
});

// In Node, @ml/gpu-webgpu finds WebGPU through the `webgpu` package (Dawn), on SwiftShader where
// there is no GPU. Where that is missing, or the backend has no matmul yet, this part is skipped.
const gpu = await webgpu().catch(() => null);
afterAll(() => gpu?.destroy());

describe.skipIf(!gpu?.hasKernel('matmul'))('notes/accelerators: on a real WebGPU backend (Dawn in Node)', () => {
  it('multiplies on the GPU, equal to the CPU and to float64', async () => {
    const { lines, result } = await runOn(gpu!, SMALL);
    expect(result.webgpu).toEqual({ available: true, adapter: gpu!.adapterName });
    expect(lines).toContain(`WebGPU backend: ${gpu!.adapterName}`);
    expect(result.timings.filter((t) => t.backend === 'webgpu').map((t) => t.n)).toEqual([16, 32, 64]);
    for (const a of result.agreement) {
      expect(a['webgpu vs cpu']).toBeLessThan(1e-5);
      expect(a['webgpu vs float64']).toBeLessThan(1e-5);
      expect(a.agree).toBe(true);
    }
    expect(result.batchAgree).toBe(true);
  }, 120_000);
});

describe('notes/accelerators: helpers', () => {
  it('says why the WebAssembly runtime has one thread: on a page it may not block', () => {
    expect(threadsNote(4)).toBe('4 threads share each large product');
    expect(threadsNote(1)).toMatch(/^1 thread \(this machine reports one core/); // Node: no document
    vi.stubGlobal('document', {});
    try {
      expect(threadsNote(1)).toMatch(/^1 thread: a page's main thread may not block in Atomics\.wait/);
    } finally {
      vi.unstubAllGlobals();
    }
  });

  it('relDiff is relative to the reference and never lets a NaN agree', () => {
    expect(relDiff([1, 2, 4.004], [1, 2, 4])).toBeCloseTo(0.001, 10);
    expect(relDiff([0, 0], [0, 0])).toBe(0);
    expect(relDiff([NaN, 1], [0, 1])).toBe(Infinity);
    expect(relDiff([1, 2], [1, 2, 3])).toBe(Infinity);
  });

  it('counts FLOPs and intensity', () => {
    expect(matmulFlops(2)).toBe(16);
    expect(matmulFlops(4, 3, 2)).toBe(48);
    expect(gflops(2e9, 1000)).toBe(2);
    expect(intensity(12, 1)).toBe(3);
  });
});
