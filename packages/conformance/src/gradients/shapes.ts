/**
 * Gradients of views (reshape, permute, transpose, expand, squeeze, unsqueeze, flatten, flip,
 * diagonal, slice with steps and negative indices), copies and casts, joining and splitting
 * (concat, stack, split, chunk) and pad. View results are compared after `contiguous()`.
 */
import type { Tensor } from '@ml/tensor';
import * as T from '@ml/tensor';
import { describe } from 'vitest';
import { rngFor } from '../harness.js';
import { SLICE_CASES } from '../groups/shapes.js';
import * as R from '../reference.js';
import type { RefArray, RefIndex } from '../reference.js';
import type { GradContext } from './harness.js';
import { checkGradient, describeGrad, drawInputs, gradCase, gradDtypes, layoutAt } from './harness.js';

interface ViewCase {
  readonly label: string;
  readonly shape: readonly number[];
  readonly run: (x: Tensor) => Tensor;
  readonly ref: (x: RefArray) => RefArray;
}

/** NumPy's diagonal: the last dim runs along the diagonal `offset` of dims (a, b). */
function diagonalRef(x: RefArray, offset: number, a: number, b: number): RefArray {
  const rows = x.shape[a];
  const cols = x.shape[b];
  const len = Math.max(0, offset >= 0 ? Math.min(rows, cols - offset) : Math.min(rows + offset, cols));
  const rest = x.shape.map((_, i) => i).filter((i) => i !== a && i !== b);
  const shape = [...rest.map((i) => x.shape[i]), len];
  const out = R.makeRef(shape);
  for (let p = 0; p < out.data.length; p++) {
    const idx = R.unravel(p, shape);
    const k = idx[idx.length - 1];
    const src = new Array<number>(x.shape.length);
    rest.forEach((d, i) => (src[d] = idx[i]));
    src[a] = offset >= 0 ? k : k - offset;
    src[b] = offset >= 0 ? k + offset : k;
    out.data[p] = R.at(x, src);
  }
  return out;
}

const VIEW_CASES: readonly ViewCase[] = [
  { label: 'reshape (2,3,4)->(6,4)', shape: [2, 3, 4], run: (x) => x.reshape([6, 4]), ref: (x) => R.reshape(x, [6, 4]) },
  { label: 'reshape (2,3,4)->(4,-1)', shape: [2, 3, 4], run: (x) => x.reshape([4, -1]), ref: (x) => R.reshape(x, [4, -1]) },
  { label: 'reshape (2,3,4)->(2,1,12,1)', shape: [2, 3, 4], run: (x) => x.reshape([2, 1, 12, 1]), ref: (x) => R.reshape(x, [2, 1, 12, 1]) },
  { label: 'reshape ()->(1,1)', shape: [], run: (x) => x.reshape([1, 1]), ref: (x) => R.reshape(x, [1, 1]) },
  { label: 'permute (2,0,1)', shape: [2, 3, 4], run: (x) => x.permute([2, 0, 1]), ref: (x) => R.permute(x, [2, 0, 1]) },
  { label: 'permute (-1,-3,-2)', shape: [2, 3, 4], run: (x) => x.permute([-1, -3, -2]), ref: (x) => R.permute(x, [2, 0, 1]) },
  { label: 'transpose()', shape: [3, 5], run: (x) => x.transpose(), ref: (x) => R.transpose(x) },
  { label: 'transpose(0, 2)', shape: [2, 3, 4], run: (x) => x.transpose(0, 2), ref: (x) => R.transpose(x, 0, 2) },
  { label: 'expand (3,1)->(2,3,4)', shape: [3, 1], run: (x) => x.expand([2, 3, 4]), ref: (x) => R.expand(x, [2, 3, 4]) },
  { label: 'expand (3,1)->(-1,5)', shape: [3, 1], run: (x) => x.expand([-1, 5]), ref: (x) => R.expand(x, [-1, 5]) },
  { label: 'expand (2,1,3)->(2,4,3)', shape: [2, 1, 3], run: (x) => x.expand([2, 4, 3]), ref: (x) => R.expand(x, [2, 4, 3]) },
  { label: 'broadcastTo ()->(2,2)', shape: [], run: (x) => x.broadcastTo([2, 2]), ref: (x) => R.expand(x, [2, 2]) },
  { label: 'squeeze()', shape: [1, 3, 1, 2], run: (x) => x.squeeze(), ref: (x) => R.squeeze(x) },
  { label: 'squeeze(2)', shape: [1, 3, 1, 2], run: (x) => x.squeeze(2), ref: (x) => R.squeeze(x, 2) },
  { label: 'squeeze([0, -2])', shape: [1, 3, 1, 2], run: (x) => x.squeeze([0, -2]), ref: (x) => R.squeeze(x, [0, -2]) },
  { label: 'unsqueeze(0)', shape: [3, 2], run: (x) => x.unsqueeze(0), ref: (x) => R.unsqueeze(x, 0) },
  { label: 'unsqueeze(-1)', shape: [3, 2], run: (x) => x.unsqueeze(-1), ref: (x) => R.unsqueeze(x, -1) },
  { label: 'flatten()', shape: [2, 3, 4], run: (x) => x.flatten(), ref: (x) => R.flatten(x) },
  { label: 'flatten(1)', shape: [2, 3, 4], run: (x) => x.flatten(1), ref: (x) => R.flatten(x, 1) },
  { label: 'flatten(0, 1)', shape: [2, 3, 4], run: (x) => x.flatten(0, 1), ref: (x) => R.flatten(x, 0, 1) },
  { label: 'flip()', shape: [2, 3, 4], run: (x) => x.flip(), ref: (x) => R.flip(x) },
  { label: 'flip(1)', shape: [2, 3, 4], run: (x) => x.flip(1), ref: (x) => R.flip(x, 1) },
  { label: 'flip([0, -1])', shape: [2, 3, 4], run: (x) => x.flip([0, -1]), ref: (x) => R.flip(x, [0, -1]) },
  { label: 'flip of (0,3)', shape: [0, 3], run: (x) => x.flip(), ref: (x) => R.flip(x) },
  { label: 'diagonal (4,4)', shape: [4, 4], run: (x) => T.diagonal(x), ref: (x) => diagonalRef(x, 0, 0, 1) },
  { label: 'diagonal (3,5) offset 1', shape: [3, 5], run: (x) => T.diagonal(x, 1), ref: (x) => diagonalRef(x, 1, 0, 1) },
  { label: 'diagonal (5,3) offset -2', shape: [5, 3], run: (x) => T.diagonal(x, -2), ref: (x) => diagonalRef(x, -2, 0, 1) },
  { label: 'diagonal (2,4,3) offset -1 axes (1,2)', shape: [2, 4, 3], run: (x) => T.diagonal(x, -1, 1, 2), ref: (x) => diagonalRef(x, -1, 1, 2) },
  { label: 'diagonal (3,2,4) offset 1 axes (2,0)', shape: [3, 2, 4], run: (x) => T.diagonal(x, 1, 2, 0), ref: (x) => diagonalRef(x, 1, 2, 0) },
  { label: 'clone', shape: [2, 3], run: (x) => x.clone(), ref: (x) => x },
  { label: 'contiguous', shape: [2, 3], run: (x) => x.contiguous(), ref: (x) => x },
];

function describeIndex(index: string | readonly RefIndex[]): string {
  return typeof index === 'string' ? `'${index}'` : JSON.stringify(index);
}

export function shapeGradients(ctx: GradContext): void {
  describe('views', () => {
    gradCase(ctx, 'reshape, permute, transpose, expand, squeeze, unsqueeze, flatten, flip, diagonal on several layouts', async () => {
      for (const dtype of gradDtypes(ctx)) {
        const rng = rngFor(ctx, `grad/views/${dtype}`);
        let i = 0;
        for (const c of VIEW_CASES) {
          for (let rep = 0; rep < 3; rep++, i++) {
            const [x] = drawInputs(rng, [c.shape], dtype, [layoutAt(c.shape, i)]);
            await checkGradient(ctx, `${c.label} of ${describeGrad(x)}`, { dtype, inputs: [x], run: (t) => c.run(t).contiguous(), ref: c.ref });
          }
        }
      }
    });

    gradCase(ctx, 'slice: steps, negative indices, ellipsis, new axes, clamped and empty ranges', async () => {
      for (const dtype of gradDtypes(ctx)) {
        const rng = rngFor(ctx, `grad/slice/${dtype}`);
        let i = 0;
        for (const [shape, index] of SLICE_CASES) {
          for (let rep = 0; rep < 2; rep++, i++) {
            const [x] = drawInputs(rng, [shape], dtype, [layoutAt(shape, i)]);
            await checkGradient(ctx, `slice(${describeGrad(x)}, ${describeIndex(index)})`, {
              dtype, inputs: [x], run: (t) => t.slice(index).contiguous(), ref: (a) => R.slice(a, index),
            });
          }
        }
      }
    });

    gradCase(ctx, 'views of views: slice of a flipped, permuted, reshaped tensor', async () => {
      for (const dtype of gradDtypes(ctx)) {
        const rng = rngFor(ctx, `grad/viewchain/${dtype}`);
        const [x] = drawInputs(rng, [[4, 5, 3]], dtype, ['strided']);
        await checkGradient(ctx, `chain(${describeGrad(x)})`, {
          dtype,
          inputs: [x],
          run: (t) => t.flip(1).permute([2, 0, 1]).slice('::-1, 1:, ::2').reshape([3, -1]).mul(t.slice('1:3, ::-2, :').sum()),
          ref: (a) => {
            const v = R.reshape(R.slice(R.permute(R.flip(a, 1), [2, 0, 1]), '::-1, 1:, ::2'), [3, -1]);
            const s = R.sum(R.slice(a, '1:3, ::-2, :')).data[0];
            return R.map(v, (e) => e * s);
          },
        });
      }
    });

    gradCase(ctx, 'cast between float dtypes', async () => {
      if (!ctx.supports('float32') || !ctx.supports('float64')) return;
      for (const [from, to] of [['float32', 'float64'], ['float64', 'float32']] as const) {
        const rng = rngFor(ctx, `grad/cast/${from}`);
        for (const layout of ['contiguous', 'transposed', 'expanded'] as const) {
          const [x] = drawInputs(rng, [[3, 4]], from, [layout]);
          await checkGradient(ctx, `cast(${describeGrad(x)}, ${to})`, {
            dtype: from, inputs: [x], run: (t) => t.cast(to).mul(t.cast(to).sin()), ref: (a) => R.map(a, (v) => v * Math.sin(v)),
          });
        }
      }
    });
  });

  describe('join and split', () => {
    gradCase(ctx, 'concat along each axis, with empty pieces', async () => {
      for (const dtype of gradDtypes(ctx)) {
        const rng = rngFor(ctx, `grad/concat/${dtype}`);
        let i = 0;
        for (const [shapes, axis] of [
          [[[2, 3], [4, 3]], 0],
          [[[2, 3], [2, 1], [2, 0], [2, 2]], 1],
          [[[2, 3], [2, 3]], -1],
          [[[2, 3, 4], [2, 1, 4]], 1],
          [[[5]], 0],
          [[[0, 3], [0, 3]], 0],
        ] as const) {
          const inputs = drawInputs(rng, shapes, dtype, shapes.map((s) => layoutAt(s, i++)));
          await checkGradient(ctx, `concat([${inputs.map(describeGrad).join(', ')}], ${axis})`, {
            dtype, inputs, run: (...ts) => T.concat(ts, axis), ref: (...xs) => R.concat(xs, axis),
          });
        }
      }
    });

    gradCase(ctx, 'stack along each axis', async () => {
      for (const dtype of gradDtypes(ctx)) {
        const rng = rngFor(ctx, `grad/stack/${dtype}`);
        let i = 0;
        for (const shape of [[2, 3], [4], []]) {
          for (let axis = -1; axis <= shape.length; axis++) {
            const inputs = drawInputs(rng, [shape, shape, shape], dtype, [0, 1, 2].map(() => layoutAt(shape, i++)));
            await checkGradient(ctx, `stack(3 x ${describeGrad(inputs[0])}, ${axis})`, {
              dtype, inputs, run: (...ts) => T.stack(ts, axis), ref: (...xs) => R.stack(xs, axis),
            });
          }
        }
      }
    });

    gradCase(ctx, 'split and chunk: every piece gets its own cotangent', async () => {
      for (const dtype of gradDtypes(ctx)) {
        const rng = rngFor(ctx, `grad/split/${dtype}`);
        let i = 0;
        const cases: [readonly number[], number | number[], number][] = [
          [[7, 3], 3, 0],
          [[7, 3], [2, 0, 5], 0],
          [[2, 6], 2, 1],
          [[2, 6], [6], -1],
          [[0, 3], 2, 0],
        ];
        for (const [shape, sizes, axis] of cases) {
          const [x] = drawInputs(rng, [shape], dtype, [layoutAt(shape, i++)]);
          await checkGradient(ctx, `split(${describeGrad(x)}, ${JSON.stringify(sizes)}, ${axis})`, {
            dtype, inputs: [x], run: (t) => t.split(sizes, axis).map((p) => p.contiguous()), ref: (a) => R.split(a, sizes, axis),
          });
        }
        for (const [shape, chunks, axis] of [[[7, 2], 3, 0], [[6], 4, 0], [[2, 5], 5, 1]] as const) {
          const [x] = drawInputs(rng, [shape], dtype, [layoutAt(shape, i++)]);
          await checkGradient(ctx, `chunk(${describeGrad(x)}, ${chunks}, ${axis})`, {
            dtype, inputs: [x], run: (t) => t.chunk(chunks, axis), ref: (a) => R.chunk(a, chunks, axis),
          });
        }
      }
    });

    gradCase(ctx, 'pad with a value on every side', async () => {
      for (const dtype of gradDtypes(ctx)) {
        const rng = rngFor(ctx, `grad/pad/${dtype}`);
        let i = 0;
        const cases: [readonly number[], [number, number][], number][] = [
          [[2, 3], [[1, 0], [2, 1]], 0],
          [[2, 3], [[0, 0], [0, 0]], 0],
          [[4], [[3, 2]], 1.5],
          [[2, 1, 3], [[0, 1], [1, 1], [0, 2]], -1],
          [[0, 2], [[1, 1], [0, 1]], 1],
          [[], [], 0],
        ];
        for (const [shape, pads, value] of cases) {
          const [x] = drawInputs(rng, [shape], dtype, [layoutAt(shape, i++)]);
          await checkGradient(ctx, `pad(${describeGrad(x)}, ${JSON.stringify(pads)}, ${value})`, {
            dtype, inputs: [x], run: (t) => t.pad(pads, value), ref: (a) => R.pad(a, pads, value),
          });
        }
      }
    });
  });
}
