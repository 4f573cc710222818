import type { Backend, DType } from '@ml/tensor';
import { DTYPES } from '@ml/tensor';
import { beforeAll, describe } from 'vitest';
import type { SuiteContext, Tolerance } from './harness.js';
import { DEFAULT_TOLERANCE } from './harness.js';
import { creationGroup } from './groups/creation.js';
import { elementwiseGroup } from './groups/elementwise.js';
import { errorsGroup } from './groups/errors.js';
import { fusedGroup } from './groups/fused.js';
import { indexingGroup } from './groups/indexing.js';
import { productsGroup } from './groups/products.js';
import { promotionGroup } from './groups/promotion.js';
import { propertiesGroup } from './groups/properties.js';
import { reductionsGroup } from './groups/reductions.js';
import { shapesGroup } from './groups/shapes.js';

/** A group of tests: registers `describe`/`it` blocks that use `ctx.backend`. */
export type ConformanceGroup = (ctx: SuiteContext) => void;

/**
 * The groups every backend runs, in order. Convolution/pooling and the dense solvers have their
 * own tests for now; when they join the suite, add their groups here (e.g. `convolutionGroup`,
 * `linalgGroup` in `groups/`), written like the others: inputs from `randomInput`, results through
 * `evaluate` and compared with `expectClose` against a function in `reference.ts`.
 */
export const GROUPS: Readonly<Record<string, ConformanceGroup>> = {
  creation: creationGroup,
  elementwise: elementwiseGroup,
  promotion: promotionGroup,
  reductions: reductionsGroup,
  products: productsGroup,
  indexing: indexingGroup,
  shapes: shapesGroup,
  fused: fusedGroup,
  properties: propertiesGroup,
  errors: errorsGroup,
};

export interface ConformanceOptions {
  /** Names the suite in test titles (e.g. 'cpu', 'webgpu'). */
  name: string;
  /** Creates the backend under test; called once, before the first test. */
  createBackend: () => Backend | Promise<Backend>;
  /** Dtypes to test (default: all). Those the backend does not store are skipped. */
  dtypes?: readonly DType[];
  /** Float tolerances; each field overrides the default for that dtype. */
  tolerance?: { float32?: Partial<Tolerance>; float64?: Partial<Tolerance> };
  /** Runs per fast-check property (default 40). */
  numRuns?: number;
  /** Seed for generated inputs and properties (default 20240601). */
  seed?: number;
  /** Runs only these groups (default: all of {@link GROUPS}). */
  groups?: readonly string[];
}

/**
 * Registers the conformance suite for one backend: every op, checked against the float64 reference
 * on random, broadcast, zero-size and non-contiguous inputs, plus dtype promotion, properties,
 * memory and error behaviour. Call it at the top level of a vitest test file.
 *
 * @example
 * ```ts
 * import { createCpuBackend } from '@ml/tensor';
 * defineConformanceSuite({ name: 'cpu', createBackend: createCpuBackend });
 * ```
 */
export function defineConformanceSuite(options: ConformanceOptions): void {
  const wanted = options.dtypes ?? DTYPES;
  const tol = {
    float32: { ...DEFAULT_TOLERANCE.float32, ...options.tolerance?.float32 },
    float64: { ...DEFAULT_TOLERANCE.float64, ...options.tolerance?.float64 },
  };
  let backend: Backend | undefined;
  const ctx: SuiteContext = {
    get backend(): Backend {
      if (!backend) throw new Error(`conformance "${options.name}": the backend is not created yet`);
      return backend;
    },
    name: options.name,
    dtypes: wanted,
    tolerance: (dtype) => (dtype === 'float64' ? tol.float64 : tol.float32),
    supports: (dtype) => wanted.includes(dtype) && (backend?.capabilities.dtypes.includes(dtype) ?? false),
    numRuns: options.numRuns ?? 40,
    seed: options.seed ?? 20240601,
  };
  describe(`conformance: ${options.name}`, () => {
    beforeAll(async () => {
      backend = await options.createBackend();
    });
    for (const [name, group] of Object.entries(GROUPS)) {
      if (options.groups && !options.groups.includes(name)) continue;
      describe(name, () => group(ctx));
    }
  });
}
