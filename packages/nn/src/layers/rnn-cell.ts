/**
 * Recurrent cells: one time step of an Elman RNN, an LSTM and a GRU, with PyTorch's parameter
 * names, shapes, gate order and initialisation. The step functions here are shared with the
 * sequence layers in `rnn.ts`, which precompute the input projection for all steps at once.
 */
import { random, scope, zeros } from '@ml/tensor';
import type { Key, Tensor } from '@ml/tensor';
import { Module } from '../module.js';
import { Parameter } from '../parameter.js';
import { nextKey } from '../rng.js';
import { checkDtype, checkInt, checkTensor, computeDtype, fail, fmtShape } from './layer-utils.js';
import type { FloatDType } from './layer-utils.js';
import { linear } from './linear.js';

/** The nonlinearity of an Elman RNN. */
export type RNNNonlinearity = 'tanh' | 'relu';

/** Options shared by the cells. */
export interface RNNCellOptions {
  /** Whether to learn `biasIh` and `biasHh` (default true). */
  bias?: boolean;
  /** Key for the initialisation (default: the next key of the default stream). */
  key?: Key;
  /** Parameter dtype (default float32; float64 for gradient checks). */
  dtype?: FloatDType;
}

/** A (rows, cols) parameter drawn from U(−1/√H, 1/√H), PyTorch's initialisation of every RNN weight and bias. */
export function rnnUniform(key: Key, shape: readonly number[], hiddenSize: number, dtype: FloatDType): Parameter {
  const bound = 1 / Math.sqrt(hiddenSize);
  return new Parameter(random.uniform(key, shape, { minval: -bound, maxval: bound, dtype }));
}


/**
 * One Elman step from the projected input `xw = x·W_ihᵀ + b_ih` (N, H):
 * h' = act(xw + h·W_hhᵀ + b_hh).
 */
export function rnnStep(xw: Tensor, h: Tensor, weightHh: Tensor, biasHh: Tensor | undefined, nonlinearity: RNNNonlinearity): Tensor {
  return scope(() => {
    const pre = xw.add(linear(h, weightHh, biasHh)); // (N, H)
    return nonlinearity === 'tanh' ? pre.tanh() : pre.relu();
  });
}

/**
 * One LSTM step from the projected input `xw = x·W_ihᵀ + b_ih` (N, 4H), gates in PyTorch's order
 * i, f, g, o:
 *
 *   i = σ(·), f = σ(·), g = tanh(·), o = σ(·) of (xw + h·W_hhᵀ + b_hh)
 *   c' = f ⊙ c + i ⊙ g,   h' = o ⊙ tanh(c')
 *
 * Returns [h', c'], each (N, H).
 */
export function lstmStep(xw: Tensor, h: Tensor, c: Tensor, weightHh: Tensor, biasHh: Tensor | undefined): [Tensor, Tensor] {
  return scope(() => {
    const gates = xw.add(linear(h, weightHh, biasHh)); // (N, 4H)
    const [i, f, g, o] = gates.chunk(4, -1); // each (N, H)
    const c2 = f.sigmoid().mul(c).add(i.sigmoid().mul(g.tanh()));
    const h2 = o.sigmoid().mul(c2.tanh());
    return [h2, c2];
  });
}

/**
 * One GRU step from the projected input `xw = x·W_ihᵀ + b_ih` (N, 3H), gates in PyTorch's order
 * r, z, n:
 *
 *   r = σ(W_ir x + b_ir + W_hr h + b_hr),   z = σ(W_iz x + b_iz + W_hz h + b_hz)
 *   n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)),   h' = (1 − z) ⊙ n + z ⊙ h
 */
export function gruStep(xw: Tensor, h: Tensor, weightHh: Tensor, biasHh: Tensor | undefined): Tensor {
  return scope(() => {
    const [xr, xz, xn] = xw.chunk(3, -1); // each (N, H)
    const [hr, hz, hn] = linear(h, weightHh, biasHh).chunk(3, -1);
    const r = xr.add(hr).sigmoid();
    const z = xz.add(hz).sigmoid();
    const n = xn.add(r.mul(hn)).tanh();
    return n.add(z.mul(h.sub(n))); // (1 − z)·n + z·h
  });
}

/** Base of the three cells: the parameters `weightIh` (G·H, I), `weightHh` (G·H, H), `biasIh`, `biasHh` (G·H). */
abstract class CellBase extends Module {
  readonly inputSize: number;
  readonly hiddenSize: number;
  weightIh: Parameter;
  weightHh: Parameter;
  biasIh?: Parameter;
  biasHh?: Parameter;

  constructor(inputSize: number, hiddenSize: number, gates: number, opts: RNNCellOptions) {
    super();
    const name = new.target.name;
    this.inputSize = checkInt(name, 'inputSize', inputSize);
    this.hiddenSize = checkInt(name, 'hiddenSize', hiddenSize);
    const dtype = checkDtype(name, opts.dtype ?? 'float32');
    const [k1, k2, k3, k4] = random.split(opts.key ?? nextKey(), 4);
    const G = gates * hiddenSize;
    this.weightIh = rnnUniform(k1, [G, inputSize], hiddenSize, dtype);
    this.weightHh = rnnUniform(k2, [G, hiddenSize], hiddenSize, dtype);
    if (opts.bias ?? true) {
      this.biasIh = rnnUniform(k3, [G], hiddenSize, dtype);
      this.biasHh = rnnUniform(k4, [G], hiddenSize, dtype);
    }
  }

  /** Checks input (N, I) or (I) and a state (N, H) or (H); returns whether the input is batched. */
  protected checkInput(input: Tensor, states: (Tensor | undefined)[]): boolean {
    const name = `${this.constructor.name}.forward`;
    checkTensor(name, 'input', input);
    if ((input.rank !== 1 && input.rank !== 2) || input.shape[input.rank - 1] !== this.inputSize) {
      fail(name, `expected input (N, ${this.inputSize}) or (${this.inputSize},), got ${fmtShape(input.shape)}`);
    }
    const batched = input.rank === 2;
    const want = batched ? [input.shape[0], this.hiddenSize] : [this.hiddenSize];
    for (const s of states) {
      if (s === undefined) continue;
      checkTensor(name, 'hx', s);
      if (s.rank !== want.length || s.shape.some((d, i) => d !== want[i])) {
        fail(name, `expected hidden state ${fmtShape(want)} for input ${fmtShape(input.shape)}, got ${fmtShape(s.shape)}`);
      }
    }
    return batched;
  }

  /** A zero state (N, H) matching the input's batch and the result dtype. */
  protected zeroState(input: Tensor): Tensor {
    return zeros([input.shape[0], this.hiddenSize], { dtype: computeDtype(input.dtype, this.weightIh.dtype), backend: input.backend });
  }

  override extraRepr(): string {
    return `${this.inputSize}, ${this.hiddenSize}${this.biasIh ? '' : ', bias=False'}`;
  }
}

/** Runs `step` on a batched view of an input that may be unbatched (I) → (1, I), and squeezes back. */
function batchedCall<T>(batched: boolean, input: Tensor, states: (Tensor | undefined)[], step: (x: Tensor, s: (Tensor | undefined)[]) => T): T {
  if (batched) return step(input, states);
  return scope(() => {
    const out = step(input.unsqueeze(0), states.map((s) => s?.unsqueeze(0)));
    const squeeze = (t: Tensor) => t.squeeze(0);
    return (Array.isArray(out) ? out.map(squeeze) : squeeze(out as Tensor)) as T;
  });
}

/**
 * An Elman RNN cell (PyTorch's `nn.RNNCell`): h' = act(x·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh) with
 * act = tanh (default) or relu. Parameters `weightIh` (H, I), `weightHh` (H, H), `biasIh`,
 * `biasHh` (H), all drawn from U(−1/√H, 1/√H).
 *
 * @example
 * ```ts
 * const cell = new RNNCell(10, 20);
 * const h1 = cell.forward(x);      // x (N, 10) → (N, 20); h0 defaults to zeros
 * const h2 = cell.forward(x, h1);
 * ```
 */
export class RNNCell extends CellBase {
  readonly nonlinearity: RNNNonlinearity;

  constructor(inputSize: number, hiddenSize: number, opts: RNNCellOptions & { nonlinearity?: RNNNonlinearity } = {}) {
    super(inputSize, hiddenSize, 1, opts);
    this.nonlinearity = opts.nonlinearity ?? 'tanh';
    if (this.nonlinearity !== 'tanh' && this.nonlinearity !== 'relu') {
      fail('RNNCell', `nonlinearity must be 'tanh' or 'relu', got '${String(this.nonlinearity)}'`);
    }
  }

  /** input (N, I) or (I); hx (N, H) or (H), zeros by default → h' of hx's shape. */
  forward(input: Tensor, hx?: Tensor): Tensor {
    const batched = this.checkInput(input, [hx]);
    return batchedCall(batched, input, [hx], (x, [h]) =>
      scope(() => rnnStep(linear(x, this.weightIh, this.biasIh), h ?? this.zeroState(x), this.weightHh, this.biasHh, this.nonlinearity)),
    );
  }
}

/**
 * A long short-term memory cell (PyTorch's `nn.LSTMCell`), gates in the order i, f, g, o:
 *
 *   i = σ(W_ii x + b_ii + W_hi h + b_hi),  f = σ(W_if x + b_if + W_hf h + b_hf)
 *   g = tanh(W_ig x + b_ig + W_hg h + b_hg),  o = σ(W_io x + b_io + W_ho h + b_ho)
 *   c' = f ⊙ c + i ⊙ g,  h' = o ⊙ tanh(c')
 *
 * Parameters `weightIh` (4H, I) = [W_ii; W_if; W_ig; W_io], `weightHh` (4H, H), `biasIh`, `biasHh` (4H).
 *
 * @example
 * ```ts
 * const cell = new LSTMCell(10, 20);
 * const [h, c] = cell.forward(x);          // x (N, 10) → h, c (N, 20)
 * const [h2, c2] = cell.forward(x, [h, c]);
 * ```
 */
export class LSTMCell extends CellBase {
  constructor(inputSize: number, hiddenSize: number, opts: RNNCellOptions = {}) {
    super(inputSize, hiddenSize, 4, opts);
  }

  /** input (N, I) or (I); hx = [h, c], each (N, H) or (H), zeros by default → [h', c']. */
  forward(input: Tensor, hx?: [Tensor, Tensor]): [Tensor, Tensor] {
    if (hx !== undefined && (!Array.isArray(hx) || hx.length !== 2)) fail('LSTMCell.forward', 'hx must be a pair [h, c]');
    const batched = this.checkInput(input, hx ?? []);
    return batchedCall(batched, input, hx ?? [undefined, undefined], (x, [h, c]) =>
      scope(() => lstmStep(linear(x, this.weightIh, this.biasIh), h ?? this.zeroState(x), c ?? this.zeroState(x), this.weightHh, this.biasHh)),
    );
  }
}

/**
 * A gated recurrent unit cell (PyTorch's `nn.GRUCell`), gates in the order r, z, n:
 *
 *   r = σ(W_ir x + b_ir + W_hr h + b_hr),  z = σ(W_iz x + b_iz + W_hz h + b_hz)
 *   n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)),  h' = (1 − z) ⊙ n + z ⊙ h
 *
 * Parameters `weightIh` (3H, I), `weightHh` (3H, H), `biasIh`, `biasHh` (3H).
 *
 * @example
 * ```ts
 * const cell = new GRUCell(10, 20);
 * const h = cell.forward(x); // x (N, 10) → (N, 20)
 * ```
 */
export class GRUCell extends CellBase {
  constructor(inputSize: number, hiddenSize: number, opts: RNNCellOptions = {}) {
    super(inputSize, hiddenSize, 3, opts);
  }

  /** input (N, I) or (I); hx (N, H) or (H), zeros by default → h'. */
  forward(input: Tensor, hx?: Tensor): Tensor {
    const batched = this.checkInput(input, [hx]);
    return batchedCall(batched, input, [hx], (x, [h]) =>
      scope(() => gruStep(linear(x, this.weightIh, this.biasIh), h ?? this.zeroState(x), this.weightHh, this.biasHh)),
    );
  }
}
