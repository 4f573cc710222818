/**
 * MSE = bias² + variance.
 *
 * We estimate the mean μ of N(μ, σ²) from n samples, many times over, and measure each
 * estimator's mean squared error, squared bias (E[ŷ] − μ)² and variance E[(ŷ − E[ŷ])²].
 * Every trial is a row of one (trials, n) tensor, so there is no loop over trials.
 */
import { linspace, random, stack, zerosLike } from '@ml/tensor';
import type { Tensor } from '@ml/tensor';
import * as Plot from '@observablehq/plot';
import type { NoteContext } from '../src/runtime/context.js';

export default async function run(ctx: NoteContext) {
  const mu = 1; // the true mean we try to estimate
  const sigma = 2; // the noise of one sample
  const n = 10; // samples per trial
  const trials = 10000; // repetitions of the whole experiment
  const c = 0.7; // shrinkage factor of the third estimator
  const read = async (t: Tensor) => (await t.array()) as number[];

  // ---- 1. Draw all trials at once, in float64 so the identity below holds to ~1e-16.
  const key = random.key(2019);
  const X = random.normal(key, [trials, n], { dtype: 'float64' }).mul(sigma).add(mu); // (trials, n)

  // Three estimators of μ, one estimate per trial.
  const xbar = X.mean(1); // (trials,) the sample mean
  const zero = zerosLike(xbar); // (trials,) ignores the data
  const shrunk = xbar.mul(c); // (trials,) pulls the sample mean towards 0
  const names = ['sample mean x̄', 'constant 0', `shrunk ${c}·x̄`];
  const E = stack([xbar, zero, shrunk]); // (3, trials)

  // ---- 2. MSE, bias² and variance over the trials axis (the last one).
  const decompose = (est: Tensor) => ({
    mse: est.sub(mu).square().mean(-1), // E[(ŷ − μ)²]
    bias2: est.mean(-1).sub(mu).square(), // (E[ŷ] − μ)²
    variance: est.var(-1, false, 0), // E[(ŷ − E[ŷ])²]: correction 0 divides by trials, not trials − 1
  });
  const d = decompose(E); // each (3,)
  const [mse, bias2, variance] = await Promise.all([d.mse, d.bias2, d.variance].map(read));

  // Closed forms: E[x̄] = μ and Var[x̄] = σ²/n, so Bias[c·x̄] = (c − 1)μ and Var[c·x̄] = c²σ²/n.
  const theory = [
    { bias2: 0, variance: sigma ** 2 / n }, // sample mean
    { bias2: mu ** 2, variance: 0 }, // constant 0
    { bias2: (1 - c) ** 2 * mu ** 2, variance: (c ** 2 * sigma ** 2) / n }, // shrunk
  ];
  const rows = names.map((name, i) => ({
    estimator: name,
    MSE: mse[i],
    'bias²': bias2[i],
    variance: variance[i],
    'bias² + variance': bias2[i] + variance[i],
    'bias² (theory)': theory[i].bias2,
    'variance (theory)': theory[i].variance,
  }));
  ctx.table(rows, { caption: `μ = ${mu}, σ = ${sigma}, n = ${n}, ${trials} trials` });
  const identityErr = Math.max(...rows.map((r) => Math.abs(r.MSE - r['bias² + variance'])));
  ctx.print(`max |MSE − (bias² + variance)| = ${identityErr.toExponential(1)}: an identity, up to rounding`);

  // ---- 3. Histograms of the two estimates that use the data (the constant is a spike at 0).
  const [xbarv, shrunkv] = await Promise.all([xbar, shrunk].map(read));
  const hist = [
    ...xbarv.map((v) => ({ estimator: names[0], estimate: v })),
    ...shrunkv.map((v) => ({ estimator: names[2], estimate: v })),
  ];
  ctx.plot({
    height: 320,
    marginRight: 110, // room for the row labels
    facet: { data: hist, y: 'estimator', label: null }, // one row of the figure per estimator
    x: { label: 'estimate of μ' },
    marks: [
      Plot.rectY(hist, Plot.binX({ y: 'count' }, { x: 'estimate', thresholds: 50 })),
      Plot.ruleX([mu], { stroke: 'black', strokeDasharray: '4 3' }), // the true μ
      Plot.ruleY([0]),
    ],
  });

  // ---- 4. The trade-off: the shrunk mean c·x̄ for 25 values of c at once.
  const cs = linspace(0, 1.2, 25, { dtype: 'float64' }); // (K,)
  const sweep = decompose(cs.reshape([-1, 1]).mul(xbar)); // (K, 1) · (trials,) → (K, trials); each (K,)
  const [cv, sm, sb, sv] = await Promise.all([cs, sweep.mse, sweep.bias2, sweep.variance].map(read));
  const curve = cv.flatMap((ck, k) => [
    { c: ck, value: sm[k], term: 'MSE' },
    { c: ck, value: sb[k], term: 'bias²' },
    { c: ck, value: sv[k], term: 'variance' },
  ]);
  // MSE(c) = (1 − c)²μ² + c²σ²/n is smallest where its derivative in c vanishes:
  const cBest = mu ** 2 / (mu ** 2 + sigma ** 2 / n);
  ctx.plot({
    color: { legend: true },
    x: { label: 'shrinkage c' },
    y: { grid: true, label: 'squared error' },
    marks: [
      Plot.line(curve, { x: 'c', y: 'value', stroke: 'term' }),
      Plot.ruleX([cBest], { strokeDasharray: '4 3' }),
    ],
  });
  const kMin = sm.indexOf(Math.min(...sm));
  ctx.print(`lowest simulated MSE at c = ${cv[kMin].toFixed(2)}`);
  ctx.print(`closed form: c* = μ²/(μ² + σ²/n) = ${cBest.toFixed(3)}`);

  return {
    params: { mu, sigma, n, trials, c },
    rows,
    identityErr,
    estimates: { sampleMean: xbarv, shrunk: shrunkv },
    sweep: { c: cv, mse: sm, bias2: sb, variance: sv, cBest },
  };
}
