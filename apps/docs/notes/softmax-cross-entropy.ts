/**
 * Softmax and cross-entropy from logits.
 *
 * A classifier outputs one score (logit) per class. Softmax turns the scores into probabilities,
 * cross-entropy charges −log of the probability given to the true class. Computed from the logits
 * through logsumexp, both stay finite for any scores.
 */
import { oneHot, random, tensor, zeros } from '@ml/tensor';
import type { Tensor } from '@ml/tensor';
import * as Plot from '@observablehq/plot';
import type { NoteContext } from '../src/runtime/context.js';

export default async function run(ctx: NoteContext) {
  // ---- 1. One image, three classes: a linear classifier scored it cat 3.2, car 5.1, frog −1.7.
  const classes = ['cat', 'car', 'frog'];
  const scores = [3.2, 5.1, -1.7];
  const s = tensor(scores); // (C,) logits
  const y = 0; // the true class: cat

  // Softmax by hand: exponentiate (every score becomes positive), then normalize to sum 1.
  const e = s.exp(); // (C,) ≈ [24.5, 164.0, 0.18]
  const q = e.div(e.sum()); // (C,) ≈ [0.13, 0.87, 0.001]
  const nll = q.log().neg(); // (C,) −log q[c]: the loss we would pay if c were the true class

  const [ev, qv, nllv] = (await Promise.all([e, q, nll].map((t) => t.array()))) as number[][];
  const rows = classes.map((name, c) => ({
    class: name,
    logit: scores[c],
    'exp(logit)': ev[c],
    probability: qv[c],
    '−log probability': nllv[c],
  }));
  ctx.table(rows, { caption: 'Softmax of the scores; the true class is cat' });
  ctx.plot({
    x: { domain: classes, label: null },
    y: { domain: [0, 1], grid: true, label: 'probability' },
    marks: [
      Plot.barY(rows, {
        x: 'class',
        y: 'probability',
        fill: (d) => (d.class === 'cat' ? 'true class' : 'other'),
      }),
      Plot.text(rows, { x: 'class', y: 'probability', text: (d) => d.probability.toFixed(3), dy: -8 }),
      Plot.ruleY([0]),
    ],
    color: { legend: true },
  });
  const loss = nllv[y];
  ctx.print(`cross-entropy = −log q[cat] = ${loss.toFixed(4)}`);
  ctx.print(`the model bets on car: q[car] = ${qv[1].toFixed(3)}`);

  // The same loss straight from the logits: log q = s − logsumexp(s), never forming q.
  const lse = s.logsumexp(); // () log Σ exp(s)
  const logq = s.sub(lse); // (C,) log-softmax
  const lossFromLogits = -(await logq.data())[y]; // logsumexp(s) − s[y]
  ctx.print(`logsumexp(s) = ${(await lse.item()).toFixed(4)}`);
  ctx.print(`logsumexp(s) − s[cat] = ${lossFromLogits.toFixed(4)}`);
  // The library's versions agree.
  const libSoftmax = (await s.softmax().array()) as number[];
  const libLogSoftmax = (await s.logSoftmax().array()) as number[];

  // ---- 2. Numerical stability. In float32, e^x overflows to ∞ above x = 88.7
  // and rounds to 0 below x = −104.
  const cases = [
    [1, 2, 3], // harmless
    [1000, 1001, 1002], // e^1000 overflows to ∞
    [-1000, -1001, -1002], // e^-1000 underflows to 0
  ];
  const read = async (t: Tensor) => (await t.array()) as number[];
  const stability: Record<string, Record<string, number[]>> = {};
  for (const logits of cases) {
    const x = tensor(logits); // (3,) float32
    const ex = x.exp(); // [∞, ∞, ∞] or [0, 0, 0] for the last two
    const naive = ex.div(ex.sum()); // ∞/∞ or 0/0 → NaN
    // softmax(x) = softmax(x − c) for any constant c; with c = max(x) every exponent is ≤ 0.
    const ez = x.sub(x.max()).exp(); // (3,) in (0, 1], the largest exactly 1
    const shifted = ez.div(ez.sum());
    stability[`[${logits.join(', ')}]`] = {
      naive: await read(naive),
      shifted: await read(shifted),
      softmax: await read(x.softmax()),
      logSoftmax: await read(x.logSoftmax()),
    };
  }
  const show = (v: number[]) => v.map((a) => a.toFixed(4)).join(', ');
  ctx.table(
    Object.entries(stability).map(([name, r]) => ({
      logits: name,
      naive: show(r.naive),
      'max-shifted': show(r.shifted),
      softmax: show(r.softmax),
      logSoftmax: show(r.logSoftmax),
    })),
    { caption: 'Naive exp-then-normalize against the max-shifted softmax (float32)' },
  );

  // ---- 3. A batch: one row of logits per example, one integer label per example.
  const logits = tensor([
    [3.2, 5.1, -1.7], // a cat image
    [1.3, 4.9, 2.0], // a car image
    [2.2, 2.5, -3.1], // a frog image
  ]); // (N, C) = (3, 3)
  const labels = tensor([0, 1, 2], { dtype: 'int32' }); // (N,)
  const [N, C] = logits.shape;
  const logp = logits.logSoftmax(1); // (N, C) log q, row by row

  // Cross-entropy −Σ_c p[c] log q[c] with one-hot targets p: one term survives per row.
  const P = oneHot(labels, C); // (N, C) float32, a single 1 per row
  const ceOneHot = P.mul(logp).sum(1).neg(); // (N,)
  // The same terms picked out directly: gather log q[n, y[n]] (no N×C product).
  const ceGather = logp.gather(1, labels.reshape([N, 1])).reshape([N]).neg(); // (N,)
  const batchLoss = await ceGather.mean().item(); // () the loss we would minimize
  const perExample = (await ceGather.array()) as number[];
  const perExampleOneHot = (await ceOneHot.array()) as number[];
  ctx.table(
    perExample.map((l, n) => ({
      example: `${classes[n]} image`,
      'one-hot: −Σ p log q': perExampleOneHot[n],
      'gather: −log q[y]': l,
    })),
    { caption: `Cross-entropy per example; the batch loss is their mean, ${batchLoss.toFixed(4)}` },
  );

  // ---- 4. Loss at initialization: tiny weights score all classes alike, so q ≈ 1/C, loss ≈ log C.
  const [kx, kModel] = random.split(random.key(0));
  const B = 512; // batch size
  const D = 64; // input features
  const X = random.normal(kx, [B, D]); // (B, D) inputs
  const initRows = [];
  for (const numClasses of [2, 10, 100, 1000]) {
    const [kw, ky] = random.split(random.fold(kModel, numClasses)); // fresh keys for each C
    const W = random.normal(kw, [D, numClasses]).mul(0.001); // (D, C) small random weights
    const b = zeros([numClasses]); // (C,) zero bias
    const Y = random.randint(ky, [B], 0, numClasses); // (B,) random labels
    const Z = X.matmul(W).add(b); // (B, C) logits = (B, D) @ (D, C) + (C,)
    const L = Z.logSoftmax(1).gather(1, Y.reshape([B, 1])).neg().mean(); // ()
    const lossAtInit = await L.item();
    initRows.push({ classes: numClasses, 'loss at init': lossAtInit, 'log C': Math.log(numClasses) });
  }
  ctx.table(initRows, { caption: 'A first sanity check of any classifier: loss at init ≈ log C' });

  return {
    probs: qv,
    exps: ev,
    loss,
    lossFromLogits,
    libSoftmax,
    libLogSoftmax,
    stability,
    batch: { perExample, perExampleOneHot, batchLoss },
    init: initRows,
  };
}
