/** Matrix products: matmul (batched, broadcast, 1-D), dot, outer, einsum. */
import type { Tensor } from '@ml/tensor';
import * as T from '@ml/tensor';
import { describe } from 'vitest';
import type { Input, Layout, SuiteContext } from '../harness.js';
import { allDtypes, caseIt, check, contiguousOf, describeInput, floatDtypes, LAYOUTS, randomInput, rngFor } from '../harness.js';
import * as R from '../reference.js';

/** Operand shapes for matmul: plain, batched, broadcast batch, 1-D on either side, zero-size. */
export const MATMUL_SHAPES: readonly (readonly [readonly number[], readonly number[]])[] = [
  [[3, 4], [4, 5]],
  [[1, 1], [1, 1]],
  [[5, 7], [7, 6]],
  [[2, 3, 4], [2, 4, 5]],
  [[2, 3, 4], [4, 5]],
  [[4, 5], [3, 5, 2]],
  [[2, 1, 3, 4], [5, 4, 2]],
  [[4], [4, 3]],
  [[3, 4], [4]],
  [[4], [4]],
  [[2, 3, 4], [4]],
  [[4], [2, 4, 3]],
  [[0, 4], [4, 3]],
  [[3, 0], [0, 4]],
  [[2, 0, 3], [3, 2]],
];

/** einsum specs with operand shapes. */
export const EINSUM_CASES: readonly (readonly [string, readonly (readonly number[])[]])[] = [
  ['ij,jk->ik', [[3, 4], [4, 5]]],
  ['ij,jk', [[3, 4], [4, 2]]],
  ['bij,bjk->bik', [[2, 3, 4], [2, 4, 5]]],
  ['ii->i', [[4, 4]]],
  ['ii', [[4, 4]]],
  ['ij->ji', [[3, 5]]],
  ['ij->', [[3, 5]]],
  ['ij->j', [[3, 5]]],
  ['i,i->', [[6], [6]]],
  ['i,j->ij', [[3], [4]]],
  ['ij,ij->i', [[3, 4], [3, 4]]],
  ['bhqd,bhkd->bhqk', [[2, 2, 3, 4], [2, 2, 5, 4]]],
  ['ij,jk,kl->il', [[2, 3], [3, 4], [4, 2]]],
  ['ijk->kji', [[2, 3, 4]]],
  ['iij->j', [[3, 3, 2]]],
  ['ij,kj->ik', [[0, 3], [2, 3]]],
];

const cycle = (i: number): Layout => LAYOUTS[i % LAYOUTS.length];

export function productsGroup(ctx: SuiteContext): void {
  describe('matmul', () => {
    caseIt(ctx, 'matmul: batched, broadcast and 1-D operands, every layout', async () => {
      for (const dtype of allDtypes(ctx)) {
        const rng = rngFor(ctx, `matmul/${dtype}`);
        let i = 0;
        for (const [sa, sb] of MATMUL_SHAPES) {
          for (let rep = 0; rep < 3; rep++, i++) {
            const la = R.sizeOf(sa) > 1 ? cycle(i) : 'contiguous';
            const lb = R.sizeOf(sb) > 1 ? cycle(i + 2) : 'contiguous';
            const a: Input = { ref: randomInput(rng, sa, dtype, la), dtype, layout: la };
            const b: Input = { ref: randomInput(rng, sb, dtype, lb), dtype, layout: lb };
            const want = R.matmul(a.ref, b.ref);
            const scale = R.matmul(R.map(a.ref, Math.abs), R.map(b.ref, Math.abs)).data;
            await check(ctx, `matmul(${describeInput(a)}, ${describeInput(b)})`, [a, b], T.matmul, [{ want, dtype: R.arithType(dtype), opts: { scale } }]);
          }
        }
      }
    });

    caseIt(ctx, 'matmul promotes mixed dtypes', async () => {
      const pairs = [['int32', 'float32'], ['uint8', 'int32'], ['bool', 'bool'], ['float32', 'float64']] as const;
      for (const [da, db] of pairs) {
        if (!ctx.supports(da) || !ctx.supports(db)) continue;
        const rng = rngFor(ctx, `matmul-mixed/${da}/${db}`);
        const a: Input = { ref: randomInput(rng, [3, 4], da, 'contiguous'), dtype: da };
        const b: Input = { ref: randomInput(rng, [4, 2], db, 'contiguous'), dtype: db };
        await check(ctx, `matmul(${da}, ${db})`, [a, b], T.matmul, [{ want: R.matmul(a.ref, b.ref), dtype: R.arithType(R.promote(da, db)) }]);
      }
    });

    caseIt(ctx, 'matmul of larger float matrices (blocked kernels, ragged edges)', async () => {
      for (const dtype of floatDtypes(ctx)) {
        const rng = rngFor(ctx, `matmul-large/${dtype}`);
        for (const [m, k, n] of [[17, 33, 9], [64, 64, 64], [1, 130, 3]]) {
          const a: Input = { ref: randomInput(rng, [m, k], dtype, 'contiguous'), dtype };
          const bt = randomInput(rng, [k, n], dtype, 'transposed');
          const bIn: Input = { ref: bt, dtype, layout: 'transposed' };
          const scale = R.matmul(R.map(a.ref, Math.abs), R.map(bt, Math.abs)).data;
          await check(ctx, `matmul(${m}x${k} @ ${k}x${n}, ${dtype})`, [a, bIn], T.matmul, [{ want: R.matmul(a.ref, bt), dtype, opts: { scale } }]);
        }
      }
    });

    caseIt(ctx, 'dot and outer', async () => {
      for (const dtype of allDtypes(ctx)) {
        const rng = rngFor(ctx, `dot/${dtype}`);
        const a: Input = { ref: randomInput(rng, [5], dtype, 'flipped'), dtype, layout: 'flipped' };
        const b: Input = { ref: randomInput(rng, [5], dtype, 'strided'), dtype, layout: 'strided' };
        const c: Input = { ref: randomInput(rng, [3], dtype, 'contiguous'), dtype };
        const m: Input = { ref: randomInput(rng, [5, 2], dtype, 'transposed'), dtype, layout: 'transposed' };
        const out = R.arithType(dtype);
        await check(ctx, `dot(${describeInput(a)}, ${describeInput(b)})`, [a, b], T.dot, [{ want: R.matmul(a.ref, b.ref), dtype: out }]);
        await check(ctx, `dot(${describeInput(a)}, ${describeInput(m)})`, [a, m], T.dot, [{ want: R.matmul(a.ref, m.ref), dtype: out }]);
        await check(ctx, `outer(${describeInput(a)}, ${describeInput(c)})`, [a, c], T.outer, [{ want: R.outer(a.ref, c.ref), dtype: out }]);
      }
    });
  });

  describe('einsum', () => {
    for (const [spec, shapes] of EINSUM_CASES) {
      caseIt(ctx, `einsum('${spec}')`, async () => {
        for (const dtype of [...floatDtypes(ctx), ...(ctx.supports('int32') ? (['int32'] as const) : [])]) {
          const rng = rngFor(ctx, `einsum/${spec}/${dtype}`);
          for (let rep = 0; rep < 2; rep++) {
            const inputs: Input[] = shapes.map((s, i) => {
              const layout = rep === 0 || R.sizeOf(s) < 2 ? 'contiguous' : cycle(i + 1);
              return { ref: randomInput(rng, s, dtype, layout), dtype, layout };
            });
            const want = R.einsum(spec, ...inputs.map((x) => x.ref));
            const scale = R.einsum(spec, ...inputs.map((x) => R.map(x.ref, Math.abs))).data;
            await check(ctx, `einsum('${spec}', ${inputs.map(describeInput).join(', ')})`, inputs, (...ts: Tensor[]) => contiguousOf(T.einsum(spec, ...ts)), [
              { want, dtype, opts: { scale } },
            ]);
          }
        }
      });
    }
  });
}
