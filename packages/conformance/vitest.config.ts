import { fileURLToPath } from 'node:url';
import { defineProject } from 'vitest/config';

export default defineProject({
  resolve: {
    // test against the sources, never a stale build
    alias: { '@ml/tensor': fileURLToPath(new URL('../tensor/src/index.ts', import.meta.url)) },
  },
  test: {
    name: 'conformance',
    include: ['test/**/*.test.ts'],
  },
});
