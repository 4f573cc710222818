// The gradient column of the backend conformance suite on the WebGPU backend: every differentiable
// op, differentiated by @ml/autograd on the GPU (float32: the backend has no float64), against
// central differences of the suite's independent float64 reference.
//
// The suite lives in the private workspace package packages/conformance; it is loaded by path (and
// vitest points @ml/tensor and @ml/autograd at their sources), so this package does not depend on
// it and its typecheck stays inside its own root.
import { fileURLToPath } from 'node:url';
import type { Backend } from '@ml/tensor';
import { webgpu } from '../src/index.js';

interface GradientSuite {
  defineGradientSuite(options: { name: string; createBackend: () => Backend | Promise<Backend> }): void;
}

const suitePath = fileURLToPath(new URL('../../conformance/src/gradients/index.ts', import.meta.url));
const { defineGradientSuite } = (await import(suitePath)) as GradientSuite;

defineGradientSuite({ name: 'webgpu', createBackend: () => webgpu() });
