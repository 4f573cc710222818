/**
 * The fused kernels against float64 loops written here: conv2d's implicit GEMM with every tile
 * shape forced, every weight load mode (vec4, one K stride, general strides), strided and
 * flipped images, ragged tiles, 1×1 kernels, C = 0; and adamStep, fused and split in two
 * dispatches (the path of devices with 8 storage buffers per stage).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tensor } from '@ml/tensor';
import { apply, memory, scope, tensor } from '@ml/tensor';
import type { WebGPUBackend } from '../src/index.js';
import { webgpu } from '../src/index.js';
import { rng } from './rng.js';

let gpu: WebGPUBackend;

beforeAll(async () => {
  gpu = await webgpu();
});
afterAll(() => gpu?.destroy());

let seed = 11;
function values(n: number): Float64Array {
  const r = rng(seed++);
  return Float64Array.from({ length: n }, () => Math.fround(r() * 2 - 1));
}

const sizeOf = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

/** A float32 tensor on the GPU holding `data` laid out as `shape`. */
const onGpu = (data: Float64Array, shape: number[]) => tensor(Float32Array.from(data), { shape, backend: gpu });

type Pair = [number, number];

/** out[n,o,y,x] = Σ w[o,c,i,j]·x[n,c,y·sh−ph+i·dh, x·sw−pw+j·dw], zero outside, in float64. */
function convRef(x: Float64Array, xs: number[], w: Float64Array, ws: number[], stride: Pair, pad: Pair, dil: Pair): { data: Float64Array; shape: number[]; scale: Float64Array } {
  const [n, c, h, wd] = xs;
  const [o, , kh, kw] = ws;
  const oh = Math.floor((h + 2 * pad[0] - dil[0] * (kh - 1) - 1) / stride[0]) + 1;
  const ow = Math.floor((wd + 2 * pad[1] - dil[1] * (kw - 1) - 1) / stride[1]) + 1;
  const data = new Float64Array(n * o * oh * ow);
  const scale = new Float64Array(data.length);
  for (let b = 0; b < n; b++)
    for (let f = 0; f < o; f++)
      for (let y = 0; y < oh; y++)
        for (let xx = 0; xx < ow; xx++) {
          let s = 0;
          let a = 0;
          for (let ch = 0; ch < c; ch++)
            for (let i = 0; i < kh; i++)
              for (let j = 0; j < kw; j++) {
                const iy = y * stride[0] - pad[0] + i * dil[0];
                const ix = xx * stride[1] - pad[1] + j * dil[1];
                if (iy < 0 || iy >= h || ix < 0 || ix >= wd) continue;
                const t = w[((f * c + ch) * kh + i) * kw + j] * x[((b * c + ch) * h + iy) * wd + ix];
                s += t;
                a += Math.abs(t);
              }
          const at = ((b * o + f) * oh + y) * ow + xx;
          data[at] = s;
          scale[at] = a;
        }
  return { data, shape: [n, o, oh, ow], scale };
}

async function expectNear(got: Tensor, want: Float64Array, scale: Float64Array, label: string): Promise<void> {
  const g = await got.data();
  expect(g.length, `${label}: size`).toBe(want.length);
  let bad = 0;
  let first = '';
  for (let i = 0; i < want.length; i++) {
    // float32 sums of products: a few ulps of the sum of magnitudes
    if (!(Math.abs(g[i] - want[i]) <= 1e-6 * (scale[i] + 1) * 8)) {
      if (bad++ === 0) first = `[${i}]: got ${g[i]}, want ${want[i]}`;
    }
  }
  if (bad > 0) expect.fail(`${label}: ${bad} of ${want.length} elements differ, first ${first}`);
}

interface ConvCase {
  label: string;
  x: number[];
  w: number[];
  stride?: Pair;
  pad?: Pair;
  dil?: Pair;
  /** How the image and the weight are laid out in their buffers. */
  xLayout?: 'dense' | 'permuted' | 'sliced' | 'flipped';
  wLayout?: 'dense' | 'permuted' | 'offset';
}

/**
 * Builds x (N, C, H, W) and w (O, C, kh, kw) on the GPU with the requested layouts, holding
 * `xv` and `wv` in row-major order.
 */
function build(c: ConvCase, xv: Float64Array, wv: Float64Array): { x: Tensor; w: Tensor } {
  const [n, ch, h, wd] = c.x;
  let x: Tensor;
  switch (c.xLayout ?? 'dense') {
    case 'dense':
      x = onGpu(xv, c.x);
      break;
    case 'permuted': {
      // stored as (N, H, W, C) (channels last), viewed as (N, C, H, W)
      const d = new Float64Array(xv.length);
      for (let b = 0; b < n; b++) for (let k = 0; k < ch; k++) for (let y = 0; y < h; y++) for (let z = 0; z < wd; z++) d[((b * h + y) * wd + z) * ch + k] = xv[((b * ch + k) * h + y) * wd + z];
      x = onGpu(d, [n, h, wd, ch]).permute([0, 3, 1, 2]);
      break;
    }
    case 'sliced': {
      // every other column of a (N, C, H, 2W + 1) image, from column 1
      const d = values(n * ch * h * (2 * wd + 1));
      for (let b = 0; b < n; b++) for (let k = 0; k < ch; k++) for (let y = 0; y < h; y++) for (let z = 0; z < wd; z++) d[((b * ch + k) * h + y) * (2 * wd + 1) + 2 * z + 1] = xv[((b * ch + k) * h + y) * wd + z];
      x = onGpu(d, [n, ch, h, 2 * wd + 1]).slice('..., 1::2');
      break;
    }
    case 'flipped': {
      // rows stored bottom to top
      const d = new Float64Array(xv.length);
      for (let b = 0; b < n; b++) for (let k = 0; k < ch; k++) for (let y = 0; y < h; y++) for (let z = 0; z < wd; z++) d[((b * ch + k) * h + (h - 1 - y)) * wd + z] = xv[((b * ch + k) * h + y) * wd + z];
      x = onGpu(d, c.x).flip(2);
      break;
    }
  }
  const [o, , kh, kw] = c.w;
  let w: Tensor;
  switch (c.wLayout ?? 'dense') {
    case 'dense':
      w = onGpu(wv, c.w);
      break;
    case 'permuted': {
      // stored as (kh, kw, C, O), viewed as (O, C, kh, kw)
      const d = new Float64Array(wv.length);
      for (let f = 0; f < o; f++) for (let k = 0; k < ch; k++) for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) d[((i * kw + j) * ch + k) * o + f] = wv[((f * ch + k) * kh + i) * kw + j];
      w = onGpu(d, [kh, kw, ch, o]).permute([3, 2, 0, 1]);
      break;
    }
    case 'offset': {
      // one element into a longer buffer: dense, but not vec4-aligned
      const d = Float64Array.from([0.5, ...wv]);
      w = onGpu(d, [d.length]).slice('1:').reshape(c.w);
      break;
    }
  }
  return { x, w };
}

const CASES: ConvCase[] = [
  { label: '3×3, C·9 not a multiple of 4 (scalar filter loads), odd sizes', x: [2, 3, 9, 7], w: [5, 3, 3, 3] },
  { label: '3×3, K = 36 (vec4 filter loads), L a multiple of 4', x: [2, 4, 8, 8], w: [20, 4, 3, 3], pad: [1, 1] },
  { label: 'stride 2, padding (2, 1), dilation 2', x: [3, 4, 11, 10], w: [7, 4, 3, 3], stride: [2, 2], pad: [2, 1], dil: [2, 2] },
  { label: 'stride (1, 3), a kernel larger than the stride', x: [1, 2, 7, 13], w: [3, 2, 5, 4], stride: [1, 3] },
  { label: '1×1 with padding and stride 2', x: [2, 6, 5, 6], w: [9, 6, 1, 1], stride: [2, 2], pad: [1, 1] },
  { label: '1×1, channels last', x: [2, 8, 6, 6], w: [12, 8, 1, 1], xLayout: 'permuted' },
  { label: 'channels-last image, (kh, kw, C, O) weight (general filter strides)', x: [2, 3, 6, 7], w: [6, 3, 3, 2], pad: [1, 0], xLayout: 'permuted', wLayout: 'permuted' },
  { label: 'column-sliced image, offset weight', x: [2, 4, 6, 5], w: [5, 4, 2, 2], xLayout: 'sliced', wLayout: 'offset' },
  { label: 'flipped image', x: [1, 2, 6, 6], w: [4, 2, 3, 3], pad: [1, 1], xLayout: 'flipped' },
  { label: 'more filters and pixels than one tile (130 filters, 2 × 144 pixels)', x: [2, 5, 12, 12], w: [130, 5, 3, 3], pad: [1, 1] },
  { label: 'a window as large as the image', x: [3, 2, 4, 5], w: [3, 2, 4, 5] },
];

describe('conv2d (implicit GEMM)', () => {
  const run = (x: Tensor, w: Tensor, c: ConvCase, tile?: string) =>
    apply('conv2d', [x, w], { stride: c.stride ?? [1, 1], padding: c.pad ?? [0, 0], dilation: c.dil ?? [1, 1], ...(tile ? { tile } : {}) }, gpu)[0];

  for (const tile of [undefined, 'T', 'M', 'L']) {
    describe(tile ? `tile ${tile} (forced)` : 'tile chosen by size', () => {
      for (const c of CASES) {
        it(c.label, async () => {
          const xv = values(sizeOf(c.x));
          const wv = values(sizeOf(c.w));
          const want = convRef(xv, c.x, wv, c.w, c.stride ?? [1, 1], c.pad ?? [0, 0], c.dil ?? [1, 1]);
          const before = memory(gpu);
          await scope(async () => {
            const { x, w } = build(c, xv, wv);
            const y = run(x, w, c, tile);
            expect(y.shape).toEqual(want.shape);
            await expectNear(y, want.data, want.scale, `${c.label}, tile ${tile ?? 'auto'}`);
          });
          expect(memory(gpu)).toEqual(before);
        });
      }
    });
  }

  it('C = 0 gives zeros', async () => {
    await scope(async () => {
      const x = tensor(new Float32Array(0), { shape: [2, 0, 4, 4], backend: gpu });
      const w = tensor(new Float32Array(0), { shape: [3, 0, 3, 3], backend: gpu });
      const y = run(x, w, { label: '', x: [], w: [], pad: [1, 1] });
      expect(y.shape).toEqual([2, 3, 4, 4]);
      expect(Array.from(await y.data())).toEqual(new Array(96).fill(0));
    });
  });

  it('an unknown tile is refused', () => {
    scope(() => {
      const x = tensor(new Float32Array(16), { shape: [1, 1, 4, 4], backend: gpu });
      const w = tensor(new Float32Array(4), { shape: [1, 1, 2, 2], backend: gpu });
      expect(() => run(x, w, { label: '', x: [], w: [] }, 'nope')).toThrow('conv2d: unknown tile shape "nope" (one of L, M, T)');
    });
  });
});

describe('adamStep', () => {
  const p = { beta1: 0.9, beta2: 0.99, eps: 1e-6, stepSize: 0.01 / (1 - 0.9 ** 3), vScale: 1 / Math.sqrt(1 - 0.99 ** 3) };

  /** The textbook update in float64. */
  function ref(th: Float64Array, g: Float64Array, m: Float64Array, v: Float64Array, vMax?: Float64Array) {
    const n = th.length;
    const out = { th: new Float64Array(n), m: new Float64Array(n), v: new Float64Array(n), vMax: new Float64Array(n) };
    for (let i = 0; i < n; i++) {
      out.m[i] = p.beta1 * m[i] + (1 - p.beta1) * g[i];
      out.v[i] = p.beta2 * v[i] + (1 - p.beta2) * g[i] * g[i];
      const vh = vMax ? Math.max(vMax[i], out.v[i]) : out.v[i];
      out.vMax[i] = vh;
      out.th[i] = th[i] - (p.stepSize * out.m[i]) / (Math.sqrt(vh) * p.vScale + p.eps);
    }
    return out;
  }

  async function near(t: Tensor, want: Float64Array, label: string): Promise<void> {
    const g = await t.data();
    for (let i = 0; i < want.length; i++) {
      if (!(Math.abs(g[i] - want[i]) <= 1e-5 * (Math.abs(want[i]) + 1e-3))) expect.fail(`${label}[${i}]: got ${g[i]}, want ${want[i]}`);
    }
  }

  for (const split of [false, true]) {
    it(`AMSGrad${split ? ', split in two dispatches' : ''}, strided inputs`, async () => {
      const n = 1000;
      const [th, g, m] = [values(n), values(n), values(n).map(Math.abs)];
      const v = values(n).map((a) => a * a);
      const vMax = v.map((a, i) => (i % 2 ? a * 2 : a / 2));
      const want = ref(th, g, m, v, vMax);
      await scope(async () => {
        // the gradient as every other element of a longer buffer, vMax reversed
        const gBuf = new Float64Array(2 * n);
        g.forEach((a, i) => (gBuf[2 * i] = a));
        const gT = onGpu(gBuf, [2 * n]).slice('::2');
        const vMaxT = onGpu(vMax.slice().reverse(), [n]).flip();
        const outs = apply('adamStep', [onGpu(th, [n]), gT, onGpu(m, [n]), onGpu(v, [n]), vMaxT], { ...p, split }, gpu);
        expect(outs.length).toBe(4);
        await near(outs[0], want.th, 'param');
        await near(outs[1], want.m, 'm');
        await near(outs[2], want.v, 'v');
        await near(outs[3], want.vMax, 'vMax');
      });
    });
  }

  it('plain Adam on a (3, 5) transposed view', async () => {
    const [th, g, m] = [values(15), values(15), values(15)];
    const v = values(15).map((a) => a * a);
    const want = ref(th, g, m, v);
    await scope(async () => {
      const t = new Float64Array(15);
      for (let r = 0; r < 3; r++) for (let c = 0; c < 5; c++) t[c * 3 + r] = th[r * 5 + c];
      const thT = onGpu(t, [5, 3]).transpose();
      const outs = apply('adamStep', [thT, onGpu(g, [3, 5]), onGpu(m, [3, 5]), onGpu(v, [3, 5])], p, gpu);
      expect(outs.map((o) => o.shape)).toEqual([[3, 5], [3, 5], [3, 5]]);
      await near(outs[0], want.th, 'param');
      await near(outs[1], want.m, 'm');
      await near(outs[2], want.v, 'v');
    });
  });
});
