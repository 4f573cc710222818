/**
 * CPU kernels that run on the WebAssembly runtime when it pays: float32 operands above a size
 * threshold. Below it, or for other dtypes, the TypeScript kernel runs (the reference).
 */
import type { Conv2dParams } from '../../primitives.js';
import type { CpuKernel } from '../backend.js';
import { conv2dKernel } from '../conv.js';
import { matmulKernel } from '../matmul.js';
import { CPU_KERNELS } from '../kernels.js';
import { isDense } from '../strided.js';
import { WASM_REDUCE, WASM_UNARY } from './runtime.js';
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
  const kernels: Record<string, CpuKernel> = { matmul, conv2d };
  for (const op of Object.keys(WASM_UNARY) as (keyof typeof WASM_UNARY)[]) {
    const fallback = CPU_KERNELS[op];
    kernels[op] = (inputs, outputs, params) => {
      const out = outputs[0].storage;
      if (inputs[0].dtype === 'float32' && out instanceof Float32Array && out.length >= rt.minElements && rt.unary(op, inputs[0], out)) return;
      fallback(inputs, outputs, params);
    };
  }
  for (const op of Object.keys(WASM_REDUCE) as (keyof typeof WASM_REDUCE)[]) {
    const fallback = CPU_KERNELS[op];
    kernels[op] = (inputs, outputs, params: { axes: number[] }) => {
      const [x] = inputs;
      const out = outputs[0].storage;
      // the reduced axes must be the trailing ones of a dense input: rows of length r
      const { axes } = params;
      const trailing = axes.length > 0 && axes.every((a, i) => a === x.shape.length - axes.length + i);
      const r = axes.reduce((acc, a) => acc * x.shape[a], 1);
      if (x.dtype === 'float32' && out instanceof Float32Array && trailing && r > 0 && isDense(x) &&
          out.length * r >= rt.minElements && rt.reduceRows(op, x.storage.subarray(x.offset, x.offset + out.length * r), out.length, r, out)) return;
      fallback(inputs, outputs, params);
    };
  }
  for (const op of ['softmax', 'logSoftmax']) {
    const fallback = CPU_KERNELS[op];
    kernels[op] = (inputs, outputs, params: { axis: number }) => {
      const [x] = inputs;
      const out = outputs[0].storage;
      const r = x.shape[params.axis];
      // rows along the last axis of a dense input
      if (x.dtype === 'float32' && out instanceof Float32Array && params.axis === x.shape.length - 1 && isDense(x) &&
          out.length >= rt.minElements && rt.softmaxRows(op === 'logSoftmax', x.storage.subarray(x.offset, x.offset + out.length), out.length / r, r, out)) return;
      fallback(inputs, outputs, params);
    };
  }
  const adamFallback = CPU_KERNELS.adamStep;
  kernels.adamStep = (inputs, outputs, params) => {
    const outs = outputs.map((o) => o.storage);
    const f32 = inputs.every((v) => v.dtype === 'float32') && outs.every((o) => o instanceof Float32Array);
    if (f32 && outs[0].length >= rt.minElements && rt.adamStep(inputs, outs as Float32Array[], params)) return;
    adamFallback(inputs, outputs, params);
  };
  return kernels;
}
