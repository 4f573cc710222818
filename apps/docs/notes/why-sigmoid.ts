/**
 * Why the sigmoid?
 *
 * Logistic regression models the log-odds log(p / (1 − p)) as a linear function; the sigmoid is
 * what turns log-odds back into a probability. The log-odds is also the natural parameter of the
 * Bernoulli distribution as an exponential family. We check both numerically and compare the
 * sigmoid with the other S-shaped candidates.
 */
import { linspace, sub, tensor } from '@ml/tensor';
import type { Tensor } from '@ml/tensor';
import * as Plot from '@observablehq/plot';
import type { NoteContext } from '../src/runtime/context.js';

// The standard normal CDF: Φ(x) = ½(1 + erf(x / √2)).
const Phi = (x: Tensor) => x.div(Math.SQRT2).erf().add(1).mul(0.5);

export default async function run(ctx: NoteContext) {
  const read = async (t: Tensor) => (await t.array()) as number[];
  const maxAbsDiff = (a: Tensor, b: Tensor) => a.sub(b).abs().max().item();

  // ---- 1. Odds and log-odds. We use float64 throughout, so the checks below are tight.
  const p = tensor([0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99], { dtype: 'float64' }); // (7,) in (0, 1)
  const odds = p.div(sub(1, p)); // (7,) p / (1 − p), in (0, ∞)
  const logOdds = odds.log(); // (7,) log(p / (1 − p)), in (−∞, ∞): the logit of p
  const back = logOdds.sigmoid(); // (7,) σ(logit(p)) = 1 / (1 + e^(−logit p)) = p
  const [pv, oddsv, etav, backv] = await Promise.all([p, odds, logOdds, back].map(read));
  ctx.table(
    pv.map((_, i) => ({
      p: pv[i],
      'odds p/(1−p)': oddsv[i],
      'log-odds log(p/(1−p))': etav[i],
      'σ(log-odds)': backv[i],
    })),
    { caption: 'The logit maps (0, 1) onto the whole real line; the sigmoid maps it back' },
  );
  const roundTrip = await maxAbsDiff(back, p);
  ctx.print(`max |σ(logit(p)) − p| = ${roundTrip.toExponential(1)}`);

  // ---- 2. The Bernoulli pmf as an exponential family: p(y; η) = exp(η·y − A(η)),
  // with natural parameter η = logit(p) and log-partition A(η) = log(1 + e^η) (softplus).
  const eta = logOdds; // (7,)
  const A = eta.softplus(); // (7,) A(η), computed stably
  const pmf1 = eta.sub(A).exp(); // (7,) p(y = 1; η) = e^(η − A(η)), should be p
  const pmf0 = A.neg().exp(); // (7,) p(y = 0; η) = e^(−A(η)), should be 1 − p
  const pmfErr = Math.max(await maxAbsDiff(pmf1, p), await maxAbsDiff(pmf0, sub(1, p)));
  ctx.print(`max |exp(ηy − A(η)) − p^y (1−p)^(1−y)|, y ∈ {0, 1}: ${pmfErr.toExponential(1)}`);

  // The mean of y is A'(η), so it must be σ(η). Check with central differences.
  const grid = linspace(-6, 6, 25, { dtype: 'float64' }); // (25,) values of η
  const h = 1e-5;
  const dA = grid.add(h).softplus().sub(grid.sub(h).softplus()).div(2 * h); // (A(η+h) − A(η−h)) / 2h
  const derivErr = await maxAbsDiff(dA, grid.sigmoid());
  ctx.print(`max |A'(η) − σ(η)| on [−6, 6], central differences: ${derivErr.toExponential(1)}`);
  // And the variance of y is A''(η) = σ(η)(1 − σ(η)) ≥ 0: A is convex, so the log-likelihood
  // ηy − A(η) is concave in η (and in β when η = βᵀx).
  const h2 = 1e-4;
  const [Aplus, A0, Aminus] = [grid.add(h2), grid, grid.sub(h2)].map((t) => t.softplus()); // (25,)
  const d2A = Aplus.sub(A0.mul(2)).add(Aminus).div(h2 * h2); // (A(η+h) − 2A(η) + A(η−h)) / h²
  const sig = grid.sigmoid(); // (25,)
  const secondErr = await maxAbsDiff(d2A, sig.mul(sub(1, sig)));
  ctx.print(`max |A''(η) − σ(η)(1 − σ(η))| on [−6, 6]: ${secondErr.toExponential(1)}`);

  // ---- 3. Other S-shaped maps from ℝ to [0, 1].
  const k = Math.sqrt(Math.PI / 8); // Φ'(0)·k = k/√(2π) = ¼ = σ'(0): the same slope at 0
  const curves: Record<string, (x: Tensor) => Tensor> = {
    'sigmoid σ(x)': (x) => x.sigmoid(),
    'probit Φ(x)': (x) => Phi(x),
    [`scaled probit Φ(${k.toFixed(3)}·x)`]: (x) => Phi(x.mul(k)),
    'clipped line clip(½ + x/4, 0, 1)': (x) => x.div(4).add(0.5).clip(0, 1), // slope ¼ too
  };
  const x = linspace(-6, 6, 241, { dtype: 'float64' }); // (241,)
  const xv = await read(x);
  const lines: { x: number; y: number; curve: string }[] = [];
  const values: Record<string, number[]> = {};
  for (const [name, f] of Object.entries(curves)) {
    values[name] = await read(f(x)); // (241,)
    values[name].forEach((y, i) => lines.push({ x: xv[i], y, curve: name }));
  }
  ctx.plot({
    y: { domain: [0, 1], grid: true, label: 'probability' },
    color: { legend: true },
    marks: [
      Plot.ruleY([0, 1]),
      Plot.ruleX([0]),
      Plot.line(lines, { x: 'x', y: 'y', stroke: 'curve' }),
    ],
  });
  const gap = await maxAbsDiff(x.sigmoid(), Phi(x.mul(k)));
  ctx.print(`max |σ(x) − Φ(${k.toFixed(3)}·x)| on [−6, 6] = ${gap.toFixed(4)}`);

  // A table at a few points: the curves agree near 0 and differ in the tails.
  const at = [-6, -4, -2, -1, 0, 1, 2, 4, 6];
  const xs = tensor(at, { dtype: 'float64' }); // (9,)
  const rows: Record<string, number>[] = at.map((v) => ({ x: v }));
  for (const [name, f] of Object.entries(curves)) {
    (await read(f(xs))).forEach((y, i) => (rows[i][name] = y));
  }
  ctx.table(rows, { caption: 'In the tails σ decays like e^(−|x|), Φ like e^(−x²/2)' });

  return {
    p: pv,
    odds: oddsv,
    logOdds: etav,
    back: backv,
    roundTrip,
    pmfErr,
    derivErr,
    secondErr,
    gap,
    rows,
    x: xv,
    values,
  };
}
