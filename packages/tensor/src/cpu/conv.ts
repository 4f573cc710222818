/**
 * CPU kernels for sliding windows: im2col (PyTorch's `unfold`) and its adjoint col2im (`fold`).
 *
 * Layout: the columns of an (N, C, H, W) input are (N, C·kh·kw, oh·ow); row c·kh·kw + i·kw + j
 * holds input pixel (oy·sh − ph + i·dh, ox·sw − pw + j·dw) of channel c at column oy·ow + ox.
 *
 * Both kernels walk (n, c, i, j, oy) and run a branch-free inner loop over the range of ox whose
 * input column is inside the image; that range depends only on j, so it is computed once per
 * kernel column. Rows whose input row falls in the padding are filled (im2col) or skipped
 * (col2im) as a whole.
 */
import type { TypedArray } from '../dtype.js';
import { allocArray } from '../dtype.js';
import type { Conv2dParams, Im2colParams } from '../primitives.js';
import type { CpuKernel } from './backend.js';
import { matmulKernel } from './matmul.js';
import { dense } from './strided.js';

/** Below this run length a plain loop beats `TypedArray.set`. */
const SET_THRESHOLD = 32;

interface Geometry {
  n: number;
  c: number;
  h: number;
  w: number;
  kh: number;
  kw: number;
  oh: number;
  ow: number;
  sh: number;
  sw: number;
  ph: number;
  pw: number;
  dh: number;
  dw: number;
  /** For each kernel column j: first ox whose input column is inside the image. */
  oxLo: Int32Array;
  /** For each kernel column j: one past the last ox whose input column is inside the image. */
  oxHi: Int32Array;
}

/** Output positions [lo, hi) along one dim whose input index o·s − p + k·d lies in [0, size). */
function validRange(size: number, out: number, s: number, p: number, kd: number): [number, number] {
  const shift = kd - p; // input index = o·s + shift
  const lo = shift >= 0 ? 0 : Math.ceil(-shift / s);
  const hi = size - 1 - shift < 0 ? 0 : Math.floor((size - 1 - shift) / s) + 1;
  const a = Math.min(lo, out);
  return [a, Math.max(a, Math.min(hi, out))];
}

function geometry(n: number, c: number, h: number, w: number, oh: number, ow: number, p: Im2colParams): Geometry {
  const [kh, kw] = p.kernel;
  const [sh, sw] = p.stride;
  const [ph, pw] = p.padding;
  const [dh, dw] = p.dilation;
  const oxLo = new Int32Array(kw);
  const oxHi = new Int32Array(kw);
  for (let j = 0; j < kw; j++) [oxLo[j], oxHi[j]] = validRange(w, ow, sw, pw, j * dw);
  return { n, c, h, w, kh, kw, oh, ow, sh, sw, ph, pw, dh, dw, oxLo, oxHi };
}

/** Fills `cols` (dense, N·C·kh·kw·oh·ow) from the dense input `src` (N·C·H·W). */
function unfold(src: TypedArray, cols: TypedArray, colsOffset: number, g: Geometry, padValue: number): void {
  const { n, c, h, w, kh, kw, oh, ow, sh, sw, ph, pw, dh, dw, oxLo, oxHi } = g;
  const plane = h * w;
  const l = oh * ow;
  let dst = colsOffset;
  for (let b = 0; b < n * c; b++) {
    const planeBase = b * plane;
    for (let i = 0; i < kh; i++) {
      const rowShift = i * dh - ph;
      for (let j = 0; j < kw; j++) {
        const lo = oxLo[j];
        const hi = oxHi[j];
        const colShift = j * dw - pw;
        if (lo >= hi) {
          cols.fill(padValue, dst, dst + l);
          dst += l;
          continue;
        }
        for (let oy = 0; oy < oh; oy++, dst += ow) {
          const iy = oy * sh + rowShift;
          if (iy < 0 || iy >= h) {
            cols.fill(padValue, dst, dst + ow);
            continue;
          }
          if (lo > 0) cols.fill(padValue, dst, dst + lo);
          // input index of ox is rowBase + ox·sw
          const rowBase = planeBase + iy * w + colShift;
          if (sw === 1) {
            if (hi - lo >= SET_THRESHOLD) {
              cols.set(src.subarray(rowBase + lo, rowBase + hi), dst + lo);
            } else {
              for (let ox = lo; ox < hi; ox++) cols[dst + ox] = src[rowBase + ox];
            }
          } else {
            for (let ox = lo, s = rowBase + lo * sw; ox < hi; ox++, s += sw) cols[dst + ox] = src[s];
          }
          if (hi < ow) cols.fill(padValue, dst + hi, dst + ow);
        }
      }
    }
  }
}

/** Adds the dense columns `cols` into the dense image `img` (N·C·H·W, already zeroed). */
function fold(cols: TypedArray, img: TypedArray, imgOffset: number, g: Geometry): void {
  const { n, c, h, w, kh, kw, oh, ow, sh, sw, ph, pw, dh, dw, oxLo, oxHi } = g;
  const plane = h * w;
  const l = oh * ow;
  let src = 0;
  for (let b = 0; b < n * c; b++) {
    const planeBase = imgOffset + b * plane;
    for (let i = 0; i < kh; i++) {
      const rowShift = i * dh - ph;
      for (let j = 0; j < kw; j++) {
        const lo = oxLo[j];
        const hi = oxHi[j];
        const colShift = j * dw - pw;
        if (lo >= hi) {
          src += l;
          continue;
        }
        for (let oy = 0; oy < oh; oy++, src += ow) {
          const iy = oy * sh + rowShift;
          if (iy < 0 || iy >= h) continue;
          const rowBase = planeBase + iy * w + colShift;
          if (sw === 1) {
            for (let ox = lo; ox < hi; ox++) img[rowBase + ox] += cols[src + ox];
          } else {
            for (let ox = lo, d = rowBase + lo * sw; ox < hi; ox++, d += sw) img[d] += cols[src + ox];
          }
        }
      }
    }
  }
}

/** (N, C, H, W) any strides → (N, C·kh·kw, oh·ow) contiguous; reads `padValue` outside. */
const im2colKernel: CpuKernel = ([x], [out], p: Im2colParams) => {
  const [n, c, h, w] = x.shape;
  const l = out.shape[2];
  const kk = p.kernel[0] * p.kernel[1];
  // oh, ow from the shape rule: l = oh·ow, recomputed here to split it
  const oh = Math.floor((h + 2 * p.padding[0] - p.dilation[0] * (p.kernel[0] - 1) - 1) / p.stride[0]) + 1;
  const ow = l / oh;
  if (n * c * kk * l === 0) return;
  const src = dense(x);
  unfold(src, out.storage, out.offset, geometry(n, c, h, w, oh, ow, p), p.padValue);
};

/** (N, C·kh·kw, oh·ow) any strides → (N, C, H, W) of `size`, summing overlapping windows. */
const col2imKernel: CpuKernel = ([cols], [out], p: Im2colParams & { size: [number, number] }) => {
  const [n, c, h, w] = out.shape;
  const [kh, kw] = p.kernel;
  const oh = Math.floor((h + 2 * p.padding[0] - p.dilation[0] * (kh - 1) - 1) / p.stride[0]) + 1;
  const ow = Math.floor((w + 2 * p.padding[1] - p.dilation[1] * (kw - 1) - 1) / p.stride[1]) + 1;
  const img = out.storage;
  img.fill(0, out.offset, out.offset + n * c * h * w);
  if (cols.shape[0] * cols.shape[1] * cols.shape[2] === 0) return;
  fold(dense(cols), img, out.offset, geometry(n, c, h, w, oh, ow, p));
};

/**
 * conv2d (groups 1): x (N, C, H, W), weight (O, C, kh, kw) → (N, O, oh, ow), as im2col into a
 * scratch buffer then one batched matmul (O, C·kh·kw) · (N, C·kh·kw, oh·ow) with the weight
 * shared across the batch. The reference the WebAssembly kernel is checked against.
 */
export const conv2dKernel: CpuKernel = ([x, w], [out], p: Conv2dParams) => {
  const [n, c] = x.shape;
  const [o, , kh, kw] = w.shape;
  const [, , oh, ow] = out.shape;
  const kk = c * kh * kw;
  const l = oh * ow;
  const window: Im2colParams = { ...p, kernel: [kh, kw], padValue: 0 };
  const cols = allocArray(x.dtype, n * kk * l);
  im2colKernel([x], [{ storage: cols, dtype: x.dtype, shape: [n, kk, l], strides: [kk * l, l, 1], offset: 0 }], window); // (N, kk, L)
  // weight as (N, O, kk) with batch stride 0: every image uses the same filters
  const wv = { storage: dense(w), dtype: w.dtype, shape: [n, o, kk], strides: [0, kk, 1], offset: 0 };
  const colsView = { storage: cols, dtype: x.dtype, shape: [n, kk, l], strides: [kk * l, l, 1], offset: 0 };
  // (N, O, kk) · (N, kk, L) → (N, O, L): the output (N, O, oh, ow) read as (N, O, L)
  matmulKernel([wv, colsView], [{ ...out, shape: [n, o, l], strides: [o * l, l, 1] }], {});
};

export const CONV_KERNELS: Record<string, CpuKernel> = {
  im2col: im2colKernel,
  col2im: col2imKernel,
  conv2d: conv2dKernel,
};
