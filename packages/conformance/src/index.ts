/**
 * @ml/conformance: the conformance suite every @ml/tensor backend runs.
 *
 * `defineConformanceSuite({ name, createBackend })` registers vitest tests that check every op
 * against an independent float64 reference (`reference.ts`) on random, broadcast, zero-size and
 * non-contiguous inputs, the dtype promotion table, property-based identities, memory (no op leaks
 * a tensor or a buffer) and error behaviour. The case tables are exported too, so other packages
 * (autograd's gradient checks) can run the same cases.
 */
export { defineConformanceSuite, GROUPS } from './suite.js';
export type { ConformanceGroup, ConformanceOptions } from './suite.js';
export {
  caseIt,
  check,
  contiguousOf,
  DEFAULT_TOLERANCE,
  evaluate,
  evaluate1,
  expectClose,
  FLOAT32_EPS,
  fromRef,
  LAYOUTS,
  randomInput,
  randomRef,
  readTensor,
  withLayout,
} from './harness.js';
export type { CompareOptions, Domain, Expected, Got, Input, Layout, SuiteContext, Tolerance } from './harness.js';
export { BINARY_CASES, BROADCAST_PAIRS, ELEMENTWISE_SHAPES, UNARY_CASES } from './groups/elementwise.js';
export type { BinaryCase, UnaryCase } from './groups/elementwise.js';
export { REDUCE_CASES, REDUCTIONS } from './groups/reductions.js';
export { EINSUM_CASES, MATMUL_SHAPES } from './groups/products.js';
export { SLICE_CASES } from './groups/shapes.js';
export { expectOpError } from './groups/errors.js';
export * as reference from './reference.js';
export type { RefArray, RefDType } from './reference.js';
export { Rng, seedOf } from './rng.js';
