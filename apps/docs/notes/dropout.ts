/**
 * Dropout: zero random activations while training.
 *
 * PyTorch's p is the probability of DROPPING a unit, and inverted dropout scales the kept ones by
 * 1/(1 − p) during training, so E[output] = input and evaluation is the identity. We check both
 * claims over many draws, compare with the original recipe (no scaling in training, multiply by
 * the keep probability at test time), and see that the mask falls on activations, per example,
 * while the weights stay untouched.
 */
import { Dropout, Linear, ReLU, Sequential } from '@ml/nn';
import { random, scope, tensor } from '@ml/tensor';
import type { Tensor } from '@ml/tensor';
import * as Plot from '@observablehq/plot';
import type { NoteContext } from '../src/runtime/context.js';

const read = async (t: Tensor) => Array.from(await t.data());

export default async function run(ctx: NoteContext) {
  const p = 0.3; // drop probability (PyTorch, Keras `rate`); the keep probability is 1 − p = 0.7
  const T = 4000; // independent draws of the mask
  const key = random.key(2014);
  const [kLayer, kOrig, kNet, kData, kHist] = random.split(key, 5);

  // ---- 1. One vector of activations, T draws at once: each row of (T, D) gets its own mask.
  const xs = [1, -0.5, 2, 0.25, 3];
  const D = xs.length;
  const x = tensor(xs); // (D,)
  const drop = new Dropout(p, { key: kLayer });
  const out = drop.forward(x.expand([T, D])); // (T, D): zeros, and x/(1 − p) elsewhere
  const outs = await read(out);
  const unitRows = xs.map((xj, j) => {
    const col = Array.from({ length: T }, (_, t) => outs[t * D + j]);
    const mean = col.reduce((s, v) => s + v, 0) / T;
    const kept = col.filter((v) => v !== 0);
    return {
      'x_j': xj,
      'mean over draws': mean,
      '± 3 s.e.': 3 * Math.abs(xj) * Math.sqrt(p / (1 - p) / T), // Var[out] = x²·p/(1 − p)
      'fraction zeroed': 1 - kept.length / T,
      'kept value': kept.length ? kept[0] : 0,
      'x_j / (1 − p)': xj / (1 - p),
    };
  });
  ctx.table(unitRows, { caption: `Inverted dropout, p = ${p} (drop probability), ${T} draws` });

  // In eval mode the layer is the identity: no mask, no scaling.
  const evalOut = await read(drop.eval().forward(x));
  drop.train();
  ctx.print(`eval mode: [${evalOut.join(', ')}] = x`);

  // ---- 2. The original recipe: keep with probability q = 1 − p WITHOUT scaling, and multiply by q at test time.
  const q = 1 - p; // TF1's keep_prob, and the paper's p
  const mask = random.bernoulli(kOrig, q, [T, D]).cast('float32'); // (T, D): 1 = keep
  const trainOrig = x.mul(mask); // (T, D)
  const testOrig = await read(x.mul(q)); // (D,): the expected training output, deterministically
  const meanOrig = await read(trainOrig.mean(0)); // (D,)
  const meanInverted = unitRows.map((r) => r['mean over draws']);
  const recipes = [
    { recipe: 'inverted (PyTorch): training, mean over draws', values: meanInverted, note: 'E[m·x/(1 − p)] = x' },
    { recipe: 'inverted (PyTorch): eval', values: evalOut, note: 'x' },
    { recipe: 'original: training, mean over draws', values: meanOrig, note: 'E[m·x] = (1 − p)·x' },
    { recipe: 'original: test', values: testOrig, note: '(1 − p)·x' },
  ];
  ctx.table(
    recipes.map((r) => ({ recipe: r.recipe, output: r.values.map((v) => v.toFixed(3)).join(', '), 'in expectation': r.note })),
    { caption: 'Either way, the test-time output is the expected training output' },
  );

  // ---- 3. What gets zeroed: activations, per example. The weights never change.
  const B = 8; // batch
  const net = new Sequential(new Linear(16, 32, { key: kNet }), new ReLU(), new Dropout(0.5, { key: kHist }), new Linear(32, 4, { key: random.fold(kNet, 1) }));
  const before = await Promise.all(net.parameters().map(read));
  const xb = random.normal(kData, [B, 16]); // (B, 16)
  const h = net.layers[1].forward(net.layers[0].forward(xb)) as Tensor; // (B, 32) hidden activations
  const hd = net.layers[2].forward(h) as Tensor; // (B, 32) after dropout
  scope(() => net.forward(xb)); // a whole forward pass, for good measure
  const after = await Promise.all(net.parameters().map(read));
  const weightsUnchanged = before.every((w, i) => w.every((v, k) => v === after[i][k]));
  const [hv, hdv] = await Promise.all([read(h), read(hd)]);
  const dropped: boolean[][] = Array.from({ length: B }, (_, n) => Array.from({ length: 32 }, (_, j) => hv[n * 32 + j] !== 0 && hdv[n * 32 + j] === 0));
  const zeroedPerExample = dropped.map((row) => row.filter(Boolean).length);
  const distinctMasks = new Set(Array.from({ length: B }, (_, n) => Array.from({ length: 32 }, (_, j) => (hdv[n * 32 + j] === 0 ? 0 : 1)).join(''))).size;
  ctx.print(`weights of both Linear layers unchanged by forward passes in training mode: ${weightsUnchanged}`);
  ctx.print(`nonzero hidden units zeroed by dropout in each of the ${B} examples: ${zeroedPerExample.join(', ')}`);
  ctx.print(`different masks among the ${B} examples: ${distinctMasks}`);

  // ---- 4. The next layer sees a noisy sum: a = w · dropout(h) over many draws.
  const H = 64;
  const hVec = random.normal(random.fold(kData, 1), [H]).relu(); // (H,) one example's hidden activations
  const w = random.normal(random.fold(kData, 2), [H]).mul(1 / Math.sqrt(H)); // (H,) one output unit's weights
  const dropH = new Dropout(p, { key: random.fold(kHist, 1) });
  const a = await read(dropH.forward(hVec.expand([T, H])).mul(w).sum(1)); // (T,) a = Σ_j w_j·dropout(h)_j
  const aEval = await w.mul(hVec).sum().item(); // the eval-mode value w · h
  const aMean = a.reduce((s, v) => s + v, 0) / T;
  const [hArr, wArr] = await Promise.all([read(hVec), read(w)]);
  const aVarTheory = (p / (1 - p)) * hArr.reduce((s, hj, j) => s + (wArr[j] * hj) ** 2, 0); // Σ w²h²·p/(1 − p)
  const aVar = a.reduce((s, v) => s + (v - aMean) ** 2, 0) / (T - 1);
  ctx.plot({
    caption: `w · dropout(h) over ${T} draws (p = ${p}); red: the eval-mode value w · h, dashed: the mean over the draws`,
    height: 220,
    x: { label: 'pre-activation of the next unit' },
    y: { label: 'draws', grid: true },
    marks: [
      Plot.rectY(a, Plot.binX<Plot.RectYOptions>({ y: 'count' }, { x: (v: number) => v, thresholds: 40, fill: '#93c5fd' })),
      Plot.ruleX([aEval], { stroke: 'red', strokeWidth: 2 }),
      Plot.ruleX([aMean], { stroke: 'black', strokeDasharray: '4 3' }),
      Plot.ruleY([0]),
    ],
  });
  ctx.table(
    [
      { quantity: 'mean of w · dropout(h)', 'over draws': aMean, theory: aEval },
      { quantity: 'variance of w · dropout(h)', 'over draws': aVar, theory: aVarTheory },
    ],
    { caption: 'E[w · dropout(h)] = w · h; the variance is Σ w²h²·p/(1 − p)' },
  );

  // ---- 5. Translating conventions: keep_prob = 0.9 in TF1 or the paper is Dropout(0.1) here.
  const keepProb = 0.9;
  const tf1 = new Dropout(1 - keepProb, { key: random.fold(kLayer, 9) });
  const zeros = await tf1.forward(tensor(new Array<number>(10000).fill(1))).eq(0).cast('float32').mean().item();
  ctx.print(`keep_prob = ${keepProb} → Dropout(${(1 - keepProb).toFixed(1)}): fraction zeroed ${zeros.toFixed(4)}`);
  await ctx.progress(1);

  return {
    p,
    T,
    xs,
    outs,
    unitRows,
    evalOut,
    original: { q, masks: await read(mask), meanOrig, testOrig },
    activations: { hidden: hv, dropped: hdv, weightsUnchanged, zeroedPerExample, distinctMasks },
    sum: { h: hArr, w: wArr, a, aEval, aMean, aVar, aVarTheory },
    conventions: { keepProb, zeros },
  };
}
