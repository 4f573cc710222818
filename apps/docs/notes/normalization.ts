/**
 * Batch, layer, instance and group normalization.
 *
 * All four compute y = γ·(x − μ)/√(σ² + ε) + β on an (N, C, H, W) tensor; they differ only in
 * which axes μ and σ² average over. We check each @ml/nn layer against that formula written with
 * `mean`/`var` over its axes, find the values that share one μ, σ² by nudging a single input,
 * correct the order of LayerNorm's operations, and watch BatchNorm's running statistics converge.
 */
import { BatchNorm2d, GroupNorm, InstanceNorm2d, LayerNorm } from '@ml/nn';
import type { Module } from '@ml/nn';
import { concat, random, scope, tensor } from '@ml/tensor';
import type { Tensor } from '@ml/tensor';
import * as Plot from '@observablehq/plot';
import type { NoteContext } from '../src/runtime/context.js';

const EPS = 1e-5; // the layers' default ε

/** (x − mean)/√(var + ε) over `axes`, with the biased variance (divide by the count, not count − 1). */
function standardize(x: Tensor, axes: number[]): Tensor {
  return scope(() => {
    const mu = x.mean(axes, true); // one mean per slice the axes leave
    const variance = x.var(axes, true, 0); // correction 0: biased
    return x.sub(mu).div(variance.add(EPS).sqrt());
  });
}

const read = async (t: Tensor) => Array.from(await t.data());
const maxAbsDiff = async (a: Tensor, b: Tensor) => (await a.sub(b).abs().max().item()) as number;

export default async function run(ctx: NoteContext) {
  // ---- 1. A batch of feature maps: N samples, C channels, H × W positions.
  const [N, C, H, W] = [4, 6, 4, 4];
  const G = 3; // GroupNorm's groups: 2 channels each
  const [kx, kStream] = random.split(random.key(7));
  const channelMean = tensor([-2, -1, 0, 1, 2, 3]).reshape([1, C, 1, 1]); // channels on different scales
  const channelStd = tensor([0.5, 1, 2, 0.5, 1, 2]).reshape([1, C, 1, 1]);
  const x = random.normal(kx, [N, C, H, W]).mul(channelStd).add(channelMean); // (N, C, H, W)

  // A per-channel scale γ and shift β, the same for every layer that has them.
  const gammaC = [1.5, 0.5, 2, 1, 0.8, 1.2];
  const betaC = [0.1, -0.2, 0.3, 0, 0.5, -0.4];
  const gamma = tensor(gammaC).reshape([1, C, 1, 1]);
  const beta = tensor(betaC).reshape([1, C, 1, 1]);

  const bn = new BatchNorm2d(C); // training mode: batch statistics
  const ln = new LayerNorm([C, H, W]); // γ, β of shape (C, H, W)
  const inorm = new InstanceNorm2d(C); // no γ, β by default
  const gn = new GroupNorm(G, C);
  for (const m of [bn, gn]) {
    m.weight!.assign(tensor(gammaC));
    m.bias!.assign(tensor(betaC));
  }
  ln.weight!.assign(gamma.reshape([C, 1, 1]).expand([C, H, W]).contiguous());
  ln.bias!.assign(beta.reshape([C, 1, 1]).expand([C, H, W]).contiguous());

  // The formula by hand: standardize over the layer's axes, then γ·x̂ + β.
  const affine = (xhat: Tensor) => xhat.mul(gamma).add(beta);
  const layers: {
    name: string;
    module: Module;
    over: string;
    per: string;
    stats: number;
    byHand: () => Tensor;
  }[] = [
    { name: 'BatchNorm2d', module: bn, over: 'N, H, W', per: 'channel', stats: C, byHand: () => affine(standardize(x, [0, 2, 3])) },
    { name: 'LayerNorm', module: ln, over: 'C, H, W', per: 'sample', stats: N, byHand: () => affine(standardize(x, [1, 2, 3])) },
    { name: 'InstanceNorm2d', module: inorm, over: 'H, W', per: '(sample, channel)', stats: N * C, byHand: () => standardize(x, [2, 3]) },
    {
      name: `GroupNorm (G = ${G})`,
      module: gn,
      over: 'C/G, H, W',
      per: '(sample, group)',
      stats: N * G,
      // split C into G groups of C/G channels: (N, G, C/G, H, W), standardize each (n, g)
      byHand: () => affine(standardize(x.reshape([N, G, C / G, H, W]), [2, 3, 4]).reshape([N, C, H, W])),
    },
  ];

  // ---- 2. Which values share a μ and σ²? Nudge x[0, 0, 0, 0] and see which (n, c) planes move.
  const nudge = new Float32Array(N * C * H * W);
  nudge[0] = 1;
  const xNudged = x.add(tensor(nudge, { shape: [N, C, H, W] }));

  const rows = [];
  const cells: { layer: string; sample: number; channel: number; moved: boolean }[] = [];
  const outputs: Record<string, { library: number[]; byHand: number[] }> = {};
  for (const l of layers) {
    const [y, yHand, moved] = scope(() => {
      const y = l.module.forward(x) as Tensor; // (N, C, H, W)
      const yNudged = l.module.forward(xNudged) as Tensor;
      const moved = yNudged.sub(y).abs().max([2, 3]).gt(1e-4); // (N, C): did any output of the plane change?
      return [y, l.byHand(), moved];
    });
    const movedFlags = (await read(moved)).map(Boolean);
    movedFlags.forEach((m, i) => cells.push({ layer: l.name, sample: Math.floor(i / C), channel: i % C, moved: m }));
    const planes = movedFlags.filter(Boolean).length;
    const err = await maxAbsDiff(y, yHand);
    outputs[l.name] = { library: await read(y), byHand: await read(yHand) };
    rows.push({
      layer: l.name,
      'averages over': l.over,
      'one μ, σ² per': l.per,
      'μ, σ² pairs': l.stats,
      'values per pair': (N * C * H * W) / l.stats,
      'planes moved by the nudge': planes,
      'max |layer − formula|': err,
    });
    for (const t of [y, yHand, moved]) t.dispose();
  }
  ctx.table(rows, { caption: `Four normalizations of one (N, C, H, W) = (${N}, ${C}, ${H}, ${W}) batch` });
  ctx.plot({
    caption: 'The H × W planes that share μ and σ² with x[0, 0, 0, 0]',
    width: 680,
    height: 230,
    marginTop: 40,
    fx: { label: null, domain: layers.map((l) => l.name), padding: 0.1 },
    x: { label: 'channel c', tickSize: 0 },
    y: { label: 'sample n', tickSize: 0 },
    color: { domain: [true, false], range: ['#3b82f6', '#e5e7eb'], legend: true, tickFormat: (d) => (d ? 'shares μ, σ²' : 'other') },
    marks: [Plot.cell(cells, { fx: 'layer', x: 'channel', y: 'sample', fill: 'moved', inset: 1 })],
  });

  // ---- 3. LayerNorm normalizes FIRST, then applies γ, β. One sample of D features, at two scales.
  const D = 8;
  const z = random.normal(random.fold(kx, 1), [D]); // (D,)
  const inputs = { z, '10·z + 3': z.mul(10).add(3) };
  const g = 2; // γ, the same for every feature
  const b = 0.5; // β
  const ln1 = new LayerNorm(D);
  ln1.weight!.assign(tensor(new Array<number>(D).fill(g)));
  ln1.bias!.assign(tensor(new Array<number>(D).fill(b)));
  const moments = async (t: Tensor) => {
    const v = await read(t);
    const mean = v.reduce((s, a) => s + a, 0) / v.length;
    const std = Math.sqrt(v.reduce((s, a) => s + (a - mean) ** 2, 0) / v.length);
    return { mean, std, values: v };
  };
  const formulas: Record<string, (v: Tensor) => Tensor> = {
    'γ·(x − μ)/σ + β (LayerNorm)': (v) => ln1.forward(v),
    'γ·x + β (no normalization)': (v) => v.mul(g).add(b),
    'normalize(γ·x + β) (affine first)': (v) => standardize(v.mul(g).add(b), [0]),
  };
  const order: { formula: string; input: string; mean: number; std: number; values: number[] }[] = [];
  for (const [formula, f] of Object.entries(formulas)) {
    for (const [input, v] of Object.entries(inputs)) {
      order.push({ formula, input, ...(await moments(f(v))) });
    }
  }
  ctx.table(
    order.map((r) => ({ formula: r.formula, input: r.input, 'mean of y': r.mean, 'std of y': r.std, 'y[0..2]': r.values.slice(0, 3).map((v) => v.toFixed(3)).join(', ') })),
    { caption: `γ = ${g}, β = ${b}: only normalize-then-affine gives mean β and std γ for any input` },
  );

  // ---- 4. BatchNorm in training vs eval: running statistics.
  const trueMean = [1, -2, 0.5];
  const trueStd = [1, 3, 0.5];
  const C3 = trueMean.length;
  const B = 16; // batch size
  const steps = 60;
  const bn3 = new BatchNorm2d(C3); // momentum 0.1: running ← 0.9·running + 0.1·batch
  const mu3 = tensor(trueMean).reshape([1, C3, 1, 1]);
  const sd3 = tensor(trueStd).reshape([1, C3, 1, 1]);
  const batch = (k: number) => random.normal(random.fold(kStream, k), [B, C3, 4, 4]).mul(sd3).add(mu3); // (B, 3, 4, 4)
  const trace: { step: number; channel: string; 'running mean': number; 'running var': number }[] = [];
  const batches: number[][] = [];
  for (let t = 1; t <= steps; t++) {
    const xb = batch(t);
    batches.push(await read(xb));
    scope(() => bn3.forward(xb)); // training mode: normalizes with the batch's own μ, σ², updates the running averages
    xb.dispose();
    const [rm, rv] = await Promise.all([read(bn3.runningMean!), read(bn3.runningVar!)]);
    for (let c = 0; c < C3; c++) trace.push({ step: t, channel: `channel ${c}`, 'running mean': rm[c], 'running var': rv[c] });
    if (t % 10 === 0) await ctx.progress(t / steps, `batch ${t} of ${steps}`);
  }
  ctx.plot({
    caption: 'Running means (momentum 0.1) approach the true channel means',
    height: 240,
    x: { label: 'training batch' },
    y: { label: 'running mean', grid: true },
    color: { legend: true },
    marks: [
      Plot.ruleY(trueMean, { stroke: '#9ca3af', strokeDasharray: '4 3' }),
      Plot.line(trace, { x: 'step', y: 'running mean', stroke: 'channel' }),
    ],
  });
  const runningMean = await read(bn3.runningMean!);
  const runningVar = await read(bn3.runningVar!);
  ctx.table(
    trueMean.map((m, c) => ({ channel: c, 'true mean': m, 'running mean': runningMean[c], 'true var': trueStd[c] ** 2, 'running var': runningVar[c] })),
    { caption: `After ${steps} batches of ${B}` },
  );

  // The same sample in two different batches: training mode uses the batch's statistics, so its
  // output depends on its companions; eval mode uses the running statistics, so it does not.
  // (Eval goes first: a forward pass in training mode would move the running averages again.)
  const xa = batch(1001);
  const xc = batch(1002);
  const xMixed = concat([xa.slice('0:1'), xc.slice('1:')], 0); // sample 0 of batch A with the rest of C
  const companion = async (mode: 'train' | 'eval') => {
    bn3.train(mode === 'train');
    const [ya, yMixed] = scope(() => [bn3.forward(xa), bn3.forward(xMixed)]);
    const diff = await maxAbsDiff(ya.slice('0'), yMixed.slice('0'));
    const m = await moments(ya);
    ya.dispose();
    yMixed.dispose();
    return { mode, 'max |y_A[0] − y_mixed[0]|': diff, 'output mean': m.mean, 'output std': m.std };
  };
  const evalRow = await companion('eval');
  // One value per channel: eval mode normalizes it with the running statistics...
  const xSingle = xa.slice('0:1, :, 0:1, 0:1'); // (1, 3, 1, 1)
  const single = await read(bn3.forward(xSingle));
  const trainRow = await companion('train');
  ctx.table([trainRow, evalRow], { caption: 'Sample 0 normalized in two different batches' });
  // ...but its batch statistics do not exist, and training mode refuses.
  let singleError = '';
  try {
    bn3.forward(xSingle);
  } catch (e) {
    singleError = e instanceof Error ? e.message : String(e);
  }
  ctx.print(`eval mode, one value per channel: [${single.map((v) => v.toFixed(3)).join(', ')}]`);
  ctx.print(`training mode, the same input: ${singleError}`);
  await ctx.progress(1);

  return {
    shape: [N, C, H, W],
    groups: G,
    x: await read(x),
    gamma: gammaC,
    beta: betaC,
    rows,
    cells,
    outputs,
    order,
    layerNormOrder: { z: await read(z), gamma: g, beta: b },
    running: { trueMean, trueStd, batchSize: B, steps, batches, trace, runningMean, runningVar },
    companions: [trainRow, evalRow],
    singleError,
    single,
    singleInput: await read(xSingle),
  };
}
