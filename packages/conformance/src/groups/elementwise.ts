/** Elementwise ops: unary math, binary ops with broadcasting, where, clip. */
import type { DType, Tensor } from '@ml/tensor';
import * as T from '@ml/tensor';
import { describe } from 'vitest';
import type { Domain, Input, Layout, SuiteContext } from '../harness.js';
import { allDtypes, caseIt, check, describeInput, floatDtypes, LAYOUTS, numericDtypes, randomInput, rngFor } from '../harness.js';
import * as R from '../reference.js';
import type { RefDType } from '../reference.js';

/** Shapes every elementwise op runs on: scalars, vectors, matrices, 3-D and zero-size. */
export const ELEMENTWISE_SHAPES: readonly (readonly number[])[] = [[], [5], [3, 4], [2, 3, 4], [0, 3], [2, 0, 4]];

/** A unary op under test with its reference. */
export interface UnaryCase {
  readonly name: string;
  readonly run: (x: Tensor) => Tensor;
  readonly ref: (v: number) => number;
  /** Input dtypes to run (filtered by what the backend stores). */
  readonly dtypes: 'float' | 'numeric' | 'all';
  /** Output dtype for an input dtype. */
  readonly out: (d: RefDType) => RefDType;
  readonly domain?: Domain;
  /** Extra tolerance factor for this op. */
  readonly slack?: number;
}

const same = (d: RefDType): RefDType => d;

/** Every unary op with its reference and domain. Exported so other suites can reuse the table. */
export const UNARY_CASES: readonly UnaryCase[] = [
  { name: 'neg', run: T.neg, ref: R.UNARY.neg, dtypes: 'numeric', out: same },
  { name: 'abs', run: T.abs, ref: R.UNARY.abs, dtypes: 'numeric', out: same },
  { name: 'sign', run: T.sign, ref: R.UNARY.sign, dtypes: 'numeric', out: same },
  { name: 'exp', run: T.exp, ref: R.UNARY.exp, dtypes: 'all', out: R.floatOf, domain: [-4, 4] },
  { name: 'log', run: T.log, ref: R.UNARY.log, dtypes: 'float', out: R.floatOf, domain: [0.05, 5] },
  { name: 'log1p', run: T.log1p, ref: R.UNARY.log1p, dtypes: 'float', out: R.floatOf, domain: [-0.9, 5] },
  { name: 'expm1', run: T.expm1, ref: R.UNARY.expm1, dtypes: 'all', out: R.floatOf, domain: [-4, 4] },
  { name: 'sqrt', run: T.sqrt, ref: R.UNARY.sqrt, dtypes: 'float', out: R.floatOf, domain: [0, 5] },
  { name: 'rsqrt', run: T.rsqrt, ref: R.UNARY.rsqrt, dtypes: 'float', out: R.floatOf, domain: [0.05, 5] },
  { name: 'square', run: T.square, ref: R.UNARY.square, dtypes: 'all', out: R.arithType },
  { name: 'reciprocal', run: T.reciprocal, ref: R.UNARY.reciprocal, dtypes: 'float', out: R.floatOf, domain: [0.25, 3] },
  { name: 'sin', run: T.sin, ref: R.UNARY.sin, dtypes: 'all', out: R.floatOf, domain: [-6, 6] },
  { name: 'cos', run: T.cos, ref: R.UNARY.cos, dtypes: 'all', out: R.floatOf, domain: [-6, 6] },
  { name: 'tanh', run: T.tanh, ref: R.UNARY.tanh, dtypes: 'all', out: R.floatOf },
  { name: 'sigmoid', run: T.sigmoid, ref: R.UNARY.sigmoid, dtypes: 'all', out: R.floatOf, domain: [-8, 8] },
  { name: 'relu', run: T.relu, ref: R.UNARY.relu, dtypes: 'numeric', out: same },
  { name: 'leakyRelu', run: (x) => T.leakyRelu(x, 0.1), ref: (v) => R.leakyRelu(v, 0.1), dtypes: 'numeric', out: R.floatOf },
  { name: 'gelu', run: (x) => T.gelu(x), ref: R.UNARY.gelu, dtypes: 'numeric', out: R.floatOf },
  { name: 'gelu(tanh)', run: (x) => T.gelu(x, 'tanh'), ref: R.UNARY.geluTanh, dtypes: 'numeric', out: R.floatOf },
  { name: 'softplus', run: T.softplus, ref: R.UNARY.softplus, dtypes: 'numeric', out: R.floatOf, domain: [-6, 6] },
  { name: 'erf', run: T.erf, ref: R.UNARY.erf, dtypes: 'all', out: R.floatOf },
  { name: 'erfinv', run: T.erfinv, ref: R.UNARY.erfinv, dtypes: 'float', out: R.floatOf, domain: [-0.97, 0.97], slack: 4 },
  { name: 'floor', run: T.floor, ref: R.UNARY.floor, dtypes: 'numeric', out: same },
  { name: 'ceil', run: T.ceil, ref: R.UNARY.ceil, dtypes: 'numeric', out: same },
  { name: 'round', run: T.round, ref: R.UNARY.round, dtypes: 'numeric', out: same },
  { name: 'clip(-1, 2)', run: (x) => T.clip(x, -1, 2), ref: (v) => R.clipValue(v, -1, 2), dtypes: 'float', out: same },
  { name: 'clip(1, 5)', run: (x) => T.clip(x, 1, 5), ref: (v) => R.clipValue(v, 1, 5), dtypes: 'numeric', out: same, domain: [0, 8] },
  { name: 'clip(null, 0.5)', run: (x) => T.clip(x, null, 0.5), ref: (v) => R.clipValue(v, null, 0.5), dtypes: 'float', out: same },
  { name: 'clip(0, null)', run: (x) => T.clip(x, 0, null), ref: (v) => R.clipValue(v, 0, null), dtypes: 'numeric', out: same },
];

/** A binary op under test with its reference. */
export interface BinaryCase {
  readonly name: string;
  readonly run: (a: Tensor, b: Tensor) => Tensor;
  readonly ref: (a: number, b: number) => number;
  /** Output dtype for the (already promoted) input dtype. */
  readonly out: (d: RefDType) => RefDType;
  readonly dtypes: 'float' | 'numeric' | 'all';
  /** Generates the operands' values per dtype (default: uniform in the dtype's default domain). */
  readonly domains?: (d: RefDType) => [Domain, Domain];
}

const bool = (): RefDType => 'bool';
const ties = (d: RefDType): [Domain, Domain] => (d === 'uint8' ? [[0, 2], [0, 2]] : [[-2, 2], [-2, 2]]);

export const BINARY_CASES: readonly BinaryCase[] = [
  { name: 'add', run: T.add, ref: R.BINARY.add, out: R.arithType, dtypes: 'all' },
  { name: 'sub', run: T.sub, ref: R.BINARY.sub, out: R.arithType, dtypes: 'all' },
  { name: 'mul', run: T.mul, ref: R.BINARY.mul, out: R.arithType, dtypes: 'all' },
  {
    name: 'div', run: T.div, ref: R.BINARY.div, out: R.floatOf, dtypes: 'numeric',
    domains: (d) => (d === 'uint8' ? [[0, 9], [1, 9]] : d === 'int32' ? [[-9, 9], [1, 9]] : [[-3, 3], [0.25, 3]]),
  },
  {
    name: 'pow', run: T.pow, ref: R.BINARY.pow, out: R.arithType, dtypes: 'numeric',
    domains: (d) => (R.isFloatType(d) ? [[0.1, 3], [-2, 2]] : [[0, 4], [0, 3]]),
  },
  { name: 'maximum', run: T.maximum, ref: R.BINARY.maximum, out: R.arithType, dtypes: 'all', domains: ties },
  { name: 'minimum', run: T.minimum, ref: R.BINARY.minimum, out: R.arithType, dtypes: 'all', domains: ties },
  {
    name: 'mod', run: T.mod, ref: R.BINARY.mod, out: R.arithType, dtypes: 'numeric',
    domains: (d) => (d === 'uint8' ? [[0, 20], [1, 6]] : d === 'int32' ? [[-20, 20], [1, 6]] : [[-5, 5], [0.5, 3]]),
  },
  { name: 'eq', run: T.eq, ref: R.BINARY.eq, out: bool, dtypes: 'all', domains: ties },
  { name: 'ne', run: T.ne, ref: R.BINARY.ne, out: bool, dtypes: 'all', domains: ties },
  { name: 'lt', run: T.lt, ref: R.BINARY.lt, out: bool, dtypes: 'all', domains: ties },
  { name: 'le', run: T.le, ref: R.BINARY.le, out: bool, dtypes: 'all', domains: ties },
  { name: 'gt', run: T.gt, ref: R.BINARY.gt, out: bool, dtypes: 'all', domains: ties },
  { name: 'ge', run: T.ge, ref: R.BINARY.ge, out: bool, dtypes: 'all', domains: ties },
  { name: 'logicalAnd', run: T.logicalAnd, ref: R.BINARY.logicalAnd, out: bool, dtypes: 'all', domains: ties },
  { name: 'logicalOr', run: T.logicalOr, ref: R.BINARY.logicalOr, out: bool, dtypes: 'all', domains: ties },
  { name: 'logicalXor', run: T.logicalXor, ref: R.BINARY.logicalXor, out: bool, dtypes: 'all', domains: ties },
];

/** Shape pairs that broadcast: equal, trailing, both sides, scalars, zero-size. */
export const BROADCAST_PAIRS: readonly (readonly [readonly number[], readonly number[]])[] = [
  [[3, 4], [3, 4]],
  [[3, 4], [4]],
  [[3, 1], [1, 4]],
  [[2, 3, 4], [3, 1]],
  [[4, 1, 3], [2, 1]],
  [[], [3]],
  [[5], []],
  [[], []],
  [[0, 3], [1, 3]],
  [[2, 0, 4], [2, 1, 4]],
  [[1], [0]],
];

function dtypesOf(ctx: SuiteContext, kind: 'float' | 'numeric' | 'all'): DType[] {
  return kind === 'float' ? floatDtypes(ctx) : kind === 'numeric' ? numericDtypes(ctx) : allDtypes(ctx);
}

/** Layouts to try for a shape: all of them for tensors with 2+ elements, contiguous otherwise. */
export function layoutsFor(shape: readonly number[]): readonly Layout[] {
  return shape.length === 0 || R.sizeOf(shape) < 2 ? ['contiguous'] : LAYOUTS;
}

export function elementwiseGroup(ctx: SuiteContext): void {
  describe('unary', () => {
    for (const c of UNARY_CASES) {
      caseIt(ctx, c.name, async () => {
        for (const dtype of dtypesOf(ctx, c.dtypes)) {
          const rng = rngFor(ctx, `${c.name}/${dtype}`);
          const domain = R.isFloatType(dtype) ? c.domain : undefined;
          for (const shape of ELEMENTWISE_SHAPES) {
            for (const layout of layoutsFor(shape)) {
              const x: Input = { ref: randomInput(rng, shape, dtype, layout, domain), dtype, layout };
              await check(ctx, `${c.name}(${describeInput(x)})`, [x], c.run, [
                { want: R.map(x.ref, c.ref), dtype: c.out(dtype), opts: { slack: c.slack } },
              ]);
            }
          }
        }
      });
    }

    caseIt(ctx, 'round: half to even, and exact halves', async () => {
      const values = [-3.5, -2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 3.5, 0.49999997, -0.49999997, 2.4, -2.6, 1e7 + 0.5, 0];
      for (const dtype of floatDtypes(ctx)) {
        const x: Input = { ref: R.makeRef([values.length], values.map((v) => R.castValue(v, dtype))), dtype };
        await check(ctx, `round(${dtype})`, [x], T.round, [{ want: R.map(x.ref, R.roundHalfEven), dtype, opts: { tol: { rtol: 0, atol: 0 } } }]);
      }
    });

    caseIt(ctx, 'special values: ±0, ±inf, NaN', async () => {
      const values = [0, -0, Infinity, -Infinity, NaN, 1, -1];
      const cases: [string, (x: Tensor) => Tensor, (v: number) => number][] = [
        ['neg', T.neg, R.UNARY.neg],
        ['abs', T.abs, R.UNARY.abs],
        ['sign', T.sign, R.UNARY.sign],
        ['exp', T.exp, R.UNARY.exp],
        ['log', T.log, R.UNARY.log],
        ['sqrt', T.sqrt, R.UNARY.sqrt],
        ['tanh', T.tanh, R.UNARY.tanh],
        ['sigmoid', T.sigmoid, R.UNARY.sigmoid],
        ['erf', T.erf, R.UNARY.erf],
        ['floor', T.floor, R.UNARY.floor],
        ['relu', T.relu, R.UNARY.relu],
        ['softplus', T.softplus, R.UNARY.softplus],
        ['erfinv', T.erfinv, R.UNARY.erfinv],
      ];
      for (const dtype of floatDtypes(ctx)) {
        const x: Input = { ref: R.makeRef([values.length], values), dtype };
        for (const [name, run, ref] of cases) {
          await check(ctx, `${name}(${dtype} special)`, [x], run, [{ want: R.map(x.ref, ref), dtype }]);
        }
        const y: Input = { ref: R.makeRef([5], [-1, 1, 0, -0, 2]), dtype };
        await check(ctx, `erfinv(${dtype} ±1)`, [y], T.erfinv, [{ want: R.map(y.ref, R.erfinv), dtype }]);
      }
    });

    caseIt(ctx, 'neg and sub wrap around for uint8', async () => {
      if (!ctx.supports('uint8')) return;
      const a: Input = { ref: R.makeRef([4], [0, 1, 5, 255]), dtype: 'uint8' };
      const b: Input = { ref: R.makeRef([4], [1, 2, 3, 0]), dtype: 'uint8' };
      await check(ctx, 'neg(uint8)', [a], T.neg, [{ want: R.map(a.ref, (v) => -v), dtype: 'uint8' }]);
      await check(ctx, 'sub(uint8)', [a, b], T.sub, [{ want: R.zipWith([a.ref, b.ref], R.BINARY.sub), dtype: 'uint8' }]);
    });
  });

  describe('binary', () => {
    for (const c of BINARY_CASES) {
      caseIt(ctx, `${c.name} (broadcast, all layouts)`, async () => {
        for (const dtype of dtypesOf(ctx, c.dtypes)) {
          const rng = rngFor(ctx, `${c.name}/${dtype}`);
          const [da, db] = c.domains?.(dtype) ?? [undefined, undefined];
          for (const [sa, sb] of BROADCAST_PAIRS) {
            const la = layoutsFor(sa);
            const lb = layoutsFor(sb);
            for (let i = 0; i < Math.max(la.length, lb.length); i++) {
              const a: Input = { ref: randomInput(rng, sa, dtype, la[i % la.length], da), dtype, layout: la[i % la.length] };
              const b: Input = { ref: randomInput(rng, sb, dtype, lb[(i + 1) % lb.length], db), dtype, layout: lb[(i + 1) % lb.length] };
              await check(ctx, `${c.name}(${describeInput(a)}, ${describeInput(b)})`, [a, b], c.run, [
                { want: R.zipWith([a.ref, b.ref], c.ref), dtype: c.out(dtype) },
              ]);
            }
          }
        }
      });
    }

    caseIt(ctx, 'special values: NaN propagates through maximum/minimum, inf arithmetic, float mod', async () => {
      for (const dtype of floatDtypes(ctx)) {
        const av = [NaN, 1, Infinity, -Infinity, 0, -5.5, 5.5, -0, 7];
        const bv = [1, NaN, 1, Infinity, -0, 2, -2, 3, 0];
        const a: Input = { ref: R.makeRef([av.length], av), dtype };
        const b: Input = { ref: R.makeRef([bv.length], bv), dtype };
        for (const name of ['maximum', 'minimum', 'add', 'sub', 'mul', 'div', 'mod', 'eq', 'lt', 'ge', 'ne'] as const) {
          const c = BINARY_CASES.find((x) => x.name === name)!;
          await check(ctx, `${name}(${dtype} special)`, [a, b], c.run, [{ want: R.zipWith([a.ref, b.ref], c.ref), dtype: c.out(dtype) }]);
        }
      }
    });

    caseIt(ctx, 'integer mod takes the sign of the divisor', async () => {
      if (!ctx.supports('int32')) return;
      const a: Input = { ref: R.makeRef([6], [7, -7, 7, -7, 0, 6]), dtype: 'int32' };
      const b: Input = { ref: R.makeRef([6], [3, 3, -3, -3, 5, -3]), dtype: 'int32' };
      await check(ctx, 'mod(int32)', [a, b], T.mod, [{ want: R.makeRef([6], [1, 2, -2, -1, 0, 0]), dtype: 'int32' }]);
    });

    caseIt(ctx, 'scalar operands on either side', async () => {
      for (const dtype of numericDtypes(ctx)) {
        const rng = rngFor(ctx, `scalar/${dtype}`);
        const x: Input = { ref: randomInput(rng, [2, 3], dtype, 'strided', [1, 5]), dtype, layout: 'strided' };
        const s = 2;
        await check(ctx, `add(${dtype}, 2)`, [x], (t) => T.add(t, s), [{ want: R.map(x.ref, (v) => v + s), dtype }]);
        await check(ctx, `sub(10, ${dtype})`, [x], (t) => T.sub(10, t), [{ want: R.map(x.ref, (v) => 10 - v), dtype }]);
        await check(ctx, `mul(${dtype}, 2)`, [x], (t) => t.mul(s), [{ want: R.map(x.ref, (v) => v * s), dtype }]);
        await check(ctx, `div(${dtype}, 2)`, [x], (t) => t.div(s), [{ want: R.map(x.ref, (v) => v / s), dtype: R.floatOf(dtype) }]);
        await check(ctx, `pow(${dtype}, 2)`, [x], (t) => t.pow(2), [{ want: R.map(x.ref, (v) => v * v), dtype }]);
        await check(ctx, `gt(${dtype}, 2)`, [x], (t) => t.gt(2), [{ want: R.map(x.ref, (v) => +(v > 2)), dtype: 'bool' }]);
        await check(ctx, `maximum(3, ${dtype})`, [x], (t) => T.maximum(3, t), [{ want: R.map(x.ref, (v) => Math.max(3, v)), dtype }]);
      }
    });
  });

  describe('where', () => {
    caseIt(ctx, 'where(cond, a, b) with broadcasting and layouts', async () => {
      const triples: [number[], number[], number[]][] = [
        [[3, 4], [3, 4], [3, 4]],
        [[3, 1], [1, 4], [4]],
        [[2, 3, 4], [3, 4], []],
        [[], [2, 3], [2, 3]],
        [[0, 3], [3], [1, 3]],
      ];
      for (const dtype of allDtypes(ctx)) {
        const rng = rngFor(ctx, `where/${dtype}`);
        for (const [sc, sa, sb] of triples) {
          for (const layout of layoutsFor(sa)) {
            const c: Input = { ref: randomInput(rng, sc, 'bool', 'contiguous'), dtype: 'bool' };
            const a: Input = { ref: randomInput(rng, sa, dtype, layout), dtype, layout };
            const b: Input = { ref: randomInput(rng, sb, dtype, 'contiguous'), dtype };
            await check(ctx, `where(${describeInput(c)}, ${describeInput(a)}, ${describeInput(b)})`, [c, a, b], T.where, [
              { want: R.where(c.ref, a.ref, b.ref), dtype },
            ]);
          }
        }
      }
    });

    caseIt(ctx, 'where promotes a and b, with scalars', async () => {
      const pairs: [DType, DType][] = [['int32', 'float32'], ['uint8', 'int32'], ['bool', 'uint8'], ['float32', 'float64']];
      for (const [da, db] of pairs) {
        if (!ctx.supports(da) || !ctx.supports(db)) continue;
        const rng = rngFor(ctx, `where-promote/${da}/${db}`);
        const c: Input = { ref: randomInput(rng, [2, 3], 'bool', 'contiguous'), dtype: 'bool' };
        const a: Input = { ref: randomInput(rng, [2, 3], da, 'contiguous'), dtype: da };
        const b: Input = { ref: randomInput(rng, [3], db, 'contiguous'), dtype: db };
        await check(ctx, `where(bool, ${da}, ${db})`, [c, a, b], T.where, [{ want: R.where(c.ref, a.ref, b.ref), dtype: R.promote(da, db) }]);
      }
      if (ctx.supports('int32') && ctx.supports('float32')) {
        const rng = rngFor(ctx, 'where-scalar');
        const c: Input = { ref: randomInput(rng, [2, 3], 'bool', 'contiguous'), dtype: 'bool' };
        const a: Input = { ref: randomInput(rng, [2, 3], 'int32', 'contiguous'), dtype: 'int32' };
        await check(ctx, 'where(bool, int32, 2)', [c, a], (ct, at) => T.where(ct, at, 2), [{ want: R.where(c.ref, a.ref, R.scalarRef(2)), dtype: 'int32' }]);
        await check(ctx, 'where(bool, int32, 2.5)', [c, a], (ct, at) => T.where(ct, at, 2.5), [{ want: R.where(c.ref, a.ref, R.scalarRef(2.5)), dtype: 'float32' }]);
        await check(ctx, 'where(bool, 1, 0)', [c], (ct) => T.where(ct, 1, 0), [{ want: R.where(c.ref, R.scalarRef(1), R.scalarRef(0)), dtype: 'float32' }]);
      }
    });
  });

  describe('bool and misc', () => {
    caseIt(ctx, 'logicalNot, isNaN, isFinite', async () => {
      for (const dtype of allDtypes(ctx)) {
        const rng = rngFor(ctx, `logicalNot/${dtype}`);
        const x: Input = { ref: randomInput(rng, [3, 4], dtype, 'flipped', [-2, 2]), dtype, layout: 'flipped' };
        await check(ctx, `logicalNot(${dtype})`, [x], T.logicalNot, [{ want: R.map(x.ref, (v) => +(v === 0)), dtype: 'bool' }]);
      }
      for (const dtype of floatDtypes(ctx)) {
        const x: Input = { ref: R.makeRef([6], [0, NaN, Infinity, -Infinity, -2, 3]), dtype };
        await check(ctx, `isNaN(${dtype})`, [x], T.isNaN, [{ want: R.map(x.ref, (v) => +Number.isNaN(v)), dtype: 'bool' }]);
        await check(ctx, `isFinite(${dtype})`, [x], T.isFinite, [{ want: R.map(x.ref, (v) => +Number.isFinite(v)), dtype: 'bool' }]);
      }
    });
  });
}
