/**
 * Linear classifiers: softmax (cross-entropy) against multiclass SVM (hinge) loss.
 *
 * The same scores s = Wx + b can be trained with two losses. On the cat/car/frog example both are
 * computed with @ml/nn's `crossEntropy` and `multiclassHinge`; then the true class's score is
 * raised step by step to see the hinge loss reach exactly 0 once the margin is met while
 * cross-entropy keeps asking for more. Finally a `Linear(2, 3)` is trained with each loss on a 2-D,
 * 3-class data set, with @ml/optim's SGD, and the decision regions of both are drawn.
 */
import { backward, grad, noGrad } from '@ml/autograd';
import { crossEntropy, Linear, multiclassHinge } from '@ml/nn';
import { SGD } from '@ml/optim';
import { arange, linspace, random, scope, stack, tensor } from '@ml/tensor';
import type { Tensor } from '@ml/tensor';
import * as Plot from '@observablehq/plot';
import type { NoteContext } from '../src/runtime/context.js';

const CLASSES = ['cat', 'car', 'frog'];
/** A classification loss of scores (N, C) and int32 labels (N,), like the two from @ml/nn. */
type Loss = (scores: Tensor, labels: Tensor, opts?: { reduction?: 'mean' | 'sum' | 'none' }) => Tensor;
const read = async (t: Tensor) => Array.from(await t.data());

export default async function run(ctx: NoteContext) {
  // ---- 1. Three images, three class scores each (one row per image), true classes cat, car, frog.
  const table = [
    [3.2, 5.1, -1.7], // a cat image: the classifier prefers car
    [1.3, 4.9, 2.0], // a car image: right, by a wide margin
    [2.2, 2.5, -3.1], // a frog image: frog scores lowest
  ];
  const scores = tensor(table); // (N, C) = (3, 3)
  const labels = tensor([0, 1, 2], { dtype: 'int32' }); // (N,)
  const hinge = await read(multiclassHinge(scores, labels, { reduction: 'none' })); // (N,) Σ_{j≠y} max(0, s_j − s_y + 1)
  const ce = await read(crossEntropy(scores, labels, { reduction: 'none' })); // (N,) −log softmax(s)_y
  const examples = CLASSES.map((name, i) => ({
    image: `${name} image`,
    'scores (cat, car, frog)': table[i].join(', '),
    'hinge loss': hinge[i],
    'cross-entropy': ce[i],
  }));
  ctx.table(examples, { caption: 'Both losses per image; the loss of the batch is their mean' });
  const hingeMean = await multiclassHinge(scores, labels).item();
  const ceMean = await crossEntropy(scores, labels).item();
  ctx.print(`mean hinge loss = ${hingeMean.toFixed(4)}, mean cross-entropy = ${ceMean.toFixed(4)}`);

  // ---- 2. Raise the cat image's cat score from −2 to 10; car (5.1) and frog (−1.7) stay put.
  const K = 121;
  const sweep = scope(() => {
    const cat = linspace(-2, 10, K).reshape([K, 1]); // (K, 1)
    const rest = tensor([[5.1, -1.7]]).expand([K, 2]); // (K, 2)
    return stack([cat.squeeze(1), rest.slice(':, 0'), rest.slice(':, 1')], 1); // (K, 3)
  });
  const catLabels = arange(0, K, 1, { dtype: 'int32' }).mul(0); // (K,) all cat
  // sum over rows: each row's gradient is then that row's own ∂ℓ/∂s
  const lossesOf = (loss: Loss) => (s: Tensor) => loss(s, catLabels, { reduction: 'sum' });
  const sweepRows: { 'cat score': number; loss: string; value: number; slope: number }[] = [];
  const catScores = await read(sweep.slice(':, 0'));
  for (const [name, loss] of [['hinge', multiclassHinge], ['cross-entropy', crossEntropy]] as [string, Loss][]) {
    const values = await read(loss(sweep, catLabels, { reduction: 'none' })); // (K,)
    const slopes = await read(grad(lossesOf(loss))(sweep).slice(':, 0')); // (K,) ∂ℓ/∂s_cat
    catScores.forEach((s, k) => sweepRows.push({ 'cat score': s, loss: name, value: values[k], slope: slopes[k] }));
  }
  ctx.plot({
    height: 260,
    x: { label: 'score of the true class (cat); car scores 5.1, frog −1.7' },
    y: { label: 'loss', grid: true },
    color: { legend: true },
    marks: [
      Plot.ruleX([5.1 + 1], { stroke: '#999', strokeDasharray: '4 3' }),
      Plot.text([{ x: 6.1, y: 8 }], { x: 'x', y: 'y', text: () => 'margin met: s_cat = s_car + 1', dx: 6, textAnchor: 'start' }),
      Plot.line(sweepRows, { x: 'cat score', y: 'value', stroke: 'loss' }),
      Plot.ruleY([0]),
    ],
  });
  const at = (s: number) => sweepRows.filter((r) => Math.abs(r['cat score'] - s) < 1e-4);
  ctx.table(
    [3.2, 5.1, 6.1, 8, 10].map((s) => {
      const [h, c] = [at(s).find((r) => r.loss === 'hinge')!, at(s).find((r) => r.loss === 'cross-entropy')!];
      return { 'cat score': s, hinge: h.value, '∂hinge/∂s_cat': h.slope, 'cross-entropy': c.value, '∂CE/∂s_cat': c.slope };
    }),
    { caption: 'Past the margin the hinge loss and its gradient are exactly 0; cross-entropy never is' },
  );

  // ---- 3. A 2-D data set: three Gaussian blobs, one per class, drawn from a fixed key.
  const N = 300;
  const [kData, kModel] = random.split(random.key(7));
  const y = arange(0, N, 1, { dtype: 'int32' }).mod(3); // (N,) 0, 1, 2, 0, 1, 2, …
  const angles = [90, 210, 330].map((d) => (d * Math.PI) / 180);
  const centres = tensor(angles.map((a) => [2 * Math.cos(a), 2 * Math.sin(a)])); // (3, 2) on a circle of radius 2
  const X = centres.indexSelect(0, y).add(random.normal(kData, [N, 2]).mul(0.9)); // (N, 2)

  // The same start for both: a Linear(2, 3) from one key, trained by full-batch SGD with momentum.
  const steps = 200;
  const train = async (loss: Loss, name: string, from: number) => {
    const model = new Linear(2, 3, { key: kModel }); // scores = X·Wᵀ + b: (N, 2) → (N, 3)
    const opt = new SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
    const values: Tensor[] = []; // the loss before each step, read once at the end
    for (let t = 0; t < steps; t++) {
      const value = scope(() => {
        const l = loss(model.forward(X), y); // () mean loss over the N points
        backward(l); // fills weight.grad and bias.grad
        return noGrad(() => l.clone()); // a copy outside the graph: l and its graph are freed here
      });
      opt.step();
      opt.zeroGrad();
      values.push(value);
      if (t % 20 === 0) await ctx.progress(from + t / steps / 2);
    }
    const all = stack(values); // (steps,)
    const curve = Array.from(await all.data(), (value, step) => ({ step, loss: name, value }));
    for (const v of [...values, all]) v.dispose();
    const [acc, losses] = noGrad(() =>
      scope(() => {
        const s = model.forward(X); // (N, 3) the trained scores
        return [s.argmax(1).eq(y).cast('float32').mean(), loss(s, y, { reduction: 'none' })]; // (), (N,)
      }),
    );
    const accuracy = await acc.item();
    // Which points still pull on the weights: under the hinge loss, only those inside a margin.
    const perPoint = await read(losses);
    acc.dispose();
    losses.dispose();
    return { model, opt, curve, accuracy, perPoint };
  };
  const softmaxRun = await train(crossEntropy, 'cross-entropy', 0);
  const svmRun = await train(multiclassHinge, 'hinge', 0.5);

  // Decision regions: the predicted class (argmax of the scores) on a G×G grid of the plane.
  const G = 100;
  const [lo, hi] = [-5, 5];
  const cell = (hi - lo) / G;
  const gridPoints = scope(() => {
    const c = linspace(lo + cell / 2, hi - cell / 2, G); // (G,) cell centres
    const gx = c.reshape([1, G]).expand([G, G]); // x varies along a row
    const gy = c.reshape([G, 1]).expand([G, G]); // y along a column: row-major from (lo, lo)
    return stack([gx, gy], -1).reshape([G * G, 2]); // (G², 2)
  });
  const points = (await X.array()) as number[][];
  const labelsJs = await read(y);
  const dots = points.map(([px, py], i) => ({ x: px, y: py, class: CLASSES[labelsJs[i]] }));
  const regions: Record<string, string[]> = {};
  for (const [name, r] of [['cross-entropy', softmaxRun], ['hinge', svmRun]] as const) {
    const argmax = noGrad(() => scope(() => r.model.forward(gridPoints).argmax(1))); // (G²,) int32
    const predicted = await read(argmax);
    argmax.dispose();
    regions[name] = predicted.map((k) => CLASSES[k]);
    ctx.plot({
      caption: `Trained with ${name === 'hinge' ? 'the hinge (SVM) loss' : 'softmax cross-entropy'}: training accuracy ${(100 * r.accuracy).toFixed(1)}%`,
      width: 420,
      height: 400,
      x: { domain: [lo, hi] },
      y: { domain: [lo, hi] },
      color: { legend: true, domain: CLASSES },
      marks: [
        Plot.raster(regions[name], { x1: lo, x2: hi, y1: lo, y2: hi, width: G, height: G, fill: (d: string) => d, fillOpacity: 0.25, imageRendering: 'pixelated' }),
        Plot.dot(dots, { x: 'x', y: 'y', fill: 'class', stroke: 'white', strokeWidth: 0.5, r: 3 }),
      ],
    });
  }

  const curves = [...softmaxRun.curve, ...svmRun.curve];
  ctx.plot({
    height: 220,
    x: { label: 'step' },
    y: { label: 'training loss', grid: true },
    color: { legend: true },
    marks: [Plot.line(curves, { x: 'step', y: 'value', stroke: 'loss' }), Plot.ruleY([0])],
  });
  ctx.table(
    [softmaxRun, svmRun].map((r, i) => ({
      loss: i === 0 ? 'cross-entropy' : 'hinge',
      'final loss': r.curve.at(-1)!.value,
      'training accuracy': r.accuracy,
    })),
    { caption: `After ${steps} steps of SGD (lr 0.1, momentum 0.9) from the same initial weights` },
  );
  const inMargin = svmRun.perPoint.filter((l) => l > 0).length;
  ctx.print(`hinge: only ${inMargin} of ${N} points are inside a margin; the others have loss and gradient exactly 0`);
  const sorted = [...softmaxRun.perPoint].sort((a, b) => a - b);
  ctx.print(`cross-entropy: the median point still has loss ${sorted[N / 2].toExponential(2)} and keeps pulling`);
  const agree = regions['cross-entropy'].filter((c, i) => c === regions.hinge[i]).length / (G * G);
  ctx.print(`the two classifiers predict the same class on ${(100 * agree).toFixed(1)}% of the plane shown`);

  const weights = {
    softmax: { W: (await softmaxRun.model.weight.array()) as number[][], b: await read(softmaxRun.model.bias!) },
    svm: { W: (await svmRun.model.weight.array()) as number[][], b: await read(svmRun.model.bias!) },
  };
  for (const r of [softmaxRun, svmRun]) r.opt.dispose();
  return {
    hinge,
    ce,
    hingeMean,
    ceMean,
    sweep: sweepRows,
    data: { X: points, y: labelsJs },
    accuracy: { softmax: softmaxRun.accuracy, svm: svmRun.accuracy },
    perPoint: { softmax: softmaxRun.perPoint, svm: svmRun.perPoint },
    curves: { softmax: softmaxRun.curve, svm: svmRun.curve },
    weights,
    regions,
    agree,
  };
}
