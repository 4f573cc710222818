import { fileURLToPath } from 'node:url';
import { defineProject } from 'vitest/config';

export default defineProject({
  resolve: {
    // tests and examples import the package by name; point it at the source
    alias: { '@ml/tensor': fileURLToPath(new URL('./src/index.ts', import.meta.url)) },
  },
  test: {
    name: 'tensor',
    include: ['test/**/*.test.ts'],
  },
});
