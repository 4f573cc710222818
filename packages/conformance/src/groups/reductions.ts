/** Reductions over any axes with keepdims, scans, sorting, top-k, softmax. */
import type { DType, Tensor } from '@ml/tensor';
import * as T from '@ml/tensor';
import { describe } from 'vitest';
import type { Domain, Input, SuiteContext } from '../harness.js';
import { allDtypes, caseIt, check, describeInput, floatDtypes, LAYOUTS, numericDtypes, randomInput, rngFor } from '../harness.js';
import * as R from '../reference.js';
import type { RefArray, RefDType } from '../reference.js';
import type { Rng } from '../rng.js';

type Axes = number | number[] | undefined;

/** (shape, axes) pairs: all, one, negative, several, none, and zero-size shapes. */
export const REDUCE_CASES: readonly (readonly [readonly number[], Axes])[] = [
  [[2, 3, 4], undefined],
  [[2, 3, 4], 0],
  [[2, 3, 4], 1],
  [[2, 3, 4], -1],
  [[2, 3, 4], [0, 2]],
  [[2, 3, 4], [1, 2]],
  [[2, 3, 4], [0, 1]],
  [[2, 3, 4], [-1, 0, 1]],
  [[2, 3, 4], []],
  [[7], 0],
  [[], undefined],
  [[0, 3], 0],
  [[0, 3], 1],
  [[2, 0, 4], [1]],
  [[2, 0, 4], [0, 2]],
];

const fmtAxes = (a: Axes) => (a === undefined ? 'all' : JSON.stringify(a));

interface ReduceCase {
  readonly name: string;
  readonly run: (x: Tensor, axes: Axes, keepdims: boolean) => Tensor;
  readonly ref: (v: number[]) => number;
  readonly dtypes: 'float' | 'numeric' | 'all';
  readonly out: (d: RefDType) => RefDType;
  /** Whether a zero-size reduced dim is an error (no identity). */
  readonly needsElements?: boolean;
  readonly domain?: Domain;
  /** Tolerance scale: the same reduction of |x| (for sums whose terms may cancel). */
  readonly scaled?: boolean;
}

const sumLike = (d: RefDType): RefDType => R.sumType(d);

export const REDUCTIONS: readonly ReduceCase[] = [
  { name: 'sum', run: T.sum, ref: R.sumOf, dtypes: 'all', out: sumLike, scaled: true },
  { name: 'mean', run: T.mean, ref: R.meanOf, dtypes: 'all', out: R.floatOf, scaled: true },
  { name: 'prod', run: T.prod, ref: R.prodOf, dtypes: 'all', out: sumLike, domain: [-1.5, 1.5] },
  { name: 'max', run: T.max, ref: R.maxOf, dtypes: 'all', out: (d) => d, needsElements: true },
  { name: 'min', run: T.min, ref: R.minOf, dtypes: 'all', out: (d) => d, needsElements: true },
  { name: 'var', run: (x, a, k) => T.variance(x, a, k), ref: (v) => R.varianceOf(v, 1), dtypes: 'numeric', out: R.floatOf },
  { name: 'var(correction=0)', run: (x, a, k) => T.variance(x, a, k, 0), ref: (v) => R.varianceOf(v, 0), dtypes: 'float', out: R.floatOf },
  { name: 'std', run: (x, a, k) => T.std(x, a, k), ref: (v) => Math.sqrt(R.varianceOf(v, 1)), dtypes: 'numeric', out: R.floatOf },
  { name: 'std(correction=2)', run: (x, a, k) => T.std(x, a, k, 2), ref: (v) => Math.sqrt(R.varianceOf(v, 2)), dtypes: 'float', out: R.floatOf },
  { name: 'logsumexp', run: T.logsumexp, ref: R.logsumexpOf, dtypes: 'numeric', out: R.floatOf, needsElements: true },
  { name: 'all', run: T.all, ref: (v) => +v.every((x) => x !== 0), dtypes: 'all', out: () => 'bool', domain: [0, 1] },
  { name: 'any', run: T.any, ref: (v) => +v.some((x) => x !== 0), dtypes: 'all', out: () => 'bool', domain: [-1, 0] },
];

function dtypesOf(ctx: SuiteContext, kind: 'float' | 'numeric' | 'all'): DType[] {
  return kind === 'float' ? floatDtypes(ctx) : kind === 'numeric' ? numericDtypes(ctx) : allDtypes(ctx);
}

function hasZeroReduced(shape: readonly number[], axes: Axes): boolean {
  const rank = shape.length;
  const list = axes === undefined ? shape.map((_, i) => i) : typeof axes === 'number' ? [axes] : axes;
  return list.some((a) => shape[a < 0 ? a + rank : a] === 0);
}

/** For `all`/`any`, bias integer and bool inputs so both outcomes occur. */
function inputFor(rng: Rng, c: ReduceCase, shape: readonly number[], dtype: DType, layout: (typeof LAYOUTS)[number]): RefArray {
  if (c.name === 'all' || c.name === 'any') {
    const x = randomInput(rng, shape, dtype, layout, dtype === 'uint8' ? [0, 1] : [-1, 1]);
    // mostly true for `all`, mostly false for `any`, so that the answer varies between groups
    return R.map(x, (v) => (rng.next() < 0.85 ? (c.name === 'all' ? 1 : 0) : v));
  }
  return randomInput(rng, shape, dtype, layout, R.isFloatType(dtype) ? c.domain : c.domain && [Math.ceil(c.domain[0]), Math.floor(c.domain[1])]);
}

export function reductionsGroup(ctx: SuiteContext): void {
  describe('reduce', () => {
    for (const c of REDUCTIONS) {
      caseIt(ctx, `${c.name} over any axes, keepdims`, async () => {
        for (const dtype of dtypesOf(ctx, c.dtypes)) {
          const rng = rngFor(ctx, `${c.name}/${dtype}`);
          for (const [shape, axes] of REDUCE_CASES) {
            if (c.needsElements && hasZeroReduced(shape, axes)) continue;
            for (const keepdims of [false, true]) {
              const layout = LAYOUTS[rng.int(0, LAYOUTS.length - 1)];
              const ref = inputFor(rng, c, shape, dtype, layout);
              const x: Input = { ref, dtype, layout: R.sizeOf(shape) > 1 ? layout : 'contiguous' };
              const want = R.reduce(ref, axes, keepdims, c.ref);
              const scale = c.scaled ? R.reduce(R.map(ref, Math.abs), axes, keepdims, c.ref).data : undefined;
              await check(ctx, `${c.name}(${describeInput(x)}, axes=${fmtAxes(axes)}, keepdims=${keepdims})`, [x], (t) => c.run(t, axes, keepdims), [
                { want, dtype: c.out(dtype), opts: { scale } },
              ]);
            }
          }
        }
      });
    }

    caseIt(ctx, 'max/min/logsumexp special values: NaN propagates, -inf rows', async () => {
      for (const dtype of floatDtypes(ctx)) {
        const x: Input = { ref: R.makeRef([4, 3], [1, NaN, 2, -Infinity, -Infinity, -Infinity, 5, Infinity, 1, -1, -2, -3]), dtype };
        await check(ctx, `max(${dtype})`, [x], (t) => T.max(t, 1), [{ want: R.reduce(x.ref, 1, false, R.maxOf), dtype }]);
        await check(ctx, `min(${dtype})`, [x], (t) => T.min(t, 1), [{ want: R.reduce(x.ref, 1, false, R.minOf), dtype }]);
        await check(ctx, `logsumexp(${dtype})`, [x], (t) => T.logsumexp(t, 1), [{ want: R.reduce(x.ref, 1, false, R.logsumexpOf), dtype }]);
        await check(ctx, `argmax(${dtype})`, [x], (t) => T.argmax(t, 1), [{ want: R.reduce(x.ref, 1, false, (v) => R.argOf(v, true)), dtype: 'int32' }]);
        await check(ctx, `argmin(${dtype})`, [x], (t) => T.argmin(t, 1), [{ want: R.reduce(x.ref, 1, false, (v) => R.argOf(v, false)), dtype: 'int32' }]);
      }
    });

    caseIt(ctx, 'empty reductions: sum 0, prod 1, mean NaN, all true, any false', async () => {
      for (const dtype of floatDtypes(ctx)) {
        const x: Input = { ref: R.makeRef([0, 3]), dtype };
        await check(ctx, `sum(${dtype}(0, 3))`, [x], (t) => T.sum(t), [{ want: R.scalarRef(0), dtype }]);
        await check(ctx, `prod(${dtype}(0, 3))`, [x], (t) => T.prod(t, 0), [{ want: R.makeRef([3], [1, 1, 1]), dtype }]);
        await check(ctx, `mean(${dtype}(0, 3))`, [x], (t) => T.mean(t, 0), [{ want: R.makeRef([3], [NaN, NaN, NaN]), dtype }]);
        await check(ctx, `all(${dtype}(0, 3))`, [x], (t) => T.all(t), [{ want: R.scalarRef(1), dtype: 'bool' }]);
        await check(ctx, `any(${dtype}(0, 3))`, [x], (t) => T.any(t, 0, true), [{ want: R.makeRef([1, 3], [0, 0, 0]), dtype: 'bool' }]);
        const one: Input = { ref: R.makeRef([1, 3], [1, 2, 3]), dtype };
        await check(ctx, `var(${dtype}(1, 3), axis 0)`, [one], (t) => T.variance(t, 0), [{ want: R.makeRef([3], [NaN, NaN, NaN]), dtype }]);
      }
    });
  });

  describe('argmax/argmin', () => {
    caseIt(ctx, 'argmax/argmin along each axis and flattened, first index on ties', async () => {
      for (const dtype of allDtypes(ctx)) {
        const rng = rngFor(ctx, `arg/${dtype}`);
        for (const shape of [[2, 3, 4], [6], [1, 5]]) {
          for (const axis of [undefined, ...shape.map((_, i) => i), -1]) {
            for (const keepdims of [false, true]) {
              const layout = LAYOUTS[rng.int(0, LAYOUTS.length - 1)];
              const ref = randomInput(rng, shape, dtype, layout, dtype === 'uint8' ? [0, 3] : [-2, 2]);
              const x: Input = { ref, dtype, layout };
              for (const isMax of [true, false]) {
                const name = isMax ? 'argmax' : 'argmin';
                const want = R.reduce(ref, axis, keepdims, (v) => R.argOf(v, isMax));
                await check(ctx, `${name}(${describeInput(x)}, axis=${String(axis)}, keepdims=${keepdims})`, [x], (t) => (isMax ? T.argmax(t, axis, keepdims) : T.argmin(t, axis, keepdims)), [
                  { want, dtype: 'int32' },
                ]);
              }
            }
          }
        }
      }
    });
  });

  describe('scans and sorting', () => {
    caseIt(ctx, 'cumsum along each axis', async () => {
      for (const dtype of allDtypes(ctx)) {
        const rng = rngFor(ctx, `cumsum/${dtype}`);
        for (const shape of [[2, 3, 4], [6], [0, 3], [3, 0]]) {
          for (let axis = -1; axis < shape.length; axis++) {
            const layout = LAYOUTS[rng.int(0, LAYOUTS.length - 1)];
            const ref = randomInput(rng, shape, dtype, layout);
            const x: Input = { ref, dtype, layout };
            const scale = R.cumsum(R.map(ref, Math.abs), axis).data;
            await check(ctx, `cumsum(${describeInput(x)}, ${axis})`, [x], (t) => T.cumsum(t, axis), [{ want: R.cumsum(ref, axis), dtype: R.sumType(dtype), opts: { scale } }]);
          }
        }
      }
    });

    caseIt(ctx, 'sort/argsort: stable, ascending and descending, NaN last', async () => {
      for (const dtype of allDtypes(ctx)) {
        const rng = rngFor(ctx, `sort/${dtype}`);
        for (const shape of [[2, 3, 5], [9], [4, 0]]) {
          for (let axis = -1; axis < shape.length; axis++) {
            for (const descending of [false, true]) {
              const layout = LAYOUTS[rng.int(0, LAYOUTS.length - 1)];
              // few distinct values, so ties (and stability) matter
              const ref = randomInput(rng, shape, dtype, layout, dtype === 'uint8' ? [0, 3] : [-2, 2]);
              const x: Input = { ref, dtype, layout };
              const want = R.sort(ref, axis, descending);
              const label = `(${describeInput(x)}, axis=${axis}, descending=${descending})`;
              await check(ctx, `sort${label}`, [x], (t) => T.sort(t, axis, descending), [{ want: want.values, dtype }]);
              await check(ctx, `argsort${label}`, [x], (t) => T.argsort(t, axis, descending), [{ want: want.indices, dtype: 'int32' }]);
            }
          }
        }
      }
      for (const dtype of floatDtypes(ctx)) {
        const x: Input = { ref: R.makeRef([7], [3, NaN, -1, Infinity, -Infinity, NaN, 0]), dtype };
        for (const descending of [false, true]) {
          const want = R.sort(x.ref, 0, descending);
          await check(ctx, `sort(${dtype} with NaN, descending=${descending})`, [x], (t) => [T.sort(t, 0, descending), T.argsort(t, 0, descending)], [
            { want: want.values, dtype },
            { want: want.indices, dtype: 'int32' },
          ]);
        }
      }
    });

    caseIt(ctx, 'topk: largest and smallest, along any axis', async () => {
      for (const dtype of numericDtypes(ctx)) {
        const rng = rngFor(ctx, `topk/${dtype}`);
        for (const [shape, axis, k] of [[[8], 0, 3], [[3, 6], -1, 2], [[3, 6], 0, 3], [[2, 3, 4], 1, 0], [[5], 0, 5]] as const) {
          for (const largest of [true, false]) {
            const layout = LAYOUTS[rng.int(0, LAYOUTS.length - 1)];
            const ref = randomInput(rng, shape, dtype, layout, dtype === 'uint8' ? [0, 4] : [-3, 3]);
            const x: Input = { ref, dtype, layout };
            const want = R.topk(ref, k, axis, largest);
            await check(ctx, `topk(${describeInput(x)}, k=${k}, axis=${axis}, largest=${largest})`, [x], (t) => {
              const r = T.topk(t, k, axis, largest);
              return [r.values, r.indices];
            }, [
              { want: want.values, dtype },
              { want: want.indices, dtype: 'int32' },
            ]);
          }
        }
      }
    });
  });

  describe('softmax', () => {
    caseIt(ctx, 'softmax and logSoftmax along each axis', async () => {
      for (const dtype of [...floatDtypes(ctx), ...(ctx.supports('int32') && ctx.supports('float32') ? (['int32'] as const) : [])]) {
        const rng = rngFor(ctx, `softmax/${dtype}`);
        for (const shape of [[2, 3, 4], [5], [0, 3]]) {
          for (let axis = -1; axis < shape.length; axis++) {
            const layout = LAYOUTS[rng.int(0, LAYOUTS.length - 1)];
            const ref = randomInput(rng, shape, dtype, layout, [-5, 5]);
            const x: Input = { ref, dtype, layout };
            await check(ctx, `softmax(${describeInput(x)}, ${axis})`, [x], (t) => T.softmax(t, axis), [{ want: R.softmax(ref, axis), dtype: R.floatOf(dtype) }]);
            await check(ctx, `logSoftmax(${describeInput(x)}, ${axis})`, [x], (t) => T.logSoftmax(t, axis), [{ want: R.logSoftmax(ref, axis), dtype: R.floatOf(dtype) }]);
          }
        }
      }
      for (const dtype of floatDtypes(ctx)) {
        // large logits must not overflow
        const x: Input = { ref: R.makeRef([2, 3], [1000, 1001, 1002, -1000, -1001, -999]), dtype };
        await check(ctx, `softmax(${dtype} large)`, [x], (t) => T.softmax(t), [{ want: R.softmax(x.ref, -1), dtype }]);
        await check(ctx, `logSoftmax(${dtype} large)`, [x], (t) => T.logSoftmax(t), [{ want: R.logSoftmax(x.ref, -1), dtype, opts: { scale: R.map(x.ref, Math.abs).data } }]);
      }
    });
  });
}
