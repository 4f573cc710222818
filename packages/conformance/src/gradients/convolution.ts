/**
 * Gradients of conv2d/conv1d (stride, padding, 'same', dilation, groups, bias, unbatched),
 * maxPool2d (no ties within a window), avgPool2d (with and without padding in the divisor), and
 * the im2col/col2im primitives they are built on, against the loops in `conv-reference.ts`.
 */
import type { Tensor } from '@ml/tensor';
import * as T from '@ml/tensor';
import { describe } from 'vitest';
import { rngFor } from '../harness.js';
import * as R from '../reference.js';
import type { RefArray } from '../reference.js';
import * as C from './conv-reference.js';
import type { GradContext } from './harness.js';
import { checkGradient, describeGrad, distinct, drawInputs, gradCase, gradDtypes, layoutAt } from './harness.js';

type Pair = readonly [number, number];

interface ConvCase {
  readonly label: string;
  readonly x: readonly number[];
  readonly w: readonly number[];
  readonly bias: boolean;
  readonly opts: T.Conv2dOptions;
  /** The same window for the reference (padding resolved, 'same' split into before/after). */
  readonly win: { padding?: Pair; padAfter?: Pair; stride?: Pair; dilation?: Pair; groups?: number };
}

const CONV_CASES: readonly ConvCase[] = [
  { label: 'plain, bias', x: [2, 3, 5, 5], w: [4, 3, 3, 3], bias: true, opts: {}, win: {} },
  { label: 'stride 2, padding 1', x: [1, 2, 6, 5], w: [3, 2, 3, 2], bias: false, opts: { stride: 2, padding: 1 }, win: { stride: [2, 2], padding: [1, 1] } },
  {
    label: 'groups 2, dilation 2, padding (2, 1), bias', x: [2, 4, 5, 5], w: [4, 2, 3, 3], bias: true,
    opts: { groups: 2, dilation: 2, padding: [2, 1] }, win: { groups: 2, dilation: [2, 2], padding: [2, 1] },
  },
  { label: "depthwise, 'same' with an even kernel", x: [1, 2, 4, 4], w: [2, 1, 2, 2], bias: false, opts: { groups: 2, padding: 'same' }, win: { groups: 2, padding: [0, 0], padAfter: [1, 1] } },
  { label: 'unbatched, padding 1, bias', x: [2, 4, 4], w: [3, 2, 3, 3], bias: true, opts: { padding: 1 }, win: { padding: [1, 1] } },
];

/** Adds a batch dim of 1 for the reference and removes it again (unbatched inputs). */
function batched(x: RefArray, f: (xb: RefArray) => RefArray, rank = 4): RefArray {
  if (x.shape.length === rank) return f(x);
  const y = f(R.makeRef([1, ...x.shape], x.data));
  return R.makeRef(y.shape.slice(1), y.data);
}

interface PoolCase {
  readonly label: string;
  readonly x: readonly number[];
  readonly kernel: Pair;
  readonly stride?: Pair;
  readonly padding?: Pair;
  readonly dilation?: Pair;
  readonly countIncludePad?: boolean;
}

const MAX_POOL_CASES: readonly PoolCase[] = [
  { label: 'kernel 2', x: [2, 3, 4, 4], kernel: [2, 2] },
  { label: 'kernel 3, stride 1, padding 1', x: [1, 2, 5, 5], kernel: [3, 3], stride: [1, 1], padding: [1, 1] },
  { label: 'kernel (2, 3), stride (2, 1), dilation 2', x: [2, 2, 7, 6], kernel: [2, 3], stride: [2, 1], dilation: [2, 2] },
  { label: 'unbatched, kernel 2, stride 1', x: [2, 5, 4], kernel: [2, 2], stride: [1, 1] },
];

const AVG_POOL_CASES: readonly PoolCase[] = [
  { label: 'kernel 2', x: [2, 3, 4, 4], kernel: [2, 2] },
  { label: 'kernel 3, stride 1, padding 1', x: [1, 2, 5, 5], kernel: [3, 3], stride: [1, 1], padding: [1, 1] },
  { label: 'kernel 3, stride 1, padding 1, countIncludePad false', x: [1, 2, 5, 5], kernel: [3, 3], stride: [1, 1], padding: [1, 1], countIncludePad: false },
  { label: 'kernel (2, 3), stride (2, 1), padding 1, countIncludePad false', x: [2, 2, 6, 5], kernel: [2, 3], stride: [2, 1], padding: [1, 1], countIncludePad: false },
  { label: 'unbatched, kernel 2, stride 1', x: [2, 5, 4], kernel: [2, 2], stride: [1, 1] },
];

const windowOf = (c: PoolCase) => ({ kernel: c.kernel, stride: c.stride ?? c.kernel, padding: c.padding, dilation: c.dilation });

export function convolutionGradients(ctx: GradContext): void {
  describe('convolution', () => {
    gradCase(ctx, 'conv2d: input, weight and bias', async () => {
      for (const dtype of gradDtypes(ctx)) {
        const rng = rngFor(ctx, `grad/conv2d/${dtype}`);
        let i = 0;
        for (const c of CONV_CASES) {
          const shapes = [c.x, c.w, ...(c.bias ? [[c.w[0]]] : [])];
          for (let rep = 0; rep < 2; rep++, i++) {
            const inputs = drawInputs(rng, shapes, dtype, shapes.map((s, k) => (rep === 0 ? 'contiguous' : layoutAt(s, i + k))));
            await checkGradient(ctx, `conv2d ${c.label} (${inputs.map(describeGrad).join(', ')})`, {
              dtype,
              inputs,
              run: (x: Tensor, w: Tensor, b?: Tensor) => T.conv2d(x, w, b, c.opts),
              ref: (x, w, b) => batched(x, (x4) => C.conv2d(x4, w, b ?? null, c.win)),
            });
          }
        }
      }
    });

    gradCase(ctx, 'conv1d: stride 2, padding 1, bias', async () => {
      for (const dtype of gradDtypes(ctx)) {
        const rng = rngFor(ctx, `grad/conv1d/${dtype}`);
        for (const layouts of [['contiguous', 'contiguous', 'contiguous'], ['transposed', 'strided', 'contiguous']] as const) {
          const inputs = drawInputs(rng, [[2, 3, 7], [4, 3, 3], [4]], dtype, layouts);
          await checkGradient(ctx, `conv1d(${inputs.map(describeGrad).join(', ')})`, {
            dtype,
            inputs,
            run: (x, w, b) => T.conv1d(x, w, b, { stride: 2, padding: 1 }),
            ref: (x, w, b) => {
              const [n, ci, l] = x.shape;
              const y = C.conv2d(R.makeRef([n, ci, 1, l], x.data), R.makeRef([w.shape[0], w.shape[1], 1, w.shape[2]], w.data), b, { stride: [1, 2], padding: [0, 1] });
              return R.makeRef([y.shape[0], y.shape[1], y.shape[3]], y.data);
            },
          });
        }
      }
    });
  });

  describe('pooling', () => {
    gradCase(ctx, 'maxPool2d (no ties within a window)', async () => {
      for (const dtype of gradDtypes(ctx)) {
        const rng = rngFor(ctx, `grad/maxPool2d/${dtype}`);
        let i = 0;
        for (const c of MAX_POOL_CASES) {
          for (let rep = 0; rep < 2; rep++, i++) {
            const win = windowOf(c);
            const [x] = drawInputs(rng, [c.x], dtype, [rep === 0 ? 'contiguous' : layoutAt(c.x, i)], {
              valid: (a) => distinct(C.poolWindows(a.shape.length === 4 ? a : R.makeRef([1, ...a.shape], a.data), win)),
            });
            await checkGradient(ctx, `maxPool2d ${c.label} (${describeGrad(x)})`, {
              dtype,
              inputs: [x],
              run: (t) => T.maxPool2d(t, c.kernel, { stride: c.stride, padding: c.padding, dilation: c.dilation }),
              ref: (a) => batched(a, (x4) => C.maxPool2d(x4, win)),
            });
          }
        }
      }
    });

    gradCase(ctx, 'avgPool2d (padding counted in the divisor or not)', async () => {
      for (const dtype of gradDtypes(ctx)) {
        const rng = rngFor(ctx, `grad/avgPool2d/${dtype}`);
        let i = 0;
        for (const c of AVG_POOL_CASES) {
          for (let rep = 0; rep < 2; rep++, i++) {
            const [x] = drawInputs(rng, [c.x], dtype, [rep === 0 ? 'contiguous' : layoutAt(c.x, i)]);
            await checkGradient(ctx, `avgPool2d ${c.label} (${describeGrad(x)})`, {
              dtype,
              inputs: [x],
              run: (t) => T.avgPool2d(t, c.kernel, { stride: c.stride, padding: c.padding, countIncludePad: c.countIncludePad }),
              ref: (a) => batched(a, (x4) => C.avgPool2d(x4, { ...windowOf(c), countIncludePad: c.countIncludePad })),
            });
          }
        }
      }
    });
  });

  describe('im2col/col2im', () => {
    gradCase(ctx, 'im2col and col2im with stride, padding and dilation', async () => {
      for (const dtype of gradDtypes(ctx)) {
        const rng = rngFor(ctx, `grad/im2col/${dtype}`);
        const window = { kernel: [2, 3] as Pair, stride: [2, 1] as Pair, padding: [1, 1] as Pair, dilation: [1, 2] as Pair };
        for (const layout of ['contiguous', 'strided', 'expanded'] as const) {
          const [x] = drawInputs(rng, [[2, 2, 5, 6]], dtype, [layout]);
          await checkGradient(ctx, `im2col(${describeGrad(x)})`, {
            dtype, inputs: [x], run: (t) => T.im2col(t, window), ref: (a) => C.im2col(a, window),
          });
        }
        // size (5, 4), kernel 2, stride 1, padding 1: 6·5 = 30 windows of 2·2·2 = 8 taps
        const fold = { kernel: [2, 2] as Pair, padding: [1, 1] as Pair };
        for (const [shape, layout] of [[[1, 8, 30], 'contiguous'], [[2, 8, 30], 'transposed'], [[8, 30], 'flipped']] as const) {
          const [cols] = drawInputs(rng, [shape], dtype, [layout]);
          await checkGradient(ctx, `col2im(${describeGrad(cols)}, (5, 4))`, {
            dtype,
            inputs: [cols],
            run: (t) => T.col2im(t, [5, 4], fold),
            ref: (a) => batched(a, (a3) => C.col2im(a3, [5, 4], fold), 3),
          });
        }
      }
    });
  });
}
