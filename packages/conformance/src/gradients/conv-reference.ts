/**
 * Float64 reference loops for the sliding-window ops, which `reference.ts` does not cover:
 * conv2d, maxPool2d, avgPool2d, im2col and col2im. Like `reference.ts` they never import
 * @ml/tensor: every output element is one explicit loop over its window.
 *
 * Inputs are (N, C, H, W), indexed row-major. Sizes follow PyTorch:
 * out = floor((size + before + after − dilation·(kernel − 1) − 1) / stride) + 1 per spatial dim.
 */
import type { RefArray } from '../reference.js';
import { makeRef } from '../reference.js';

export type Pair = readonly [number, number];

export interface WindowRef {
  readonly kernel: Pair;
  readonly stride?: Pair;
  /** Padding before each spatial dim (and after, unless `padAfter` is given). */
  readonly padding?: Pair;
  /** Padding after each spatial dim when it differs from `padding` ('same' with an even span). */
  readonly padAfter?: Pair;
  readonly dilation?: Pair;
}

interface Window {
  k: Pair;
  s: Pair;
  p: Pair;
  d: Pair;
  oh: number;
  ow: number;
}

function windowOf(h: number, w: number, opts: WindowRef): Window {
  const k = opts.kernel;
  const s = opts.stride ?? [1, 1];
  const p = opts.padding ?? [0, 0];
  const pa = opts.padAfter ?? p;
  const d = opts.dilation ?? [1, 1];
  const oh = Math.floor((h + p[0] + pa[0] - d[0] * (k[0] - 1) - 1) / s[0]) + 1;
  const ow = Math.floor((w + p[1] + pa[1] - d[1] * (k[1] - 1) - 1) / s[1]) + 1;
  return { k, s, p, d, oh, ow };
}

/** The input position read by tap (i, j) of window (oy, ox), or null when it lies in the padding. */
function tap(win: Window, h: number, w: number, oy: number, ox: number, i: number, j: number): [number, number] | null {
  const y = oy * win.s[0] - win.p[0] + i * win.d[0];
  const x = ox * win.s[1] - win.p[1] + j * win.d[1];
  return y >= 0 && y < h && x >= 0 && x < w ? [y, x] : null;
}

/**
 * out[n, o, oy, ox] = bias[o] + Σ_{c, i, j} weight[o, c, i, j] · x[n, g·C_in/groups + c, y, x]
 * over the taps inside the input (padding reads 0), with g the group of output channel o.
 */
export function conv2d(x: RefArray, weight: RefArray, bias: RefArray | null, opts: Omit<WindowRef, 'kernel'> & { groups?: number }): RefArray {
  const [n, cIn, h, w] = x.shape;
  const [cOut, cg, kh, kw] = weight.shape;
  const groups = opts.groups ?? 1;
  const win = windowOf(h, w, { ...opts, kernel: [kh, kw] });
  const out = makeRef([n, cOut, win.oh, win.ow]);
  const perGroup = cOut / groups;
  let p = 0;
  for (let b = 0; b < n; b++) {
    for (let o = 0; o < cOut; o++) {
      const g = Math.floor(o / perGroup);
      for (let oy = 0; oy < win.oh; oy++) {
        for (let ox = 0; ox < win.ow; ox++) {
          let acc = bias ? bias.data[o] : 0;
          for (let c = 0; c < cg; c++) {
            for (let i = 0; i < kh; i++) {
              for (let j = 0; j < kw; j++) {
                const pos = tap(win, h, w, oy, ox, i, j);
                if (pos) acc += weight.data[((o * cg + c) * kh + i) * kw + j] * x.data[((b * cIn + g * cg + c) * h + pos[0]) * w + pos[1]];
              }
            }
          }
          out.data[p++] = acc;
        }
      }
    }
  }
  return out;
}

/** out[n, c, oy, ox] = the largest value among the window's taps inside the input. */
export function maxPool2d(x: RefArray, opts: WindowRef): RefArray {
  return pool(x, opts, (values) => values.reduce((a, b) => Math.max(a, b), -Infinity));
}

/**
 * out[n, c, oy, ox] = Σ taps inside the input / D, with D = kh·kw when `countIncludePad`, else the
 * number of taps inside the input.
 */
export function avgPool2d(x: RefArray, opts: WindowRef & { countIncludePad?: boolean }): RefArray {
  const taps = opts.kernel[0] * opts.kernel[1];
  const include = opts.countIncludePad ?? true;
  return pool(x, opts, (values) => values.reduce((a, b) => a + b, 0) / (include ? taps : values.length));
}

/** The values each pooling window sees inside the input, per output element (for tie checks). */
export function poolWindows(x: RefArray, opts: WindowRef): number[][] {
  const windows: number[][] = [];
  pool(x, opts, (values) => {
    windows.push(values);
    return 0;
  });
  return windows;
}

function pool(x: RefArray, opts: WindowRef, f: (values: number[]) => number): RefArray {
  const [n, c, h, w] = x.shape;
  const win = windowOf(h, w, opts);
  const out = makeRef([n, c, win.oh, win.ow]);
  let p = 0;
  for (let b = 0; b < n; b++) {
    for (let ch = 0; ch < c; ch++) {
      for (let oy = 0; oy < win.oh; oy++) {
        for (let ox = 0; ox < win.ow; ox++) {
          const values: number[] = [];
          for (let i = 0; i < win.k[0]; i++) {
            for (let j = 0; j < win.k[1]; j++) {
              const pos = tap(win, h, w, oy, ox, i, j);
              if (pos) values.push(x.data[((b * c + ch) * h + pos[0]) * w + pos[1]]);
            }
          }
          out.data[p++] = f(values);
        }
      }
    }
  }
  return out;
}

/**
 * (N, C, H, W) → (N, C·kh·kw, oh·ow): row c·kh·kw + i·kw + j, column oy·ow + ox holds the value of
 * tap (i, j) of window (oy, ox) in channel c, or `padValue` where the tap lies in the padding.
 */
export function im2col(x: RefArray, opts: WindowRef & { padValue?: number }): RefArray {
  const [n, c, h, w] = x.shape;
  const win = windowOf(h, w, opts);
  const [kh, kw] = win.k;
  const l = win.oh * win.ow;
  const out = makeRef([n, c * kh * kw, l]);
  for (let b = 0; b < n; b++) {
    for (let ch = 0; ch < c; ch++) {
      for (let i = 0; i < kh; i++) {
        for (let j = 0; j < kw; j++) {
          const row = ch * kh * kw + i * kw + j;
          for (let oy = 0; oy < win.oh; oy++) {
            for (let ox = 0; ox < win.ow; ox++) {
              const pos = tap(win, h, w, oy, ox, i, j);
              out.data[(b * c * kh * kw + row) * l + oy * win.ow + ox] = pos ? x.data[((b * c + ch) * h + pos[0]) * w + pos[1]] : (opts.padValue ?? 0);
            }
          }
        }
      }
    }
  }
  return out;
}

/** The adjoint of {@link im2col}: adds every column entry into the pixel its tap reads. */
export function col2im(cols: RefArray, size: Pair, opts: WindowRef): RefArray {
  const [n, rows, l] = cols.shape;
  const [h, w] = size;
  const win = windowOf(h, w, opts);
  const [kh, kw] = win.k;
  const c = rows / (kh * kw);
  const out = makeRef([n, c, h, w]);
  for (let b = 0; b < n; b++) {
    for (let ch = 0; ch < c; ch++) {
      for (let i = 0; i < kh; i++) {
        for (let j = 0; j < kw; j++) {
          const row = ch * kh * kw + i * kw + j;
          for (let oy = 0; oy < win.oh; oy++) {
            for (let ox = 0; ox < win.ow; ox++) {
              const pos = tap(win, h, w, oy, ox, i, j);
              if (pos) out.data[((b * c + ch) * h + pos[0]) * w + pos[1]] += cols.data[(b * rows + row) * l + oy * win.ow + ox];
            }
          }
        }
      }
    }
  }
  return out;
}
