/**
 * Weight initialization in a deep network.
 *
 * A 10-layer MLP (width 256, no biases) is fed a batch of N(0, 1) inputs, with its weights drawn
 * by @ml/nn's initialisers: a small Gaussian N(0, 0.01²), a unit Gaussian N(0, 1), Xavier/Glorot
 * (with and without tanh's gain 5/3) and, for ReLU, Xavier against Kaiming/He. The standard
 * deviation of the activations after every layer shows which choices keep the signal alive.
 */
import { noGrad } from '@ml/autograd';
import { calculateGain, init, initParameter, kaimingNormal, Linear, xavierUniform } from '@ml/nn';
import type { Initializer } from '@ml/nn';
import { random, scope } from '@ml/tensor';
import * as Plot from '@observablehq/plot';
import type { NoteContext } from '../src/runtime/context.js';

const WIDTH = 256; // units per layer (fanIn = fanOut = 256)
const DEPTH = 10; // layers
const BATCH = 256; // inputs

interface Scheme {
  name: string;
  activation: 'tanh' | 'relu';
  init: Initializer<any>;
  opts: Record<string, unknown>;
}

const SCHEMES: Scheme[] = [
  { name: 'N(0, 0.01²)', activation: 'tanh', init: init.normal, opts: { std: 0.01 } },
  { name: 'N(0, 1)', activation: 'tanh', init: init.normal, opts: { std: 1 } },
  { name: 'Xavier', activation: 'tanh', init: xavierUniform, opts: {} },
  { name: 'Xavier, gain 5/3', activation: 'tanh', init: xavierUniform, opts: { gain: calculateGain('tanh') } },
  { name: 'Xavier (ReLU)', activation: 'relu', init: xavierUniform, opts: {} },
  { name: 'Kaiming (ReLU)', activation: 'relu', init: kaimingNormal, opts: { nonlinearity: 'relu' } },
];

/** A histogram of `values` over [lo, hi] in `bins` bins, as fractions of all values (outliers clamp to the ends). */
function histogram(values: ArrayLike<number>, lo: number, hi: number, bins: number): number[] {
  const counts = new Array<number>(bins).fill(0);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    counts[Math.min(bins - 1, Math.max(0, Math.floor(((v - lo) / (hi - lo)) * bins)))]++;
  }
  return counts.map((c) => c / values.length);
}

export default async function run(ctx: NoteContext) {
  const [kx, kw] = random.split(random.key(0));
  const x = random.normal(kx, [BATCH, WIDTH]); // (B, 256) unit-variance inputs

  const stds: Record<string, number[]> = {};
  const means: Record<string, number[]> = {};
  const weightVars: Record<string, number> = {};
  const hists: { scheme: string; layer: number; x1: number; x2: number; fraction: number }[] = [];
  const BINS = 40;
  for (const [s, scheme] of SCHEMES.entries()) {
    // The same random draws in every scheme (one key per layer), only the scale and shape differ.
    const layers = Array.from({ length: DEPTH }, (_, l) => {
      const fc = new Linear(WIDTH, WIDTH, { bias: false, key: random.fold(kw, l) }); // weight (256, 256)
      initParameter(fc.weight, scheme.init, { ...scheme.opts, key: random.fold(kw, l) }); // redraw it
      return fc;
    });
    const wv = layers[0].weight.var(undefined, false, 0); // () the variance of the 256² weights
    weightVars[scheme.name] = await wv.item();
    wv.dispose();
    stds[scheme.name] = [];
    means[scheme.name] = [];
    let h = x;
    for (const [l, fc] of layers.entries()) {
      const next = noGrad(() => scope(() => (scheme.activation === 'tanh' ? fc.forward(h).tanh() : fc.forward(h).relu()))); // (B, 256)
      if (h !== x) h.dispose();
      h = next;
      const moments = [h.std(undefined, false, 0), h.mean()]; // () over all B·256 activations
      const [sd, mean] = await Promise.all(moments.map((m) => m.item()));
      for (const m of moments) m.dispose();
      stds[scheme.name].push(sd);
      means[scheme.name].push(mean);
      if (scheme.activation === 'tanh') {
        histogram(await h.data(), -1, 1, BINS).forEach((fraction, b) =>
          hists.push({ scheme: scheme.name, layer: l + 1, x1: -1 + (2 * b) / BINS, x2: -1 + (2 * (b + 1)) / BINS, fraction }),
        );
      }
      await ctx.progress((s * DEPTH + l + 1) / (SCHEMES.length * DEPTH));
    }
    h.dispose();
    for (const fc of layers) fc.dispose();
  }

  // ---- The std of the activations, layer by layer (log scale: the small init falls off a cliff).
  const rows = SCHEMES.flatMap((sc) => stds[sc.name].map((std, l) => ({ scheme: sc.name, activation: sc.activation, layer: l + 1, std })));
  ctx.plot({
    height: 320,
    x: { label: 'layer', ticks: DEPTH },
    y: { type: 'log', label: 'std of the activations', grid: true },
    color: { legend: true, domain: SCHEMES.map((sc) => sc.name) },
    marks: [Plot.line(rows, { x: 'layer', y: 'std', stroke: 'scheme', marker: 'circle' })],
  });
  ctx.table(
    Array.from({ length: DEPTH }, (_, l) => Object.fromEntries([['layer', l + 1], ...SCHEMES.map((sc) => [sc.name, Number(stds[sc.name][l].toPrecision(3))])])),
    { caption: `Std of the activations after each layer (${WIDTH} units, a batch of ${BATCH} N(0, 1) inputs)` },
  );

  // ---- Histograms of the tanh activations: one row per scheme, one column per layer. Each row is
  // scaled to its tallest bar, so that the spread shows even where one spike dominates.
  const tallest: Record<string, number> = {};
  for (const h of hists) tallest[h.scheme] = Math.max(tallest[h.scheme] ?? 0, h.fraction);
  ctx.plot({
    caption: 'Histograms of the tanh activations over [−1, 1], layers 1 to 10 (each row scaled to its tallest bar)',
    width: 640,
    height: 360,
    marginLeft: 110,
    x: { domain: [-1, 1], ticks: [0], label: null },
    y: { axis: null },
    fx: { label: 'layer' },
    fy: { label: null, axis: 'left', domain: SCHEMES.filter((sc) => sc.activation === 'tanh').map((sc) => sc.name) },
    marks: [
      Plot.rectY(hists, { x1: 'x1', x2: 'x2', y: (h) => h.fraction / tallest[h.scheme], fx: 'layer', fy: 'scheme', fill: 'steelblue', insetLeft: 0, insetRight: 0 }),
      Plot.ruleY([0], { stroke: '#ccc' }),
    ],
  });

  // What sets the scale: a layer multiplies the second moment of its input by fanIn · Var(w).
  const factors = SCHEMES.map((sc) => ({ scheme: sc.name, 'Var(w)': weightVars[sc.name], 'fanIn · Var(w)': WIDTH * weightVars[sc.name] }));
  ctx.table(factors, { caption: 'The variance of the first layer\'s weights, and the factor fanIn · Var(w)' });
  x.dispose();

  return { stds, means, hists, factors, width: WIDTH, depth: DEPTH, batch: BATCH };
}
