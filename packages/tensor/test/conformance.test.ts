// The backend conformance suite on the CPU backend. The suite lives in the private workspace
// package packages/conformance (imported by path, so that @ml/tensor does not depend on it).
import { defineConformanceSuite } from '../../conformance/src/index.js';
import { createCpuBackend } from '../src/index.js';

defineConformanceSuite({ name: 'cpu', createBackend: createCpuBackend });
