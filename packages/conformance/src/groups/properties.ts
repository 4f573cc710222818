/**
 * Property-based cases (fast-check): random shapes, broadcast pairs, axes, permutations and slices,
 * each checked against the reference, plus identities (reshape∘reshape, permute∘inverse,
 * concat∘split). Failures print the smallest counterexample fast-check finds.
 */
import type { DType } from '@ml/tensor';
import * as T from '@ml/tensor';
import fc from 'fast-check';
import { describe } from 'vitest';
import type { Input, Layout, SuiteContext } from '../harness.js';
import { allDtypes, caseIt, check, contiguousOf, floatDtypes, LAYOUTS, randomInput } from '../harness.js';
import * as R from '../reference.js';
import type { RefIndex } from '../reference.js';
import { Rng } from '../rng.js';
import { UNARY_CASES } from './elementwise.js';

const dim = fc.integer({ min: 0, max: 4 });
const shapeArb = (maxRank = 4) => fc.array(dim, { minLength: 0, maxLength: maxRank });
const layoutArb = fc.constantFrom<Layout>(...LAYOUTS);
const seedArb = fc.integer({ min: 0, max: 2 ** 31 - 1 });
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

function input(seed: number, shape: readonly number[], dtype: DType, layout: Layout): Input {
  const l = R.sizeOf(shape) > 1 ? layout : 'contiguous';
  return { ref: randomInput(new Rng(seed), shape, dtype, l), dtype, layout: l };
}

/** A shape that broadcasts to `out`: some leading dims dropped, some dims set to 1. */
const broadcastableTo = (out: readonly number[]) =>
  fc.record({ drop: fc.integer({ min: 0, max: out.length }), ones: fc.array(fc.boolean(), { minLength: out.length, maxLength: out.length }) })
    .map(({ drop, ones }) => out.slice(drop).map((d, i) => (ones[i + drop] ? 1 : d)));

/** A random slice entry for a dim of size n. */
const entryArb = (n: number): fc.Arbitrary<RefIndex> => {
  const bound = fc.option(fc.integer({ min: -n - 2, max: n + 2 }), { nil: null });
  const options: fc.Arbitrary<RefIndex>[] = [
    fc.constant(null),
    fc.tuple(bound, bound, fc.option(fc.integer({ min: -3, max: 3 }).filter((s) => s !== 0), { nil: null })),
  ];
  if (n > 0) options.push(fc.integer({ min: -n, max: n - 1 }));
  return fc.oneof(...options);
};

export function propertiesGroup(ctx: SuiteContext): void {
  const params = () => ({ numRuns: ctx.numRuns, seed: ctx.seed });
  const dtypeArb = () => fc.constantFrom(...allDtypes(ctx));
  const floatArb = () => fc.constantFrom(...floatDtypes(ctx));

  describe('properties', () => {
    caseIt(ctx, 'sum/mean/max over random axes equal the reference', async () => {
      const arb = shapeArb().chain((shape) =>
        fc.record({
          shape: fc.constant(shape),
          axes: fc.option(fc.subarray(range(shape.length)).map((a) => a.map((x) => (x % 2 ? x - shape.length : x))), { nil: undefined }),
          keepdims: fc.boolean(),
          dtype: dtypeArb(),
          layout: layoutArb,
          seed: seedArb,
        }));
      await fc.assert(fc.asyncProperty(arb, async ({ shape, axes, keepdims, dtype, layout, seed }) => {
        const x = input(seed, shape, dtype, layout);
        const scale = R.reduce(R.map(x.ref, Math.abs), axes, keepdims, R.sumOf).data;
        await check(ctx, 'sum', [x], (t) => T.sum(t, axes, keepdims), [{ want: R.reduce(x.ref, axes, keepdims, R.sumOf), dtype: R.sumType(dtype), opts: { scale } }]);
        await check(ctx, 'mean', [x], (t) => T.mean(t, axes, keepdims), [{ want: R.reduce(x.ref, axes, keepdims, R.meanOf), dtype: R.floatOf(dtype), opts: { scale } }]);
        const list = axes ?? range(shape.length);
        if (list.every((a) => shape[a < 0 ? a + shape.length : a] > 0)) {
          await check(ctx, 'max', [x], (t) => T.max(t, axes, keepdims), [{ want: R.reduce(x.ref, axes, keepdims, R.maxOf), dtype }]);
        }
      }), params());
    });

    caseIt(ctx, 'binary ops on random broadcast pairs equal the reference', async () => {
      const ops = ['add', 'sub', 'mul', 'maximum', 'lt', 'eq'] as const;
      const arb = shapeArb().chain((out) =>
        fc.record({
          a: broadcastableTo(out),
          b: broadcastableTo(out),
          swap: fc.boolean(),
          op: fc.constantFrom(...ops),
          dtype: dtypeArb(),
          la: layoutArb,
          lb: layoutArb,
          seed: seedArb,
        }));
      await fc.assert(fc.asyncProperty(arb, async ({ a: sa, b: sb, swap, op, dtype, la, lb, seed }) => {
        const [s1, s2] = swap ? [sb, sa] : [sa, sb];
        const a = input(seed, s1, dtype, la);
        const b = input(seed + 1, s2, dtype, lb);
        const out = op === 'lt' || op === 'eq' ? 'bool' : R.arithType(dtype);
        await check(ctx, op, [a, b], T[op], [{ want: R.zipWith([a.ref, b.ref], R.BINARY[op]), dtype: out }]);
      }), params());
    });

    caseIt(ctx, 'unary ops on random layouts equal the reference', async () => {
      const cases = UNARY_CASES.filter((c) => c.name !== 'erfinv'); // erfinv's reference is slow
      const arb = fc.record({ shape: shapeArb(3), c: fc.constantFrom(...cases), dtype: floatArb(), layout: layoutArb, seed: seedArb });
      await fc.assert(fc.asyncProperty(arb, async ({ shape, c, dtype, layout, seed }) => {
        const l = R.sizeOf(shape) > 1 ? layout : 'contiguous';
        const x: Input = { ref: randomInput(new Rng(seed), shape, dtype, l, c.domain), dtype, layout: l };
        await check(ctx, c.name, [x], c.run, [{ want: R.map(x.ref, c.ref), dtype: c.out(dtype) }]);
      }), params());
    });

    caseIt(ctx, 'reshape∘reshape is the identity and reshape keeps row-major order', async () => {
      const arb = fc.record({ shape: shapeArb(), dtype: dtypeArb(), layout: layoutArb, seed: seedArb, split: seedArb });
      await fc.assert(fc.asyncProperty(arb, async ({ shape, dtype, layout, seed, split }) => {
        const x = input(seed, shape, dtype, layout);
        const target = randomFactorization(R.sizeOf(shape), new Rng(split));
        await check(ctx, `reshape to ${JSON.stringify(target)}`, [x], (t) => contiguousOf(t.reshape(target)), [{ want: R.reshape(x.ref, target), dtype }]);
        await check(ctx, 'reshape∘reshape', [x], (t) => {
          const y = t.reshape(target);
          const z = y.reshape(shape);
          y.dispose();
          return contiguousOf(z);
        }, [{ want: x.ref, dtype }]);
      }), params());
    });

    caseIt(ctx, 'permute equals the reference and permuting back is the identity', async () => {
      const arb = shapeArb().chain((shape) =>
        fc.record({
          shape: fc.constant(shape),
          perm: fc.shuffledSubarray(range(shape.length), { minLength: shape.length, maxLength: shape.length }),
          dtype: dtypeArb(),
          layout: layoutArb,
          seed: seedArb,
        }));
      await fc.assert(fc.asyncProperty(arb, async ({ shape, perm, dtype, layout, seed }) => {
        const x = input(seed, shape, dtype, layout);
        const inverse = perm.map((_, i) => perm.indexOf(i));
        await check(ctx, `permute ${JSON.stringify(perm)}`, [x], (t) => contiguousOf(t.permute(perm)), [{ want: R.permute(x.ref, perm), dtype }]);
        await check(ctx, 'permute∘inverse', [x], (t) => {
          const y = t.permute(perm);
          const z = y.permute(inverse);
          y.dispose();
          return contiguousOf(z);
        }, [{ want: x.ref, dtype }]);
      }), params());
    });

    caseIt(ctx, 'slice equals reference indexing', async () => {
      const arb = shapeArb().chain((shape) =>
        fc.record({
          shape: fc.constant(shape),
          entries: fc.tuple(...shape.map((n) => entryArb(n))),
          newaxis: fc.option(fc.integer({ min: 0, max: shape.length }), { nil: undefined }),
          ellipsis: fc.boolean(),
          dtype: dtypeArb(),
          layout: layoutArb,
          seed: seedArb,
        }));
      await fc.assert(fc.asyncProperty(arb, async ({ shape, entries, newaxis, ellipsis, dtype, layout, seed }) => {
        const x = input(seed, shape, dtype, layout);
        let index: RefIndex[] = [...entries];
        if (ellipsis && index.length > 0) index = ['...', ...index.slice(1)];
        if (newaxis !== undefined) index.splice(Math.min(newaxis, index.length), 0, 'newaxis');
        await check(ctx, `slice ${JSON.stringify(index)}`, [x], (t) => contiguousOf(t.slice(index)), [{ want: R.slice(x.ref, index), dtype }]);
      }), params());
    });

    caseIt(ctx, 'matmul on random batch broadcasts and 1-D operands', async () => {
      const arb = shapeArb(2).chain((batch) =>
        fc.record({
          ba: broadcastableTo(batch),
          bb: broadcastableTo(batch),
          m: dim,
          k: dim,
          n: dim,
          vecA: fc.boolean(),
          vecB: fc.boolean(),
          dtype: floatArb(),
          la: layoutArb,
          lb: layoutArb,
          seed: seedArb,
        }));
      await fc.assert(fc.asyncProperty(arb, async ({ ba, bb, m, k, n, vecA, vecB, dtype, la, lb, seed }) => {
        const sa = vecA ? [k] : [...ba, m, k];
        const sb = vecB ? [k] : [...bb, k, n];
        const a = input(seed, sa, dtype, la);
        const b = input(seed + 1, sb, dtype, lb);
        const scale = R.matmul(R.map(a.ref, Math.abs), R.map(b.ref, Math.abs)).data;
        await check(ctx, 'matmul', [a, b], T.matmul, [{ want: R.matmul(a.ref, b.ref), dtype, opts: { scale } }]);
      }), params());
    });

    caseIt(ctx, 'concat of split pieces is the identity', async () => {
      const arb = fc.array(dim, { minLength: 1, maxLength: 3 }).chain((shape) =>
        fc.record({
          shape: fc.constant(shape),
          axis: fc.integer({ min: 0, max: shape.length - 1 }),
          size: fc.integer({ min: 1, max: 4 }),
          dtype: dtypeArb(),
          layout: layoutArb,
          seed: seedArb,
        }));
      await fc.assert(fc.asyncProperty(arb, async ({ shape, axis, size, dtype, layout, seed }) => {
        const x = input(seed, shape, dtype, layout);
        await check(ctx, 'concat∘split', [x], (t) => {
          const pieces = t.split(size, axis);
          try {
            return T.concat(pieces, axis);
          } finally {
            for (const p of pieces) p.dispose();
          }
        }, [{ want: x.ref, dtype }]);
      }), params());
    });
  });
}

/** A random shape with `size` elements (for size 0, some shape containing a 0). */
function randomFactorization(size: number, rng: Rng): number[] {
  if (size === 0) return rng.pick([[0], [2, 0], [0, 3, 1]]);
  const dims: number[] = [];
  let rest = size;
  while (rest > 1 && dims.length < 5) {
    const divisors = range(rest + 1).filter((d) => d > 1 && rest % d === 0);
    const d = rng.pick(divisors);
    dims.push(d);
    rest /= d;
  }
  if (rest > 1) dims.push(rest);
  if (rng.next() < 0.3) dims.splice(rng.int(0, dims.length), 0, 1);
  return dims;
}
