/**
 * @ml/conformance/gradients: the gradient column of the conformance suite.
 *
 * `defineGradientSuite({ name, createBackend })` registers vitest tests that differentiate every
 * differentiable op with @ml/autograd on the backend under test and compare the results with
 * central finite differences of the independent float64 reference. It is a separate entry point so
 * that the value suite (`@ml/conformance`) does not depend on @ml/autograd.
 */
export { DENSE_SOLVER_RULES, defineGradientSuite, GRADIENT_GROUPS, NON_DIFFERENTIABLE_RULES } from './suite.js';
export type { GradientGroup, GradientOptions } from './suite.js';
export { checkGradient, drawInputs, FD_EPS, finiteDifferences, GRADIENT_TOLERANCE, gradCase } from './harness.js';
export type { ConstInput, GradContext, GradDType, GradInput, GradSpec } from './harness.js';
export { PIECEWISE_CONSTANT, UNARY_KINKS } from './elementwise.js';
export * as convReference from './conv-reference.js';
