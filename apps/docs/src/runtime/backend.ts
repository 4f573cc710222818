/**
 * The one place that chooses the backend notes run on in the page.
 *
 * WebGPU (@ml/gpu-webgpu) when the browser has `navigator.gpu` and it gives an adapter, else the
 * CPU backend of @ml/tensor, with its WebAssembly SIMD kernels where they load (on a page's main
 * thread they run on one thread; float32 matmul, conv, softmax... are several times faster than
 * the TypeScript kernels, which remain for everything else). `?backend=cpu` in the page's
 * address forces the CPU. Everything else
 * (the Runnable component, the backend badge, which shows `backend.name`) only sees the Backend.
 */
import type { Backend } from '@ml/tensor';

let chosen: Promise<Backend> | undefined;

function forcedCpu(): boolean {
  if (typeof location === 'undefined') return false;
  return new URLSearchParams(location.search).get('backend') === 'cpu';
}

async function choose(): Promise<Backend> {
  const gpu = typeof navigator === 'undefined' ? undefined : (navigator as { gpu?: unknown }).gpu;
  if (gpu && !forcedCpu()) {
    try {
      // webgpu() requests the adapter and fails with the reason when there is none.
      const { webgpu } = await import('@ml/gpu-webgpu');
      return await webgpu();
    } catch (e) {
      console.info(`Notes run on the CPU: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  return cpuBackend();
}

/** The backend of this page, created on first use and shared by every note on the page. */
export function pageBackend(): Promise<Backend> {
  chosen ??= choose().catch((e: unknown) => {
    chosen = undefined;
    throw e;
  });
  return chosen;
}

let cpu: Promise<Backend> | undefined;

/** The CPU backend with its WebAssembly kernels, or without them when they cannot load. */
async function createCpu(): Promise<Backend> {
  const { createCpuBackend, loadWasmRuntime } = await import('@ml/tensor');
  try {
    return createCpuBackend({ wasm: await loadWasmRuntime() });
  } catch (e) {
    console.info(`The CPU backend runs its TypeScript kernels only: ${e instanceof Error ? e.message : String(e)}`);
    return createCpuBackend();
  }
}

/**
 * The CPU backend (one per page), for the page when it has no GPU and for notes that need what the
 * page's GPU backend lacks (float64, a kernel).
 */
export function cpuBackend(): Promise<Backend> {
  cpu ??= createCpu();
  return cpu;
}

/** Whether an error says the backend cannot do something (rather than that the note is wrong). */
export function isCapabilityError(e: unknown): boolean {
  const message = e instanceof Error ? e.message : String(e);
  return /does not support dtype|has no kernel for primitive|cannot read synchronously/.test(message);
}
