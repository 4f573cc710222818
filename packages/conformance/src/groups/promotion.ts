/** The dtype promotion table: tensor pairs, weak JS scalars, bool arithmetic, division, comparisons. */
import type { DType, Tensor } from '@ml/tensor';
import * as T from '@ml/tensor';
import { describe, expect } from 'vitest';
import type { Input, SuiteContext } from '../harness.js';
import { allDtypes, caseIt, check, evaluate1, fromRef, randomInput, rngFor } from '../harness.js';
import * as R from '../reference.js';

/** Values every dtype stores exactly, so the same reference serves every pair. */
function smallValues(dtype: DType, n: number, offset: number): number[] {
  return Array.from({ length: n }, (_, i) => (dtype === 'bool' ? (i + offset) % 2 : (i + offset) % 4));
}

export function promotionGroup(ctx: SuiteContext): void {
  describe('tensor pairs', () => {
    caseIt(ctx, 'add/mul/maximum of every dtype pair follow bool < uint8 < int32 < float32 < float64', async () => {
      for (const da of allDtypes(ctx)) {
        for (const db of allDtypes(ctx)) {
          const a: Input = { ref: R.makeRef([2, 3], smallValues(da, 6, 0)), dtype: da };
          const b: Input = { ref: R.makeRef([3], smallValues(db, 3, 1)), dtype: db };
          const common = R.promote(da, db);
          await check(ctx, `add(${da}, ${db})`, [a, b], T.add, [{ want: R.zipWith([a.ref, b.ref], R.BINARY.add), dtype: R.arithType(common) }]);
          await check(ctx, `mul(${da}, ${db})`, [a, b], T.mul, [{ want: R.zipWith([a.ref, b.ref], R.BINARY.mul), dtype: R.arithType(common) }]);
          await check(ctx, `maximum(${da}, ${db})`, [a, b], T.maximum, [{ want: R.zipWith([a.ref, b.ref], R.BINARY.maximum), dtype: R.arithType(common) }]);
          await check(ctx, `lt(${da}, ${db})`, [a, b], T.lt, [{ want: R.zipWith([a.ref, b.ref], R.BINARY.lt), dtype: 'bool' }]);
          await check(ctx, `logicalOr(${da}, ${db})`, [a, b], T.logicalOr, [{ want: R.zipWith([a.ref, b.ref], R.BINARY.logicalOr), dtype: 'bool' }]);
          const nonzero: Input = { ref: R.map(b.ref, (v) => (v === 0 ? 1 : v)), dtype: db };
          await check(ctx, `div(${da}, ${db})`, [a, nonzero], T.div, [{ want: R.zipWith([a.ref, nonzero.ref], R.BINARY.div), dtype: R.floatOf(common) }]);
        }
      }
    });

    caseIt(ctx, 'bool + bool is int32 arithmetic; bool comparisons and logic stay bool', async () => {
      if (!ctx.supports('bool') || !ctx.supports('int32')) return;
      const a: Input = { ref: R.makeRef([4], [0, 0, 1, 1]), dtype: 'bool' };
      const b: Input = { ref: R.makeRef([4], [0, 1, 0, 1]), dtype: 'bool' };
      await check(ctx, 'add(bool, bool)', [a, b], T.add, [{ want: R.makeRef([4], [0, 1, 1, 2]), dtype: 'int32' }]);
      await check(ctx, 'sub(bool, bool)', [a, b], T.sub, [{ want: R.makeRef([4], [0, -1, 1, 0]), dtype: 'int32' }]);
      await check(ctx, 'mul(bool, bool)', [a, b], T.mul, [{ want: R.makeRef([4], [0, 0, 0, 1]), dtype: 'int32' }]);
      await check(ctx, 'sum(bool)', [a], (t) => T.sum(t), [{ want: R.scalarRef(2), dtype: 'int32' }]);
      await check(ctx, 'eq(bool, bool)', [a, b], T.eq, [{ want: R.makeRef([4], [1, 0, 0, 1]), dtype: 'bool' }]);
      await check(ctx, 'logicalXor(bool, bool)', [a, b], T.logicalXor, [{ want: R.makeRef([4], [0, 1, 1, 0]), dtype: 'bool' }]);
      await check(ctx, 'add(bool, true)', [a], (t) => T.add(t, true), [{ want: R.makeRef([4], [1, 1, 2, 2]), dtype: 'int32' }]);
    });
  });

  describe('weak scalars', () => {
    const cases: [DType, number | boolean, DType][] = [
      ['int32', 2, 'int32'],
      ['int32', 2.5, 'float32'],
      ['int32', -3, 'int32'],
      ['uint8', 2, 'uint8'],
      ['uint8', 300, 'int32'],
      ['uint8', -1, 'int32'],
      ['uint8', 0.5, 'float32'],
      ['bool', 1, 'int32'],
      ['bool', 0.5, 'float32'],
      ['float32', 2, 'float32'],
      ['float32', 2.5, 'float32'],
      ['float32', 1e-40, 'float32'],
      ['float64', 2, 'float64'],
      ['float64', 0.1, 'float64'],
      ['int32', true, 'int32'],
      ['float32', true, 'float32'],
    ];
    caseIt(ctx, 'tensor + scalar and scalar + tensor keep the tensor dtype when the scalar fits', async () => {
      for (const [dtype, s, out] of cases) {
        if (!ctx.supports(dtype) || !ctx.supports(out)) continue;
        const rng = rngFor(ctx, `weak/${dtype}/${s}`);
        const x: Input = { ref: randomInput(rng, [2, 2], dtype, 'contiguous'), dtype };
        const sv = Number(s);
        const want = R.map(x.ref, (v) => v + sv);
        await check(ctx, `add(${dtype}, ${String(s)})`, [x], (t) => T.add(t, s), [{ want, dtype: out }]);
        await check(ctx, `add(${String(s)}, ${dtype})`, [x], (t) => T.add(s, t), [{ want, dtype: out }]);
        await check(ctx, `eq(${dtype}, ${String(s)})`, [x], (t) => T.eq(t, s), [{ want: R.map(x.ref, (v) => +(v === sv)), dtype: 'bool' }]);
      }
    });

    caseIt(ctx, 'dtype of common ops on integer inputs', async () => {
      const rows: [string, (t: Tensor) => Tensor, (d: R.RefDType) => R.RefDType][] = [
        ['div(x, x)', (t) => T.div(t, t), R.floatOf],
        ['div(x, 2)', (t) => T.div(t, 2), R.floatOf],
        ['mean', (t) => T.mean(t), R.floatOf],
        ['sum', (t) => T.sum(t), R.sumType],
        ['prod', (t) => T.prod(t), R.sumType],
        ['max', (t) => T.max(t), (d) => d],
        ['argmax', (t) => T.argmax(t), () => 'int32'],
        ['exp', T.exp, R.floatOf],
        ['softmax', (t) => T.softmax(t), R.floatOf],
        ['cumsum', (t) => T.cumsum(t, 0), R.sumType],
        ['gt(x, 0)', (t) => T.gt(t, 0), () => 'bool'],
        ['matmul', (t) => T.matmul(t, t), R.arithType],
        ['all', (t) => T.all(t), () => 'bool'],
        ['any', (t) => T.any(t), () => 'bool'],
        ['var', (t) => T.variance(t), R.floatOf],
        ['logsumexp', (t) => T.logsumexp(t), R.floatOf],
      ];
      for (const dtype of allDtypes(ctx)) {
        for (const [name, run, out] of rows) {
          if (!ctx.supports(out(dtype))) continue;
          const x = fromRef(ctx.backend, R.makeRef([2, 2], smallValues(dtype, 4, 1)), dtype);
          try {
            const got = await evaluate1(ctx.backend, `${name}(${dtype})`, () => run(x));
            expect(got.dtype, `${name}(${dtype})`).toBe(out(dtype));
          } finally {
            x.dispose();
          }
        }
      }
    });
  });
}
