// The gradient column of the backend conformance suite on the CPU backend: every differentiable op,
// differentiated with this package on the backend under test, against finite differences of the
// suite's independent float64 reference.
//
// The suite lives in the private workspace package packages/conformance, which depends on this
// package; it is loaded by path at run time (resolved by vitest, which points @ml/autograd at
// ../src), so that @ml/autograd does not depend on it and its typecheck stays inside its own root.
import { fileURLToPath } from 'node:url';
import type { Backend } from '@ml/tensor';
import { createCpuBackend } from '@ml/tensor';

interface GradientSuite {
  defineGradientSuite(options: { name: string; createBackend: () => Backend | Promise<Backend> }): void;
}

const suitePath = fileURLToPath(new URL('../../conformance/src/gradients/index.ts', import.meta.url));
const { defineGradientSuite } = (await import(suitePath)) as GradientSuite;

defineGradientSuite({ name: 'cpu', createBackend: createCpuBackend });
