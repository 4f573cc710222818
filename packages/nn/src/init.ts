/**
 * Weight initialisers, as in `torch.nn.init`. Each takes a key, a shape and options and returns a
 * new tensor; `initParameter(p, init, opts)` draws one for a parameter (its shape, dtype and
 * backend) and assigns it in place.
 *
 * Conventions (PyTorch's): for a weight of shape (out, in, k₁, k₂, …) the receptive field size
 * r = k₁·k₂·… multiplies both fans: fanIn = in·r, fanOut = out·r. A Linear weight (out, in) has
 * fanIn = in, fanOut = out.
 */
import { diagonal, full, qr, random, scope } from '@ml/tensor';
import type { Backend, Key, Tensor } from '@ml/tensor';
import type { Parameter } from './parameter.js';
import { nextKey } from './rng.js';

/** Options every initialiser takes. */
export interface InitOptions {
  /** float32 (default) or float64. */
  dtype?: 'float32' | 'float64';
  /** Backend to create the tensor on (default: the current default backend). */
  backend?: Backend;
}

/** An initialiser: `(key, shape, opts) → tensor`. */
export type Initializer<O extends InitOptions = InitOptions> = (key: Key, shape: readonly number[], opts?: O) => Tensor;

/** The nonlinearities {@link calculateGain} knows (PyTorch's names). */
export type Nonlinearity = 'linear' | 'identity' | 'conv1d' | 'conv2d' | 'conv3d' | 'conv_transpose1d' | 'conv_transpose2d' | 'conv_transpose3d' | 'sigmoid' | 'tanh' | 'relu' | 'leaky_relu' | 'selu';

function fail(op: string, message: string): never {
  throw new Error(`${op}: ${message}`);
}

function checkShape(op: string, shape: readonly number[]): number[] {
  if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 0)) {
    fail(op, `shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
  }
  return [...shape];
}

function fmt(shape: readonly number[]): string {
  return shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
}

/**
 * The recommended gain for a nonlinearity (PyTorch's `calculate_gain`): the factor that keeps the
 * variance of activations steady when it multiplies a unit-variance initialisation.
 *
 * | nonlinearity | gain |
 * | --- | --- |
 * | linear, identity, conv*, sigmoid | 1 |
 * | tanh | 5/3 |
 * | relu | √2 |
 * | leaky_relu | √(2 / (1 + slope²)), slope = `param` (default 0.01) |
 * | selu | 3/4 |
 *
 * @example
 * ```ts
 * calculateGain('tanh');           // 1.6667
 * calculateGain('leaky_relu', 0.2); // 1.3868
 * ```
 */
export function calculateGain(nonlinearity: Nonlinearity, param?: number): number {
  switch (nonlinearity) {
    case 'linear':
    case 'identity':
    case 'conv1d':
    case 'conv2d':
    case 'conv3d':
    case 'conv_transpose1d':
    case 'conv_transpose2d':
    case 'conv_transpose3d':
    case 'sigmoid':
      return 1;
    case 'tanh':
      return 5 / 3;
    case 'relu':
      return Math.SQRT2;
    case 'leaky_relu': {
      const slope = param ?? 0.01;
      if (typeof slope !== 'number' || !Number.isFinite(slope)) fail('calculateGain', `negative slope ${String(param)} is not a valid number`);
      return Math.sqrt(2 / (1 + slope * slope));
    }
    case 'selu':
      return 3 / 4;
    default:
      return fail('calculateGain', `unsupported nonlinearity '${String(nonlinearity)}'`);
  }
}

/**
 * Fan-in and fan-out of a weight shape (PyTorch's `_calculate_fan_in_and_fan_out`): for
 * (out, in, k₁, …) with receptive field r = k₁·…, fanIn = in·r and fanOut = out·r.
 *
 * @example
 * ```ts
 * fanInOut([256, 784]);      // { fanIn: 784, fanOut: 256 }
 * fanInOut([16, 3, 5, 5]);   // { fanIn: 75, fanOut: 400 }
 * ```
 */
export function fanInOut(shape: readonly number[]): { fanIn: number; fanOut: number } {
  const s = checkShape('fanInOut', shape);
  if (s.length < 2) fail('fanInOut', `fan in and fan out need a shape with at least 2 dims, got ${fmt(s)}`);
  const receptive = s.slice(2).reduce((a, b) => a * b, 1);
  return { fanIn: s[1] * receptive, fanOut: s[0] * receptive };
}

function drawOpts(opts: InitOptions): { dtype: 'float32' | 'float64'; backend?: Backend } {
  const dtype = opts.dtype ?? 'float32';
  if (dtype !== 'float32' && dtype !== 'float64') fail('init', `dtype must be 'float32' or 'float64', got ${String(dtype)}`);
  return opts.backend ? { dtype, backend: opts.backend } : { dtype };
}

/** U(−bound, bound); bound 0 gives zeros. */
function symmetricUniform(key: Key, shape: readonly number[], bound: number, opts: InitOptions): Tensor {
  if (bound === 0) return full(shape, 0, drawOpts(opts));
  return random.uniform(key, shape, { ...drawOpts(opts), minval: -bound, maxval: bound });
}

/** N(mean, std²). */
function gaussian(key: Key, shape: readonly number[], mean: number, std: number, opts: InitOptions): Tensor {
  return scope(() => random.normal(key, shape, drawOpts(opts)).mul(std).add(mean));
}

function checkNonNeg(op: string, arg: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) fail(op, `${arg} must be a non-negative number, got ${String(v)}`);
  return v;
}

/** Options of the Xavier (Glorot) initialisers. */
export interface XavierOptions extends InitOptions {
  /** Scale factor (default 1); see {@link calculateGain}. */
  gain?: number;
}

/**
 * Xavier/Glorot uniform: U(−a, a) with a = gain·√(6 / (fanIn + fanOut)), so the variance is
 * gain²·2/(fanIn + fanOut) (PyTorch's `xavier_uniform_`).
 *
 * @example
 * ```ts
 * const w = xavierUniform(key, [500, 500], { gain: calculateGain('tanh') });
 * ```
 */
export function xavierUniform(key: Key, shape: readonly number[], opts: XavierOptions = {}): Tensor {
  const { fanIn, fanOut } = fanInOut(shape);
  const gain = checkNonNeg('xavierUniform', 'gain', opts.gain ?? 1);
  return symmetricUniform(key, shape, gain * Math.sqrt(6 / (fanIn + fanOut)), opts);
}

/**
 * Xavier/Glorot normal: N(0, σ²) with σ = gain·√(2 / (fanIn + fanOut)) (PyTorch's `xavier_normal_`).
 *
 * @example
 * ```ts
 * const w = xavierNormal(key, [256, 784]);
 * ```
 */
export function xavierNormal(key: Key, shape: readonly number[], opts: XavierOptions = {}): Tensor {
  const { fanIn, fanOut } = fanInOut(shape);
  const gain = checkNonNeg('xavierNormal', 'gain', opts.gain ?? 1);
  return gaussian(key, shape, 0, gain * Math.sqrt(2 / (fanIn + fanOut)), opts);
}

/** Options of the Kaiming (He) initialisers. */
export interface KaimingOptions extends InitOptions {
  /** Negative slope of the leaky ReLU that follows (default 0: plain ReLU). */
  a?: number;
  /** Preserve the variance of activations (`'fanIn'`, default) or of gradients (`'fanOut'`). */
  mode?: 'fanIn' | 'fanOut';
  /** The nonlinearity that follows (default `'leaky_relu'`, which with a = 0 is ReLU's gain √2). */
  nonlinearity?: Nonlinearity;
}

function kaimingStd(op: string, shape: readonly number[], opts: KaimingOptions): number {
  const { fanIn, fanOut } = fanInOut(shape);
  const mode = opts.mode ?? 'fanIn';
  if (mode !== 'fanIn' && mode !== 'fanOut') fail(op, `mode must be 'fanIn' or 'fanOut', got ${String(mode)}`);
  const fan = mode === 'fanIn' ? fanIn : fanOut;
  if (fan === 0) fail(op, `cannot initialise a tensor of shape ${fmt(shape)}: its ${mode} is 0`);
  return calculateGain(opts.nonlinearity ?? 'leaky_relu', opts.a ?? 0) / Math.sqrt(fan);
}

/**
 * Kaiming/He uniform: U(−b, b) with b = gain·√(3 / fan), i.e. standard deviation gain/√fan
 * (PyTorch's `kaiming_uniform_`; fan = fanIn or fanOut by `mode`, gain = calculateGain(nonlinearity, a)).
 *
 * @example
 * ```ts
 * const w = kaimingUniform(key, [64, 3, 3, 3], { nonlinearity: 'relu' }); // b = √2·√(3/27)
 * ```
 */
export function kaimingUniform(key: Key, shape: readonly number[], opts: KaimingOptions = {}): Tensor {
  return symmetricUniform(key, shape, Math.sqrt(3) * kaimingStd('kaimingUniform', shape, opts), opts);
}

/**
 * Kaiming/He normal: N(0, σ²) with σ = gain/√fan (PyTorch's `kaiming_normal_`).
 *
 * @example
 * ```ts
 * const w = kaimingNormal(key, [256, 784], { nonlinearity: 'relu' }); // σ = √(2/784)
 * ```
 */
export function kaimingNormal(key: Key, shape: readonly number[], opts: KaimingOptions = {}): Tensor {
  return gaussian(key, shape, 0, kaimingStd('kaimingNormal', shape, opts), opts);
}

/**
 * A (semi-)orthogonal matrix, as PyTorch's `orthogonal_`: the weight is viewed as
 * (rows, cols) = (shape[0], product of the rest); a Gaussian matrix of the taller orientation is
 * QR-factored, and Q's columns are multiplied by the signs of R's diagonal so that the result is
 * uniformly (Haar) distributed. Rows are orthonormal when rows ≤ cols, columns otherwise; the
 * result is then multiplied by `gain`.
 *
 * @example
 * ```ts
 * const w = orthogonal(key, [128, 128]); // wᵀw = I
 * ```
 */
export function orthogonal(key: Key, shape: readonly number[], opts: XavierOptions = {}): Tensor {
  const s = checkShape('orthogonal', shape);
  if (s.length < 2) fail('orthogonal', `needs a shape with at least 2 dims, got ${fmt(s)}`);
  const rows = s[0];
  const cols = s.slice(1).reduce((a, b) => a * b, 1);
  const gain = checkNonNeg('orthogonal', 'gain', opts.gain ?? 1);
  if (rows * cols === 0) return full(s, 0, drawOpts(opts));
  return scope(() => {
    const tall: [number, number] = rows < cols ? [cols, rows] : [rows, cols];
    const a = random.normal(key, tall, drawOpts(opts)); // (m, n), m ≥ n
    const { q, r } = qr(a); // q (m, n), r (n, n)
    const signs = diagonal(r).sign(); // (n,)
    const fixed = q.mul(signs); // column j × sign(r_jj)
    const m = rows < cols ? fixed.transpose() : fixed; // (rows, cols)
    return m.mul(gain).reshape(s);
  });
}

/**
 * Gaussian N(mean, std²) (PyTorch's `normal_`). A "small Gaussian" such as std = 0.01 was the
 * classic initialisation before Xavier; in a deep tanh network it makes activations shrink
 * towards 0 layer by layer.
 *
 * @example
 * ```ts
 * const w = normal(key, [500, 500], { std: 0.01 });
 * ```
 */
export function normal(key: Key, shape: readonly number[], opts: InitOptions & { mean?: number; std?: number } = {}): Tensor {
  const std = checkNonNeg('normal', 'std', opts.std ?? 1);
  const mean = opts.mean ?? 0;
  if (!Number.isFinite(mean)) fail('normal', `mean must be a finite number, got ${mean}`);
  return gaussian(key, checkShape('normal', shape), mean, std, opts);
}

/**
 * Uniform U(a, b) (PyTorch's `uniform_`, default a = 0, b = 1).
 *
 * @example
 * ```ts
 * const w = uniform(key, [3, 4], { a: -0.1, b: 0.1 });
 * ```
 */
export function uniform(key: Key, shape: readonly number[], opts: InitOptions & { a?: number; b?: number } = {}): Tensor {
  const a = opts.a ?? 0;
  const b = opts.b ?? 1;
  if (!(Number.isFinite(a) && Number.isFinite(b) && b > a)) fail('uniform', `needs finite a < b, got a=${a}, b=${b}`);
  return random.uniform(key, checkShape('uniform', shape), { ...drawOpts(opts), minval: a, maxval: b });
}

/**
 * A normal N(mean, std²) truncated to [a, b] (absolute bounds, PyTorch's `trunc_normal_`;
 * defaults mean 0, std 1, a = −2, b = 2).
 *
 * @example
 * ```ts
 * const w = truncNormal(key, [768, 768], { std: 0.02, a: -0.04, b: 0.04 });
 * ```
 */
export function truncNormal(key: Key, shape: readonly number[], opts: InitOptions & { mean?: number; std?: number; a?: number; b?: number } = {}): Tensor {
  const mean = opts.mean ?? 0;
  const std = checkNonNeg('truncNormal', 'std', opts.std ?? 1);
  const a = opts.a ?? -2;
  const b = opts.b ?? 2;
  if (!(b > a)) fail('truncNormal', `needs a < b, got a=${a}, b=${b}`);
  if (std === 0) fail('truncNormal', 'std must be positive');
  const s = checkShape('truncNormal', shape);
  return scope(() => random.truncatedNormal(key, (a - mean) / std, (b - mean) / std, s, drawOpts(opts)).mul(std).add(mean));
}

/**
 * A tensor filled with `value` (PyTorch's `constant_`). The key is ignored; it is there so that
 * every initialiser has the same signature.
 *
 * @example
 * ```ts
 * const b = constant(key, [256], { value: 0.1 });
 * ```
 */
export function constant(_key: Key, shape: readonly number[], opts: InitOptions & { value?: number } = {}): Tensor {
  const value = opts.value ?? 0;
  if (typeof value !== 'number') fail('constant', `value must be a number, got ${typeof value}`);
  return full(checkShape('constant', shape), value, drawOpts(opts));
}

/** Zeros (PyTorch's `zeros_`); the key is ignored. @example `initParameter(fc.bias, zeros)` */
export function zeros(key: Key, shape: readonly number[], opts: InitOptions = {}): Tensor {
  return constant(key, shape, { ...opts, value: 0 });
}

/** Ones (PyTorch's `ones_`); the key is ignored. @example `initParameter(ln.weight, ones)` */
export function ones(key: Key, shape: readonly number[], opts: InitOptions = {}): Tensor {
  return constant(key, shape, { ...opts, value: 1 });
}

/**
 * Re-initialises a parameter in place: draws `init(key, p.shape, { dtype: p.dtype, backend:
 * p.backend, ...opts })` and assigns it to `p` (the key defaults to the next key of the default
 * stream). Returns `p`.
 *
 * @example
 * ```ts
 * initParameter(fc.weight, xavierUniform, { gain: calculateGain('tanh') });
 * initParameter(fc.bias!, init.zeros); // `init` is this module: import { init } from '@ml/nn'
 * ```
 */
export function initParameter<O extends InitOptions>(p: Parameter, init: Initializer<O>, opts?: Omit<O, 'dtype' | 'backend'> & { key?: Key }): Parameter {
  if (p.dtype !== 'float32' && p.dtype !== 'float64') fail('initParameter', `the parameter must be float32 or float64, got ${p.dtype}`);
  const { key, ...rest } = (opts ?? {}) as { key?: Key } & Record<string, unknown>;
  const value = init(key ?? nextKey(), p.shape, { ...rest, dtype: p.dtype, backend: p.backend } as unknown as O);
  try {
    p.assign(value);
  } finally {
    value.dispose();
  }
  return p;
}
