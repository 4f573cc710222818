import { afterAll, describe, expect, it } from 'vitest';
import { createCpuBackend, setBackend } from '@ml/tensor';
import { webgpu } from '@ml/gpu-webgpu';
import type { Backend } from '@ml/tensor';
import { format } from 'node:util';
import run, { gflops, intensity, intensityTable, matmulFlops, relDiff, TOLERANCE } from '../notes/accelerators.js';
import type { Agreement, Options, Timing } from '../notes/accelerators.js';
import type { NoteContext } from '../src/runtime/context.js';
import { runNote } from './record.js';

interface Result {
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
async function runOn(backend: Backend, options: Options) {
  setBackend(backend);
  const lines: string[] = [];
  const ctx: NoteContext = {
    print: (...values) => void lines.push(format(...values)),
    table: () => {},
    plot: () => {},
    progress: async () => {},
    signal: new AbortController().signal,
    backend,
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

describe('notes/accelerators: in Node, on the CPU backend', async () => {
  const rec = await runNote(run);
  const r = rec.result as Result;

  it('reports WebGPU as unavailable, with the reason', () => {
    expect(r.webgpu.available).toBe(false);
    expect(r.webgpu.reason).toMatch(/navigator\.gpu/);
    expect(rec.lines).toContain('WebGPU: not available here (this runtime has no WebGPU (navigator.gpu is missing))');
    expect(new Set(r.timings.map((t) => t.backend))).toEqual(new Set(['cpu']));
  });

  it('times the CPU product over growing sizes, GFLOP/s consistent with the times', () => {
    const ns = r.timings.map((t) => t.n);
    expect(ns.slice(0, 3)).toEqual([64, 128, 256]); // 256² takes milliseconds: never cut by the time limit
    expect(ns).toEqual([...ns].sort((a, b) => a - b));
    for (const t of r.timings) {
      expect(t.ms).toBeGreaterThan(0);
      expect(t.runs).toBeGreaterThanOrEqual(1);
      expect(t['GFLOP/s']).toBeCloseTo(gflops(matmulFlops(t.n), t.ms), 1);
      expect(t['GFLOP/s'] / gflops(matmulFlops(t.n), t.ms)).toBeCloseTo(1, 2);
    }
  });

  it('checks the CPU products against float64 before trusting the times', () => {
    expect(r.agreement.map((a) => a.n)).toEqual(r.timings.map((t) => t.n));
    for (const a of r.agreement) {
      expect(a['cpu vs float64']).toBeLessThan(1e-5);
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
    const [oneByOne, atOnce] = r.batching;
    expect(oneByOne.way).toBe('one vector at a time');
    expect(atOnce.way).toBe('all at once (one matmul)');
    expect(atOnce['FLOPs/byte']).toBeGreaterThan(50 * oneByOne['FLOPs/byte']);
  });

  it('times when the call returns and when the result is ready', () => {
    expect(r.queued).toHaveLength(1);
    const [q] = r.queued;
    expect(q.backend).toBe('cpu');
    expect(q['ready after ms']).toBeGreaterThanOrEqual(q['returned after ms']);
  });
});

describe('notes/accelerators: comparing two backends', () => {
  it('times both and finds equal results when the page runs on a (stand-in) WebGPU backend', async () => {
    const { lines, result } = await runOn(standInGpu(), SMALL);
    expect(result.webgpu).toEqual({ available: true, adapter: 'stand-in adapter' });
    expect(lines).toContain('WebGPU backend: stand-in adapter');
    for (const name of ['cpu', 'webgpu']) expect(result.timings.filter((t) => t.backend === name).map((t) => t.n)).toEqual([16, 32, 64]);
    for (const a of result.agreement) {
      expect(a['webgpu vs cpu']).toBe(0); // the same kernels underneath
      expect(a['webgpu vs float64']).toBeLessThan(TOLERANCE);
      expect(a.agree).toBe(true);
    }
    expect(result.queued.map((q) => q.backend)).toEqual(['cpu', 'webgpu']);
    expect(result.batching.map((b) => b.backend)).toEqual(['cpu', 'cpu', 'webgpu', 'webgpu']);
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
    expect(new Set(result.timings.map((t) => t.backend))).toEqual(new Set(['cpu']));
    expect(result.allAgree).toBe(true);
    expect(result.batching.map((b) => b.backend)).toEqual(['cpu', 'cpu']);
  });

  it('stops a backend before a size predicted to exceed the time limit', async () => {
    const { result } = await runOn(createCpuBackend(), { ...SMALL, sizes: [32, 64, 4096], maxRunMs: 2000 });
    // 4096³ is 2¹⁸ times 64³: far over 2 s per run at any speed a 64³ product allows here
    expect(result.timings.map((t) => t.n)).toEqual([32, 64]);
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
