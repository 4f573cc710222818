/**
 * CPU kernels that run on the WebAssembly runtime when it pays: float32 operands above a size
 * threshold. Below it, or for other dtypes, the TypeScript kernel runs (the reference).
 */
import type { Conv2dParams } from '../../primitives.js';
import type { CpuKernel } from '../backend.js';
import { conv2dKernel } from '../conv.js';
import { matmulKernel } from '../matmul.js';
import type { WasmRuntime } from './runtime.js';

/** The kernels the runtime replaces, by primitive name. */
export function wasmKernels(rt: WasmRuntime): Record<string, CpuKernel> {
  const matmul: CpuKernel = (inputs, outputs, params) => {
    const [a, b] = inputs;
    const out = outputs[0].storage;
    const [m, k] = a.shape.slice(-2);
    const n = b.shape[b.shape.length - 1];
    const batch = out.length / Math.max(1, m * n);
    const big = batch * m * n * k >= rt.matmulMinWork;
    if (a.dtype === 'float32' && b.dtype === 'float32' && out instanceof Float32Array && big && rt.matmul(a, b, out)) return;
    matmulKernel(inputs, outputs, params);
  };
  const conv2d: CpuKernel = (inputs, outputs, params: Conv2dParams) => {
    const [x, w] = inputs;
    const out = outputs[0].storage;
    const [, c, , ] = x.shape;
    const [, , kh, kw] = w.shape;
    const big = out.length * c * kh * kw >= rt.matmulMinWork;
    if (x.dtype === 'float32' && w.dtype === 'float32' && out instanceof Float32Array && big && rt.conv2d(x, w, out, params)) return;
    conv2dKernel(inputs, outputs, params);
  };
  return { matmul, conv2d };
}
