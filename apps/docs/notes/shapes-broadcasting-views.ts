/**
 * Shapes, broadcasting and views: how an n-d array sits in memory, which operations only change
 * how we look at it, how NumPy broadcasting lines shapes up, and three ways to compute the
 * squared distances between two sets of points.
 */
import * as Plot from '@observablehq/plot';
import { arange, memory, random, scope, tensor, zeros } from '@ml/tensor';
import type { Tensor } from '@ml/tensor';
import type { NoteContext } from '../src/runtime/context.js';

/** Formats a shape like NumPy: (3, 4), (4,), (). */
const fmt = (shape: readonly number[]) => `(${shape.join(', ')}${shape.length === 1 ? ',' : ''})`;

// ---- The three pairwise-distance programs of step 4: D[i, j] = ‖a_i − b_j‖².

/** (a) A double loop that runs a tiny tensor program for every pair, like the seed's Python loop. */
async function pairwiseLoop(a: Tensor, b: Tensor): Promise<number[][]> {
  const out: number[][] = [];
  for (let i = 0; i < a.shape[0]; i++) {
    const row: number[] = [];
    for (let j = 0; j < b.shape[0]; j++) {
      const d = scope(() => a.slice([i]).sub(b.slice([j])).square().sum()); // (D,) − (D,) → ()
      row.push(await d.item());
      d.dispose();
    }
    out.push(row);
  }
  return out;
}

/** (b) Broadcasting: (N, 1, D) − (1, M, D) → (N, M, D), then sum over D → (N, M). */
function pairwiseBroadcast(a: Tensor, b: Tensor): Tensor {
  return scope(() => a.slice(':, None').sub(b.slice('None')).square().sum(-1));
}

/** (c) Expand the square: ‖x − y‖² = ‖x‖² + ‖y‖² − 2 x·y, with all the x·y in one matmul. */
function pairwiseMatmul(a: Tensor, b: Tensor): Tensor {
  return scope(() => {
    const aa = a.square().sum(-1, true); // (N, 1)
    const bb = b.square().sum(-1).unsqueeze(0); // (1, M)
    const ab = a.matmul(b.transpose()); // (N, D) @ (D, M) → (N, M)
    return aa.add(bb).sub(ab.mul(2)).maximum(0); // rounding can dip just below 0: clamp
  });
}

/** Average milliseconds per call, repeating `fn` until at least `minMs` have passed. */
async function msPerCall(fn: () => Promise<unknown>, minMs = 20): Promise<number> {
  let calls = 0;
  const t0 = performance.now();
  do {
    await fn();
    calls++;
  } while (performance.now() - t0 < minMs);
  return (performance.now() - t0) / calls;
}

export default async function run(ctx: NoteContext) {
  const [kE, kA, kB, kTime] = random.split(random.key(0), 4);

  // ---- 1. Shapes: T tokens, embedded with a (V, C) table, compared with every entry by matmul.
  const V = 8, C = 4;
  const E = random.normal(kE, [V, C]); // (V, C): one C-vector per vocabulary entry
  const tokens = tensor([5, 0, 3], { dtype: 'int32' }); // (T,) token ids, T = 3
  const X = E.indexSelect(0, tokens); // (T, C): one row of E per token
  const dots = X.matmul(E.transpose()); // (T, C) @ (C, V) → (T, V): dots[t, v] = x_t · e_v
  const len = (t: Tensor) => t.square().sum(-1, true).sqrt(); // (R, C) → (R, 1): row lengths
  const lengths = len(X).matmul(len(E).transpose()); // (T, 1) @ (1, V) → (T, V): ‖x_t‖ ‖e_v‖
  const cosines = dots.div(lengths); // (T, V): cosine of the angle between x_t and e_v
  const similarity = {
    maxAbsDot: await dots.abs().max().item(),
    cosRange: [await cosines.min().item(), await cosines.max().item()],
    nearestByCosine: (await cosines.argmax(-1).array()) as number[], // each token finds itself
    nearestByDot: (await dots.argmax(-1).array()) as number[], // a longer row can win instead
  };
  ctx.print(`tokens ${fmt(tokens.shape)} → X ${fmt(X.shape)}; X @ Eᵀ: ${fmt(X.shape)} @ ${fmt([C, V])} → ${fmt(dots.shape)}`);
  ctx.print(`largest |x·e| = ${similarity.maxAbsDot.toFixed(2)}: dot products are not confined to [−1, 1]`);
  ctx.print(`cosines x·e / (‖x‖ ‖e‖) lie in [${similarity.cosRange.map((c) => c.toFixed(3)).join(', ')}]`);
  ctx.print(`best match of tokens [${await tokens.array()}] by cosine: [${similarity.nearestByCosine}],`,
    `by raw dot product: [${similarity.nearestByDot}]`);

  // ---- 2. Strides and views: new (shape, strides, offset) over the same buffer, no copy.
  const x = arange(12).reshape([3, 4]); // (3, 4) int32, elements 0..11 in row-major order
  const buffersBefore = memory().buffers;
  const views: [string, Tensor][] = [
    ['x', x],
    ['x.transpose()', x.transpose()], // swap the strides
    ["x.slice('::2, ::-1')", x.slice('::2, ::-1')], // every other row, columns reversed
    ["x.slice('-1')", x.slice('-1')], // the last row: the dim is dropped
    ['x.reshape([2, 6])', x.reshape([2, 6])], // contiguous: always a view
    ['x.reshape([3, 2, 2]).permute([2, 0, 1])', x.reshape([3, 2, 2]).permute([2, 0, 1])],
    ["x.slice('1:2').expand([3, 4])", x.slice('1:2').expand([3, 4])], // stride 0: row 1, three times
  ];
  const buffersAfterViews = memory().buffers;
  const viewRows = [];
  for (const [expr, v] of views) {
    const values = JSON.stringify(await v.array());
    viewRows.push({ expr, shape: fmt(v.shape), strides: fmt(v.strides), offset: v.offset, contiguous: v.isContiguous, values });
  }
  ctx.table(viewRows, { caption: `Views of x: buffers before ${buffersBefore}, after ${buffersAfterViews}` });

  // Element [i, j] of a view lives at storage[offset + i·s0 + j·s1].
  const storage = await x.data(); // x is contiguous with offset 0: its data is the buffer, in order
  const v = x.slice('::2, ::-1'); // (2, 4), strides (8, -1), offset 3
  const address = v.offset + 1 * v.strides[0] + 2 * v.strides[1];
  const viaView = ((await v.array()) as number[][])[1][2];
  ctx.print(`v[1, 2] = storage[${v.offset} + 1·${v.strides[0]} + 2·(${v.strides[1]})] = storage[${address}] =`,
    `${storage[address]} (read through the view: ${viaView})`);

  // A transpose is not contiguous: flattening it needs a copy, and so does contiguous().
  const xt = x.transpose(); // (4, 3), strides (1, 4)
  const flat = xt.reshape([12]); // no single stride walks 0, 4, 8, 1, 5, …: reshape copies
  const xtc = xt.contiguous(); // (4, 3), strides (3, 1), a fresh buffer
  const buffersAfterCopies = memory().buffers;
  ctx.print(`xt.reshape([12]) = [${await flat.array()}], strides ${fmt(flat.strides)};`,
    `xt.contiguous() strides ${fmt(xtc.strides)}`);
  ctx.print(`buffers: ${buffersBefore} → ${buffersAfterViews} after ${views.length - 1} views →`,
    `${buffersAfterCopies} after reshape-of-transpose and contiguous()`);

  // ---- 3. Broadcasting: align shapes on the right; each pair of dims must be equal or contain a 1.
  const col = tensor([[0], [10], [20]]); // (3, 1)
  const row = tensor([1, 2, 3, 4]); // (4,) acts as (1, 4)
  ctx.print(`(3, 1) + (4,) → ${JSON.stringify(await col.add(row).array())}`);
  ctx.print(`computed as (3, 1).expand([3, 4]), strides ${fmt(col.expand([3, 4]).strides)},`,
    `plus (4,).expand([3, 4]), strides ${fmt(row.expand([3, 4]).strides)}`);
  const pairs: [number[], number[]][] = [
    [[3, 4], [4]], // a row added to every row
    [[3, 1], [1, 4]], // an outer sum
    [[8, 1, 6, 1], [7, 1, 5]], // missing leading dims count as 1
    [[5, 1, 2], [1, 4, 2]], // the pairwise-difference pattern of step 4
    [[3, 4], [3]], // a per-row value needs shape (3, 1), not (3,)
    [[2, 3], [2]],
  ];
  const broadcastRows = pairs.map(([sa, sb]) => {
    let result: string;
    try {
      result = fmt(zeros(sa).add(zeros(sb)).shape);
    } catch (e) {
      result = (e as Error).message; // names the op, both shapes and the dim that clashes
    }
    return { a: fmt(sa), b: fmt(sb), 'a + b': result };
  });
  ctx.table(broadcastRows, { caption: 'Broadcasting: result shape or error' });

  // ---- 4. Pairwise squared distances, three ways, and a check that they agree.
  const a = random.normal(kA, [5, 3]); // (N, D): N = 5 points in D = 3 dims
  const b = random.normal(kB, [4, 3]); // (M, D): M = 4 points
  const dLoop = tensor(await pairwiseLoop(a, b)); // (N, M)
  const dBroadcast = pairwiseBroadcast(a, b); // (N, M)
  const dMatmul = pairwiseMatmul(a, b); // (N, M)
  const maxDiff = async (p: Tensor, q: Tensor) => p.sub(q).abs().max().item();
  const distances = {
    a: (await a.array()) as number[][],
    b: (await b.array()) as number[][],
    loop: (await dLoop.array()) as number[][],
    broadcast: (await dBroadcast.array()) as number[][],
    matmul: (await dMatmul.array()) as number[][],
    loopVsBroadcast: await maxDiff(dLoop, dBroadcast),
    loopVsMatmul: await maxDiff(dLoop, dMatmul),
  };
  const distanceRows = distances.broadcast.map((r, i) => Object.fromEntries([['i', i], ...r.map((d, j) => [`j = ${j}`, d.toFixed(4)])]));
  ctx.table(distanceRows, { caption: 'D[i, j] = ‖a_i − b_j‖² (broadcast)' });
  ctx.print(`max |loop − broadcast| = ${distances.loopVsBroadcast},`,
    `max |loop − matmul trick| = ${distances.loopVsMatmul.toExponential(1)}`);

  // ---- 5. Timing: the loop pays the fixed cost of a tensor op ~5 times per pair; broadcasting
  // pays it a handful of times in all.
  const sizes = [8, 16, 32, 64]; // N = M; D = 2 as in the seed
  const timings: { N: number; method: string; ms: number }[] = [];
  // Warm up: the JavaScript engine compiles hot code after a few thousand calls, and the first
  // calls run far slower. Without this the smallest sizes would be timed on cold code.
  const w = random.normal(kTime, [40, 2]); // (40, 2)
  for (let r = 0; r < 2; r++) await pairwiseLoop(w, w);
  for (let r = 0; r < 20; r++) {
    pairwiseBroadcast(w, w).dispose();
    pairwiseMatmul(w, w).dispose();
  }
  for (const [k, N] of sizes.entries()) {
    const [ka, kb] = random.split(random.fold(kTime, N));
    const p = random.normal(ka, [N, 2]), q = random.normal(kb, [N, 2]); // (N, 2) each
    const once = async (f: (p: Tensor, q: Tensor) => Tensor) => {
      const d = f(p, q);
      await d.data(); // include reading the result back, as the loop does
      d.dispose();
    };
    timings.push(
      { N, method: 'double loop', ms: await msPerCall(() => pairwiseLoop(p, q)) },
      { N, method: 'broadcast', ms: await msPerCall(() => once(pairwiseBroadcast)) },
      { N, method: 'matmul trick', ms: await msPerCall(() => once(pairwiseMatmul)) },
    );
    p.dispose();
    q.dispose();
    await ctx.progress((k + 1) / sizes.length, `N = ${N}`);
  }
  const ms = (N: number, method: string) => timings.find((t) => t.N === N && t.method === method)!.ms;
  ctx.table(sizes.map((N) => ({
    N,
    'pairs N·M': N * N,
    'loop (ms)': ms(N, 'double loop').toFixed(2),
    'broadcast (ms)': ms(N, 'broadcast').toFixed(3),
    'matmul trick (ms)': ms(N, 'matmul trick').toFixed(3),
    'loop / broadcast': Math.round(ms(N, 'double loop') / ms(N, 'broadcast')),
  })), { caption: 'Time per call (this machine, this page)' });
  ctx.plot({
    title: 'Pairwise squared distances: time vs N (log–log)',
    x: { type: 'log', base: 2, label: 'N = M (points per set)' },
    y: { type: 'log', label: 'ms per call', grid: true },
    color: { legend: true },
    marks: [
      Plot.line(timings, { x: 'N', y: 'ms', stroke: 'method' }),
      Plot.dot(timings, { x: 'N', y: 'ms', fill: 'method' }),
    ],
  });

  const buffers = { before: buffersBefore, afterViews: buffersAfterViews, afterCopies: buffersAfterCopies };
  return { similarity, views: viewRows, buffers, broadcasting: broadcastRows, distances, timings };
}
