import { memory } from '@ml/tensor';
import { describe, expect, it } from 'vitest';
import run from '../notes/optimizers.js';
import { runNote, type Recording } from './record.js';

type Point = [number, number];
interface Run {
  path: Point[];
  losses: number[];
}
interface Result {
  results: Record<string, Record<string, Run>>;
  names: string[];
}

// ---- Plain float64 references, written from the textbook (PyTorch) update rules, without @ml/*.
const KAPPA = 50;
const surfaces = {
  'ill-conditioned quadratic': {
    f: ([x, y]: Point) => 0.5 * (x * x + KAPPA * y * y),
    grad: ([x, y]: Point): Point => [x, KAPPA * y],
    start: [-4, 1] as Point,
    steps: 100,
  },
  Rosenbrock: {
    f: ([x, y]: Point) => (1 - x) ** 2 + 100 * (y - x * x) ** 2,
    grad: ([x, y]: Point): Point => [-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)],
    start: [-1.5, 2] as Point,
    steps: 1000,
  },
};
type SurfaceName = keyof typeof surfaces;

/** One coordinate's update: (θ, g, t, state) → new θ; the state object carries buffers between steps. */
type Rule = (theta: number, g: number, t: number, s: Record<string, number>) => number;
const rules: Record<SurfaceName, Record<string, Rule>> = {
  'ill-conditioned quadratic': {
    SGD: (th, g) => th - 0.035 * g,
    'SGD + momentum': (th, g, t, s) => th - 0.01 * (s.b = t === 1 ? g : 0.9 * s.b + g),
    Nesterov: (th, g, t, s) => {
      s.b = t === 1 ? g : 0.9 * s.b + g;
      return th - 0.01 * (g + 0.9 * s.b);
    },
    Adagrad: (th, g, _t, s) => th - (0.7 * g) / (Math.sqrt((s.G = (s.G ?? 0) + g * g)) + 1e-10),
    RMSprop: (th, g, _t, s) => th - (0.05 * g) / (Math.sqrt((s.v = 0.99 * (s.v ?? 0) + 0.01 * g * g)) + 1e-8),
    Adam: adam(0.3),
  },
  Rosenbrock: {
    SGD: (th, g) => th - 1e-3 * g,
    'SGD + momentum': (th, g, t, s) => th - 1e-3 * (s.b = t === 1 ? g : 0.9 * s.b + g),
    Nesterov: (th, g, t, s) => {
      s.b = t === 1 ? g : 0.9 * s.b + g;
      return th - 1e-3 * (g + 0.9 * s.b);
    },
    Adagrad: (th, g, _t, s) => th - (0.5 * g) / (Math.sqrt((s.G = (s.G ?? 0) + g * g)) + 1e-10),
    RMSprop: (th, g, _t, s) => th - (5e-3 * g) / (Math.sqrt((s.v = 0.99 * (s.v ?? 0) + 0.01 * g * g)) + 1e-8),
    Adam: adam(0.1),
  },
};

function adam(lr: number, b1 = 0.9, b2 = 0.999, eps = 1e-8): Rule {
  return (th, g, t, s) => {
    s.m = b1 * (s.m ?? 0) + (1 - b1) * g;
    s.v = b2 * (s.v ?? 0) + (1 - b2) * g * g;
    const mHat = s.m / (1 - b1 ** t);
    const vHat = s.v / (1 - b2 ** t);
    return th - (lr * mHat) / (Math.sqrt(vHat) + eps);
  };
}

function reference(surface: SurfaceName, name: string, steps: number): Point[] {
  const { grad, start } = surfaces[surface];
  const rule = rules[surface][name];
  const state: Record<string, number>[] = [{}, {}];
  let p: Point = [...start];
  const path: Point[] = [p];
  for (let t = 1; t <= steps; t++) {
    const g = grad(p);
    p = [rule(p[0], g[0], t, state[0]), rule(p[1], g[1], t, state[1])];
    path.push(p);
  }
  return path;
}

describe('note: optimizers', async () => {
  const rec: Recording = await runNote(run);
  const r = rec.result as Result;
  const quad = r.results['ill-conditioned quadratic'];
  const ros = r.results.Rosenbrock;
  const final = (runs: Record<string, Run>, name: string) => runs[name].losses.at(-1)!;

  it('runs the six optimizers on both surfaces for the stated number of steps', () => {
    expect(r.names).toEqual(['SGD', 'SGD + momentum', 'Nesterov', 'Adagrad', 'RMSprop', 'Adam']);
    for (const [surface, runs] of Object.entries(r.results) as [SurfaceName, Record<string, Run>][]) {
      const { f, start, steps } = surfaces[surface];
      for (const name of r.names) {
        expect(runs[name].path).toHaveLength(steps + 1);
        expect(runs[name].path[0]).toEqual(start);
        // the recorded losses are f along the recorded path
        runs[name].path.forEach((p, i) => {
          const want = f(p);
          expect(Math.abs(runs[name].losses[i] - want)).toBeLessThanOrEqual(1e-5 * Math.max(1, want));
        });
      }
    }
  });

  it('follows the textbook update rules step for step (float64 reference)', () => {
    // float32 rounding grows along the way, so compare the start of each path closely.
    for (const [surface, runs] of Object.entries(r.results) as [SurfaceName, Record<string, Run>][]) {
      const steps = surface === 'Rosenbrock' ? 30 : 100;
      for (const name of r.names) {
        const want = reference(surface, name, steps);
        for (let t = 0; t <= steps; t++) {
          const [x, y] = runs[name].path[t];
          expect(Math.hypot(x - want[t][0], y - want[t][1]), `${surface}, ${name}, step ${t}`).toBeLessThan(2e-4);
        }
      }
    }
  });

  it('Adam and Adagrad move by exactly lr per coordinate on their first step; RMSprop by 10·lr', () => {
    const [x0, y0] = surfaces['ill-conditioned quadratic'].start; // the gradient (−4, 50) has signs (−, +)
    expect(quad.Adam.path[1][0]).toBeCloseTo(x0 + 0.3, 5);
    expect(quad.Adam.path[1][1]).toBeCloseTo(y0 - 0.3, 5);
    expect(quad.Adagrad.path[1][0]).toBeCloseTo(x0 + 0.7, 5);
    expect(quad.Adagrad.path[1][1]).toBeCloseTo(y0 - 0.7, 5);
    expect(quad.RMSprop.path[1][0]).toBeCloseTo(x0 + 0.5, 4); // v = 0.01·g², so g/√v = 10·sign(g)
  });

  it('gets every optimizer close to the minimum of the quadratic, momentum and Adam ahead of SGD', () => {
    const f0 = quad.SGD.losses[0];
    expect(f0).toBeCloseTo(0.5 * (16 + 50), 5);
    for (const name of r.names) expect(final(quad, name), name).toBeLessThan(1e-2);
    // SGD's learning rate is capped by the steep direction (lr < 2/κ): the flat one crawls.
    expect(final(quad, 'SGD')).toBeGreaterThan(1e-3);
    for (const name of ['SGD + momentum', 'Nesterov', 'Adam']) {
      expect(final(quad, name), name).toBeLessThan(final(quad, 'SGD') / 10);
    }
  });

  it('on Rosenbrock, momentum, Nesterov and Adam reach the minimum (1, 1) while SGD and Adagrad crawl', () => {
    for (const name of ['SGD + momentum', 'Nesterov', 'Adam']) {
      expect(final(ros, name), name).toBeLessThan(1e-3);
      const [x, y] = ros[name].path.at(-1)!;
      expect(Math.hypot(x - 1, y - 1), name).toBeLessThan(0.05);
    }
    for (const name of r.names) expect(final(ros, name), name).toBeLessThan(ros[name].losses[0]);
    expect(final(ros, 'SGD')).toBeGreaterThan(100 * final(ros, 'SGD + momentum'));
    expect(final(ros, 'RMSprop')).toBeLessThan(0.5);
  });

  it('frees every tensor it made', () => {
    expect(memory().tensors).toBe(0); // runNote gives the note a fresh backend
  });

  it('draws the paths over the contours, the loss curves and a table per surface', () => {
    expect(rec.plots).toHaveLength(4);
    const names = (o: (typeof rec.plots)[number]) => (o.marks ?? []).map((m) => m?.constructor?.name);
    expect(names(rec.plots[0])).toEqual(expect.arrayContaining(['Contour', 'Line']));
    expect(names(rec.plots[2])).toEqual(expect.arrayContaining(['Contour', 'Line']));
    expect(rec.tables).toHaveLength(2);
    expect(rec.tables[0].rows.map((row) => row.optimizer)).toEqual(r.names);
  });
});
