import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'gpu-webgpu',
    include: ['test/**/*.test.ts'],
    // SwiftShader runs WGSL on the CPU: kernels compile slowly the first time
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
