/**
 * `defineGradientSuite`: the gradient column of the conformance suite, its groups, and the check
 * that every gradient rule of @ml/autograd is exercised by some case.
 */
import type { Backend, DType, Tensor } from '@ml/tensor';
import { DTYPES, zeros } from '@ml/tensor';
import { GRAD_RULES } from '@ml/autograd';
import type { TensorMeta } from '@ml/autograd';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Tolerance } from '../harness.js';
import { convolutionGradients } from './convolution.js';
import { elementwiseGradients } from './elementwise.js';
import { fusedGradients } from './fused.js';
import type { GradContext } from './harness.js';
import { GRADIENT_TOLERANCE } from './harness.js';
import { indexingGradients } from './indexing.js';
import { productGradients } from './products.js';
import { reductionGradients } from './reductions.js';
import { shapeGradients } from './shapes.js';

/** A group of gradient tests: registers `describe`/`it` blocks that use `ctx.backend`. */
export type GradientGroup = (ctx: GradContext) => void;

/** The gradient groups every backend runs, in order. */
export const GRADIENT_GROUPS: Readonly<Record<string, GradientGroup>> = {
  elementwise: elementwiseGradients,
  reductions: reductionGradients,
  products: productGradients,
  shapes: shapeGradients,
  indexing: indexingGradients,
  convolution: convolutionGradients,
  fused: fusedGradients,
};

/** Rules of the dense solvers: CPU-only kernels, their gradients are tested in @ml/autograd. */
export const DENSE_SOLVER_RULES: readonly string[] = ['cholesky', 'triangularSolve', 'solve', 'qr', 'eigh', 'svd'];

/**
 * Rules of primitives whose outputs are bool or int32: nothing differentiable flows through them
 * (their rules give no cotangent, which the coverage test checks).
 */
export const NON_DIFFERENTIABLE_RULES: Readonly<Record<string, number>> = {
  // rule name → number of inputs
  eq: 2, ne: 2, lt: 2, le: 2, gt: 2, ge: 2,
  logicalAnd: 2, logicalOr: 2, logicalXor: 2, logicalNot: 1,
  argmax: 1, argmin: 1,
};

export interface GradientOptions {
  /** Names the suite in test titles (e.g. 'cpu', 'webgpu'). */
  name: string;
  /** Creates the backend under test; called once, before the first test. */
  createBackend: () => Backend | Promise<Backend>;
  /** Gradient tolerances per float dtype; each field overrides {@link GRADIENT_TOLERANCE}. */
  tolerance?: { float32?: Partial<Tolerance>; float64?: Partial<Tolerance> };
  /** Seed for generated inputs and cotangents (default 20240601). */
  seed?: number;
}

/**
 * Registers the gradient column of the conformance suite for one backend: for every
 * differentiable op, `vjp` from @ml/autograd runs on the backend under test (float32, and float64
 * when the backend stores it) with a fixed random cotangent, and each input's cotangent is compared
 * with central finite differences of the float64 reference (`reference.ts`, and
 * `gradients/conv-reference.ts` for convolution and pooling) — never of @ml/tensor itself. Inputs
 * come in every memory layout; after each gradient the backend must be back to its starting tensor,
 * buffer and byte counts. A last test fails if a gradient rule of @ml/autograd was exercised by no
 * case. Call it at the top level of a vitest test file.
 *
 * @example
 * ```ts
 * import { createCpuBackend } from '@ml/tensor';
 * defineGradientSuite({ name: 'cpu', createBackend: createCpuBackend });
 * ```
 */
export function defineGradientSuite(options: GradientOptions): void {
  const tol = {
    float32: { ...GRADIENT_TOLERANCE.float32, ...options.tolerance?.float32 },
    float64: { ...GRADIENT_TOLERANCE.float64, ...options.tolerance?.float64 },
  };
  let backend: Backend | undefined;
  const wanted: readonly DType[] = DTYPES;
  const ctx: GradContext = {
    get backend(): Backend {
      if (!backend) throw new Error(`gradient conformance "${options.name}": the backend is not created yet`);
      return backend;
    },
    name: options.name,
    dtypes: wanted,
    tolerance: (dtype) => (dtype === 'float64' ? tol.float64 : tol.float32),
    supports: (dtype) => wanted.includes(dtype) && (backend?.capabilities.dtypes.includes(dtype) ?? false),
    numRuns: 0,
    seed: options.seed ?? 20240601,
    covered: new Set<string>(),
    stats: { checks: 0, testsRegistered: 0, testsStarted: 0 },
  };
  describe(`gradients: ${options.name}`, () => {
    beforeAll(async () => {
      backend = await options.createBackend();
    });
    for (const [name, group] of Object.entries(GRADIENT_GROUPS)) {
      describe(name, () => group(ctx));
    }
    describe('coverage', () => {
      it('every gradient rule except the dense solvers and the non-differentiable ones is exercised', (t) => {
        if (ctx.stats.testsStarted < ctx.stats.testsRegistered) {
          t.skip(`only ${ctx.stats.testsStarted} of ${ctx.stats.testsRegistered} gradient tests ran`);
          return;
        }
        const exempt = new Set([...DENSE_SOLVER_RULES, ...Object.keys(NON_DIFFERENTIABLE_RULES)]);
        // a cast passes a gradient only between two float dtypes: not on a float32-only backend
        if (!ctx.supports('float32') || !ctx.supports('float64')) exempt.add('cast');
        const uncovered = Object.keys(GRAD_RULES).filter((op) => !exempt.has(op) && !ctx.covered.has(op)).sort();
        expect(
          uncovered,
          `gradient rules no case exercised (add cases to packages/conformance/src/gradients): ${uncovered.join(', ')}`,
        ).toEqual([]);
      });

      it('the non-differentiable rules give no cotangent', () => {
        for (const [op, arity] of Object.entries(NON_DIFFERENTIABLE_RULES)) {
          const rule = GRAD_RULES[op];
          if (!rule) continue; // a primitive that no longer exists
          const meta: TensorMeta = { shape: [2], dtype: 'float32' };
          const g: Tensor = zeros([2], { dtype: 'float32', backend: ctx.backend });
          try {
            const ctxOf = { inputs: [], outputs: [], inputMetas: Array.from({ length: arity }, () => meta), outputMetas: [meta], params: { axis: 0 } };
            const out = rule.vjp(ctxOf, [g]);
            expect(out.length, `${op}: one entry per input`).toBe(arity);
            expect(out.every((r) => r === null), `${op}: no cotangent`).toBe(true);
          } finally {
            g.dispose();
          }
        }
      });
    });
  });
}
