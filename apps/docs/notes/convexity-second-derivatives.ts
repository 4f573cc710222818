/**
 * Convexity by second derivatives.
 *
 * f'' by differentiating twice with `grad(grad(f))`, the sign of f'' on a grid as a convexity
 * test, the Hessian and its eigenvalues in 2-D, and Jensen's inequality E[f(X)] ≥ f(E[X]) checked
 * by sampling.
 */
import { grad, hessian } from '@ml/autograd';
import { eigh, linspace, random, tensor } from '@ml/tensor';
import type { Tensor } from '@ml/tensor';
import * as Plot from '@observablehq/plot';
import type { NoteContext } from '../src/runtime/context.js';

const read = async (t: Tensor) => (await t.array()) as number[];
const f64 = (v: number | number[] | number[][]) => tensor(v, { dtype: 'float64' });
const matrix = (m: number[][]) => `[${m.map((r) => `[${r.map((a) => Number(a.toFixed(4))).join(', ')}]`).join(', ')}]`;

export default async function run(ctx: NoteContext) {
  // ---- 1. Six functions of one variable, their f'' by autodiff, and the sign of f'' on a grid.
  const fns = [
    { name: 'x²', f: (x: Tensor) => x.square(), d2: '2', lo: -2 },
    { name: '−x²', f: (x: Tensor) => x.square().neg(), d2: '−2', lo: -2 },
    { name: 'eˣ', f: (x: Tensor) => x.exp(), d2: 'eˣ', lo: -2 },
    { name: 'log x', f: (x: Tensor) => x.log(), d2: '−1/x²', lo: 0.25 }, // defined for x > 0 only
    { name: '2x + 1', f: (x: Tensor) => x.mul(2).add(1), d2: '0', lo: -2 }, // mx + c with m = 2, c = 1
    { name: 'x⁴', f: (x: Tensor) => x.square().square(), d2: '12x²', lo: -2 },
  ];

  // grad(grad(f)) at one point: f maps a scalar to a scalar, so each grad is a scalar function too.
  const at = [0.5, 1, 2]; // where the table shows f''
  // On a whole grid at once: f acts elementwise, so ∂(Σᵢ f(xᵢ))/∂xᵢ = f'(xᵢ). Summing before
  // each grad turns "the derivative at every grid point" into one gradient of a scalar.
  const elementwiseGrad = (f: (x: Tensor) => Tensor) => grad((x: Tensor) => f(x).sum());

  const table = [];
  const curves: { function: string; curve: string; x: number; y: number; class: string }[] = [];
  for (const { name, f, d2, lo } of fns) {
    const d2f = grad(grad(f)); // scalar x ↦ f''(x)
    const pointwise: number[] = [];
    for (const a of at) pointwise.push(await d2f(f64(a)).item());

    const xs = linspace(lo, 2, 41, { dtype: 'float64' }); // (41,) the grid
    const fv = await read(f(xs)); // (41,) f
    const d2v = await read(elementwiseGrad(elementwiseGrad(f))(xs)); // (41,) f''
    const grid = await read(xs);
    const [min, max] = [Math.min(...d2v), Math.max(...d2v)];
    const kind = min === 0 && max === 0 ? 'both' : min >= 0 ? 'convex' : max <= 0 ? 'concave' : 'neither';
    const strict = min > 0 || max < 0; // f'' > 0 (or < 0) on the whole interval: enough for strictness
    table.push({
      'f(x)': name,
      "f''(x)": d2,
      ...Object.fromEntries(at.map((a, i) => [`f''(${a})`, pointwise[i]])),
      "min f''": min,
      "max f''": max,
      class: kind,
      "f'' never 0": strict ? 'yes' : 'no',
    });
    grid.forEach((x, i) => {
      curves.push({ function: name, curve: 'f(x)', x, y: fv[i], class: kind });
      curves.push({ function: name, curve: "f''(x)", x, y: d2v[i], class: kind });
    });
  }
  ctx.table(table, { caption: "f'' from grad(grad(f)); min and max over 41 grid points from −2 (0.25 for log x) to 2" });
  ctx.plot({
    height: 330,
    marginRight: 50,
    x: { label: 'x', ticks: [-1, 0, 1], tickFormat: (d: number) => (d < 0 ? `−${-d}` : `${d}`) },
    y: { domain: [-5, 8], grid: true, label: null },
    fx: { label: null, domain: fns.map((f) => f.name), padding: 0.15 },
    fy: { label: null, domain: ['f(x)', "f''(x)"] },
    color: { domain: ['convex', 'concave', 'both'], range: ['#1f77b4', '#d62728', '#7f7f7f'], legend: true },
    marks: [
      Plot.ruleY([0], { stroke: '#aaa' }),
      Plot.line(curves, { x: 'x', y: 'y', fx: 'function', fy: 'curve', stroke: 'class', strokeWidth: 2, clip: true }),
    ],
  });

  // ---- 2. Two variables: the Hessian H and its eigenvalues. f is convex iff H ⪰ 0 everywhere.
  // Each f takes v = (x, y) as a (2,) tensor and returns a scalar; it also works on a (..., 2) batch.
  const A = f64([[3, 1], [1, 2]]); // (2, 2) symmetric, positive definite
  const surfaces = [
    { name: '½ vᵀAv', f: (v: Tensor) => v.mul(v.matmul(A)).sum(-1).mul(0.5) }, // H = A everywhere
    { name: 'x² − y²', f: (v: Tensor) => v.square().mul(f64([1, -1])).sum(-1) }, // a saddle: H = diag(2, −2)
    { name: 'log(eˣ + eʸ)', f: (v: Tensor) => v.logsumexp(-1) }, // convex, but flat along (1, 1)
  ];
  const v0 = f64([0.5, -0.5]); // (2,) where we look
  const points = random.uniform(random.key(7), [12, 2], { minval: -2, maxval: 2, dtype: 'float64' }); // (12, 2)
  const hess = [];
  for (const { name, f } of surfaces) {
    const H = hessian(f)(v0); // (2, 2) ∂²f/∂vᵢ∂vⱼ at v0
    const { values, vectors } = eigh(H); // values ascending (2,), eigenvectors in the columns (2, 2)
    // The sign test has to hold everywhere, not just at v0: the smallest eigenvalue at 12 random points.
    const minEig = [];
    for (const p of (await points.array()) as number[][]) {
      minEig.push((await read(eigh(hessian(f)(f64(p))).values))[0]);
    }
    const lam = await read(values);
    const lowest = Math.min(...minEig);
    hess.push({
      f: name,
      'H at (0.5, −0.5)': matrix((await H.array()) as number[][]),
      eigenvalues: lam,
      eigenvectors: (await vectors.array()) as number[][],
      'smallest λ at 12 points': lowest,
      verdict: lowest < -1e-9 ? 'not convex' : Math.abs(lowest) < 1e-9 ? 'convex, not strictly' : 'strictly convex',
    });
  }
  ctx.table(
    hess.map(({ eigenvectors: _e, eigenvalues, ...row }) => ({ ...row, eigenvalues: eigenvalues.map((l) => Number(l.toFixed(4))) })),
    { caption: 'hessian(f) and eigh: the signs of the eigenvalues decide', columns: ['f', 'H at (0.5, −0.5)', 'eigenvalues', 'smallest λ at 12 points', 'verdict'] },
  );
  ctx.plot(surfacePlot(surfaces, hess));

  // ---- 3. Jensen's inequality: E[f(X)] ≥ f(E[X]) for convex f (≤ for concave f), by sampling.
  const n = 100_000;
  const [k1, k2, k3] = random.split(random.key(2024), 3);
  const draws = [
    { f: 'x²', X: 'N(1, 1)', samples: random.normal(k1, [n]).add(1), g: (x: Tensor) => x.square(), exact: [2, 1] }, // E[X²] = μ² + σ²
    { f: 'eˣ', X: 'N(0, 1)', samples: random.normal(k2, [n]), g: (x: Tensor) => x.exp(), exact: [Math.exp(0.5), 1] }, // E[eˣ] = e^{σ²/2}
    { f: 'eˣ', X: 'the constant 0.7', samples: tensor(0.7).expand([n]), g: (x: Tensor) => x.exp(), exact: [Math.exp(0.7), Math.exp(0.7)] },
    {
      f: 'log x (concave)',
      X: 'U(0.5, 2)',
      samples: random.uniform(k3, [n], { minval: 0.5, maxval: 2 }),
      g: (x: Tensor) => x.log(),
      exact: [(2 * Math.log(2) - 2 - (0.5 * Math.log(0.5) - 0.5)) / 1.5, Math.log(1.25)], // ∫ log x dx / 1.5
    },
    { f: 'x²', X: '1 or 10, ½ each', samples: f64([1, 10]), g: (x: Tensor) => x.square(), exact: [50.5, 30.25] },
    { f: 'log x (concave)', X: '1 or 10, ½ each', samples: f64([1, 10]), g: (x: Tensor) => x.log(), exact: [Math.log(10) / 2, Math.log(5.5)] },
  ];
  const jensen = [];
  for (const { f, X, samples, g, exact } of draws) {
    const Ef = await g(samples).mean().item(); // E[f(X)], a sample mean
    const fE = await g(samples.mean()).item(); // f(E[X])
    jensen.push({ f, X, 'E[f(X)]': Ef, 'f(E[X])': fE, gap: Ef - fE, 'E[f(X)] exact': exact[0], 'f(E[X]) exact': exact[1] });
  }
  ctx.table(jensen, { caption: `Jensen's inequality from ${n.toLocaleString('en-US')} samples (or the two-point distribution exactly)` });
  ctx.plot(chordPlot());

  return { table, hess, jensen };
}

/** Level sets of each surface (colors rescaled per panel) and the Hessian's eigenvectors at v0. */
function surfacePlot(
  surfaces: { name: string; f: (v: Tensor) => Tensor }[],
  hess: { f: string; eigenvalues: number[]; eigenvectors: number[][] }[],
): Plot.PlotOptions {
  const ticks = linspace(-2, 2, 41, { dtype: 'float64' }).arraySync() as number[];
  const grid = ticks.flatMap((x) => ticks.map((y) => [x, y])); // 41·41 points
  const V = tensor(grid, { dtype: 'float64' }); // (1681, 2)
  const rows = [];
  for (const { name, f } of surfaces) {
    const values = f(V).arraySync() as number[]; // (1681,) f at every point
    const [lo, hi] = [Math.min(...values), Math.max(...values)];
    rows.push(...grid.map(([x, y], i) => ({ surface: name, x, y, level: (values[i] - lo) / (hi - lo) })));
  }
  const arrows = hess.flatMap(({ f, eigenvalues, eigenvectors }) =>
    eigenvalues.map((lam, k) => {
      // the k-th eigenvector is the k-th column; its sign is arbitrary, so draw it pointing up
      const s = eigenvectors[1][k] < 0 ? -1 : 1;
      return {
        surface: f,
        x1: 0.5,
        y1: -0.5,
        x2: 0.5 + 1.2 * s * eigenvectors[0][k],
        y2: -0.5 + 1.2 * s * eigenvectors[1][k],
        label: `λ = ${lam.toFixed(2)}`,
        color: lam > 1e-9 ? 'black' : lam < -1e-9 ? '#d62728' : '#ff7f0e', // up, down, flat
      };
    }),
  );
  return {
    height: 270,
    x: { label: 'x', ticks: [-1, 0, 1], tickFormat: (d: number) => (d < 0 ? `−${-d}` : `${d}`) },
    y: { label: 'y', ticks: 5 },
    fx: { label: null, domain: surfaces.map((s) => s.name), padding: 0.12 },
    color: { type: 'linear', scheme: 'blues', legend: false },
    marks: [
      Plot.contour(rows, { x: 'x', y: 'y', fill: 'level', fx: 'surface', thresholds: 14, stroke: 'white', strokeOpacity: 0.6, interpolate: 'barycentric' }),
      // colors given as CSS values, not through the color scale (which the contours use)
      Plot.arrow(arrows, { x1: 'x1', y1: 'y1', x2: 'x2', y2: 'y2', fx: 'surface', stroke: { value: 'color', scale: null }, strokeWidth: 2.5 }),
      Plot.text(arrows, { x: 'x2', y: 'y2', fx: 'surface', text: 'label', dy: -9, fontWeight: 'bold', fill: { value: 'color', scale: null }, stroke: 'white', strokeWidth: 3, paintOrder: 'stroke' }),
    ],
  };
}

/** The picture behind Jensen's inequality: the chord of a convex f lies above f. */
function chordPlot(): Plot.PlotOptions {
  const f = (x: number) => x * x;
  const curve = Array.from({ length: 111 }, (_, i) => ({ x: i / 10, y: f(i / 10) }));
  const [a, b] = [1, 10]; // X takes these two values with probability ½ each
  const mid = { x: (a + b) / 2, Ef: (f(a) + f(b)) / 2, fE: f((a + b) / 2) };
  return {
    height: 260,
    x: { label: 'x' },
    y: { label: 'f(x) = x²', grid: true },
    marks: [
      Plot.line(curve, { x: 'x', y: 'y' }),
      Plot.line([{ x: a, y: f(a) }, { x: b, y: f(b) }], { x: 'x', y: 'y', strokeDasharray: '4 3' }), // the chord
      Plot.dot([{ x: a, y: f(a) }, { x: b, y: f(b) }], { x: 'x', y: 'y', fill: 'currentColor' }),
      Plot.ruleX([mid.x], { y1: 0, y2: mid.Ef, stroke: '#aaa' }),
      Plot.dot([{ x: mid.x, y: mid.Ef, t: `E[f(X)] = ${mid.Ef}` }, { x: mid.x, y: mid.fE, t: `f(E[X]) = ${mid.fE}` }], {
        x: 'x',
        y: 'y',
        fill: 'red',
        r: 4,
      }),
      Plot.text([{ x: mid.x, y: mid.Ef, t: `E[f(X)] = ${mid.Ef}` }, { x: mid.x, y: mid.fE, t: `f(E[X]) = ${mid.fE}` }], {
        x: 'x',
        y: 'y',
        text: 't',
        dx: 8,
        textAnchor: 'start',
      }),
    ],
  };
}
