/**
 * The one place that chooses the backend notes run on in the page.
 *
 * Today that is the CPU backend of @ml/tensor. When a WebGPU backend exists, it plugs in here:
 * try it when `navigator.gpu` is there (`await navigator.gpu.requestAdapter()`), fall back to the
 * CPU. Everything else (the Runnable component, the backend badge) only sees the Backend.
 */
import type { Backend } from '@ml/tensor';

let chosen: Promise<Backend> | undefined;

async function choose(): Promise<Backend> {
  const { createCpuBackend } = await import('@ml/tensor');
  return createCpuBackend();
}

/** The backend of this page, created on first use and shared by every note on the page. */
export function pageBackend(): Promise<Backend> {
  chosen ??= choose().catch((e: unknown) => {
    chosen = undefined;
    throw e;
  });
  return chosen;
}
