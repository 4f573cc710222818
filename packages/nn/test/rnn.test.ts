/**
 * Recurrent cells and layers against the textbook equations written out below in plain JS float64
 * loops (independent of the implementation's matrix formulation), plus PyTorch's parameter
 * layout, batchFirst/unbatched equivalences, inter-layer dropout, gradients by finite differences,
 * errors and memory.
 */
import { backward, gradcheck } from '@ml/autograd';
import { GRU, GRUCell, LSTM, LSTMCell, Module, RNN, RNNCell } from '@ml/nn';
import { random, scope, tensor } from '@ml/tensor';
import type { Tensor } from '@ml/tensor';
import { describe, expect, it } from 'vitest';
import { U, expectFlatMemory } from './layer-helpers.js';
import { checkParamGrads } from './param-grads.js';

// ---- plain-JS float64 references --------------------------------------------------------------

type Vec = number[];
type Mat = number[][];
const sig = (v: number) => 1 / (1 + Math.exp(-v));
/** Rows r0..r0+H of W times x. */
const rows = (W: Mat, r0: number, H: number, x: Vec): Vec => Array.from({ length: H }, (_, j) => W[r0 + j].reduce((s, w, k) => s + w * x[k], 0));
const part = (b: Vec | undefined, r0: number, H: number): Vec => (b ? b.slice(r0, r0 + H) : new Array<number>(H).fill(0));
const addv = (...vs: Vec[]) => vs[0].map((_, j) => vs.reduce((s, v) => s + v[j], 0));

interface RefWeights { wih: Mat; whh: Mat; bih?: Vec; bhh?: Vec }

/** Textbook LSTM step: i, f, g, o gates; c' = f⊙c + i⊙g; h' = o⊙tanh(c'). */
function lstmRef(w: RefWeights, x: Vec, h: Vec, c: Vec): [Vec, Vec] {
  const H = h.length;
  const gate = (k: number) => addv(rows(w.wih, k * H, H, x), part(w.bih, k * H, H), rows(w.whh, k * H, H, h), part(w.bhh, k * H, H));
  const i = gate(0).map(sig);
  const f = gate(1).map(sig);
  const g = gate(2).map(Math.tanh);
  const o = gate(3).map(sig);
  const c2 = c.map((cj, j) => f[j] * cj + i[j] * g[j]);
  const h2 = c2.map((cj, j) => o[j] * Math.tanh(cj));
  return [h2, c2];
}

/** Textbook GRU step (PyTorch's variant: r multiplies W_hn h + b_hn). */
function gruRef(w: RefWeights, x: Vec, h: Vec): Vec {
  const H = h.length;
  const xs = (k: number) => addv(rows(w.wih, k * H, H, x), part(w.bih, k * H, H));
  const hs = (k: number) => addv(rows(w.whh, k * H, H, h), part(w.bhh, k * H, H));
  const r = addv(xs(0), hs(0)).map(sig);
  const z = addv(xs(1), hs(1)).map(sig);
  const n = xs(2).map((v, j) => Math.tanh(v + r[j] * hs(2)[j]));
  return n.map((nj, j) => (1 - z[j]) * nj + z[j] * h[j]);
}

/** Textbook Elman step: h' = act(W_ih x + b_ih + W_hh h + b_hh). */
function rnnRef(w: RefWeights, x: Vec, h: Vec, act: (v: number) => number): Vec {
  const H = h.length;
  return addv(rows(w.wih, 0, H, x), part(w.bih, 0, H), rows(w.whh, 0, H, h), part(w.bhh, 0, H)).map(act);
}

type Kind = 'lstm' | 'gru' | 'tanh' | 'relu';
const relu = (v: number) => Math.max(v, 0);

/** One reference step for any kind; states = [h] or [h, c]. */
function refStep(kind: Kind, w: RefWeights, x: Vec, states: Vec[]): Vec[] {
  if (kind === 'lstm') return lstmRef(w, x, states[0], states[1]);
  if (kind === 'gru') return [gruRef(w, x, states[0])];
  return [rnnRef(w, x, states[0], kind === 'tanh' ? Math.tanh : relu)];
}

/** The module's weights of layer l (direction suffix '' or 'Reverse') as nested JS arrays. */
function refWeights(m: Module, l: number, sfx = ''): RefWeights {
  const f = m as unknown as Record<string, Tensor | undefined>;
  const get = (n: string) => f[`${n}L${l}${sfx}`]?.arraySync();
  return { wih: get('weightIh') as Mat, whh: get('weightHh') as Mat, bih: get('biasIh') as Vec | undefined, bhh: get('biasHh') as Vec | undefined };
}

/**
 * A multi-layer (optionally bidirectional) reference over x (L, N, I) as nested arrays, states
 * [h0, (c0)] each (layers·D, N, H) → [output (L, N, D·H), final states].
 */
function refSequence(kind: Kind, m: Module, layers: number, bidir: boolean, x: number[][][], init: number[][][][]): [number[][][], number[][][][]] {
  const L = x.length;
  const N = x[0].length;
  const dirs = bidir ? 2 : 1;
  const finals: number[][][][] = init.map(() => []);
  let seq = x;
  for (let l = 0; l < layers; l++) {
    const outs: number[][][][] = [];
    for (let d = 0; d < dirs; d++) {
      const w = refWeights(m, l, d ? 'Reverse' : '');
      const out: number[][][] = Array.from({ length: L }, () => []);
      const last: number[][][] = init.map(() => []);
      for (let n = 0; n < N; n++) {
        let states = init.map((s) => s[l * dirs + d][n]);
        for (let s = 0; s < L; s++) {
          const t = d ? L - 1 - s : s;
          states = refStep(kind, w, seq[t][n], states);
          out[t][n] = states[0];
        }
        states.forEach((st, i) => (last[i][n] = st));
      }
      outs.push(out);
      last.forEach((st, i) => finals[i].push(st));
    }
    seq = outs[0].map((row, t) => row.map((h, n) => (dirs === 1 ? h : [...h, ...outs[1][t][n]])));
  }
  return [seq, finals];
}

// ---- helpers ----------------------------------------------------------------------------------

const zeros3 = (a: number, b: number, c: number) => Array.from({ length: a }, () => Array.from({ length: b }, () => new Array<number>(c).fill(0)));

function maxDiff(a: unknown, b: unknown): number {
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return Infinity;
    return a.reduce((m: number, v, i) => Math.max(m, maxDiff(v, b[i])), 0);
  }
  if (typeof a === 'number' && typeof b === 'number') return Math.abs(a - b);
  return Infinity;
}

function expectClose(actual: Tensor, expected: unknown, tol = 1e-10): void {
  const d = maxDiff(actual.arraySync(), expected);
  expect(d, `max |difference| ${d}`).toBeLessThanOrEqual(tol);
}

/** A fixed, non-trivial weighting of an output so gradients do not cancel. */
const weighted = (y: Tensor) => scope(() => y.mul(y.add(0.3)).sum());

// ---- tests ------------------------------------------------------------------------------------

describe('parameters', () => {
  it('have PyTorch names, shapes and order (numLayers, bidirectional, bias: false)', () => {
    const lstm = new LSTM(3, 5, { numLayers: 2, bidirectional: true });
    const shapes = scope(() => Object.entries(lstm.stateDict({ naming: 'pytorch' })).map(([k, v]) => [k, v.shape]));
    expect(shapes).toEqual([
      ['weight_ih_l0', [20, 3]], ['weight_hh_l0', [20, 5]], ['bias_ih_l0', [20]], ['bias_hh_l0', [20]],
      ['weight_ih_l0_reverse', [20, 3]], ['weight_hh_l0_reverse', [20, 5]], ['bias_ih_l0_reverse', [20]], ['bias_hh_l0_reverse', [20]],
      ['weight_ih_l1', [20, 10]], ['weight_hh_l1', [20, 5]], ['bias_ih_l1', [20]], ['bias_hh_l1', [20]],
      ['weight_ih_l1_reverse', [20, 10]], ['weight_hh_l1_reverse', [20, 5]], ['bias_ih_l1_reverse', [20]], ['bias_hh_l1_reverse', [20]],
    ]);
    lstm.dispose();
    const gru = new GRU(4, 2, { bias: false });
    expect(gru.namedParameters().map(([n, p]) => [n, p.shape])).toEqual([['weightIhL0', [6, 4]], ['weightHhL0', [6, 2]]]);
    const w = gru.layerWeights(0);
    expect([w.weightIh, w.weightHh, w.biasIh]).toEqual([gru.parameters()[0], gru.parameters()[1], undefined]);
    expect(() => gru.layerWeights(1)).toThrow('GRU.layerWeights: layer must be in [0, 1), got 1');
    expect(() => gru.layerWeights(0, true)).toThrow('GRU.layerWeights: there is no reverse direction: the layer is not bidirectional');
    gru.dispose();
    const cell = new LSTMCell(3, 2);
    expect(scope(() => Object.keys(cell.stateDict({ naming: 'pytorch' })))).toEqual(['weight_ih', 'weight_hh', 'bias_ih', 'bias_hh']);
    cell.dispose();
  });

  it('are drawn from U(−1/√H, 1/√H) (bounds and Kolmogorov–Smirnov)', () => {
    const H = 64;
    const rnn = new LSTM(32, H, { key: random.key(3) });
    const values = rnn.parameters().flatMap((p) => Array.from(p.dataSync()));
    const b = 1 / Math.sqrt(H);
    expect(Math.max(...values.map(Math.abs))).toBeLessThanOrEqual(b);
    const sorted = values.map((v) => (v + b) / (2 * b)).sort((x, y) => x - y);
    const n = sorted.length;
    const D = sorted.reduce((m, u, i) => Math.max(m, Math.abs(u - i / n), Math.abs(u - (i + 1) / n)), 0);
    expect(D).toBeLessThan(1.63 / Math.sqrt(n)); // 1% critical value
    rnn.dispose();
  });

  it('are reproducible from a key and differ between keys', () => {
    const a = new GRU(3, 4, { key: random.key(1) });
    const b = new GRU(3, 4, { key: random.key(1) });
    const c = new GRU(3, 4, { key: random.key(2) });
    const w = (m: Module) => (m as unknown as { weightIhL0: Tensor }).weightIhL0.arraySync();
    expect(w(a)).toEqual(w(b));
    expect(w(a)).not.toEqual(w(c));
    for (const m of [a, b, c]) m.dispose();
  });
});

describe('cells match the textbook equations', () => {
  const N = 3, I = 4, H = 5;
  const x = U(10, [N, I]);
  const h = U(11, [N, H]);
  const c = U(12, [N, H]);
  const w = (m: Module): RefWeights => {
    const f = m as unknown as Record<string, Tensor | undefined>;
    return { wih: f.weightIh!.arraySync() as Mat, whh: f.weightHh!.arraySync() as Mat, bih: f.biasIh?.arraySync() as Vec, bhh: f.biasHh?.arraySync() as Vec };
  };
  const xs = x.arraySync() as Mat;
  const hs = h.arraySync() as Mat;
  const cs = c.arraySync() as Mat;

  it('LSTMCell', () => {
    const cell = new LSTMCell(I, H, { dtype: 'float64' });
    const [h2, c2] = cell.forward(x, [h, c]);
    const ref = xs.map((xn, n) => lstmRef(w(cell), xn, hs[n], cs[n]));
    expectClose(h2, ref.map((r) => r[0]));
    expectClose(c2, ref.map((r) => r[1]));
    // default state is zeros; unbatched input gives unbatched output
    const [h0] = cell.forward(x.slice([0]));
    expectClose(h0, lstmRef(w(cell), xs[0], new Array(H).fill(0), new Array(H).fill(0))[0]);
    cell.dispose();
  });

  it('GRUCell (without bias too)', () => {
    for (const bias of [true, false]) {
      const cell = new GRUCell(I, H, { dtype: 'float64', bias });
      expectClose(cell.forward(x, h), xs.map((xn, n) => gruRef(w(cell), xn, hs[n])));
      cell.dispose();
    }
  });

  it('RNNCell with tanh and relu', () => {
    for (const nonlinearity of ['tanh', 'relu'] as const) {
      const cell = new RNNCell(I, H, { dtype: 'float64', nonlinearity });
      expectClose(cell.forward(x, h), xs.map((xn, n) => rnnRef(w(cell), xn, hs[n], nonlinearity === 'tanh' ? Math.tanh : relu)));
      cell.dispose();
    }
  });
});

describe('sequence layers match the reference recurrence', () => {
  const L = 4, N = 2, I = 3, H = 4;
  const cases: [string, Kind, (o: object) => Module][] = [
    ['LSTM', 'lstm', (o) => new LSTM(I, H, o)],
    ['GRU', 'gru', (o) => new GRU(I, H, o)],
    ['RNN tanh', 'tanh', (o) => new RNN(I, H, o)],
    ['RNN relu', 'relu', (o) => new RNN(I, H, { ...o, nonlinearity: 'relu' })],
  ];
  const run = (kind: Kind, m: Module, x: Tensor, states?: Tensor[]): [Tensor, Tensor[]] => {
    const fwd = m.forward.bind(m) as (x: Tensor, hx?: unknown) => [Tensor, Tensor | Tensor[]];
    const [out, hN] = fwd(x, states && (kind === 'lstm' ? states : states[0]));
    return [out, Array.isArray(hN) ? hN : [hN]];
  };

  for (const [name, kind, make] of cases) {
    for (const [layers, bidir] of [[1, false], [2, false], [2, true]] as const) {
      it(`${name}, ${layers} layer(s)${bidir ? ', bidirectional' : ''}, with given and default initial states`, () => {
        const m = make({ numLayers: layers, bidirectional: bidir, dtype: 'float64', key: random.key(layers + (bidir ? 7 : 0)) });
        const S = layers * (bidir ? 2 : 1);
        const x = U(20, [L, N, I]);
        const states = (kind === 'lstm' ? [21, 22] : [21]).map((s) => U(s, [S, N, H]));
        const [out, finals] = run(kind, m, x, states);
        const [refOut, refFinals] = refSequence(kind, m, layers, bidir, x.arraySync() as number[][][], states.map((s) => s.arraySync() as number[][][]));
        expect(out.shape).toEqual([L, N, H * (bidir ? 2 : 1)]);
        expectClose(out, refOut);
        finals.forEach((f, i) => expectClose(f, refFinals[i]));
        // zeros by default
        const zerosInit = states.map(() => zeros3(S, N, H));
        const [out0] = run(kind, m, x);
        expectClose(out0, refSequence(kind, m, layers, bidir, x.arraySync() as number[][][], zerosInit)[0]);
        m.dispose();
      });
    }
  }

  it('batchFirst output is the transpose of the time-major output; unbatched equals a batch of one', () => {
    const a = new LSTM(I, H, { numLayers: 2, dtype: 'float64' });
    const b = new LSTM(I, H, { numLayers: 2, dtype: 'float64', batchFirst: true });
    b.loadStateDict(scope(() => a.stateDict()));
    const x = U(30, [L, N, I]);
    const [outA, [hA, cA]] = a.forward(x);
    const [outB, [hB, cB]] = b.forward(x.transpose(0, 1));
    expect(outB.shape).toEqual([N, L, H]);
    expectClose(outB, outA.transpose(0, 1).arraySync(), 0);
    expectClose(hB, hA.arraySync(), 0);
    expectClose(cB, cA.arraySync(), 0);
    const x0 = x.slice([null, 0]); // (L, I)
    const [outU, [hU]] = a.forward(x0);
    expect(outU.shape).toEqual([L, H]);
    expect(hU.shape).toEqual([2, H]);
    expectClose(outU, outA.slice([null, 0]).arraySync(), 1e-14);
    expectClose(hU, hA.slice([null, 0]).arraySync(), 1e-14);
    // unbatched with a given state (layers, H)
    const g = new GRU(I, H, { dtype: 'float64' });
    const h0 = U(31, [1, N, H]);
    const [, hBatch] = g.forward(x, h0);
    const [, hOne] = g.forward(x0, h0.slice([null, 0]));
    expectClose(hOne, hBatch.slice([null, 0]).arraySync(), 1e-14);
    for (const m of [a, b, g]) m.dispose();
  });
});

describe('dropout between layers', () => {
  it('acts on the inputs of layers ≥ 1 in training only; same key, same masks', () => {
    const make = () => new GRU(3, 6, { numLayers: 2, dropout: 0.5, dtype: 'float64', key: random.key(5) });
    const m = make();
    const x = U(40, [5, 2, 3]);
    const [train1] = m.forward(x);
    const [train2] = m.forward(x);
    m.eval();
    const [evalOut] = m.forward(x);
    const ref = refSequence('gru', m, 2, false, x.arraySync() as number[][][], [zeros3(2, 2, 6)])[0];
    expectClose(evalOut, ref);
    expect(maxDiff(train1.arraySync(), ref)).toBeGreaterThan(1e-3);
    expect(maxDiff(train1.arraySync(), train2.arraySync())).toBeGreaterThan(1e-3); // a new mask per call
    const again = make();
    const [replay] = again.forward(x);
    expectClose(replay, train1.arraySync(), 0);
    // the first layer sees no dropout: a one-layer module with dropout is deterministic
    const single = new GRU(3, 6, { dropout: 0.5, dtype: 'float64' });
    expectClose(single.forward(x)[0], single.eval().forward(x)[0].arraySync(), 0);
    for (const mod of [m, again, single]) mod.dispose();
  });

  it('the dropped layer-0 outputs are exactly the ones zeroed and the rest are scaled by 1/(1−p)', () => {
    // with layer 1's input weights zeroed except one column, its recurrence sees only that unit
    const m = new RNN(2, 3, { numLayers: 2, dropout: 0.25, dtype: 'float64', key: random.key(9), bias: false });
    const f = m as unknown as Record<string, Tensor & { assign(t: Tensor): void }>;
    f.weightHhL1.assign(scope(() => tensor([[0, 0, 0], [0, 0, 0], [0, 0, 0]], { dtype: 'float64' })));
    f.weightIhL1.assign(scope(() => tensor([[1e-3, 0, 0], [0, 1e-3, 0], [0, 0, 1e-3]], { dtype: 'float64' })));
    const x = U(41, [200, 1, 2]);
    const [out] = m.forward(x); // out = tanh(1e-3 · dropout(h⁰)) elementwise
    const single = new RNN(2, 3, { dtype: 'float64', bias: false });
    single.loadStateDict({ weightIhL0: f.weightIhL0, weightHhL0: f.weightHhL0 });
    const [h0] = single.forward(x); // layer 0's outputs
    const o = out.dataSync();
    const h = h0.dataSync();
    let dropped = 0;
    for (let i = 0; i < o.length; i++) {
      const kept = Math.tanh((1e-3 * h[i]) / 0.75);
      if (o[i] === 0) dropped++;
      else expect(Math.abs(o[i] - kept)).toBeLessThan(1e-15);
    }
    // 600 Bernoulli(0.25) drops: mean 150, sd ≈ 10.6; allow 4 sd
    expect(Math.abs(dropped - 150)).toBeLessThan(43);
    m.dispose();
    single.dispose();
  });
});

describe('gradients', () => {
  const L = 3, N = 2, I = 2, H = 3;
  it('gradcheck with respect to the input and the initial states', () => {
    const lstm = new LSTM(I, H, { numLayers: 2, dtype: 'float64', bidirectional: true });
    const gru = new GRU(I, H, { numLayers: 2, dtype: 'float64', batchFirst: true });
    const rnn = new RNN(I, H, { dtype: 'float64' });
    const x = U(50, [L, N, I]);
    const reports = [
      gradcheck((x, h, c) => { const [o, [hN, cN]] = lstm.forward(x, [h, c]); return scope(() => o.sum().add(hN.mul(cN).sum())); }, [x, U(51, [4, N, H]), U(52, [4, N, H])]),
      gradcheck((x, h) => { const [o, hN] = gru.forward(x, h); return scope(() => weighted(o).add(hN.sum())); }, [U(53, [N, L, I]), U(54, [2, N, H])]),
      gradcheck((x, h) => weighted(rnn.forward(x, h)[0]), [x, U(55, [1, N, H])]),
    ];
    for (const r of reports) expect(r.ok, r.message).toBe(true);
    for (const m of [lstm, gru, rnn]) m.dispose();
  });

  it('parameter gradients from backward match finite differences', () => {
    const x = U(60, [L, N, I]);
    const lstm = new LSTM(I, H, { numLayers: 2, dtype: 'float64' });
    checkParamGrads(lstm, () => { const [o, [h, c]] = lstm.forward(x); return scope(() => weighted(o).add(h.mul(c).sum())); });
    const gru = new GRU(I, H, { dtype: 'float64' });
    checkParamGrads(gru, () => weighted(gru.forward(x)[0]));
    const rnn = new RNN(I, H, { dtype: 'float64', nonlinearity: 'relu', numLayers: 2 });
    checkParamGrads(rnn, () => weighted(rnn.forward(x)[0]));
    const cell = new LSTMCell(I, H, { dtype: 'float64' });
    checkParamGrads(cell, () => scope(() => { const [h, c] = cell.forward(x.slice([0])); return weighted(h).add(c.sum()); }));
    for (const m of [lstm, gru, rnn, cell]) m.dispose();
  });
});

describe('errors', () => {
  it('name the layer, the argument and the shapes', () => {
    const lstm = new LSTM(3, 4, { numLayers: 2 });
    expect(() => lstm.forward(U(1, [5, 2, 7], 'float32'))).toThrow('LSTM.forward: expected input (L, N, 3) or unbatched (L, 3), got (5, 2, 7)');
    expect(() => lstm.forward(U(1, [3], 'float32'))).toThrow(/LSTM.forward: expected input/);
    expect(() => lstm.forward(U(1, [5, 2, 3], 'float32'), [U(2, [1, 2, 4], 'float32'), U(3, [2, 2, 4], 'float32')])).toThrow('LSTM.forward: expected hidden state (2, 2, 4) (numLayers·directions, N, H) for input (5, 2, 3), got (1, 2, 4)');
    expect(() => lstm.forward(U(1, [5, 2, 3], 'float32'), [U(2, [2, 2, 4], 'float32')] as unknown as [Tensor, Tensor])).toThrow('LSTM.forward: hx must be a pair [h0, c0]');
    expect(() => lstm.forward(U(1, [0, 2, 3], 'float32'))).toThrow(/non-empty sequence/);
    lstm.dispose();
    const bf = new GRU(3, 4, { batchFirst: true });
    expect(() => bf.forward(U(1, [2, 5, 4], 'float32'))).toThrow('GRU.forward: expected input (N, L, 3) or unbatched (L, 3), got (2, 5, 4)');
    bf.dispose();
    expect(() => new RNN(3, 0)).toThrow('RNN: hiddenSize must be a positive integer, got 0');
    expect(() => new GRU(3, 4, { numLayers: 1.5 })).toThrow('GRU: numLayers must be a positive integer, got 1.5');
    expect(() => new LSTM(3, 4, { dropout: 1 })).toThrow('LSTM: dropout must be a probability in [0, 1), got 1');
    expect(() => new RNN(3, 4, { nonlinearity: 'sigmoid' as 'tanh' })).toThrow(`RNN: nonlinearity must be 'tanh' or 'relu', got 'sigmoid'`);
    const cell = new GRUCell(3, 4);
    expect(() => cell.forward(U(1, [2, 5], 'float32'))).toThrow('GRUCell.forward: expected input (N, 3) or (3,), got (2, 5)');
    expect(() => cell.forward(U(1, [2, 3], 'float32'), U(1, [3, 4], 'float32'))).toThrow('GRUCell.forward: expected hidden state (2, 4) for input (2, 3), got (3, 4)');
    cell.dispose();
  });
});

describe('memory', () => {
  it('is flat over repeated forward (and backward) calls inside scope', () => {
    const lstm = new LSTM(3, 4, { numLayers: 2, dropout: 0.2 });
    const x = U(70, [6, 2, 3], 'float32');
    const step = () => scope(() => {
      const [out, [h]] = lstm.forward(x);
      const loss = out.sum().add(h.sum());
      backward(loss);
      lstm.zeroGrad();
    });
    expectFlatMemory(step, () => lstm.forward(x));
    lstm.dispose();
  });
});
