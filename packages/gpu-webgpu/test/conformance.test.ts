// The backend conformance suite on the WebGPU backend: every op against the suite's independent
// float64 reference, dtype promotion, properties, memory and error behaviour, exactly as the CPU
// backend runs it, with the dtypes this backend stores (it has no float64). Cases that need
// synchronous reads (data-dependent errors) are skipped by the suite for backends without them;
// errors.test.ts checks how this backend reports those instead.
//
// The suite lives in the private workspace package packages/conformance; it is loaded by path (and
// vitest points @ml/tensor at its source), so this package does not depend on it and its typecheck
// stays inside its own root.
import { fileURLToPath } from 'node:url';
import type { Backend, DType } from '@ml/tensor';
import { webgpu } from '../src/index.js';

interface ConformanceSuite {
  defineConformanceSuite(options: {
    name: string;
    createBackend: () => Backend | Promise<Backend>;
    dtypes?: readonly DType[];
    numRuns?: number;
  }): void;
}

const suitePath = fileURLToPath(new URL('../../conformance/src/index.ts', import.meta.url));
const { defineConformanceSuite } = (await import(suitePath)) as ConformanceSuite;

defineConformanceSuite({
  name: 'webgpu',
  createBackend: () => webgpu(),
  dtypes: ['float32', 'int32', 'uint8', 'bool'],
  // every group, the default tolerances and the default 40 runs per property
});
