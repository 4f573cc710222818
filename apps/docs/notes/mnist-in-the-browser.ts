/**
 * Train an MNIST classifier in the browser.
 *
 * The MLP 784-256-10 of the repository's MNIST example, trained with Adam on cross-entropy, on
 * 2,000 digits for two epochs, with a loss curve that grows as it trains. Then its accuracy on
 * 2,000 digits it never saw, and some of them with the predicted labels.
 *
 * The digits come from the site: two gzip-compressed IDX files (the format of the original MNIST
 * distribution) that the docs build writes to /data/ (scripts/mnist-data.mjs), decoded by
 * @ml/data's `mnistFromIdx`. Their order is the fixed split of @ml/data's `mnistSplit`: 8,000
 * training digits, then 2,000 test digits.
 */
import { backward, noGrad } from '@ml/autograd';
import { DataLoader, TensorDataset, mnistFromIdx } from '@ml/data';
import type { ImageData } from '@ml/data';
import { Flatten, Linear, ReLU, Sequential, crossEntropy, manualSeed } from '@ml/nn';
import type { Module } from '@ml/nn';
import { Adam } from '@ml/optim';
import { random, scope } from '@ml/tensor';
import type { Tensor } from '@ml/tensor';
import * as Plot from '@observablehq/plot';
import type { NoteContext } from '../src/runtime/context.js';

const TRAIN = 2000; // training digits used (of the 8,000)
const EPOCHS: number = 2;
const BATCH = 64;
const LR = 1e-3;

/** Fetches one file of the site's /data/ folder. */
async function fetchBytes(file: string): Promise<Uint8Array> {
  const res = await fetch(`/data/${file}`);
  if (!res.ok) throw new Error(`mnist-in-the-browser: GET /data/${file} answered ${res.status} ${res.statusText}`);
  return new Uint8Array(await res.arrayBuffer());
}

/** The 10,000 digits: images float32 (10000, 1, 28, 28) in [0, 1], labels int32 (10000,). */
export async function loadDigits(): Promise<ImageData> {
  const [images, labels] = await Promise.all([fetchBytes('mnist-10k-images-idx3-ubyte.gz'), fetchBytes('mnist-10k-labels-idx1-ubyte.gz')]);
  return mnistFromIdx(images, labels); // gunzip, check the IDX headers, pixels byte / 255
}

/**
 * A line that Plot draws once and that then grows in place: the mark is a render function that
 * keeps the scales Plot gives it, and `push` redraws its path with the new points. (Where no
 * figure is rendered, as in the tests, it only collects the points.)
 */
function liveLine(options: { stroke: string; strokeWidth?: number }) {
  const points: [number, number][] = [];
  let redraw: (() => void) | undefined;
  const mark = ((_index: number[], scales: Plot.ScaleFunctions, _values: unknown, _dims: unknown, context: Plot.Context) => {
    const path = context.document.createElementNS('http://www.w3.org/2000/svg', 'path');
    path.setAttribute('fill', 'none');
    path.setAttribute('stroke', options.stroke);
    path.setAttribute('stroke-width', String(options.strokeWidth ?? 1.5));
    redraw = () => path.setAttribute('d', points.map(([x, y], i) => `${i ? 'L' : 'M'}${scales.x!(x)},${scales.y!(y)}`).join(''));
    redraw();
    return path;
  }) as unknown as Plot.Markish;
  return {
    mark,
    points,
    push(x: number, y: number) {
      points.push([x, y]);
      redraw?.();
    },
  };
}

/** Fraction of `images` that `model` labels as `labels`, and the predictions, in batches of 500. */
async function evaluate(model: Module, images: Tensor, labels: Tensor) {
  model.eval();
  const n = images.shape[0];
  const predictions: number[] = [];
  for (let i = 0; i < n; i += 500) {
    const pred = noGrad(() => scope(() => model.forward(images.slice([[i, Math.min(i + 500, n)]])).argmax(-1))); // (≤500,)
    predictions.push(...(await pred.data()));
    pred.dispose();
  }
  model.train();
  const truth = await labels.data();
  const correct = predictions.filter((p, i) => p === truth[i]).length;
  return { accuracy: correct / n, predictions, truth: Array.from(truth) };
}

export default async function run(ctx: NoteContext) {
  // ---- 1. The data: 2,000 training digits, and the 2,000 test digits the model never trains on.
  ctx.print('loading 10,000 digits from /data/ …');
  const digits = await loadDigits();
  const train = { images: digits.images.slice([[0, TRAIN]]), labels: digits.labels.slice([[0, TRAIN]]) }; // (TRAIN, 1, 28, 28), (TRAIN,)
  const test = { images: digits.images.slice([[8000, 10000]]), labels: digits.labels.slice([[8000, 10000]]) }; // (2000, 1, 28, 28), (2000,)
  ctx.print(`train ${train.images.shape.join('×')}, test ${test.images.shape.join('×')}`);

  // ---- 2. The model: flatten the 28×28 image, one hidden layer of 256 ReLUs, 10 logits.
  manualSeed(0); // the initial weights
  const model = new Sequential(
    new Flatten(), //         (B, 784)
    new Linear(784, 256), //  (B, 256)
    new ReLU(),
    new Linear(256, 10), //   (B, 10) logits
  );
  const opt = new Adam(model.parameters(), { lr: LR });
  const loader = new DataLoader(new TensorDataset(train.images, train.labels), { batchSize: BATCH, shuffle: true, key: random.key(1) });
  const totalSteps = EPOCHS * loader.length;
  ctx.print(`${model.numParameters().toLocaleString('en-US')} parameters; ${EPOCHS} epoch${EPOCHS === 1 ? '' : 's'} of ${loader.length} steps, batch ${BATCH}, Adam lr ${LR}`);

  // ---- 3. The live loss curve: every step's batch loss, and its running average.
  const raw = liveLine({ stroke: '#cbd5e1', strokeWidth: 1 });
  const smooth = liveLine({ stroke: '#2563eb', strokeWidth: 2 });
  ctx.plot({
    caption: 'Training loss (grey: each batch; blue: running average). The dashed line is log 10, the loss of a uniform guess; vertical lines end the epochs.',
    height: 260,
    x: { domain: [0, totalSteps], label: 'step' },
    y: { domain: [0, 2.6], label: 'cross-entropy', grid: true },
    clip: true,
    marks: [Plot.ruleY([Math.log(10)], { strokeDasharray: '4 3' }), Plot.ruleX(Array.from({ length: EPOCHS - 1 }, (_, e) => (e + 1) * loader.length), { stroke: '#9ca3af' }), raw.mark, smooth.mark],
  });

  // ---- 4. Train. Each step: forward, loss, backward, Adam update. Stop ends training early.
  const history: { step: number; epoch: number; loss: number }[] = [];
  let step = 0;
  let average = Math.log(10);
  let stopped = false;
  const t0 = performance.now();
  try {
    for (let epoch = 1; epoch <= EPOCHS; epoch++) {
      for await (const [x, y] of loader) {
        const loss = scope(() => {
          const loss = crossEntropy(model.forward(x), y); // () mean over the batch
          backward(loss); // p.grad for every parameter
          opt.step();
          opt.zeroGrad();
          return loss;
        });
        const value = await loss.item();
        for (const t of [loss, x, y]) t.dispose();
        step++;
        average = 0.9 * average + 0.1 * value;
        history.push({ step, epoch, loss: value });
        raw.push(step, value);
        smooth.push(step, average);
        await ctx.progress(step / totalSteps, `epoch ${epoch}, step ${step} of ${totalSteps}: loss ${average.toFixed(3)}`);
      }
    }
  } catch (e) {
    if (!ctx.signal.aborted) throw e;
    stopped = true; // the reader pressed Stop: test what was learned so far
  }
  const seconds = (performance.now() - t0) / 1000;
  ctx.print(`${stopped ? 'stopped after' : 'trained'} ${step} steps (${(step * BATCH).toLocaleString('en-US')} digits seen) in ${seconds.toFixed(1)} s on ${ctx.backend.name}`);

  // ---- 5. Test accuracy on the 2,000 held-out digits.
  const { accuracy, predictions, truth } = await evaluate(model, test.images, test.labels);
  ctx.print(`test accuracy: ${(100 * accuracy).toFixed(1)}% (${Math.round(accuracy * 2000)} of 2000; a uniform guess gets 10%)`);

  // ---- 6. A grid of test digits: the first 10, then the first 10 the model gets wrong.
  const wrong = predictions.flatMap((p, i) => (p !== truth[i] ? [i] : [])).slice(0, 10);
  const shown = [...Array.from({ length: 10 }, (_, i) => i), ...wrong];
  const pixels = await test.images.data(); // (2000·784,)
  const cols = 10;
  const tile = 32; // 28 pixels and a margin
  const rows = Math.ceil(shown.length / cols);
  const width = cols * tile;
  const height = rows * (tile + 12);
  const grid = new Float64Array(width * height); // one image of all the tiles, row-major
  const labelsShown = shown.map((i, k) => {
    const [r, c] = [Math.floor(k / cols), k % cols];
    for (let py = 0; py < 28; py++) {
      for (let px = 0; px < 28; px++) grid[(r * (tile + 12) + 12 + py) * width + c * tile + px] = pixels[i * 784 + py * 28 + px];
    }
    const ok = predictions[i] === truth[i];
    return { x: c * tile + 14, y: r * (tile + 12) + 6, text: ok ? `${predictions[i]}` : `${predictions[i]} (${truth[i]})`, ok };
  });
  ctx.plot({
    caption: 'Test digits with the predicted label above each (red: wrong, the true label in parentheses). Top row: the first ten; below: the first mistakes.',
    width: width * 2,
    height: height * 2,
    margin: 0,
    x: { domain: [0, width], axis: null },
    y: { domain: [0, height], axis: null, reverse: true },
    color: { scheme: 'greys', domain: [0, 1] },
    marks: [
      Plot.raster(grid, { width, height, x1: 0, y1: 0, x2: width, y2: height, imageRendering: 'pixelated' }),
      Plot.text(labelsShown.filter((d) => d.ok), { x: 'x', y: 'y', text: 'text', fill: 'black', fontSize: 11 }),
      Plot.text(labelsShown.filter((d) => !d.ok), { x: 'x', y: 'y', text: 'text', fill: '#dc2626', fontSize: 11 }),
    ],
  });

  // Free the tensors (the tests check that nothing is left behind): the model, Adam's two state
  // tensors per parameter (its running averages of g and g²), and the data.
  opt.dispose();
  model.dispose();
  for (const t of [digits.images, digits.labels, train.images, train.labels, test.images, test.labels]) t.dispose();

  return { steps: step, totalSteps, stopped, seconds, history, smoothed: smooth.points, accuracy, predictions, truth, shown, labelsShown };
}
