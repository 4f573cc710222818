/**
 * Shapes and views (reshape, permute, transpose, expand, squeeze, unsqueeze, flatten, flip, slice),
 * joining and splitting (concat, stack, split, chunk), pad, and casts between every dtype pair.
 * View results are compared after `contiguous()`.
 */
import type { DType, Tensor } from '@ml/tensor';
import * as T from '@ml/tensor';
import { describe, expect } from 'vitest';
import type { Input, Layout, SuiteContext } from '../harness.js';
import { allDtypes, caseIt, check, contiguousOf, describeInput, evaluate1, fromRef, LAYOUTS, randomInput, rngFor } from '../harness.js';
import * as R from '../reference.js';
import type { RefIndex } from '../reference.js';

const cycle = (i: number): Layout => LAYOUTS[i % LAYOUTS.length];

/** A view op case: input shape, the call, and the reference. */
interface ViewCase {
  readonly label: string;
  readonly shape: readonly number[];
  readonly run: (x: Tensor) => Tensor;
  readonly ref: (x: R.RefArray) => R.RefArray;
}

const VIEW_CASES: readonly ViewCase[] = [
  { label: 'reshape (2,3,4)->(6,4)', shape: [2, 3, 4], run: (x) => x.reshape([6, 4]), ref: (x) => R.reshape(x, [6, 4]) },
  { label: 'reshape (2,3,4)->(4,-1)', shape: [2, 3, 4], run: (x) => x.reshape([4, -1]), ref: (x) => R.reshape(x, [4, -1]) },
  { label: 'reshape (2,3,4)->(24,)', shape: [2, 3, 4], run: (x) => x.reshape([24]), ref: (x) => R.reshape(x, [24]) },
  { label: 'reshape (2,3,4)->(2,1,12,1)', shape: [2, 3, 4], run: (x) => x.reshape([2, 1, 12, 1]), ref: (x) => R.reshape(x, [2, 1, 12, 1]) },
  { label: 'reshape ()->(1,1)', shape: [], run: (x) => x.reshape([1, 1]), ref: (x) => R.reshape(x, [1, 1]) },
  { label: 'reshape (0,3)->(3,0,5)', shape: [0, 3], run: (x) => x.reshape([3, 0, 5]), ref: (x) => R.reshape(x, [3, 0, 5]) },
  { label: 'permute (2,0,1)', shape: [2, 3, 4], run: (x) => x.permute([2, 0, 1]), ref: (x) => R.permute(x, [2, 0, 1]) },
  { label: 'permute (-1,-3,-2)', shape: [2, 3, 4], run: (x) => x.permute([-1, -3, -2]), ref: (x) => R.permute(x, [2, 0, 1]) },
  { label: 'transpose()', shape: [3, 5], run: (x) => x.transpose(), ref: (x) => R.transpose(x) },
  { label: 'transpose(0, 2)', shape: [2, 3, 4], run: (x) => x.transpose(0, 2), ref: (x) => R.transpose(x, 0, 2) },
  { label: 'transpose() of 1-D', shape: [4], run: (x) => x.transpose(), ref: (x) => x },
  { label: 'expand (3,1)->(2,3,4)', shape: [3, 1], run: (x) => x.expand([2, 3, 4]), ref: (x) => R.expand(x, [2, 3, 4]) },
  { label: 'expand (3,1)->(-1,5)', shape: [3, 1], run: (x) => x.expand([-1, 5]), ref: (x) => R.expand(x, [-1, 5]) },
  { label: 'broadcastTo ()->(2,2)', shape: [], run: (x) => x.broadcastTo([2, 2]), ref: (x) => R.expand(x, [2, 2]) },
  { label: 'squeeze()', shape: [1, 3, 1, 2], run: (x) => x.squeeze(), ref: (x) => R.squeeze(x) },
  { label: 'squeeze(2)', shape: [1, 3, 1, 2], run: (x) => x.squeeze(2), ref: (x) => R.squeeze(x, 2) },
  { label: 'squeeze([0, -2])', shape: [1, 3, 1, 2], run: (x) => x.squeeze([0, -2]), ref: (x) => R.squeeze(x, [0, -2]) },
  { label: 'unsqueeze(0)', shape: [3, 2], run: (x) => x.unsqueeze(0), ref: (x) => R.unsqueeze(x, 0) },
  { label: 'unsqueeze(-1)', shape: [3, 2], run: (x) => x.unsqueeze(-1), ref: (x) => R.unsqueeze(x, -1) },
  { label: 'unsqueeze(1)', shape: [3, 2], run: (x) => x.unsqueeze(1), ref: (x) => R.unsqueeze(x, 1) },
  { label: 'flatten()', shape: [2, 3, 4], run: (x) => x.flatten(), ref: (x) => R.flatten(x) },
  { label: 'flatten(1)', shape: [2, 3, 4], run: (x) => x.flatten(1), ref: (x) => R.flatten(x, 1) },
  { label: 'flatten(0, 1)', shape: [2, 3, 4], run: (x) => x.flatten(0, 1), ref: (x) => R.flatten(x, 0, 1) },
  { label: 'flatten() of 0-d', shape: [], run: (x) => x.flatten(), ref: (x) => R.flatten(x) },
  { label: 'flip()', shape: [2, 3, 4], run: (x) => x.flip(), ref: (x) => R.flip(x) },
  { label: 'flip(1)', shape: [2, 3, 4], run: (x) => x.flip(1), ref: (x) => R.flip(x, 1) },
  { label: 'flip([0, -1])', shape: [2, 3, 4], run: (x) => x.flip([0, -1]), ref: (x) => R.flip(x, [0, -1]) },
  { label: 'flip of (0,3)', shape: [0, 3], run: (x) => x.flip(), ref: (x) => R.flip(x) },
  { label: 'clone', shape: [2, 3], run: (x) => x.clone(), ref: (x) => x },
  { label: 'contiguous', shape: [2, 3], run: (x) => x.contiguous(), ref: (x) => x },
];

/** Slice specs, as strings and as entry arrays. */
export const SLICE_CASES: readonly (readonly [readonly number[], string | readonly RefIndex[]])[] = [
  [[5, 6], '1:3'],
  [[5, 6], '::2, ::-1'],
  [[5, 6], '-1'],
  [[5, 6], '-2:, 1::3'],
  [[5, 6], '::-2, 4:1:-1'],
  [[5, 6], '10:, :'],
  [[5, 6], ':, -100:100'],
  [[5, 6], '3:1'],
  [[5, 6], '2, 3'],
  [[5, 6], '..., 0'],
  [[5, 6], 'None, 1:4, None'],
  [[2, 3, 4], '1, ..., ::-1'],
  [[2, 3, 4], ':, None, 2'],
  [[2, 3, 4], '-1, -1, -1'],
  [[2, 3, 4], ''],
  [[7], '::-1'],
  [[7], '-3::-2'],
  [[7], '5:-8:-1'],
  [[0, 3], '::-1, 1:'],
  [[2, 3, 4], [1, [null, null, -1], [1, 3]]],
  [[2, 3, 4], [null, 'newaxis', [null, null, 2], -2]],
  [[2, 3, 4], ['...', [3, 0, -2]]],
];

function describeIndex(index: string | readonly RefIndex[]): string {
  return typeof index === 'string' ? `'${index}'` : JSON.stringify(index);
}

export function shapesGroup(ctx: SuiteContext): void {
  describe('views', () => {
    caseIt(ctx, 'reshape, permute, transpose, expand, squeeze, unsqueeze, flatten, flip on every layout', async () => {
      for (const dtype of allDtypes(ctx)) {
        const rng = rngFor(ctx, `views/${dtype}`);
        let i = 0;
        for (const c of VIEW_CASES) {
          for (let rep = 0; rep < LAYOUTS.length; rep++, i++) {
            const layout = R.sizeOf(c.shape) > 1 ? cycle(i) : 'contiguous';
            const x: Input = { ref: randomInput(rng, c.shape, dtype, layout), dtype, layout };
            await check(ctx, `${c.label} of ${describeInput(x)}`, [x], (t) => contiguousOf(c.run(t)), [{ want: c.ref(x.ref), dtype }]);
          }
        }
      }
    });

    caseIt(ctx, 'views share the buffer; contiguous inputs reshape without a copy', async () => {
      const x = fromRef(ctx.backend, R.makeRef([2, 3, 4], Array.from({ length: 24 }, (_, i) => i)), 'float32');
      const before = T.memory(ctx.backend);
      const views = [x.reshape([6, 4]), x.permute([2, 1, 0]), x.slice('::-1, 1:'), x.expand([5, 2, 3, 4]), x.flip(1), x.unsqueeze(0)];
      const after = T.memory(ctx.backend);
      expect(after.buffers, 'views allocate no buffers').toBe(before.buffers);
      expect(after.tensors).toBe(before.tensors + views.length);
      x.dispose();
      // the buffer lives while any view does
      const got = await views[1].data();
      expect(Array.from(got).slice(0, 4)).toEqual([0, 12, 4, 16]);
      for (const v of views) v.dispose();
      expect(T.memory(ctx.backend).buffers).toBe(before.buffers - 1);
    });

    caseIt(ctx, 'slice: steps, negative indices, ellipsis, new axes, out-of-range bounds clamp', async () => {
      for (const dtype of allDtypes(ctx)) {
        const rng = rngFor(ctx, `slice/${dtype}`);
        let i = 0;
        for (const [shape, index] of SLICE_CASES) {
          for (let rep = 0; rep < 2; rep++, i++) {
            const layout = R.sizeOf(shape) > 1 ? cycle(i) : 'contiguous';
            const x: Input = { ref: randomInput(rng, shape, dtype, layout), dtype, layout };
            await check(ctx, `slice(${describeInput(x)}, ${describeIndex(index)})`, [x], (t) => contiguousOf(t.slice(index)), [
              { want: R.slice(x.ref, index), dtype },
            ]);
          }
        }
      }
    });

    caseIt(ctx, 'views of views: slice of a transposed, flipped, expanded tensor', async () => {
      for (const dtype of allDtypes(ctx)) {
        const rng = rngFor(ctx, `viewchain/${dtype}`);
        const x: Input = { ref: randomInput(rng, [4, 5, 3], dtype, 'strided'), dtype, layout: 'strided' };
        const want = R.reshape(R.slice(R.permute(R.flip(x.ref, 1), [2, 0, 1]), '::-1, 1:, ::2'), [3, -1]);
        await check(ctx, `chain(${describeInput(x)})`, [x], (t) => {
          const a = t.flip(1);
          const b = a.permute([2, 0, 1]);
          const c = b.slice('::-1, 1:, ::2');
          const d = c.reshape([3, -1]);
          for (const v of [a, b, c]) v.dispose();
          return contiguousOf(d);
        }, [{ want, dtype }]);
      }
    });
  });

  describe('join and split', () => {
    caseIt(ctx, 'concat along each axis, with dtype promotion and empty pieces', async () => {
      for (const dtype of allDtypes(ctx)) {
        const rng = rngFor(ctx, `concat/${dtype}`);
        for (const [shapes, axis] of [
          [[[2, 3], [4, 3]], 0],
          [[[2, 3], [2, 1], [2, 0], [2, 2]], 1],
          [[[2, 3], [2, 3]], -1],
          [[[2, 3, 4], [2, 1, 4]], 1],
          [[[5]], 0],
          [[[0, 3], [0, 3]], 0],
        ] as const) {
          const inputs: Input[] = shapes.map((s, i) => {
            const layout = R.sizeOf(s) > 1 ? cycle(i + rng.int(0, 5)) : 'contiguous';
            return { ref: randomInput(rng, s, dtype, layout), dtype, layout };
          });
          await check(ctx, `concat([${inputs.map(describeInput).join(', ')}], ${axis})`, inputs, (...ts) => T.concat(ts, axis), [
            { want: R.concat(inputs.map((x) => x.ref), axis), dtype },
          ]);
        }
      }
      const pairs = [['int32', 'float32'], ['bool', 'uint8'], ['uint8', 'float64']] as const;
      for (const [da, db] of pairs) {
        if (!ctx.supports(da) || !ctx.supports(db)) continue;
        const rng = rngFor(ctx, `concat-mixed/${da}/${db}`);
        const a: Input = { ref: randomInput(rng, [2, 2], da, 'contiguous'), dtype: da };
        const b: Input = { ref: randomInput(rng, [1, 2], db, 'contiguous'), dtype: db };
        await check(ctx, `concat(${da}, ${db})`, [a, b], (x, y) => T.concat([x, y], 0), [{ want: R.concat([a.ref, b.ref], 0), dtype: R.promote(da, db) }]);
      }
    });

    caseIt(ctx, 'stack along each axis', async () => {
      for (const dtype of allDtypes(ctx)) {
        const rng = rngFor(ctx, `stack/${dtype}`);
        for (const shape of [[2, 3], [4], []]) {
          for (let axis = -1; axis <= shape.length; axis++) {
            const inputs: Input[] = [0, 1, 2].map((i) => {
              const layout = R.sizeOf(shape) > 1 ? cycle(i + axis + 1) : 'contiguous';
              return { ref: randomInput(rng, shape, dtype, layout), dtype, layout };
            });
            await check(ctx, `stack(3 x ${describeInput(inputs[0])}, ${axis})`, inputs, (...ts) => T.stack(ts, axis), [
              { want: R.stack(inputs.map((x) => x.ref), axis), dtype },
            ]);
          }
        }
      }
    });

    caseIt(ctx, 'split and chunk return views of the pieces', async () => {
      for (const dtype of allDtypes(ctx)) {
        const rng = rngFor(ctx, `split/${dtype}`);
        const cases: [readonly number[], number | number[], number][] = [
          [[7, 3], 3, 0],
          [[7, 3], [2, 0, 5], 0],
          [[2, 6], 2, 1],
          [[2, 6], [6], -1],
          [[0, 3], 2, 0],
        ];
        for (const [shape, sizes, axis] of cases) {
          const layout = cycle(rng.int(0, 5));
          const x: Input = { ref: randomInput(rng, shape, dtype, layout), dtype, layout };
          const want = R.split(x.ref, sizes, axis);
          await check(ctx, `split(${describeInput(x)}, ${JSON.stringify(sizes)}, ${axis})`, [x], (t) => t.split(sizes, axis), want.map((w) => ({ want: w, dtype })));
        }
        for (const [shape, chunks, axis] of [[[7, 2], 3, 0], [[6], 4, 0], [[2, 5], 5, 1], [[2, 2], 3, 1]] as const) {
          const x: Input = { ref: randomInput(rng, shape, dtype, 'transposed'), dtype, layout: 'transposed' };
          const want = R.chunk(x.ref, chunks, axis);
          await check(ctx, `chunk(${describeInput(x)}, ${chunks}, ${axis})`, [x], (t) => t.chunk(chunks, axis), want.map((w) => ({ want: w, dtype })));
        }
      }
    });

    caseIt(ctx, 'pad with a value on every side', async () => {
      for (const dtype of allDtypes(ctx)) {
        const rng = rngFor(ctx, `pad/${dtype}`);
        const cases: [readonly number[], [number, number][], number][] = [
          [[2, 3], [[1, 0], [2, 1]], 0],
          [[2, 3], [[0, 0], [0, 0]], 0],
          [[4], [[3, 2]], 1],
          [[2, 1, 3], [[0, 1], [1, 1], [0, 2]], 1],
          [[0, 2], [[1, 1], [0, 1]], 1],
          [[], [], 0],
        ];
        for (const [shape, pads, value] of cases) {
          const layout = R.sizeOf(shape) > 1 ? cycle(rng.int(0, 5)) : 'contiguous';
          const x: Input = { ref: randomInput(rng, shape, dtype, layout), dtype, layout };
          await check(ctx, `pad(${describeInput(x)}, ${JSON.stringify(pads)}, ${value})`, [x], (t) => t.pad(pads, value), [
            { want: R.pad(x.ref, pads, value), dtype },
          ]);
        }
      }
    });
  });

  describe('cast', () => {
    caseIt(ctx, 'cast between every dtype pair (truncation toward zero, wrapping, NaN → 0 or true)', async () => {
      const values = [0, 1, -1, 2.7, -2.7, 0.5, -0.5, 255, 256, 300, -129, 1e6, 3.4e38, NaN];
      for (const from of allDtypes(ctx)) {
        for (const to of allDtypes(ctx)) {
          // values the source dtype stores, in the range where every target's conversion is defined
          const fromFloat = from === 'float32' || from === 'float64';
          const defined = (v: number) => {
            if (Number.isNaN(v) || !fromFloat) return true;
            if (to === 'int32') return Math.abs(v) < 2 ** 31;
            if (to === 'uint8') return v > -1 && v < 256; // float → uint8 outside that range is undefined
            return true;
          };
          const src = values.map((v) => R.castValue(v, from)).filter(defined);
          const x: Input = { ref: R.makeRef([src.length], src), dtype: from, layout: src.length > 1 ? 'flipped' : 'contiguous' };
          await check(ctx, `cast(${from} → ${to})`, [x], (t) => t.cast(to), [{ want: R.cast(x.ref, to), dtype: to, opts: { tol: { rtol: 0, atol: 0 } } }]);
        }
      }
    });

    caseIt(ctx, 'cast to the same dtype is a view; float64 → float32 rounds to nearest', async () => {
      for (const dtype of allDtypes(ctx)) {
        const x = fromRef(ctx.backend, R.makeRef([3], [1, 0, 1]), dtype);
        const before = T.memory(ctx.backend).buffers;
        const y = x.cast(dtype);
        expect(T.memory(ctx.backend).buffers, `cast(${dtype} → ${dtype}) allocates nothing`).toBe(before);
        y.dispose();
        x.dispose();
      }
      if (ctx.supports('float64') && ctx.supports('float32')) {
        const v = [0.1, 1 / 3, 16777217, 1e-46, -1e39];
        const x: Input = { ref: R.makeRef([v.length], v), dtype: 'float64' };
        await check(ctx, 'cast(float64 → float32)', [x], (t) => t.cast('float32'), [{ want: R.map(x.ref, Math.fround), dtype: 'float32', opts: { tol: { rtol: 0, atol: 0 } } }]);
      }
    });

    caseIt(ctx, 'dtype round trip through the backend (write, read)', async () => {
      for (const dtype of allDtypes(ctx)) {
        const rng = rngFor(ctx, `roundtrip/${dtype}`);
        const ref = randomInput(rng, [3, 5], dtype, 'contiguous', dtype === 'uint8' ? [0, 255] : dtype === 'int32' ? [-2e9, 2e9] : [-1e6, 1e6]);
        const got = await evaluate1(ctx.backend, `roundtrip(${dtype})`, () => fromRef(ctx.backend, ref, dtype as DType));
        expect(Array.from(got.data)).toEqual(Array.from(ref.data));
      }
    });
  });
}
