/** Gradients of reductions over any axes with keepdims, cumsum, softmax/logSoftmax, sort and topk. */
import * as T from '@ml/tensor';
import { describe } from 'vitest';
import { rngFor } from '../harness.js';
import { REDUCE_CASES, REDUCTIONS } from '../groups/reductions.js';
import * as R from '../reference.js';
import type { RefArray } from '../reference.js';
import type { GradContext } from './harness.js';
import { checkGradient, describeGrad, distinct, drawInputs, gradCase, gradDtypes, layoutAt } from './harness.js';

type Axes = number | number[] | undefined;

const fmtAxes = (a: Axes) => (a === undefined ? 'all' : JSON.stringify(a));

/** Reductions with a float result (not all/any). */
export const DIFFERENTIABLE_REDUCTIONS: readonly (typeof REDUCTIONS)[number][] = REDUCTIONS.filter((c) => c.out('float32') === 'float32');

/** Reductions whose derivative jumps where two elements of a group tie. */
const NEEDS_DISTINCT = new Set(['max', 'min']);

function hasZeroReduced(shape: readonly number[], axes: Axes): boolean {
  const list = axes === undefined ? shape.map((_, i) => i) : typeof axes === 'number' ? [axes] : axes;
  return list.some((a) => shape[a < 0 ? a + shape.length : a] === 0);
}

/** Lines along `axis`, as lists of values. */
function lines(x: RefArray, axis: number): number[][] {
  const out: number[][] = [];
  R.forEachLine(x, axis, (pos) => out.push(pos.map((p) => x.data[p])));
  return out;
}

export function reductionGradients(ctx: GradContext): void {
  describe('reduce', () => {
    for (const c of DIFFERENTIABLE_REDUCTIONS) {
      gradCase(ctx, `${c.name} over any axes, keepdims`, async () => {
        for (const dtype of gradDtypes(ctx)) {
          const rng = rngFor(ctx, `grad/${c.name}/${dtype}`);
          let i = 0;
          for (const [shape, axes] of REDUCE_CASES) {
            if (c.needsElements && hasZeroReduced(shape, axes)) continue; // an error, tested elsewhere
            for (const keepdims of [false, true]) {
              const [x] = drawInputs(rng, [shape], dtype, [layoutAt(shape, i++)], {
                domain: c.domain,
                valid: NEEDS_DISTINCT.has(c.name) ? (a) => distinct(R.reduceGroups(a, axes).groups) : undefined,
              });
              const ref = (a: RefArray) => R.reduce(a, axes, keepdims, c.ref);
              // no gradient where the value itself is undefined (an empty max, var of one element)
              if (R.sizeOf(shape) > 0 && !ref(x.ref).data.every(Number.isFinite)) continue;
              await checkGradient(ctx, `${c.name}(${describeGrad(x)}, axes=${fmtAxes(axes)}, keepdims=${keepdims})`, {
                dtype, inputs: [x], run: (t) => c.run(t, axes, keepdims), ref,
              });
            }
          }
        }
      });
    }
  });

  describe('special points', () => {
    gradCase(ctx, 'prod with exact zeros: one zero in a group, two zeros, none', async () => {
      for (const dtype of gradDtypes(ctx)) {
        // rows: no zero, one zero, two zeros, all zeros
        const values = [0.5, -1.25, 2, 0.75, 1.5, 0, -2, 0.5, 0, 1.25, 0, -0.5, 0, 0, 0, 0];
        const x = { ref: R.makeRef([4, 4], values), layout: 'transposed' as const };
        for (const [axes, keepdims] of [[1, false], [0, true], [undefined, false], [[0, 1], true]] as const) {
          await checkGradient(ctx, `prod(zeros ${describeGrad(x)}, axes=${fmtAxes(axes as Axes)}, keepdims=${keepdims})`, {
            dtype, inputs: [x], run: (t) => T.prod(t, axes as Axes, keepdims), ref: (a) => R.reduce(a, axes as Axes, keepdims, R.prodOf),
          });
        }
      }
    });

    gradCase(ctx, 'softmax, logSoftmax and logsumexp of large logits', async () => {
      for (const dtype of gradDtypes(ctx)) {
        const rng = rngFor(ctx, `grad/large-logits/${dtype}`);
        const [x] = drawInputs(rng, [[3, 4]], dtype, ['strided'], { domain: [995, 1005] });
        const [y] = drawInputs(rng, [[3, 4]], dtype, ['flipped'], { domain: [-1005, -995] });
        for (const v of [x, y]) {
          // the differences step h = 1e-6·|x| is large here: allow for their truncation error
          const slack = dtype === 'float64' ? 10 : 1;
          await checkGradient(ctx, `softmax(large ${describeGrad(v)})`, { dtype, inputs: [v], run: (t) => T.softmax(t), ref: (a) => R.softmax(a, -1), slack });
          await checkGradient(ctx, `logSoftmax(large ${describeGrad(v)})`, { dtype, inputs: [v], run: (t) => T.logSoftmax(t, 0), ref: (a) => R.logSoftmax(a, 0), slack });
          await checkGradient(ctx, `logsumexp(large ${describeGrad(v)})`, { dtype, inputs: [v], run: (t) => T.logsumexp(t, 1), ref: (a) => R.reduce(a, 1, false, R.logsumexpOf), slack });
        }
      }
    });
  });

  describe('scans, softmax and sorting', () => {
    gradCase(ctx, 'cumsum along each axis', async () => {
      for (const dtype of gradDtypes(ctx)) {
        const rng = rngFor(ctx, `grad/cumsum/${dtype}`);
        let i = 0;
        for (const shape of [[2, 3, 4], [6], [0, 3]]) {
          for (let axis = -1; axis < shape.length; axis++) {
            const [x] = drawInputs(rng, [shape], dtype, [layoutAt(shape, i++)]);
            await checkGradient(ctx, `cumsum(${describeGrad(x)}, ${axis})`, { dtype, inputs: [x], run: (t) => T.cumsum(t, axis), ref: (a) => R.cumsum(a, axis) });
          }
        }
      }
    });

    gradCase(ctx, 'softmax and logSoftmax along each axis', async () => {
      for (const dtype of gradDtypes(ctx)) {
        const rng = rngFor(ctx, `grad/softmax/${dtype}`);
        let i = 0;
        for (const shape of [[2, 3, 4], [5], [0, 3]]) {
          for (let axis = -1; axis < shape.length; axis++) {
            const [x] = drawInputs(rng, [shape], dtype, [layoutAt(shape, i++)], { domain: [-5, 5] });
            await checkGradient(ctx, `softmax(${describeGrad(x)}, ${axis})`, { dtype, inputs: [x], run: (t) => T.softmax(t, axis), ref: (a) => R.softmax(a, axis) });
            await checkGradient(ctx, `logSoftmax(${describeGrad(x)}, ${axis})`, { dtype, inputs: [x], run: (t) => T.logSoftmax(t, axis), ref: (a) => R.logSoftmax(a, axis) });
          }
        }
      }
    });

    gradCase(ctx, 'sort values, ascending and descending, along each axis', async () => {
      for (const dtype of gradDtypes(ctx)) {
        const rng = rngFor(ctx, `grad/sort/${dtype}`);
        let i = 0;
        for (const shape of [[2, 3, 5], [9]]) {
          for (let axis = -1; axis < shape.length; axis++) {
            for (const descending of [false, true]) {
              const [x] = drawInputs(rng, [shape], dtype, [layoutAt(shape, i++)], { valid: (a) => distinct(lines(a, axis)) });
              await checkGradient(ctx, `sort(${describeGrad(x)}, axis=${axis}, descending=${descending})`, {
                dtype, inputs: [x], run: (t) => T.sort(t, axis, descending), ref: (a) => R.sort(a, axis, descending).values,
              });
            }
          }
        }
      }
    });

    gradCase(ctx, 'topk values: largest and smallest, along any axis', async () => {
      for (const dtype of gradDtypes(ctx)) {
        const rng = rngFor(ctx, `grad/topk/${dtype}`);
        let i = 0;
        for (const [shape, axis, k] of [[[8], 0, 3], [[3, 6], -1, 2], [[3, 6], 0, 3], [[2, 3, 4], 1, 0], [[5], 0, 5], [[2, 3, 4], -1, 2]] as const) {
          for (const largest of [true, false]) {
            const [x] = drawInputs(rng, [shape], dtype, [layoutAt(shape, i++)], { valid: (a) => distinct(lines(a, axis)) });
            await checkGradient(ctx, `topk(${describeGrad(x)}, k=${k}, axis=${axis}, largest=${largest})`, {
              dtype, inputs: [x], run: (t) => T.topk(t, k, axis, largest).values, ref: (a) => R.topk(a, k, axis, largest).values,
            });
          }
        }
      }
    });
  });
}
