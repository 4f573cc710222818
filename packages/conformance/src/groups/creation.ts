/** Creating tensors on the backend under test: from JS data, constants, ranges, the identity. */
import type { DType } from '@ml/tensor';
import * as T from '@ml/tensor';
import { describe, expect } from 'vitest';
import type { SuiteContext } from '../harness.js';
import { allDtypes, caseIt, evaluate1, expectClose, floatDtypes } from '../harness.js';
import * as R from '../reference.js';

export function creationGroup(ctx: SuiteContext): void {
  describe('creation', () => {
    caseIt(ctx, 'tensor() from nested arrays, scalars and typed arrays', async () => {
      const be = ctx.backend;
      const cases: [string, () => T.Tensor, R.RefArray, DType][] = [
        ['nested float', () => T.tensor([[1, 2, 3], [4, 5, 6]], { backend: be }), R.makeRef([2, 3], [1, 2, 3, 4, 5, 6]), 'float32'],
        ['scalar', () => T.tensor(3.5, { backend: be }), R.scalarRef(3.5), 'float32'],
        ['booleans', () => T.tensor([true, false, true], { backend: be }), R.makeRef([3], [1, 0, 1]), 'bool'],
        ['empty', () => T.tensor([], { backend: be }), R.makeRef([0]), 'float32'],
        ['empty rows', () => T.tensor([[], []], { backend: be }), R.makeRef([2, 0]), 'float32'],
        ['int32 option', () => T.tensor([[1, -2]], { dtype: 'int32', backend: be }), R.makeRef([1, 2], [1, -2]), 'int32'],
        ['Int32Array', () => T.tensor(new Int32Array([5, 6]), { backend: be }), R.makeRef([2], [5, 6]), 'int32'],
        ['Uint8Array', () => T.tensor(new Uint8Array([7, 8]), { backend: be }), R.makeRef([2], [7, 8]), 'uint8'],
        ['flat with shape', () => T.tensor(new Float32Array([1, 2, 3, 4, 5, 6]), { shape: [3, 2], backend: be }), R.makeRef([3, 2], [1, 2, 3, 4, 5, 6]), 'float32'],
        ['bool from numbers', () => T.tensor([0, 2, -1], { dtype: 'bool', backend: be }), R.makeRef([3], [0, 1, 1]), 'bool'],
        ['float64 option', () => T.tensor([0.1, 0.2], { dtype: 'float64', backend: be }), R.makeRef([2], [0.1, 0.2]), 'float64'],
      ];
      for (const [label, make, want, dtype] of cases) {
        if (!ctx.supports(dtype)) continue;
        const got = await evaluate1(be, label, make);
        expectClose(ctx, label, got, want, dtype, { tol: { rtol: 0, atol: 0 } });
      }
    });

    caseIt(ctx, 'zeros, ones, full, *Like, arange, linspace, eye', async () => {
      const be = ctx.backend;
      for (const dtype of allDtypes(ctx)) {
        const cases: [string, () => T.Tensor, R.RefArray][] = [
          ['zeros', () => T.zeros([2, 3], { dtype, backend: be }), R.makeRef([2, 3])],
          ['ones', () => T.ones([3], { dtype, backend: be }), R.makeRef([3], [1, 1, 1])],
          ['full', () => T.full([2, 2], 1, { dtype, backend: be }), R.makeRef([2, 2], [1, 1, 1, 1])],
          ['zeros (0, 3)', () => T.zeros([0, 3], { dtype, backend: be }), R.makeRef([0, 3])],
          ['full 0-d', () => T.full([], 1, { dtype, backend: be }), R.scalarRef(1)],
          ['eye(3)', () => T.eye(3, 3, 0, { dtype, backend: be }), R.makeRef([3, 3], [1, 0, 0, 0, 1, 0, 0, 0, 1])],
          ['eye(2, 4, 1)', () => T.eye(2, 4, 1, { dtype, backend: be }), R.makeRef([2, 4], [0, 1, 0, 0, 0, 0, 1, 0])],
          ['eye(3, 2, -1)', () => T.eye(3, 2, -1, { dtype, backend: be }), R.makeRef([3, 2], [0, 0, 1, 0, 0, 1])],
        ];
        for (const [label, make, want] of cases) {
          const got = await evaluate1(be, `${label}(${dtype})`, make);
          expectClose(ctx, `${label}(${dtype})`, got, want, dtype);
        }
        const x = T.ones([2, 1], { dtype, backend: be });
        for (const [label, make, want] of [
          ['zerosLike', () => T.zerosLike(x), R.makeRef([2, 1])],
          ['onesLike', () => T.onesLike(x), R.makeRef([2, 1], [1, 1])],
          ['fullLike', () => T.fullLike(x, 0), R.makeRef([2, 1])],
        ] as const) {
          const got = await evaluate1(be, `${label}(${dtype})`, make);
          expect(got.dtype).toBe(dtype);
          expectClose(ctx, `${label}(${dtype})`, got, want, dtype);
        }
        x.dispose();
      }
      const ranges: [string, () => T.Tensor, R.RefArray, DType][] = [
        ['arange(5)', () => T.arange(5, undefined, 1, { backend: be }), R.makeRef([5], [0, 1, 2, 3, 4]), 'int32'],
        ['arange(2, 11, 3)', () => T.arange(2, 11, 3, { backend: be }), R.makeRef([3], [2, 5, 8]), 'int32'],
        ['arange(5, 0, -2)', () => T.arange(5, 0, -2, { backend: be }), R.makeRef([3], [5, 3, 1]), 'int32'],
        ['arange(0, 1, 0.25)', () => T.arange(0, 1, 0.25, { backend: be }), R.makeRef([4], [0, 0.25, 0.5, 0.75]), 'float32'],
        ['arange(3, 3)', () => T.arange(3, 3, 1, { backend: be }), R.makeRef([0]), 'int32'],
        ['linspace(0, 1, 5)', () => T.linspace(0, 1, 5, { backend: be }), R.makeRef([5], [0, 0.25, 0.5, 0.75, 1]), 'float32'],
        ['linspace(2, 2, 1)', () => T.linspace(2, 2, 1, { backend: be }), R.makeRef([1], [2]), 'float32'],
        ['linspace(0, 1, 0)', () => T.linspace(0, 1, 0, { backend: be }), R.makeRef([0]), 'float32'],
        ['full(bool)', () => T.full([2], true, { backend: be }), R.makeRef([2], [1, 1]), 'bool'],
      ];
      for (const [label, make, want, dtype] of ranges) {
        if (!ctx.supports(dtype)) continue;
        const got = await evaluate1(be, label, make);
        expectClose(ctx, label, got, want, dtype);
      }
      for (const dtype of floatDtypes(ctx)) {
        const got = await evaluate1(be, `full(NaN, ${dtype})`, () => T.full([2], NaN, { dtype, backend: be }));
        expectClose(ctx, 'full NaN', got, R.makeRef([2], [NaN, NaN]), dtype);
      }
    });

    caseIt(ctx, 'tensors live on the backend they were created on', async () => {
      const x = T.zeros([2], { backend: ctx.backend });
      const y = x.add(1).mul(x);
      expect(y.backend).toBe(ctx.backend);
      expect(x.backend).toBe(ctx.backend);
      expect(T.memory(ctx.backend).backend).toBe(ctx.backend.name);
      x.dispose();
      y.dispose();
    });

    caseIt(ctx, 'dispose frees the buffer once; scope frees what it does not return', async () => {
      const be = ctx.backend;
      const start = T.memory(be);
      const x = T.ones([4], { backend: be });
      expect(T.memory(be).tensors).toBe(start.tensors + 1);
      expect(T.memory(be).buffers).toBe(start.buffers + 1);
      x.dispose();
      x.dispose(); // twice is a no-op
      expect(T.memory(be)).toEqual(start);
      const kept = await T.scope(async () => {
        const a = T.ones([3], { backend: be });
        const b = a.mul(2).add(1).relu().sum();
        await b.data();
        return { b };
      });
      expect(T.memory(be).tensors).toBe(start.tensors + 1);
      expect(Array.from(await kept.b.data())).toEqual([9]);
      kept.b.dispose();
      const inner = T.scope(() => {
        const a = T.ones([3], { backend: be });
        return [T.keep(a.add(1)), a.mul(3)];
      });
      expect(T.memory(be).tensors).toBe(start.tensors + 2);
      for (const t of inner) t.dispose();
      expect(T.memory(be)).toEqual(start);
    }, { scoped: false });
  });
}
