/**
 * Multi-layer recurrent layers over whole sequences: `RNN`, `LSTM`, `GRU`, with PyTorch's
 * parameter names (`weightIhL0` ↔ `weight_ih_l0`, `biasHhL1Reverse` ↔ `bias_hh_l1_reverse`),
 * shapes, gate orders and state layout. The recurrence is a plain loop over time; the input
 * projection x·W_ihᵀ + b_ih of each layer is computed for all steps in one matmul first.
 */
import { concat, random, scope, stack, zeros } from '@ml/tensor';
import type { Key, Tensor } from '@ml/tensor';
import { Module } from '../module.js';
import type { Parameter } from '../parameter.js';
import { KeyStream, nextKey } from '../rng.js';
import { dropout } from './dropout.js';
import { checkDtype, checkInt, checkTensor, computeDtype, fail, fmtShape, reprBool } from './layer-utils.js';
import type { FloatDType } from './layer-utils.js';
import { linear } from './linear.js';
import { gruStep, lstmStep, rnnStep, rnnUniform } from './rnn-cell.js';
import type { RNNNonlinearity } from './rnn-cell.js';

/** Options of {@link RNN}, {@link LSTM} and {@link GRU}. */
export interface RNNOptions {
  /** Number of stacked layers; layer l > 0 reads the output sequence of layer l − 1 (default 1). */
  numLayers?: number;
  /** Whether to learn the biases `biasIhL{l}`, `biasHhL{l}` (default true). */
  bias?: boolean;
  /** Input and output as (N, L, ·) instead of (L, N, ·) (default false). States stay (layers, N, H). */
  batchFirst?: boolean;
  /** Dropout probability on the outputs of every layer but the last, in training mode only (default 0). */
  dropout?: number;
  /** Also run each layer backwards in time and concatenate both directions' outputs (default false). */
  bidirectional?: boolean;
  /** Key for the initialisation and the dropout masks (default: the default stream). */
  key?: Key;
  /** Parameter dtype (default float32). */
  dtype?: FloatDType;
}

/** The four parameters of one layer and direction (biases absent with `bias: false`). */
export interface LayerWeights {
  weightIh: Parameter;
  weightHh: Parameter;
  biasIh?: Parameter;
  biasHh?: Parameter;
}

/**
 * What the three layers share: parameters, input and state checks, the loop over layers and
 * directions. A subclass supplies the number of gates, of state tensors (1, or 2 for the LSTM's
 * h and c) and one step of the recurrence.
 */
abstract class RNNBase extends Module {
  readonly inputSize: number;
  readonly hiddenSize: number;
  readonly numLayers: number;
  readonly bias: boolean;
  readonly batchFirst: boolean;
  readonly dropout: number;
  readonly bidirectional: boolean;
  readonly #dropoutKeys: KeyStream;

  /** How many state tensors the recurrence carries (h; or h and c). */
  protected abstract readonly numStates: number;

  /** One step: projected input xw (N, G·H) and states (each (N, H)) → new states. */
  protected abstract step(xw: Tensor, states: Tensor[], w: LayerWeights): Tensor[];

  constructor(inputSize: number, hiddenSize: number, gates: number, opts: RNNOptions) {
    super();
    const name = new.target.name;
    this.inputSize = checkInt(name, 'inputSize', inputSize);
    this.hiddenSize = checkInt(name, 'hiddenSize', hiddenSize);
    this.numLayers = checkInt(name, 'numLayers', opts.numLayers ?? 1);
    this.bias = opts.bias ?? true;
    this.batchFirst = opts.batchFirst ?? false;
    this.bidirectional = opts.bidirectional ?? false;
    const p = opts.dropout ?? 0;
    if (typeof p !== 'number' || !(p >= 0 && p < 1)) fail(name, `dropout must be a probability in [0, 1), got ${String(p)}`);
    this.dropout = p;
    const dtype = checkDtype(name, opts.dtype ?? 'float32');
    const [initKey, dropKey] = opts.key ? random.split(opts.key, 2) : [nextKey(), undefined];
    this.#dropoutKeys = new KeyStream(dropKey);
    const dirs = this.bidirectional ? 2 : 1;
    const keys = random.split(initKey, this.numLayers * dirs * 4);
    const G = gates * hiddenSize;
    let k = 0;
    // PyTorch's order: per layer, per direction: weight_ih, weight_hh, bias_ih, bias_hh
    for (let l = 0; l < this.numLayers; l++) {
      const layerIn = l === 0 ? inputSize : hiddenSize * dirs;
      for (let d = 0; d < dirs; d++) {
        const sfx = `L${l}${d === 1 ? 'Reverse' : ''}`;
        const fields = this as unknown as Record<string, Parameter>;
        fields[`weightIh${sfx}`] = rnnUniform(keys[k++], [G, layerIn], hiddenSize, dtype);
        fields[`weightHh${sfx}`] = rnnUniform(keys[k++], [G, hiddenSize], hiddenSize, dtype);
        const kb1 = keys[k++];
        const kb2 = keys[k++];
        if (this.bias) {
          fields[`biasIh${sfx}`] = rnnUniform(kb1, [G], hiddenSize, dtype);
          fields[`biasHh${sfx}`] = rnnUniform(kb2, [G], hiddenSize, dtype);
        }
      }
    }
  }

  /**
   * The parameters of layer `l` (the fields `weightIhL{l}`, … with the suffix `Reverse` for the
   * backward direction), typed.
   *
   * @example
   * ```ts
   * const { weightIh, weightHh } = lstm.layerWeights(0); // (4H, I), (4H, H)
   * ```
   */
  layerWeights(l: number, reverse = false): LayerWeights {
    if (!Number.isInteger(l) || l < 0 || l >= this.numLayers) fail(`${this.constructor.name}.layerWeights`, `layer must be in [0, ${this.numLayers}), got ${l}`);
    if (reverse && !this.bidirectional) fail(`${this.constructor.name}.layerWeights`, 'there is no reverse direction: the layer is not bidirectional');
    const sfx = `L${l}${reverse ? 'Reverse' : ''}`;
    const f = this as unknown as Record<string, Parameter | undefined>;
    return { weightIh: f[`weightIh${sfx}`]!, weightHh: f[`weightHh${sfx}`]!, biasIh: f[`biasIh${sfx}`], biasHh: f[`biasHh${sfx}`] };
  }

  /**
   * The shared forward: input (L, N, I) / (N, L, I) / (L, I) and optional states, each
   * (numLayers·D, N, H) or (numLayers·D, H) unbatched → [output, final states].
   */
  protected run(input: Tensor, hx: (Tensor | undefined)[]): [Tensor, Tensor[]] {
    const name = `${this.constructor.name}.forward`;
    checkTensor(name, 'input', input);
    const I = this.inputSize;
    if ((input.rank !== 2 && input.rank !== 3) || input.shape[input.rank - 1] !== I) {
      const batched = this.batchFirst ? `(N, L, ${I})` : `(L, N, ${I})`;
      fail(name, `expected input ${batched} or unbatched (L, ${I}), got ${fmtShape(input.shape)}`);
    }
    const batched = input.rank === 3;
    const L = input.shape[batched && this.batchFirst ? 1 : 0];
    if (L === 0) fail(name, `expected a non-empty sequence, got input ${fmtShape(input.shape)}`);
    const N = batched ? input.shape[this.batchFirst ? 0 : 1] : 1;
    const dirs = this.bidirectional ? 2 : 1;
    const S = this.numLayers * dirs;
    const want = batched ? [S, N, this.hiddenSize] : [S, this.hiddenSize];
    for (const h of hx) {
      if (h === undefined) continue;
      checkTensor(name, 'hx', h);
      if (h.rank !== want.length || h.shape.some((d, i) => d !== want[i])) {
        fail(name, `expected hidden state ${fmtShape(want)} (numLayers·directions, ${batched ? 'N, ' : ''}H) for input ${fmtShape(input.shape)}, got ${fmtShape(h.shape)}`);
      }
    }
    return scope(() => {
      // everything below works on (L, N, ·) and states (S, N, H)
      let x = !batched ? input.unsqueeze(1) : this.batchFirst ? input.transpose(0, 1) : input; // (L, N, I)
      const dtype = computeDtype(input.dtype, this.layerWeights(0).weightIh.dtype);
      const h0 = hx.map((h) => (h === undefined ? zeros([S, N, this.hiddenSize], { dtype, backend: input.backend }) : batched ? h : h.unsqueeze(1)));
      const finals: Tensor[][] = Array.from({ length: this.numStates }, () => []);
      for (let l = 0; l < this.numLayers; l++) {
        if (l > 0 && this.dropout > 0 && this.training) x = dropout(x, this.dropout, this.#dropoutKeys.next(), true);
        const outs: Tensor[] = [];
        for (let d = 0; d < dirs; d++) {
          const w = this.layerWeights(l, d === 1);
          const [out, last] = this.#runDirection(x, h0.map((h) => h.slice([l * dirs + d])), w, d === 1);
          outs.push(out);
          last.forEach((s, i) => finals[i].push(s));
        }
        x = dirs === 1 ? outs[0] : concat(outs, -1); // (L, N, D·H)
      }
      const output = !batched ? x.squeeze(1) : this.batchFirst ? x.transpose(0, 1) : x;
      const states = finals.map((f) => (batched ? stack(f, 0) : stack(f, 0).squeeze(1))); // (S, N, H) or (S, H)
      return [output, states];
    });
  }

  /** One layer in one direction over x (L, N, In) → [outputs (L, N, H), final states]. */
  #runDirection(x: Tensor, states: Tensor[], w: LayerWeights, reverse: boolean): [Tensor, Tensor[]] {
    const L = x.shape[0];
    const xw = linear(x, w.weightIh, w.biasIh); // (L, N, G·H), all steps at once
    const outs: Tensor[] = new Array<Tensor>(L);
    for (let s = 0; s < L; s++) {
      const t = reverse ? L - 1 - s : s;
      states = this.step(xw.slice([t]), states, w);
      outs[t] = states[0]; // h_t (N, H)
    }
    return [stack(outs, 0), states];
  }

  override extraRepr(): string {
    const extras = [
      this.numLayers !== 1 ? `num_layers=${this.numLayers}` : '',
      !this.bias ? 'bias=false' : '',
      this.batchFirst ? `batch_first=${reprBool(true)}` : '',
      this.dropout ? `dropout=${this.dropout}` : '',
      this.bidirectional ? `bidirectional=${reprBool(true)}` : '',
    ].filter(Boolean);
    return [`${this.inputSize}, ${this.hiddenSize}`, ...extras].join(', ');
  }
}

/**
 * A multi-layer Elman RNN (PyTorch's `nn.RNN`): for each layer and time step,
 * hₜ = act(xₜ·W_ihᵀ + b_ih + hₜ₋₁·W_hhᵀ + b_hh) with act = tanh (default) or relu.
 *
 * Parameters per layer l: `weightIhL{l}` (H, I) (I = inputSize for l = 0, D·H after),
 * `weightHhL{l}` (H, H), `biasIhL{l}`, `biasHhL{l}` (H), each from U(−1/√H, 1/√H); with
 * `bidirectional`, the same again with the suffix `Reverse`.
 *
 * Shape: input (L, N, I), or (N, L, I) with `batchFirst`, or unbatched (L, I); h0
 * (numLayers·D, N, H) or (numLayers·D, H), zeros by default → [output (L, N, D·H) (batchFirst:
 * (N, L, D·H); unbatched (L, D·H)), hN of h0's shape]. D = 2 if bidirectional else 1.
 *
 * @example
 * ```ts
 * const rnn = new RNN(10, 20, { numLayers: 2 });
 * const [out, hN] = rnn.forward(x); // x (5, 3, 10) → out (5, 3, 20), hN (2, 3, 20)
 * ```
 */
export class RNN extends RNNBase {
  readonly nonlinearity: RNNNonlinearity;
  protected readonly numStates = 1;

  constructor(inputSize: number, hiddenSize: number, opts: RNNOptions & { nonlinearity?: RNNNonlinearity } = {}) {
    super(inputSize, hiddenSize, 1, opts);
    this.nonlinearity = opts.nonlinearity ?? 'tanh';
    if (this.nonlinearity !== 'tanh' && this.nonlinearity !== 'relu') {
      fail('RNN', `nonlinearity must be 'tanh' or 'relu', got '${String(this.nonlinearity)}'`);
    }
  }

  protected step(xw: Tensor, [h]: Tensor[], w: LayerWeights): Tensor[] {
    return [rnnStep(xw, h, w.weightHh, w.biasHh, this.nonlinearity)];
  }

  /** input (L, N, I) / (N, L, I) / (L, I); h0 (layers·D, N, H) → [output, hN]. */
  forward(input: Tensor, hx?: Tensor): [Tensor, Tensor] {
    const [out, [h]] = this.run(input, [hx]);
    return [out, h];
  }

  override extraRepr(): string {
    return super.extraRepr() + (this.nonlinearity !== 'tanh' ? `, nonlinearity='${this.nonlinearity}'` : '');
  }
}

/**
 * A multi-layer long short-term memory (PyTorch's `nn.LSTM`). For each layer and time step, with
 * gates in PyTorch's order i, f, g, o:
 *
 *   i = σ(W_ii x + b_ii + W_hi h + b_hi),  f = σ(W_if x + b_if + W_hf h + b_hf)
 *   g = tanh(W_ig x + b_ig + W_hg h + b_hg),  o = σ(W_io x + b_io + W_ho h + b_ho)
 *   c' = f ⊙ c + i ⊙ g,  h' = o ⊙ tanh(c')
 *
 * Parameters per layer l: `weightIhL{l}` (4H, I) = [W_ii; W_if; W_ig; W_io], `weightHhL{l}`
 * (4H, H), `biasIhL{l}`, `biasHhL{l}` (4H), each from U(−1/√H, 1/√H) (suffix `Reverse` for the
 * backward direction).
 *
 * Shape: input (L, N, I), or (N, L, I) with `batchFirst`, or unbatched (L, I); hx = [h0, c0],
 * each (numLayers·D, N, H), zeros by default → [output (L, N, D·H), [hN, cN]].
 *
 * @example
 * ```ts
 * const lstm = new LSTM(10, 20, { numLayers: 2, batchFirst: true });
 * const [out, [hN, cN]] = lstm.forward(x); // x (3, 5, 10) → out (3, 5, 20), hN, cN (2, 3, 20)
 * ```
 */
export class LSTM extends RNNBase {
  protected readonly numStates = 2;

  constructor(inputSize: number, hiddenSize: number, opts: RNNOptions = {}) {
    super(inputSize, hiddenSize, 4, opts);
  }

  protected step(xw: Tensor, [h, c]: Tensor[], w: LayerWeights): Tensor[] {
    return lstmStep(xw, h, c, w.weightHh, w.biasHh);
  }

  /** input (L, N, I) / (N, L, I) / (L, I); hx = [h0, c0] → [output, [hN, cN]]. */
  forward(input: Tensor, hx?: [Tensor, Tensor]): [Tensor, [Tensor, Tensor]] {
    if (hx !== undefined && (!Array.isArray(hx) || hx.length !== 2)) fail('LSTM.forward', 'hx must be a pair [h0, c0]');
    const [out, [h, c]] = this.run(input, hx ?? [undefined, undefined]);
    return [out, [h, c]];
  }
}

/**
 * A multi-layer gated recurrent unit (PyTorch's `nn.GRU`). For each layer and time step, with
 * gates in PyTorch's order r, z, n:
 *
 *   r = σ(W_ir x + b_ir + W_hr h + b_hr),  z = σ(W_iz x + b_iz + W_hz h + b_hz)
 *   n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)),  h' = (1 − z) ⊙ n + z ⊙ h
 *
 * Parameters per layer l: `weightIhL{l}` (3H, I), `weightHhL{l}` (3H, H), `biasIhL{l}`,
 * `biasHhL{l}` (3H), each from U(−1/√H, 1/√H).
 *
 * Shape: as {@link RNN}: input (L, N, I) → [output (L, N, D·H), hN (numLayers·D, N, H)].
 *
 * @example
 * ```ts
 * const gru = new GRU(10, 20);
 * const [out, hN] = gru.forward(x, h0); // x (5, 3, 10), h0 (1, 3, 20)
 * ```
 */
export class GRU extends RNNBase {
  protected readonly numStates = 1;

  constructor(inputSize: number, hiddenSize: number, opts: RNNOptions = {}) {
    super(inputSize, hiddenSize, 3, opts);
  }

  protected step(xw: Tensor, [h]: Tensor[], w: LayerWeights): Tensor[] {
    return [gruStep(xw, h, w.weightHh, w.biasHh)];
  }

  /** input (L, N, I) / (N, L, I) / (L, I); h0 (layers·D, N, H) → [output, hN]. */
  forward(input: Tensor, hx?: Tensor): [Tensor, Tensor] {
    const [out, [h]] = this.run(input, [hx]);
    return [out, h];
  }
}
