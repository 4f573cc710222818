import { fileURLToPath } from 'node:url';
import { defineProject } from 'vitest/config';

export default defineProject({
  resolve: {
    alias: {
      '@ml/data/node': fileURLToPath(new URL('./src/node.ts', import.meta.url)),
      '@ml/data': fileURLToPath(new URL('./src/index.ts', import.meta.url)),
    },
  },
  test: {
    name: 'data',
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
  },
});
