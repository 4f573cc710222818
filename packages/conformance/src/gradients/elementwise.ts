/** Gradients of elementwise ops: every unary case, binary arithmetic with broadcasting, where, clip. */
import type { Tensor } from '@ml/tensor';
import * as T from '@ml/tensor';
import { describe } from 'vitest';
import { BINARY_CASES, BROADCAST_PAIRS, ELEMENTWISE_SHAPES, UNARY_CASES, layoutsFor } from '../groups/elementwise.js';
import type { Domain } from '../harness.js';
import { randomInput, rngFor } from '../harness.js';
import * as R from '../reference.js';
import type { RefArray } from '../reference.js';
import type { GradContext } from './harness.js';
import { awayFrom, checkGradient, describeGrad, drawInputs, gradCase, gradDtypes } from './harness.js';

const nearest = (...points: number[]) => (v: number) => points.reduce((best, p) => (Math.abs(v - p) < Math.abs(v - best) ? p : best));

/** Unary cases whose derivative has a jump or is undefined at some points: keep inputs away. */
export const UNARY_KINKS: Readonly<Record<string, (v: number) => number>> = {
  abs: () => 0,
  sign: () => 0,
  relu: () => 0,
  leakyRelu: () => 0,
  floor: Math.round,
  ceil: Math.round,
  round: (v) => Math.floor(v) + 0.5,
  'clip(-1, 2)': nearest(-1, 2),
  'clip(1, 5)': nearest(1, 5),
  'clip(null, 0.5)': () => 0.5,
  'clip(0, null)': () => 0,
};

/** Piecewise-constant unary cases: their gradient must be exactly zero. */
export const PIECEWISE_CONSTANT: ReadonlySet<string> = new Set(['sign', 'floor', 'ceil', 'round']);

/** Domains narrower than the value suite's, where the derivative blows up at the edge. */
const UNARY_DOMAINS: Readonly<Record<string, Domain>> = {
  sqrt: [0.05, 5],
};

/** The binary cases with a float result (arithmetic, not comparisons or logic). */
export const DIFFERENTIABLE_BINARY = BINARY_CASES.filter((c) => c.out('float32') === 'float32');

/** Keeps operands of maximum/minimum apart and mod away from its jumps (a = k·b). */
const BINARY_VALID: Readonly<Record<string, (a: RefArray, b: RefArray) => boolean>> = {
  maximum: (a, b) => R.zipWith([a, b], (x, y) => Math.abs(x - y)).data.every((d) => d > 1e-3),
  minimum: (a, b) => R.zipWith([a, b], (x, y) => Math.abs(x - y)).data.every((d) => d > 1e-3),
  mod: (a, b) => R.zipWith([a, b], (x, y) => Math.abs(x / y - Math.round(x / y)) * Math.abs(y)).data.every((d) => d > 1e-3),
};

interface ScalarCase {
  readonly label: string;
  readonly run: (x: Tensor) => Tensor;
  readonly ref: (v: number) => number;
  readonly domain?: Domain;
  readonly kink?: (v: number) => number;
}

/** JS numbers on either side of a binary op (weak scalars). */
const SCALAR_CASES: readonly ScalarCase[] = [
  { label: 'x.mul(2.5)', run: (x) => x.mul(2.5), ref: (v) => v * 2.5 },
  { label: 'x.add(-1)', run: (x) => x.add(-1), ref: (v) => v - 1 },
  { label: 'sub(1.5, x)', run: (x) => T.sub(1.5, x), ref: (v) => 1.5 - v },
  { label: 'div(2, x)', run: (x) => T.div(2, x), ref: (v) => 2 / v, domain: [0.25, 3] },
  { label: 'x.div(4)', run: (x) => x.div(4), ref: (v) => v / 4 },
  { label: 'x.pow(3)', run: (x) => x.pow(3), ref: (v) => v ** 3 },
  { label: 'x.pow(0.5)', run: (x) => x.pow(0.5), ref: Math.sqrt, domain: [0.1, 3] },
  { label: 'pow(2, x)', run: (x) => T.pow(2, x), ref: (v) => 2 ** v },
  { label: 'maximum(x, 0.5)', run: (x) => T.maximum(x, 0.5), ref: (v) => Math.max(v, 0.5), kink: () => 0.5 },
  { label: 'minimum(-1, x)', run: (x) => T.minimum(-1, x), ref: (v) => Math.min(-1, v), kink: () => -1 },
  { label: 'mod(x, 1.5)', run: (x) => T.mod(x, 1.5), ref: (v) => R.modValue(v, 1.5), kink: (v) => Math.round(v / 1.5) * 1.5 },
];

export function elementwiseGradients(ctx: GradContext): void {
  describe('unary', () => {
    for (const c of UNARY_CASES) {
      const zero = PIECEWISE_CONSTANT.has(c.name);
      gradCase(ctx, `${c.name}${zero ? ' (zero gradient)' : ''}`, async () => {
        for (const dtype of gradDtypes(ctx)) {
          const rng = rngFor(ctx, `grad/${c.name}/${dtype}`);
          const kink = UNARY_KINKS[c.name];
          for (const shape of ELEMENTWISE_SHAPES) {
            for (const layout of layoutsFor(shape)) {
              const [x] = drawInputs(rng, [shape], dtype, [layout], {
                domain: UNARY_DOMAINS[c.name] ?? c.domain,
                adjust: kink ? awayFrom(kink) : undefined,
              });
              await checkGradient(ctx, `${c.name}(${describeGrad(x)})`, {
                dtype, inputs: [x], run: c.run, ref: (a) => R.map(a, c.ref), zero, slack: c.slack,
              });
            }
          }
        }
      });
    }
  });

  describe('binary', () => {
    for (const c of DIFFERENTIABLE_BINARY) {
      gradCase(ctx, `${c.name} (broadcast, all layouts)`, async () => {
        for (const dtype of gradDtypes(ctx)) {
          const rng = rngFor(ctx, `grad/${c.name}/${dtype}`);
          const domains = c.domains?.(dtype);
          for (const [sa, sb] of BROADCAST_PAIRS) {
            const la = layoutsFor(sa);
            const lb = layoutsFor(sb);
            for (let i = 0; i < Math.max(la.length, lb.length); i++) {
              const inputs = drawInputs(rng, [sa, sb], dtype, [la[i % la.length], lb[(i + 1) % lb.length]], {
                domain: domains, valid: BINARY_VALID[c.name], label: c.name,
              });
              await checkGradient(ctx, `${c.name}(${inputs.map(describeGrad).join(', ')})`, {
                dtype, inputs, run: c.run, ref: (a, b) => R.zipWith([a, b], c.ref),
              });
            }
          }
        }
      });
    }

    gradCase(ctx, 'one operand constant: only the other is differentiated', async () => {
      for (const dtype of gradDtypes(ctx)) {
        const rng = rngFor(ctx, `grad/partial/${dtype}`);
        let i = 0;
        for (const c of DIFFERENTIABLE_BINARY) {
          for (const [sa, sb] of [[[3, 4], [4]], [[3, 1], [1, 4]]] as const) {
            const [a, b] = drawInputs(rng, [sa, sb], dtype, [layoutsFor(sa)[i++ % 6], layoutsFor(sb)[i++ % 6]], {
              domain: c.domains?.(dtype), valid: BINARY_VALID[c.name], label: c.name,
            });
            await checkGradient(ctx, `${c.name}(${describeGrad(a)}, constant ${describeGrad(b)})`, {
              dtype, inputs: [a], consts: [{ ...b, dtype }], run: c.run, ref: (x) => R.zipWith([x, b.ref], c.ref),
            });
            await checkGradient(ctx, `${c.name}(constant ${describeGrad(a)}, ${describeGrad(b)})`, {
              dtype, inputs: [b], consts: [{ ...a, dtype }], run: (y, x) => c.run(x, y), ref: (y) => R.zipWith([a.ref, y], c.ref),
            });
          }
        }
      }
    });

    gradCase(ctx, 'pow at special points: zero and negative bases with integer exponents', async () => {
      for (const dtype of gradDtypes(ctx)) {
        const pow = DIFFERENTIABLE_BINARY.find((b) => b.name === 'pow')!;
        // d/da only: aᵇ with integer b is smooth in a everywhere (b·aᵇ⁻¹, which is 1 at 0⁰ for b = 1)
        const a = { ref: R.makeRef([6], [0, 0, 0, -2, -1.5, 2]) };
        const b = R.makeRef([6], [1, 2, 3, 3, 2, 0]);
        await checkGradient(ctx, `pow(${describeGrad(a)}, constant integer exponents)`, {
          dtype, inputs: [a], consts: [{ ref: b, dtype }], run: pow.run, ref: (x) => R.zipWith([x, b], pow.ref),
        });
        // both: non-negative bases; at base 0 integer exponents ≥ 2 (0ᵇ is flat in b for b > 0)
        const inputs = [{ ref: R.makeRef([5], [0, 0, 0.5, 2, 1]) }, { ref: R.makeRef([5], [2, 3, -1, 0, 3]) }];
        await checkGradient(ctx, `pow(${inputs.map(describeGrad).join(', ')}) with zero bases`, {
          dtype, inputs, run: pow.run, ref: (x, y) => R.zipWith([x, y], pow.ref),
        });
      }
    });

    gradCase(ctx, 'mixed dtypes: the constant operand is promoted, the cotangent keeps the input dtype', async () => {
      const pairs = [['float32', 'int32'], ['float64', 'int32'], ['float32', 'float64'], ['float64', 'float32']] as const;
      for (const [dtype, other] of pairs) {
        if (!ctx.supports(dtype) || !ctx.supports(other)) continue;
        const rng = rngFor(ctx, `grad/mixed/${dtype}/${other}`);
        for (const name of ['mul', 'sub', 'div', 'maximum'] as const) {
          const c = DIFFERENTIABLE_BINARY.find((b) => b.name === name)!;
          const [a] = drawInputs(rng, [[2, 3]], dtype, ['transposed']);
          const b = randomInput(rng, [3], other, 'contiguous', [1, 3]);
          if (name === 'maximum' && !BINARY_VALID.maximum(a.ref, b)) continue;
          await checkGradient(ctx, `${name}(${describeGrad(a)}, ${other}(3,))`, {
            dtype, inputs: [a], consts: [{ ref: b, dtype: other }], run: c.run, ref: (x) => R.zipWith([x, b], c.ref),
          });
        }
      }
    });

    gradCase(ctx, 'scalar operands on either side', async () => {
      for (const dtype of gradDtypes(ctx)) {
        const rng = rngFor(ctx, `grad/scalar/${dtype}`);
        for (const [i, c] of SCALAR_CASES.entries()) {
          for (const layout of [layoutsFor([2, 3])[i % 6], 'contiguous'] as const) {
            const [x] = drawInputs(rng, [[2, 3]], dtype, [layout], { domain: c.domain, adjust: c.kink ? awayFrom(c.kink) : undefined });
            await checkGradient(ctx, `${c.label} of ${describeGrad(x)}`, { dtype, inputs: [x], run: c.run, ref: (a) => R.map(a, c.ref) });
          }
        }
      }
    });
  });

  describe('where', () => {
    gradCase(ctx, 'where(cond, a, b) with broadcasting and layouts', async () => {
      const triples: [number[], number[], number[]][] = [
        [[3, 4], [3, 4], [3, 4]],
        [[3, 1], [1, 4], [4]],
        [[2, 3, 4], [3, 4], []],
        [[], [2, 3], [2, 3]],
        [[0, 3], [3], [1, 3]],
      ];
      for (const dtype of gradDtypes(ctx)) {
        const rng = rngFor(ctx, `grad/where/${dtype}`);
        for (const [sc, sa, sb] of triples) {
          for (const layout of layoutsFor(sa)) {
            const cond = randomInput(rng, sc, 'bool', 'contiguous');
            const inputs = drawInputs(rng, [sa, sb], dtype, [layout, layoutsFor(sb)[rng.int(0, layoutsFor(sb).length - 1)]]);
            await checkGradient(ctx, `where(bool(${sc.join(', ')}), ${inputs.map(describeGrad).join(', ')})`, {
              dtype,
              inputs,
              consts: [{ ref: cond, dtype: 'bool', layout: R.sizeOf(sc) > 1 ? 'flipped' : 'contiguous' }],
              run: (a, b, c) => T.where(c, a, b),
              ref: (a, b) => R.where(cond, a, b),
            });
          }
        }
      }
    });
  });
}
