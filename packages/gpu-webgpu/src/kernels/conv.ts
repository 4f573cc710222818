/**
 * WGSL kernels of the sliding-window primitives: im2col (PyTorch's `unfold`) and col2im (`fold`),
 * and conv2d, im2col fused into a matmul (an implicit GEMM, in conv2d.ts).
 *
 * im2col and col2im use the CPU backend's layout: the columns of an (N, C, H, W) input are
 * (N, C·kh·kw, oh·ow), row c·kh·kw + i·kw + j holding input pixel (oy·sh − ph + i·dh,
 * ox·sw − pw + j·dw) of channel c at column oy·ow + ox.
 *
 * Both read their input through its offset and strides (no copy) and write a dense output, one
 * thread per output element:
 * - im2col: each thread reads its one input pixel, or `padValue` outside the image. padValue
 *   travels as the bits of the output dtype's stored value (a float32's bit pattern, so −∞ and
 *   NaN survive the i32 info buffer);
 * - col2im: each thread gathers the column entries that map to its image pixel and sums them in
 *   the CPU kernel's order (kernel row i, then kernel column j, ascending), so no atomics are
 *   needed and float32 results match the CPU bit for bit.
 */
import type { DType, Im2colParams } from '@ml/tensor';
import type { GpuKernel } from '../backend.js';
import { workgroupsFor } from '../backend.js';
import { bindings, entry, storageType } from '../wgsl.js';
import { conv2dKernel } from './conv2d.js';

/** The 32 bits stored for `value` in `dtype` (as the CPU's typed-array store converts it). */
function storedBits(dtype: DType, value: number): number {
  const t = storageType(dtype);
  if (t === 'f32') return new Int32Array(new Float32Array([value]).buffer)[0];
  if (t === 'i32') return new Int32Array([value])[0];
  return new Uint8Array([value])[0];
}

/** Window geometry meta words 1–12: [kh, kw, sh, sw, ph, pw, dh, dw, oh, ow, H, W]. */
function windowMeta(p: Im2colParams, oh: number, ow: number, h: number, w: number): number[] {
  return [p.kernel[0], p.kernel[1], p.stride[0], p.stride[1], p.padding[0], p.padding[1], p.dilation[0], p.dilation[1], oh, ow, h, w];
}

const WINDOW_WGSL = `
  let kh = info[1];
  let kw = info[2];
  let sh = info[3];
  let sw = info[4];
  let ph = info[5];
  let pw = info[6];
  let dh = info[7];
  let dw = info[8];
  let oh = info[9];
  let ow = info[10];
  let H = info[11];
  let W = info[12];`;

/** (N, C, H, W) any strides → (N, C·kh·kw, oh·ow) dense; reads `padValue` outside the image. */
const im2colKernel: GpuKernel = (gpu, [x], [out], p: Im2colParams) => {
  const [, c, h, w] = x.shape;
  const l = out.shape[2];
  const oh = Math.floor((h + 2 * p.padding[0] - p.dilation[0] * (p.kernel[0] - 1) - 1) / p.stride[0]) + 1;
  const ow = l / oh;
  const total = out.shape.reduce((a, b) => a * b, 1);
  const t = storageType(out.dtype);
  const pad = t === 'f32' ? 'bitcast<f32>(info[14])' : t === 'i32' ? 'info[14]' : 'u32(info[14])';
  gpu.dispatch({
    op: 'im2col',
    key: `im2col|${t}`,
    code: () => `${bindings([x.dtype], [out.dtype], true)}
${entry()}
  if (i >= u32(info[0])) { return; }
${WINDOW_WGSL}
  let C = info[13];
  let L = u32(oh * ow);
  let rows = u32(C * kh * kw);
  let col = i32(i % L);
  let row = i32((i / L) % rows);
  let n = i32(i / (L * rows));
  let c = row / (kh * kw);
  let tap = row % (kh * kw);
  let iy = (col / ow) * sh - ph + (tap / kw) * dh;
  let ix = (col % ow) * sw - pw + (tap % kw) * dw;
  var v = ${pad};
  if (iy >= 0 && iy < H && ix >= 0 && ix < W) {
    v = in0[u32(info[15] + n * info[16] + c * info[17] + iy * info[18] + ix * info[19])];
  }
  out0[i] = v;
}`,
    inputs: [x.storage],
    outputs: [out.storage],
    meta: [total, ...windowMeta(p, oh, ow, h, w), c, storedBits(out.dtype, p.padValue), x.offset, ...x.strides],
    workgroups: workgroupsFor(total),
  });
};

/** (N, C·kh·kw, oh·ow) any strides → (N, C, H, W) dense of `size`, summing overlapping windows. */
const col2imKernel: GpuKernel = (gpu, [cols], [out], p: Im2colParams & { size: [number, number] }) => {
  const [, c, h, w] = out.shape;
  const [kh, kw] = p.kernel;
  const oh = Math.floor((h + 2 * p.padding[0] - p.dilation[0] * (kh - 1) - 1) / p.stride[0]) + 1;
  const ow = Math.floor((w + 2 * p.padding[1] - p.dilation[1] * (kw - 1) - 1) / p.stride[1]) + 1;
  const total = out.shape.reduce((a, b) => a * b, 1);
  const t = storageType(out.dtype);
  const zero = t === 'f32' ? '0.0' : t === 'i32' ? '0' : '0u';
  gpu.dispatch({
    op: 'col2im',
    key: `col2im|${t}`,
    code: () => `${bindings([cols.dtype], [out.dtype], true)}
${entry()}
  if (i >= u32(info[0])) { return; }
${WINDOW_WGSL}
  let C = u32(info[13]);
  let x = i32(i % u32(W));
  let y = i32((i / u32(W)) % u32(H));
  let c = i32((i / u32(W * H)) % C);
  let n = i32(i / (u32(W * H) * C));
  let base = info[14] + n * info[15] + c * kh * kw * info[16];
  var acc = ${zero};
  for (var ki = 0; ki < kh; ki++) {
    // window row oy reads image row y when oy·sh = y + ph − ki·dh
    let ty = y + ph - ki * dh;
    if (ty < 0) { break; } // ty only decreases with ki
    if (ty % sh != 0 || ty / sh >= oh) { continue; }
    let oy = ty / sh;
    for (var kj = 0; kj < kw; kj++) {
      let tx = x + pw - kj * dw;
      if (tx < 0) { break; }
      if (tx % sw != 0 || tx / sw >= ow) { continue; }
      let ox = tx / sw;
      acc = acc + in0[u32(base + (ki * kw + kj) * info[16] + (oy * ow + ox) * info[17])];
    }
  }
  out0[i] = ${t === 'u32' ? '(acc & 255u)' : 'acc'};
}`,
    inputs: [cols.storage],
    outputs: [out.storage],
    meta: [total, ...windowMeta(p, oh, ow, h, w), c, cols.offset, ...cols.strides],
    workgroups: workgroupsFor(total),
  });
};

export const CONV_KERNELS: Record<string, GpuKernel> = {
  im2col: im2colKernel,
  col2im: col2imKernel,
  conv2d: conv2dKernel,
};
