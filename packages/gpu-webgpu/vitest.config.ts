import { fileURLToPath } from 'node:url';
import { defineProject } from 'vitest/config';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

export default defineProject({
  resolve: {
    // tests, the example and the conformance suite import the packages by name: point every one of
    // them at its source, so the suite never runs a stale build
    alias: {
      '@ml/gpu-webgpu': here('./src/index.ts'),
      '@ml/tensor': here('../tensor/src/index.ts'),
      '@ml/autograd': here('../autograd/src/index.ts'),
    },
  },
  test: {
    name: 'gpu-webgpu',
    include: ['test/**/*.test.ts'],
    // SwiftShader runs WGSL on the CPU: kernels compile slowly the first time
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
