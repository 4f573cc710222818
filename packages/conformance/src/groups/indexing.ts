/** Indexing: oneHot, tril/triu, gather, indexSelect, scatterAdd. */
import * as T from '@ml/tensor';
import { describe } from 'vitest';
import type { Input, SuiteContext } from '../harness.js';
import { allDtypes, caseIt, check, describeInput, LAYOUTS, numericDtypes, randomInput, rngFor } from '../harness.js';
import * as R from '../reference.js';
import type { Rng } from '../rng.js';

/** Random int32 indices in [0, n) of `shape`. */
function indices(rng: Rng, shape: readonly number[], n: number): R.RefArray {
  return R.makeRef(shape, Array.from({ length: R.sizeOf(shape) }, () => rng.int(0, n - 1)));
}

export function indexingGroup(ctx: SuiteContext): void {
  describe('oneHot', () => {
    caseIt(ctx, 'oneHot of any shape, to any dtype', async () => {
      if (!ctx.supports('int32')) return;
      const rng = rngFor(ctx, 'oneHot');
      for (const shape of [[5], [2, 3], [], [0], [2, 0]]) {
        for (const dtype of allDtypes(ctx)) {
          const idx: Input = { ref: indices(rng, shape, 4), dtype: 'int32', layout: R.sizeOf(shape) > 1 ? 'flipped' : 'contiguous' };
          await check(ctx, `oneHot(${describeInput(idx)}, 4, ${dtype})`, [idx], (t) => T.oneHot(t, 4, dtype), [{ want: R.oneHot(idx.ref, 4), dtype }]);
        }
      }
      const idx: Input = { ref: R.makeRef([3], [2, 0, 1]), dtype: 'int32' };
      await check(ctx, 'oneHot default dtype', [idx], (t) => T.oneHot(t, 3), [{ want: R.oneHot(idx.ref, 3), dtype: 'float32' }]);
    });
  });

  describe('tril/triu', () => {
    caseIt(ctx, 'tril and triu with diagonal offsets, batched and non-square', async () => {
      for (const dtype of numericDtypes(ctx)) {
        const rng = rngFor(ctx, `tri/${dtype}`);
        for (const shape of [[4, 4], [3, 5], [5, 3], [2, 3, 4], [0, 3], [1, 1]]) {
          for (const k of [-2, -1, 0, 1, 3]) {
            const layout = R.sizeOf(shape) > 1 ? LAYOUTS[rng.int(0, LAYOUTS.length - 1)] : 'contiguous';
            const x: Input = { ref: randomInput(rng, shape, dtype, layout), dtype, layout };
            await check(ctx, `tril(${describeInput(x)}, ${k})`, [x], (t) => T.tril(t, k), [{ want: R.triangle(x.ref, k, true), dtype }]);
            await check(ctx, `triu(${describeInput(x)}, ${k})`, [x], (t) => T.triu(t, k), [{ want: R.triangle(x.ref, k, false), dtype }]);
          }
        }
      }
    });
  });

  describe('gather/indexSelect/scatterAdd', () => {
    caseIt(ctx, 'gather along each axis, index smaller than the input', async () => {
      if (!ctx.supports('int32')) return;
      for (const dtype of allDtypes(ctx)) {
        const rng = rngFor(ctx, `gather/${dtype}`);
        for (const [shape, ishape] of [[[3, 4], [3, 4]], [[3, 4], [2, 6]], [[2, 3, 4], [2, 5, 3]], [[5], [8]], [[3, 4], [0, 4]]] as const) {
          for (let axis = 0; axis < shape.length; axis++) {
            // the index may exceed the input only along `axis`
            const is = ishape.map((d, i) => (i === axis ? d : Math.min(d, shape[i])));
            const layout = LAYOUTS[rng.int(0, LAYOUTS.length - 1)];
            const x: Input = { ref: randomInput(rng, shape, dtype, layout), dtype, layout };
            const idx: Input = { ref: indices(rng, is, shape[axis]), dtype: 'int32', layout: R.sizeOf(is) > 1 ? 'transposed' : 'contiguous' };
            await check(ctx, `gather(${describeInput(x)}, ${axis}, ${describeInput(idx)})`, [x, idx], (t, i) => T.gather(t, axis, i), [
              { want: R.gather(x.ref, axis, idx.ref), dtype },
            ]);
          }
        }
      }
    });

    caseIt(ctx, 'indexSelect with tensor and array indices, repeats allowed', async () => {
      if (!ctx.supports('int32')) return;
      for (const dtype of allDtypes(ctx)) {
        const rng = rngFor(ctx, `indexSelect/${dtype}`);
        for (const shape of [[4, 3], [2, 3, 4], [6]]) {
          for (let axis = -1; axis < shape.length; axis++) {
            const ax = axis < 0 ? axis + shape.length : axis;
            const layout = LAYOUTS[rng.int(0, LAYOUTS.length - 1)];
            const x: Input = { ref: randomInput(rng, shape, dtype, layout), dtype, layout };
            const list = Array.from({ length: rng.int(0, 5) }, () => rng.int(0, shape[ax] - 1));
            const idx: Input = { ref: R.makeRef([list.length], list), dtype: 'int32', layout: list.length > 1 ? 'flipped' : 'contiguous' };
            const want = R.indexSelect(x.ref, axis, list);
            await check(ctx, `indexSelect(${describeInput(x)}, ${axis}, tensor[${list}])`, [x, idx], (t, i) => T.indexSelect(t, axis, i), [{ want, dtype }]);
            // an array index: the values are those the flipped index tensor holds in order
            await check(ctx, `indexSelect(${describeInput(x)}, ${axis}, [${list}])`, [x], (t) => T.indexSelect(t, axis, list), [{ want, dtype }]);
          }
        }
      }
    });

    caseIt(ctx, 'scatterAdd accumulates repeated indices', async () => {
      if (!ctx.supports('int32')) return;
      for (const dtype of numericDtypes(ctx)) {
        const rng = rngFor(ctx, `scatterAdd/${dtype}`);
        for (const [shape, ishape] of [[[3, 4], [5, 4]], [[3, 4], [3, 2]], [[2, 3, 4], [2, 6, 4]], [[4], [9]], [[3, 4], [0, 4]]] as const) {
          for (let axis = 0; axis < shape.length; axis++) {
            const is = ishape.map((d, i) => (i === axis ? d : Math.min(d, shape[i])));
            const layout = LAYOUTS[rng.int(0, LAYOUTS.length - 1)];
            const x: Input = { ref: randomInput(rng, shape, dtype, layout), dtype, layout };
            const idx: Input = { ref: indices(rng, is, shape[axis]), dtype: 'int32' };
            const src: Input = { ref: randomInput(rng, is, dtype, 'contiguous', dtype === 'uint8' ? [0, 5] : undefined), dtype, layout: R.sizeOf(is) > 1 ? 'strided' : 'contiguous' };
            const want = R.scatterAdd(x.ref, axis, idx.ref, src.ref);
            const scale = R.scatterAdd(R.map(x.ref, Math.abs), axis, idx.ref, R.map(src.ref, Math.abs)).data;
            await check(ctx, `scatterAdd(${describeInput(x)}, ${axis}, ${describeInput(idx)}, ${describeInput(src)})`, [x, idx, src], (t, i, s) => T.scatterAdd(t, axis, i, s), [
              { want, dtype, opts: { scale } },
            ]);
          }
        }
      }
    });
  });
}
