/** Gradients of gather, indexSelect and scatterAdd (repeated indices accumulate), tril/triu. */
import * as T from '@ml/tensor';
import { describe } from 'vitest';
import { rngFor } from '../harness.js';
import * as R from '../reference.js';
import type { Rng } from '../rng.js';
import type { GradContext } from './harness.js';
import { checkGradient, describeGrad, drawInputs, gradCase, gradDtypes, layoutAt } from './harness.js';

/** Random int32 indices in [0, n) of `shape`; the last repeats the first, so some index repeats. */
function indices(rng: Rng, shape: readonly number[], n: number): R.RefArray {
  const values = Array.from({ length: R.sizeOf(shape) }, () => rng.int(0, n - 1));
  if (values.length > 1) values[values.length - 1] = values[0];
  return R.makeRef(shape, values);
}

export function indexingGradients(ctx: GradContext): void {
  describe('gather/indexSelect/scatterAdd', () => {
    gradCase(ctx, 'gather along each axis (repeated indices, index larger than the input)', async () => {
      if (!ctx.supports('int32')) return;
      for (const dtype of gradDtypes(ctx)) {
        const rng = rngFor(ctx, `grad/gather/${dtype}`);
        let i = 0;
        for (const [shape, ishape] of [[[3, 4], [3, 4]], [[3, 4], [2, 6]], [[2, 3, 4], [2, 5, 3]], [[5], [8]], [[3, 4], [0, 4]]] as const) {
          for (let axis = 0; axis < shape.length; axis++) {
            const is = ishape.map((d, k) => (k === axis ? d : Math.min(d, shape[k])));
            const [x] = drawInputs(rng, [shape], dtype, [layoutAt(shape, i++)]);
            const idx = indices(rng, is, shape[axis]);
            await checkGradient(ctx, `gather(${describeGrad(x)}, ${axis}, int32(${is.join(', ')}))`, {
              dtype,
              inputs: [x],
              consts: [{ ref: idx, dtype: 'int32', layout: R.sizeOf(is) > 1 ? 'transposed' : 'contiguous' }],
              run: (t, index) => T.gather(t, axis, index),
              ref: (a) => R.gather(a, axis, idx),
            });
          }
        }
      }
    });

    gradCase(ctx, 'indexSelect with tensor and array indices, repeats allowed', async () => {
      if (!ctx.supports('int32')) return;
      for (const dtype of gradDtypes(ctx)) {
        const rng = rngFor(ctx, `grad/indexSelect/${dtype}`);
        let i = 0;
        for (const shape of [[4, 3], [2, 3, 4], [6]]) {
          for (let axis = -1; axis < shape.length; axis++) {
            const ax = axis < 0 ? axis + shape.length : axis;
            const [x] = drawInputs(rng, [shape], dtype, [layoutAt(shape, i++)]);
            const list = Array.from({ length: rng.int(1, 6) }, () => rng.int(0, shape[ax] - 1));
            list.push(list[0]); // repeated
            const idx = R.makeRef([list.length], list);
            await checkGradient(ctx, `indexSelect(${describeGrad(x)}, ${axis}, tensor[${list}])`, {
              dtype,
              inputs: [x],
              consts: [{ ref: idx, dtype: 'int32', layout: 'flipped' }],
              run: (t, index) => T.indexSelect(t, axis, index),
              ref: (a) => R.indexSelect(a, axis, list),
            });
            await checkGradient(ctx, `indexSelect(${describeGrad(x)}, ${axis}, [${list}])`, {
              dtype, inputs: [x], run: (t) => T.indexSelect(t, axis, list), ref: (a) => R.indexSelect(a, axis, list),
            });
          }
        }
      }
    });

    gradCase(ctx, 'scatterAdd: gradients of the input and of src, repeated indices', async () => {
      if (!ctx.supports('int32')) return;
      for (const dtype of gradDtypes(ctx)) {
        const rng = rngFor(ctx, `grad/scatterAdd/${dtype}`);
        let i = 0;
        for (const [shape, ishape] of [[[3, 4], [5, 4]], [[3, 4], [3, 2]], [[2, 3, 4], [2, 6, 4]], [[4], [9]], [[3, 4], [0, 4]]] as const) {
          for (let axis = 0; axis < shape.length; axis++) {
            const is = ishape.map((d, k) => (k === axis ? d : Math.min(d, shape[k])));
            const inputs = drawInputs(rng, [shape, is], dtype, [layoutAt(shape, i++), layoutAt(is, i + 2)]);
            const idx = indices(rng, is, shape[axis]);
            await checkGradient(ctx, `scatterAdd(${describeGrad(inputs[0])}, ${axis}, int32(${is.join(', ')}), ${describeGrad(inputs[1])})`, {
              dtype,
              inputs,
              consts: [{ ref: idx, dtype: 'int32' }],
              // squared, so that the cotangent reaching x and src depends on where the sums landed
              run: (t, src, index) => T.scatterAdd(t, axis, index, src).square(),
              ref: (a, src) => R.map(R.scatterAdd(a, axis, idx, src), (v) => v * v),
            });
          }
        }
      }
    });
  });

  describe('tril/triu', () => {
    gradCase(ctx, 'tril and triu with diagonal offsets, batched and non-square', async () => {
      for (const dtype of gradDtypes(ctx)) {
        const rng = rngFor(ctx, `grad/tri/${dtype}`);
        let i = 0;
        for (const shape of [[4, 4], [3, 5], [2, 3, 4]]) {
          for (const k of [-1, 0, 2]) {
            const [x] = drawInputs(rng, [shape], dtype, [layoutAt(shape, i++)]);
            await checkGradient(ctx, `tril(${describeGrad(x)}, ${k})`, { dtype, inputs: [x], run: (t) => T.tril(t, k), ref: (a) => R.triangle(a, k, true) });
            await checkGradient(ctx, `triu(${describeGrad(x)}, ${k})`, { dtype, inputs: [x], run: (t) => T.triu(t, k), ref: (a) => R.triangle(a, k, false) });
          }
        }
      }
    });
  });
}
