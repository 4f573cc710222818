import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import { PRIMITIVE_NAMES } from '../src/index.js';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

describe('README', () => {
  it('shows examples/quickstart.ts verbatim', () => {
    const readme = readFileSync(here('../README.md'), 'utf8');
    const example = readFileSync(here('../examples/quickstart.ts'), 'utf8');
    expect(readme).toContain(example.trim());
  });

  it('shows examples/wasm.ts verbatim and runs it as the comments say', async () => {
    const readme = readFileSync(here('../README.md'), 'utf8');
    expect(readme).toContain(readFileSync(here('../examples/wasm.ts'), 'utf8').trim());
    const lines: unknown[][] = [];
    const spy = vi.spyOn(console, 'log').mockImplementation((...args) => void lines.push(args));
    try {
      const { c } = await import('../examples/wasm.js');
      expect(lines).toEqual([[true, [512, 512]], [true]]);
      expect(c.shape).toEqual([512, 512]);
    } finally {
      spy.mockRestore();
    }
  });

  it('runs the quickstart and prints what the comments say', async () => {
    const lines: unknown[][] = [];
    const spy = vi.spyOn(console, 'log').mockImplementation((...args) => void lines.push(args));
    try {
      const { p, y } = await import('../examples/quickstart.js');
      expect(lines[0][0]).toEqual([[11, 22, 33], [14, 25, 36]]);
      expect(lines[1][0]).toEqual([[7, 11], [6, 10], [5, 9], [4, 8]]);
      expect(lines[2][0]).toEqual([6, 15]);
      const probs = (await p.array()) as number[];
      expect(probs[0]).toBeCloseTo(0.13, 2);
      expect(probs[1]).toBeCloseTo(0.869, 2);
      expect(Math.abs(Number(lines[4][0]))).toBeLessThan(0.1);
      expect(Number(lines[4][1])).toBeGreaterThan(0.9);
      expect(Number(lines[4][1])).toBeLessThan(1.1);
      expect(await y.item()).toBeGreaterThan(0);
    } finally {
      spy.mockRestore();
    }
  });

  it('docs/architecture.md lists every primitive in the op table', () => {
    const doc = readFileSync(here('../../../docs/architecture.md'), 'utf8');
    const missing = PRIMITIVE_NAMES.filter((op) => !new RegExp(`\\b${op}\\b`).test(doc));
    expect(missing).toEqual([]);
  });
});
