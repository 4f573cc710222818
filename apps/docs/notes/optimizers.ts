/**
 * Optimizers on a 2-D loss surface.
 *
 * SGD, SGD with momentum, Nesterov momentum, Adagrad, RMSprop and Adam from @ml/optim, each
 * minimizing two functions of one 2-element Parameter: an ill-conditioned quadratic (a long,
 * narrow valley) and the Rosenbrock function (a curved one). Gradients come from @ml/autograd's
 * backward; every point is recorded, and the paths are drawn over the contours of the loss.
 */
import { backward, noGrad } from '@ml/autograd';
import { Parameter } from '@ml/nn';
import { Adagrad, Adam, RMSprop, SGD } from '@ml/optim';
import type { Optimizer } from '@ml/optim';
import { createCpuBackend, linspace, scope, stack, tensor } from '@ml/tensor';
import type { Backend, Tensor } from '@ml/tensor';
import * as Plot from '@observablehq/plot';
import type { NoteContext } from '../src/runtime/context.js';

/** A loss surface f(x, y) and where to start on it. */
interface Surface {
  name: string;
  /** f of points (…, 2) → values (…): one point, a path or a whole grid, in tensor ops. */
  f: (p: Tensor) => Tensor;
  start: [number, number];
  minimum: [number, number];
  steps: number;
  /** The window of the contour plot, and the contour levels of log₁₀ f drawn in it. */
  view: { x: [number, number]; y: [number, number]; levels: number[] };
  /** Each optimizer's hyperparameters here (found by trying a few values). */
  settings: Record<string, Record<string, number | boolean>>;
}

/** start, start + step, … up to stop. */
const range = (start: number, stop: number, step: number) => Array.from({ length: Math.round((stop - start) / step) + 1 }, (_, i) => start + i * step);

const xOf = (p: Tensor) => p.slice('..., 0'); // (…,)
const yOf = (p: Tensor) => p.slice('..., 1'); // (…,)

// Curvatures 1 and 50 along the two axes: condition number κ = λmax / λmin = 50.
const KAPPA = 50;
const quadratic: Surface = {
  name: 'ill-conditioned quadratic',
  f: (p) => xOf(p).square().add(yOf(p).square().mul(KAPPA)).mul(0.5), // ½(x² + κy²)
  start: [-4, 1],
  minimum: [0, 0],
  steps: 100,
  view: { x: [-4.5, 1.5], y: [-1.5, 1.5], levels: range(-1.5, 2.5, 0.25) },
  settings: {
    SGD: { lr: 0.035 }, // just under 2/50, where SGD starts to diverge along y
    'SGD + momentum': { lr: 0.01, momentum: 0.9 },
    Nesterov: { lr: 0.01, momentum: 0.9, nesterov: true },
    Adagrad: { lr: 0.7 },
    RMSprop: { lr: 0.05 },
    Adam: { lr: 0.3 },
  },
};

const rosenbrock: Surface = {
  name: 'Rosenbrock',
  f: (p) => {
    const [x, y] = [xOf(p), yOf(p)];
    return x.neg().add(1).square().add(y.sub(x.square()).square().mul(100)); // (1 − x)² + 100(y − x²)²
  },
  start: [-1.5, 2],
  minimum: [1, 1],
  steps: 1000,
  view: { x: [-2, 2], y: [-1, 3], levels: range(0, 3.5, 0.25) },
  settings: {
    SGD: { lr: 1e-3 },
    'SGD + momentum': { lr: 1e-3, momentum: 0.9 },
    Nesterov: { lr: 1e-3, momentum: 0.9, nesterov: true },
    Adagrad: { lr: 0.5 },
    RMSprop: { lr: 5e-3 },
    Adam: { lr: 0.1 },
  },
};

/** The optimizers, by name; `SGD` covers plain SGD, momentum and Nesterov. */
const MAKE: Record<string, (ps: Parameter[], h: Record<string, number | boolean>) => Optimizer<any>> = {
  SGD: (ps, h) => new SGD(ps, h),
  'SGD + momentum': (ps, h) => new SGD(ps, h),
  Nesterov: (ps, h) => new SGD(ps, h),
  Adagrad: (ps, h) => new Adagrad(ps, h),
  RMSprop: (ps, h) => new RMSprop(ps, h),
  Adam: (ps, h) => new Adam(ps, h),
};
const NAMES = Object.keys(MAKE);

interface Run {
  /** Every point visited, the start first: steps + 1 of them. */
  path: [number, number][];
  /** f at each point. */
  losses: number[];
}

/** `steps` steps of one optimizer from the start of `s`, every point recorded. */
async function descend(s: Surface, name: string, backend: Backend, tick: () => Promise<void>): Promise<Run> {
  const p = new Parameter(tensor(s.start, { backend })); // (2,) the point (x, y), float32
  const opt = MAKE[name]([p], s.settings[name]);
  // Copies of p for the record, made under noGrad: they are data, not part of any graph.
  const snapshot = () => noGrad(() => p.clone()); // (2,)
  const points: Tensor[] = [snapshot()];
  for (let t = 0; t < s.steps; t++) {
    scope(() => backward(s.f(p))); // p.grad ← ∇f(p); the graph is freed
    opt.step(); // p ← p − (this optimizer's step)
    opt.zeroGrad();
    points.push(snapshot()); // p is updated in place, so keep a copy
    if (t % 100 === 99) await tick();
  }
  // One read at the end (cheap on a GPU too): the path, and f along it as one batch.
  const [path, losses] = scope(() => {
    const path = stack(points); // (steps + 1, 2)
    return [path, s.f(path)]; // f: (steps + 1,)
  });
  const [xy, f] = await Promise.all([path.data(), losses.data()]);
  for (const t of [...points, path, losses]) t.dispose();
  opt.dispose();
  p.dispose();
  return { path: Array.from({ length: s.steps + 1 }, (_, i) => [xy[2 * i], xy[2 * i + 1]]), losses: Array.from(f) };
}

/** f on a G×G grid of cell centres over the plot window, row-major from (x1, y1): what Plot.contour wants. */
async function grid(s: Surface, G: number, backend: Backend): Promise<number[]> {
  const [[x1, x2], [y1, y2]] = [s.view.x, s.view.y];
  const [dx, dy] = [(x2 - x1) / G, (y2 - y1) / G];
  const values = scope(() => {
    const xs = linspace(x1 + dx / 2, x2 - dx / 2, G, { backend }).reshape([1, G]).expand([G, G]); // (G, G) x varies along a row
    const ys = linspace(y1 + dy / 2, y2 - dy / 2, G, { backend }).reshape([G, 1]).expand([G, G]); // (G, G) y along a column
    return s.f(stack([xs, ys], -1)); // (G, G, 2) → (G, G)
  });
  const out = Array.from(await values.data());
  values.dispose();
  return out;
}

export default async function run(ctx: NoteContext) {
  // Two numbers per step: on a GPU every op would be a kernel launch for two floats, all overhead.
  // These runs use the CPU backend whatever the page runs on.
  const cpu = ctx.backend.name === 'cpu' ? ctx.backend : createCpuBackend();
  const surfaces = [quadratic, rosenbrock];
  const total = surfaces.reduce((n, s) => n + s.steps * NAMES.length, 0);
  let done = 0;
  const tick = () => ctx.progress((done += 100) / total);

  const results: Record<string, Record<string, Run>> = {};
  for (const s of surfaces) {
    const runs: Record<string, Run> = {};
    for (const name of NAMES) runs[name] = await descend(s, name, cpu, tick);
    results[s.name] = runs;

    // ---- The paths over the contours of f (log-spaced levels: the valley floor is very flat).
    const G = 150;
    const values = (await grid(s, G, cpu)).map((v) => Math.log10(Math.max(v, 1e-12)));
    // The slow optimizers last, so that their short paths are drawn on top of the long ones.
    const paths = [...NAMES].reverse().flatMap((name) => runs[name].path.map(([x, y], step) => ({ optimizer: name, step, x, y })));
    ctx.plot({
      caption: `${s.name}: ${s.steps} steps from (${s.start.join(', ')}) towards the minimum (the star), over contours of log₁₀ f`,
      width: 640,
      height: s === quadratic ? 340 : 460,
      x: { domain: s.view.x, label: 'x' },
      y: { domain: s.view.y, label: 'y' },
      color: { legend: true, domain: NAMES },
      marks: [
        Plot.contour(values, {
          x1: s.view.x[0], x2: s.view.x[1], y1: s.view.y[0], y2: s.view.y[1], width: G, height: G,
          stroke: '#bbb', thresholds: s.view.levels, strokeWidth: 0.7,
        }),
        Plot.line(paths, { x: 'x', y: 'y', z: 'optimizer', stroke: 'optimizer', strokeWidth: 1.5, clip: true }),
        Plot.dot([{ x: s.start[0], y: s.start[1] }], { x: 'x', y: 'y', fill: 'currentColor', r: 3 }),
        Plot.dot([{ x: s.minimum[0], y: s.minimum[1] }], { x: 'x', y: 'y', symbol: 'star', fill: 'currentColor', r: 6 }),
      ],
    });

    // ---- Loss against step, on a log scale.
    const curves = NAMES.flatMap((name) => runs[name].losses.map((loss, step) => ({ optimizer: name, step, loss: Math.max(loss, 1e-12) })));
    ctx.plot({
      caption: `${s.name}: f at every step`,
      height: 260,
      y: { type: 'log', label: 'f(x, y)', grid: true },
      x: { label: 'step' },
      color: { legend: true, domain: NAMES },
      marks: [Plot.line(curves, { x: 'step', y: 'loss', stroke: 'optimizer' })],
    });

    ctx.table(
      NAMES.map((name) => {
        const r = runs[name];
        const [x, y] = r.path.at(-1)!;
        return {
          optimizer: name,
          settings: Object.entries(s.settings[name]).map(([k, v]) => `${k} ${v}`).join(', '),
          'final f': r.losses.at(-1)!.toExponential(2),
          'final (x, y)': `(${x.toFixed(4)}, ${y.toFixed(4)})`,
          'distance to minimum': Math.hypot(x - s.minimum[0], y - s.minimum[1]).toFixed(4),
        };
      }),
      { caption: `${s.name}: where each optimizer is after ${s.steps} steps (f starts at ${runs.SGD.losses[0]})` },
    );
  }

  // ---- Adam's first step: m̂₁ = g and v̂₁ = g², so it moves by lr·g/|g| = lr in every coordinate.
  const first = results[quadratic.name].Adam.path[1];
  ctx.print(`Adam's first step on the quadratic: (${quadratic.start.join(', ')}) → (${first.map((v) => v.toFixed(4)).join(', ')}); lr = ${quadratic.settings.Adam.lr} in each coordinate, whatever the size of the gradient`);

  return { results, names: NAMES };
}
