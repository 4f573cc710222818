/**
 * ReLU backward vs deconvnet vs guided backprop.
 *
 * Three ReLUs with the same forward pass, max(0, x), and different backward rules, written with
 * `customVjp`: backprop masks the upstream gradient where the forward input was ≤ 0, deconvnet
 * where the gradient itself is ≤ 0, guided backprop where either is. First on the 3×3 example of
 * the course notes, then as saliency maps of a small random conv net on 8×8 images.
 */
import { customVjp, grad, vjp } from '@ml/autograd';
import { conv2d, random, tensor, where } from '@ml/tensor';
import type { Tensor } from '@ml/tensor';
import * as Plot from '@observablehq/plot';
import type { NoteContext } from '../src/runtime/context.js';

type Relu = (x: Tensor) => Tensor;

/** A ReLU whose backward pass is `rule(x, g)`: x is the forward input, g the upstream gradient. */
function reluWithBackward(rule: (x: Tensor, g: Tensor) => Tensor): Relu {
  return customVjp(
    (x: Tensor) => [x.relu(), x] as const, // forward: max(0, x), and keep x for the backward pass
    (x: Tensor, g: Tensor) => [rule(x, g)], // one gradient per input
  );
}

export const relus: Record<'backprop' | 'deconvnet' | 'guided', Relu> = {
  backprop: reluWithBackward((x, g) => where(x.gt(0), g, 0)), // pass g where x > 0 (the true derivative)
  deconvnet: reluWithBackward((_x, g) => where(g.gt(0), g, 0)), // pass g where g > 0: a ReLU on the gradient
  guided: reluWithBackward((x, g) => where(x.gt(0).logicalAnd(g.gt(0)), g, 0)), // both masks
};

export default async function run(ctx: NoteContext) {
  // ---- 1. The 3×3 example: a forward input and an upstream gradient.
  const x = tensor([[1, -1, 5], [2, -5, -7], [-3, 2, 4]]); // (3, 3) input of the ReLU
  const g = tensor([[-2, 3, -1], [6, -3, 1], [2, -1, 3]]); // (3, 3) gradient arriving from above
  const shown: Record<string, number[][]> = {
    'forward input x': (await x.array()) as number[][],
    'relu(x)': (await x.relu().array()) as number[][],
    'upstream g': (await g.array()) as number[][],
  };
  for (const [name, relu] of Object.entries(relus)) {
    const [, pullback] = vjp(relu, x); // forward through this ReLU...
    const [dx] = pullback(g); // ...and g back through its rule
    shown[name] = (await dx.array()) as number[][];
  }
  for (const [name, m] of Object.entries(shown)) ctx.print(`${name.padEnd(16)} ${m.map((r) => r.map((v) => String(v).padStart(3)).join('')).join('   |')}`);
  ctx.plot(matrixPlot(shown));

  // ---- 2. Saliency maps: the gradient of a score with respect to the pixels of the input.
  // A small conv net with random (He-initialized) weights: conv 3×3 → ReLU → conv 3×3 → ReLU → linear.
  const [k1, k2, k3] = random.split(random.key(11), 3);
  const W1 = random.normal(k1, [6, 1, 3, 3]).mul(Math.sqrt(2 / 9)); // (C1, 1, 3, 3)
  const W2 = random.normal(k2, [6, 6, 3, 3]).mul(Math.sqrt(2 / 54)); // (C2, C1, 3, 3)
  const w3 = random.normal(k3, [6 * 8 * 8]).mul(Math.sqrt(1 / 384)); // (C2·8·8,) the readout
  const score = (relu: Relu) => (img: Tensor) => {
    const h1 = relu(conv2d(img.reshape([1, 1, 8, 8]), W1, null, { padding: 1 })); // (1, C1, 8, 8)
    const h2 = relu(conv2d(h1, W2, null, { padding: 1 })); // (1, C2, 8, 8)
    return h2.reshape([-1]).dot(w3); // () one score
  };

  // Two 8×8 "images": a diagonal stroke and a square ring (1 on the shape, 0 elsewhere).
  const pixels = (on: (i: number, j: number) => boolean) =>
    Array.from({ length: 8 }, (_, i) => Array.from({ length: 8 }, (_, j) => (on(i, j) ? 1 : 0)));
  const images = {
    stroke: tensor(pixels((i, j) => i === j || i === j + 1)), // (8, 8)
    ring: tensor(pixels((i, j) => Math.max(Math.abs(i - 3.5), Math.abs(j - 3.5)) === 2.5)), // (8, 8)
  };

  const maps: Record<string, Record<string, number[][]>> = {};
  const plainGrad: Record<string, number[][]> = {};
  for (const [imageName, img] of Object.entries(images)) {
    maps[imageName] = { image: (await img.array()) as number[][] };
    for (const [name, relu] of Object.entries(relus)) {
      maps[imageName][name] = (await grad(score(relu))(img).array()) as number[][]; // (8, 8)
    }
    // the reference: plain grad through the library's own relu
    plainGrad[imageName] = (await grad(score((t) => t.relu()))(img).array()) as number[][];
  }
  ctx.plot(saliencyPlot(maps));

  // How much does each map look like its image? And does it change with the image at all?
  const same = (a: number[][], b: number[][]) => a.every((r, i) => r.every((v, j) => v === b[i][j]));
  const rows = Object.keys(relus).map((name) => ({
    rule: name,
    'correlation with the stroke': correlation(maps.stroke[name].flat(), maps.stroke.image.flat()),
    'correlation with the ring': correlation(maps.ring[name].flat(), maps.ring.image.flat()),
    'same map for both images': same(maps.stroke[name], maps.ring[name]) ? 'yes' : 'no',
  }));
  ctx.table(rows, { caption: 'The saliency maps of an untrained net, against the images' });
  const backpropIsGrad = Object.keys(images).every((k) => same(maps[k].backprop, plainGrad[k]));
  ctx.print(`backprop variant = grad through relu: ${backpropIsGrad}`);

  return { example: shown, maps, plainGrad, backpropIsGrad, rows };
}

/** Pearson correlation of two lists of numbers. */
function correlation(a: number[], b: number[]): number {
  const mean = (v: number[]) => v.reduce((s, x) => s + x, 0) / v.length;
  const [ma, mb] = [mean(a), mean(b)];
  let [ab, aa, bb] = [0, 0, 0];
  a.forEach((x, i) => {
    ab += (x - ma) * (b[i] - mb);
    aa += (x - ma) ** 2;
    bb += (b[i] - mb) ** 2;
  });
  return ab / Math.sqrt(aa * bb);
}

/** Small matrices as labelled cells, colored by sign. */
function matrixPlot(ms: Record<string, number[][]>): Plot.PlotOptions {
  const cells = Object.entries(ms).flatMap(([name, m]) =>
    m.flatMap((row, i) => row.map((v, j) => ({ matrix: name, i, j, v }))),
  );
  return {
    height: 150,
    marginTop: 24,
    x: { axis: null },
    y: { axis: null },
    fx: { label: null, domain: Object.keys(ms) },
    color: { type: 'diverging', scheme: 'PiYG', domain: [-7, 7] },
    marks: [
      Plot.cell(cells, { x: 'j', y: 'i', fx: 'matrix', fill: 'v', inset: 0.5 }),
      Plot.text(cells, { x: 'j', y: 'i', fx: 'matrix', text: 'v' }),
    ],
  };
}

/** The image and its three saliency maps, each map scaled to [−1, 1] by its largest |value|. */
function saliencyPlot(maps: Record<string, Record<string, number[][]>>): Plot.PlotOptions {
  const cells = Object.entries(maps).flatMap(([image, byRule]) =>
    Object.entries(byRule).flatMap(([rule, m]) => {
      const scale = Math.max(...m.flat().map(Math.abs)) || 1;
      return m.flatMap((row, i) => row.map((v, j) => ({ image, rule, i, j, v: rule === 'image' ? v : v / scale })));
    }),
  );
  return {
    height: 340,
    x: { axis: null },
    y: { axis: null },
    fx: { label: null, domain: ['image', 'backprop', 'deconvnet', 'guided'] },
    fy: { label: null, domain: Object.keys(maps) },
    color: { type: 'diverging', scheme: 'RdBu', domain: [-1, 1], legend: true, label: 'value / max |value|' },
    marks: [Plot.cell(cells, { x: 'j', y: 'i', fx: 'rule', fy: 'image', fill: 'v' })],
  };
}
