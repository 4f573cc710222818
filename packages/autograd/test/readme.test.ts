import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import { tensor } from '@ml/tensor';
import type { Tensor } from '@ml/tensor';
import { backward, detectAnomaly, grad, vjp } from '@ml/autograd';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const readme = readFileSync(here('../README.md'), 'utf8');

/** The text of a `## title` section of the README. */
function section(title: string): string {
  const start = readme.indexOf(`\n## ${title}`);
  expect(start, `README has a "## ${title}" section`).toBeGreaterThan(0);
  const end = readme.indexOf('\n## ', start + 1);
  return readme.slice(start, end < 0 ? undefined : end);
}

describe('README', () => {
  it('shows examples/quickstart.ts verbatim', () => {
    const example = readFileSync(here('../examples/quickstart.ts'), 'utf8');
    expect(readme).toContain(example.trim());
  });

  it('runs the quickstart and prints what the comments say', async () => {
    const lines: unknown[][] = [];
    const spy = vi.spyOn(console, 'log').mockImplementation((...args) => void lines.push(args));
    try {
      const { params, w } = await import('../examples/quickstart.js');
      const t = Math.tanh;
      (lines[0][0] as number[]).forEach((v, i) => expect(v).toBeCloseTo(1 - t([0.5, -1, 2][i]) ** 2, 12));
      expect(lines[1][0]).toEqual([12]);
      expect((lines[2][0] as number[][]).map((row) => row.map((v) => v + 0))).toEqual([[3, 0, 0], [0, -6, 0], [0, 0, 12]]);
      expect(lines[3][0]).toEqual([3, -6, 12]);
      expect(Number(lines[4][0])).toBeGreaterThan(10);
      expect(Number(lines[4][1])).toBeLessThan(1e-3);
      expect((lines[5][0] as number[])[0]).toBeCloseTo(3, 5);
      expect(lines[6][0]).toEqual([2, 4, 6]);
      expect(lines[7][0]).toEqual([5, 7, 9]);
      expect((params.w.arraySync() as number[][]).map((r) => r[0])).toEqual([expect.closeTo(2, 5), expect.closeTo(-1, 5), expect.closeTo(0.5, 5)]);
      expect(w.grad).toBeNull();
    } finally {
      spy.mockRestore();
    }
  });

  it('lists every export of the package in its API section', () => {
    const index = readFileSync(here('../src/index.ts'), 'utf8');
    const exported = [...index.matchAll(/export (?:type )?\{([^}]*)\}/g)].flatMap((m) => m[1].split(',').map((s) => s.trim()).filter(Boolean));
    expect(exported.length).toBeGreaterThan(20);
    const api = section('API');
    expect(exported.filter((name) => !api.includes(`\`${name}`))).toEqual([]);
  });

  it('quotes error messages the package really gives', () => {
    const message = (fn: () => unknown): string => {
      try {
        fn();
      } catch (e) {
        return (e as Error).message;
      }
      throw new Error('expected an error');
    };
    const f64 = (d: number[] | number[][]) => tensor(d, { dtype: 'float64' });
    const [, pullback] = vjp((x: Tensor) => x.reshape([2, 2]).exp(), f64([1, 2, 3, 4]));
    const [, once] = vjp((x: Tensor) => x.sum(), f64([1]));
    once(f64([1]).sum());
    const actual = [
      message(() => grad((x: Tensor) => x.mul(2))(f64([[1, 2, 3], [4, 5, 6]]))),
      message(() => pullback(f64([1, 1, 1]))),
      message(() => once(f64([1]).sum())),
      message(() => grad((a: Tensor, k: Tensor) => a.mul(k).sum(), 1)(f64([1, 2]), tensor([3, 4], { dtype: 'int32' }))),
      message(() => backward(f64([1, 2, 3]).mul(2))),
      message(() => detectAnomaly(() => grad((x: Tensor) => x.sqrt().sum())(f64([4, 0])))),
    ];
    const quoted = [...section('Errors').matchAll(/^- `(.*)`$/gm)].map((m) => m[1]);
    expect(quoted).toEqual(actual);
  });
});
