/**
 * Backpropagation and automatic differentiation.
 *
 * Logistic regression on one example, as a computation graph: the forward values and the local
 * gradients by hand, multiplied backwards by the chain rule, and checked against `grad`. Then how
 * add, mul, max and a reused value route gradients (with `vjp`), a batch with `valueAndGrad` and a
 * few steps of gradient descent, and the same numbers PyTorch-style with `requiresGrad`/`backward`.
 */
import { backward, grad, requiresGrad, valueAndGrad, vjp } from '@ml/autograd';
import { random, tensor } from '@ml/tensor';
import type { Tensor } from '@ml/tensor';
import * as Plot from '@observablehq/plot';
import type { NoteContext } from '../src/runtime/context.js';

const read = async (t: Tensor) => (await t.array()) as number[];
const show = (v: number[]) => `[${v.map((a) => a.toFixed(6)).join(', ')}]`;

export default async function run(ctx: NoteContext) {
  // ---- 1. One example by hand: L = −log σ(w₁x₁ + w₂x₂ + b), the loss of logistic regression for y = 1.
  const [x1, x2] = [1.5, -2]; // the input
  const [w1, w2, b] = [0.8, 0.3, -0.2]; // the parameters

  // Forward pass: one primitive per line, every value kept for the backward pass.
  const a1 = w1 * x1; // mul
  const a2 = w2 * x2; // mul
  const s = a1 + a2; // add
  const u = s + b; // add: the logit wᵀx + b
  const p = 1 / (1 + Math.exp(-u)); // sigmoid: P(y = 1 | x)
  const L = -Math.log(p); // −log: the loss

  // Backward pass: start from ∂L/∂L = 1; each node multiplies the upstream gradient by its local one.
  const gL = 1;
  const gp = gL * (-1 / p); // ∂(−log p)/∂p = −1/p
  const gu = gp * (p * (1 - p)); // σ'(u) = σ(u)(1 − σ(u)), so ∂L/∂u = p − 1
  const [gs, gb] = [gu * 1, gu * 1]; // add: local gradient 1 to both inputs
  const [ga1, ga2] = [gs * 1, gs * 1]; // add again
  const [gw1, gx1] = [ga1 * x1, ga1 * w1]; // mul: each input gets the *other* input
  const [gw2, gx2] = [ga2 * x2, ga2 * w2];

  const rows = [
    { node: 'L = −log p', value: L, upstream: gL, input: 'p', local: -1 / p, downstream: gp },
    { node: 'p = σ(u)', value: p, upstream: gp, input: 'u', local: p * (1 - p), downstream: gu },
    { node: 'u = s + b', value: u, upstream: gu, input: 's', local: 1, downstream: gs },
    { node: 'u = s + b', value: u, upstream: gu, input: 'b', local: 1, downstream: gb },
    { node: 's = a₁ + a₂', value: s, upstream: gs, input: 'a₁', local: 1, downstream: ga1 },
    { node: 's = a₁ + a₂', value: s, upstream: gs, input: 'a₂', local: 1, downstream: ga2 },
    { node: 'a₁ = w₁·x₁', value: a1, upstream: ga1, input: 'w₁', local: x1, downstream: gw1 },
    { node: 'a₁ = w₁·x₁', value: a1, upstream: ga1, input: 'x₁', local: w1, downstream: gx1 },
    { node: 'a₂ = w₂·x₂', value: a2, upstream: ga2, input: 'w₂', local: x2, downstream: gw2 },
    { node: 'a₂ = w₂·x₂', value: a2, upstream: ga2, input: 'x₂', local: w2, downstream: gx2 },
  ];
  ctx.table(rows, { caption: 'Every node, last to first: downstream = upstream × local' });
  ctx.plot(graphFigure({ x1, x2, w1, w2, b, a1, a2, s, u, p, L }, { gx1, gx2, gw1, gw2, gb, ga1, ga2, gs, gu, gp, gL }));

  // The same gradient from autodiff: write the forward pass once, ask for ∂L/∂w and ∂L/∂b.
  const x = tensor([x1, x2], { dtype: 'float64' }); // (2,)
  const loss = (w: Tensor, bias: Tensor, x: Tensor) => w.dot(x).add(bias).sigmoid().log().neg(); // ()
  const [dw, db] = grad(loss, [0, 1])(tensor([w1, w2], { dtype: 'float64' }), tensor(b, { dtype: 'float64' }), x);
  const byGrad = { w: await read(dw), b: await db.item() };
  const closedForm = { w: [(p - 1) * x1, (p - 1) * x2], b: p - 1 }; // (σ(wᵀx + b) − y)·x with y = 1
  ctx.print(`by hand:    ∂L/∂w = ${show([gw1, gw2])}, ∂L/∂b = ${gb.toFixed(6)}`);
  ctx.print(`grad:       ∂L/∂w = ${show(byGrad.w)}, ∂L/∂b = ${byGrad.b.toFixed(6)}`);
  ctx.print(`(p − y)·x:  ∂L/∂w = ${show(closedForm.w)}, ∂L/∂b = ${closedForm.b.toFixed(6)}`);

  // ---- 2. Gradient flow: what each gate does with an upstream gradient g = [1, 10, 100].
  const g = tensor([1, 10, 100]); // (3,) the upstream gradient
  const A = tensor([2, -1, 3]); // (3,)
  const B = tensor([5, 4, 3]); // (3,)
  const gates = {
    'add: a + b': (a: Tensor, b: Tensor) => a.add(b), // distributes: both inputs get g
    'mul: a · b': (a: Tensor, b: Tensor) => a.mul(b), // swaps: a gets g·b, b gets g·a
    'max: max(a, b)': (a: Tensor, b: Tensor) => a.maximum(b), // routes: g goes to the larger input
    'reuse: a · a': (a: Tensor, _b: Tensor) => a.mul(a), // a is used twice: its two gradients add up
  };
  const flow: Record<string, { da: number[]; db: number[] }> = {};
  for (const [name, gate] of Object.entries(gates)) {
    const [, pullback] = vjp(gate, A, B); // runs the gate forward and keeps what backward needs
    const [da, db] = pullback(g); // vᵀJ for v = g: one gradient per input
    flow[name] = { da: await read(da), db: await read(db) };
  }
  ctx.table(
    Object.entries(flow).map(([gate, r]) => ({ gate, '∂/∂a': r.da, '∂/∂b': r.db })),
    { caption: 'g = [1, 10, 100] through each gate, at a = [2, −1, 3], b = [5, 4, 3] (a tie at the last entry)' },
  );

  // ---- 3. A batch: N points in 2-D, two classes, mean cross-entropy, gradient descent.
  const N = 200;
  const [kx, ky] = random.split(random.key(2));
  const Y = random.bernoulli(ky, 0.5, [N]).cast('float32'); // (N,) labels in {0, 1}
  const centers = Y.mul(2).sub(1).reshape([N, 1]).mul(tensor([1, 1])); // (N, 2): ±(1, 1)
  const X = random.normal(kx, [N, 2]).add(centers); // (N, 2) two overlapping blobs

  // log(1 + e^u) − y·u is −[y log σ(u) + (1 − y) log(1 − σ(u))], written so it never overflows.
  const bce = (w: Tensor, b: Tensor) => {
    const u = X.matmul(w).add(b); // (N,) logits
    return u.softplus().sub(Y.mul(u)).mean(); // () mean loss
  };
  const step = valueAndGrad(bce, [0, 1]); // (w, b) ↦ [loss, [∂loss/∂w, ∂loss/∂b]]

  let w = tensor([0, 0]); // (2,)
  let bias = tensor(0); // ()
  const [loss0, [gw0, gb0]] = step(w, bias);
  // Closed form of the batch gradient: Xᵀ(σ(Xw + b) − y)/N and mean(σ(Xw + b) − y).
  const resid = X.matmul(w).add(bias).sigmoid().sub(Y); // (N,)
  const batchCheck = {
    grad: [...(await read(gw0)), await gb0.item()],
    closedForm: [...(await read(X.transpose().matmul(resid).div(N))), await resid.mean().item()],
  };
  ctx.print(`at w = 0, b = 0: loss = ${(await loss0.item()).toFixed(6)} (log 2 = ${Math.log(2).toFixed(6)})`);
  ctx.print(`valueAndGrad: (∂L/∂w, ∂L/∂b) = ${show(batchCheck.grad)}`);
  ctx.print(`closed form:  (∂L/∂w, ∂L/∂b) = ${show(batchCheck.closedForm)}`);

  const lr = 0.5;
  const losses: number[] = [];
  for (let t = 0; t < 60; t++) {
    const [l, [dw, db]] = step(w, bias);
    losses.push(await l.item());
    w = w.sub(dw.mul(lr)); // w ← w − η ∂L/∂w
    bias = bias.sub(db.mul(lr));
    if (t % 10 === 0) await ctx.progress(t / 60);
  }
  const wFinal = await read(w);
  const bFinal = await bias.item();
  const predicted = X.matmul(w).add(bias).gt(0); // (N,) bool: σ(u) > ½
  const accuracy = await predicted.eq(Y.gt(0.5)).cast('float32').mean().item();
  ctx.print(`after ${losses.length} steps: loss ${losses.at(-1)!.toFixed(4)}, w = [${wFinal.map((v) => v.toFixed(3))}], b = ${bFinal.toFixed(3)}, accuracy ${(100 * accuracy).toFixed(1)}%`);
  ctx.plot({
    height: 220,
    x: { label: 'step' },
    y: { label: 'mean cross-entropy', grid: true },
    marks: [Plot.line(losses.map((l, t) => ({ step: t, loss: l })), { x: 'step', y: 'loss', marker: 'dot' })],
  });

  // Squared error on the same data, for comparison: ∂/∂w Σᵢ (yᵢ − wᵀxᵢ)² = −2 Σᵢ δᵢ xᵢ, δᵢ = yᵢ − wᵀxᵢ.
  // The 2 comes from differentiating the square and stays in every line of the derivation.
  const sse = (w: Tensor) => Y.sub(X.matmul(w)).square().sum(); // ()
  const wTry = tensor([0.5, -0.25]); // (2,) any point will do
  const delta = Y.sub(X.matmul(wTry)); // (N,) residuals
  const sseCheck = { grad: await read(grad(sse)(wTry)), closedForm: await read(X.transpose().matmul(delta).mul(-2)) };
  ctx.print(`squared error: grad      = ${show(sseCheck.grad)}`);
  ctx.print(`               −2 Σᵢ δᵢxᵢ = ${show(sseCheck.closedForm)}`);

  // ---- 4. PyTorch style: mark the leaves, compute the loss, call backward(), read .grad.
  const wT = requiresGrad(tensor([w1, w2], { dtype: 'float64' })); // like torch.tensor(..., requires_grad=True)
  const bT = requiresGrad(tensor(b, { dtype: 'float64' }));
  const lossT = wT.dot(x).add(bT).sigmoid().log().neg(); // the same forward pass, recorded as it runs
  backward(lossT); // fills wT.grad and bT.grad
  const torchStyle = { w: await read(wT.grad!), b: await bT.grad!.item() };
  ctx.print(`backward(): w.grad = ${show(torchStyle.w)},  b.grad = ${torchStyle.b.toFixed(6)}`);

  return {
    forward: { a1, a2, s, u, p, L },
    byHand: { w: [gw1, gw2], b: gb, x: [gx1, gx2] },
    byGrad,
    torchStyle,
    flow,
    batchCheck,
    sseCheck,
    losses,
    accuracy,
  };
}

/** The computation graph as a figure: forward values above the nodes, gradients ∂L/∂· below. */
function graphFigure(v: Record<string, number>, gr: Record<string, number>): Plot.PlotOptions {
  const nodes = [
    { id: 'x1', label: 'x₁', x: 0, y: 4, value: v.x1, grad: gr.gx1 },
    { id: 'w1', label: 'w₁', x: 0, y: 3, value: v.w1, grad: gr.gw1 },
    { id: 'x2', label: 'x₂', x: 0, y: 2, value: v.x2, grad: gr.gx2 },
    { id: 'w2', label: 'w₂', x: 0, y: 1, value: v.w2, grad: gr.gw2 },
    { id: 'b', label: 'b', x: 2, y: 0.4, value: v.b, grad: gr.gb },
    { id: 'a1', label: '×', x: 1, y: 3.5, value: v.a1, grad: gr.ga1 },
    { id: 'a2', label: '×', x: 1, y: 1.5, value: v.a2, grad: gr.ga2 },
    { id: 's', label: '+', x: 2, y: 2.5, value: v.s, grad: gr.gs },
    { id: 'u', label: '+', x: 3, y: 1.6, value: v.u, grad: gr.gu },
    { id: 'p', label: 'σ', x: 4, y: 1.6, value: v.p, grad: gr.gp },
    { id: 'L', label: '−log', x: 5, y: 1.6, value: v.L, grad: gr.gL },
  ];
  const at = Object.fromEntries(nodes.map((n) => [n.id, n]));
  const edges = [['x1', 'a1'], ['w1', 'a1'], ['x2', 'a2'], ['w2', 'a2'], ['a1', 's'], ['a2', 's'], ['s', 'u'], ['b', 'u'], ['u', 'p'], ['p', 'L']].map(
    ([from, to]) => ({ x1: at[from].x, y1: at[from].y, x2: at[to].x, y2: at[to].y }),
  );
  return {
    height: 340,
    inset: 30,
    caption: 'Green: the forward value of each node. Red: the gradient ∂L/∂(node).',
    x: { axis: null },
    y: { axis: null },
    marks: [
      Plot.arrow(edges, { x1: 'x1', y1: 'y1', x2: 'x2', y2: 'y2', bend: false, inset: 18, stroke: '#999' }),
      Plot.dot(nodes, { x: 'x', y: 'y', r: 17, fill: 'white', stroke: 'currentColor' }),
      Plot.text(nodes, { x: 'x', y: 'y', text: 'label', fontSize: 11 }),
      Plot.text(nodes, { x: 'x', y: 'y', text: (n) => n.value.toFixed(3), dy: -25, fill: '#1a7f37' }),
      Plot.text(nodes, { x: 'x', y: 'y', text: (n) => n.grad.toFixed(3), dy: 25, fill: '#cf222e' }),
    ],
  };
}
