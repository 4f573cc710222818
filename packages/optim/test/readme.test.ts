/** The README's example runs and prints what its comments say; its API list and quoted errors are real. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import { Adam, clipGradNorm, GradScaler, SGD, StepLR } from '@ml/optim';
import { f64 } from './helpers.js';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const readme = readFileSync(here('../README.md'), 'utf8');

function section(title: string): string {
  const start = readme.indexOf(`\n## ${title}`);
  expect(start, `README has a "## ${title}" section`).toBeGreaterThan(0);
  const end = readme.indexOf('\n## ', start + 1);
  return readme.slice(start, end < 0 ? undefined : end);
}

describe('README', () => {
  it('shows examples/quickstart.ts verbatim', () => {
    expect(readme).toContain(readFileSync(here('../examples/quickstart.ts'), 'utf8').trim());
  });

  it('runs the quickstart: the loss falls, the model fits, the checkpoint resumes', async () => {
    const lines: unknown[][] = [];
    const spy = vi.spyOn(console, 'log').mockImplementation((...args) => void lines.push(args));
    try {
      const { model, opt, resumed, resumedOpt } = await import('../examples/quickstart.js');
      expect(Number(lines[0][0])).toBeCloseTo(0.69, 1);
      expect(Number(lines[0][1])).toBeLessThan(0.1);
      expect(lines[1][0]).toBeGreaterThan(0.95);
      expect(lines[2]).toEqual([0.003, 150]);
      // the resumed model and optimizer hold exactly the trained state
      expect(resumed.parameters().map((p) => Array.from(p.dataSync()))).toEqual(model.parameters().map((p) => Array.from(p.dataSync())));
      const a = opt.stateDict();
      const b = resumedOpt.stateDict();
      expect(b.groups).toEqual(a.groups);
      expect(b.steps).toEqual(a.steps);
      for (const k of Object.keys(a.state)) expect(Array.from(b.state[k].dataSync())).toEqual(Array.from(a.state[k].dataSync()));
    } finally {
      spy.mockRestore();
    }
  });

  it('lists every export of the package in its API section', () => {
    const index = readFileSync(here('../src/index.ts'), 'utf8');
    const exported = [...index.matchAll(/export (?:type )?\{([^}]*)\}/g)].flatMap((m) => m[1].split(',').map((s) => s.trim()).filter(Boolean));
    expect(exported.length).toBeGreaterThan(30);
    const api = section('API');
    expect(exported.filter((name) => !api.includes(`\`${name}`))).toEqual([]);
  });

  it('quotes error messages the package really gives', async () => {
    const message = async (fn: () => unknown): Promise<string> => {
      try {
        await fn();
      } catch (e) {
        return (e as Error).message;
      }
      throw new Error('expected an error');
    };
    const p = f64([1, 2]);
    const opt = new SGD([p], { lr: 0.1 });
    p.grad = f64([1, 2, 3]);
    const actual = [
      await message(() => new Adam([p], { lr: -0.1 })),
      await message(() => new Adam([p], { betas: [0.9, 1] })),
      await message(() => new SGD([p], { lr: 0.1, nesterov: true })),
      await message(() => new SGD([p], { lr: 0.1, momentun: 0.9 } as object)),
      await message(() => opt.step()),
      await message(() => new StepLR(opt, { stepSize: 0 })),
      await message(() => clipGradNorm([f64([Infinity])].map((q) => ((q.grad = f64([Infinity])), q)), 1, 2, { errorIfNonfinite: true })),
      await message(() => new GradScaler().update()),
    ];
    const quoted = [...section('Errors').matchAll(/^- `(.*)`$/gm)].map((m) => m[1]);
    expect(quoted).toEqual(actual);
  });
});
