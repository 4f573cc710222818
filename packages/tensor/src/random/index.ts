/**
 * Keyed, reproducible randomness in the style of `jax.random`.
 *
 * There is no global random state. A {@link Key} is a pair of uint32 words; every draw is a pure
 * function of its key, shape and arguments, so the same key always gives the same numbers, on
 * every backend. To get independent streams, derive new keys with {@link split} or {@link fold}
 * and never reuse a key for two different draws.
 *
 * The generator is Threefry-2x32 (20 rounds) with JAX's partitionable key derivation, so keys,
 * splits, folds and uniform draws match `jax.random` with `jax_threefry_partitionable` (the
 * default since JAX 0.5). Everything beyond the uniform draw (normal, categorical...) is written
 * in tensor ops and runs on any backend that implements the `randomUniform` and `randomBits`
 * primitives. `normal`, `truncatedNormal`, `bernoulli` and `categorical` use JAX's formulas, so
 * they agree with JAX up to the rounding of `erfinv`/`log`; `randint` (raw bits mod the range) and
 * `permutation` (float32 sort keys) give different, equally distributed, values than JAX.
 *
 * @example
 * ```ts
 * import { random } from '@ml/tensor';
 * const root = random.key(0);
 * const [kInit, kDrop] = random.split(root);
 * const w = random.normal(kInit, [784, 128]).mul(0.05);
 * const keep = random.bernoulli(kDrop, 0.9, [32, 128]);
 * ```
 * @module
 */
import type { Backend } from '../backend.js';
import { apply1 } from '../engine.js';
import { fail, fmt } from '../errors.js';
import { arange, full } from '../ops/create.js';
import { scope } from '../scope.js';
import { broadcastShapes, checkShape, normalizeAxis, shapesEqual } from '../shape.js';
import { Tensor } from '../tensor.js';
import { foldKey, seedKey, splitKey } from './threefry.js';

/**
 * A PRNG key: two uint32 words `[hi, lo]`, the same data as a raw JAX threefry key. It is plain
 * host data (not a tensor), frozen, and cheap to create, copy and serialize.
 */
export type Key = readonly [number, number];

/** A float dtype a draw can produce. */
export type FloatDType = 'float32' | 'float64';

/** Options shared by the draws that create tensors from nothing. */
export interface DrawOptions {
  /** float32 (default) or float64. */
  dtype?: FloatDType;
  /** Backend to create the result on (default: `getBackend()`). */
  backend?: Backend;
}

const TWO_32 = 4294967296;
const SQRT2 = Math.SQRT2;

// ---- argument checks

function makeKey(k0: number, k1: number): Key {
  return Object.freeze([k0, k1]) as Key;
}

function isWord(x: unknown): x is number {
  return typeof x === 'number' && Number.isInteger(x) && x >= 0 && x < TWO_32;
}

function checkKey(op: string, key: unknown): Key {
  if (!Array.isArray(key) || key.length !== 2 || !isWord(key[0]) || !isWord(key[1])) {
    const got = Array.isArray(key) ? `[${key.map(String).join(', ')}]` : String(key);
    fail(op, `key must be a pair of uint32 words made by random.key, split or fold, got ${got}`);
  }
  return key as unknown as Key;
}

function checkDtype(op: string, dtype: unknown): FloatDType {
  if (dtype !== 'float32' && dtype !== 'float64') fail(op, `dtype must be float32 or float64, got ${String(dtype)}`);
  return dtype;
}

function checkFinite(op: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(op, `${name} must be a finite number, got ${String(v)}`);
  return v;
}

/** `x` rounded to `dtype`, as the draw computes with it. */
function round(x: number, dtype: FloatDType): number {
  return dtype === 'float32' ? Math.fround(x) : x;
}

/** The next `dtype` number after `x` in direction `dir` (`nextafter`). */
function nextAfter(x: number, dir: 1 | -1, dtype: FloatDType): number {
  if (x === 0) return dir * (dtype === 'float32' ? 2 ** -149 : Number.MIN_VALUE);
  const step = (x > 0) === (dir > 0) ? 1 : -1; // away from zero: bits + 1; toward it: bits - 1
  if (dtype === 'float32') {
    const f = new Float32Array([x]);
    new Uint32Array(f.buffer)[0] += step;
    return f[0];
  }
  const f = new Float64Array([x]);
  const bits = new BigUint64Array(f.buffer);
  bits[0] += BigInt(step);
  return f[0];
}

// ---- keys

/**
 * Creates a key from an integer seed: `[hi32(seed), lo32(seed)]`, as `jax.random.key(seed)`.
 *
 * @param seed  an integer: a safe JS integer, or a bigint for the full 64-bit range. A negative
 *   seed is taken in 64-bit two's complement (as JAX with 64-bit integers enabled: `key(-1)` is
 *   `[0xffffffff, 0xffffffff]`).
 * @example
 * ```ts
 * random.key(42); // [0, 42]
 * ```
 */
export function key(seed: number | bigint): Key {
  if (typeof seed === 'bigint') {
    if (seed < -(2n ** 63n) || seed >= 2n ** 64n) fail('key', `seed ${seed} does not fit in 64 bits`);
    const u = BigInt.asUintN(64, seed);
    return makeKey(Number(u >> 32n), Number(u & 0xffffffffn));
  }
  if (!Number.isSafeInteger(seed)) {
    fail('key', `seed must be a safe integer (or a bigint), got ${String(seed)}`);
  }
  const [hi, lo] = seedKey(seed);
  return makeKey(hi, lo);
}

/**
 * Splits a key into `n` new, independent keys. Key `i` is `threefry(key, (0, i))` (JAX's
 * partitionable split). The parent key should not be used again.
 *
 * @example
 * ```ts
 * const [k1, k2, k3] = random.split(random.key(0), 3);
 * ```
 */
export function split(key: Key, n = 2): Key[] {
  const [k0, k1] = checkKey('split', key);
  if (!Number.isSafeInteger(n) || n < 0) fail('split', `n must be a non-negative integer, got ${String(n)}`);
  return Array.from({ length: n }, (_, i) => makeKey(...splitKey(k0, k1, i)));
}

/**
 * Derives a new key from `key` and an integer `data` (a step number, a layer index...):
 * `threefry(key, (0, data mod 2^32))`, as `jax.random.fold_in`. Note that `fold(key, i)` equals
 * `split(key, n)[i]`.
 *
 * @param data  an integer in [-2^31, 2^32); negatives are taken in 32-bit two's complement.
 * @example
 * ```ts
 * const stepKey = random.fold(root, step);
 * ```
 */
export function fold(key: Key, data: number): Key {
  const [k0, k1] = checkKey('fold', key);
  if (!Number.isInteger(data) || data < -(2 ** 31) || data >= TWO_32) {
    fail('fold', `data must be an integer in [-2^31, 2^32), got ${String(data)}`);
  }
  return makeKey(...foldKey(k0, k1, data));
}

// ---- draws

/** The primitive draw: uniforms on [0, 1) (mantissa construction, see threefry.ts). */
function rawUniform(key: Key, shape: readonly number[], dtype: FloatDType, backend?: Backend): Tensor {
  return apply1('randomUniform', [], { key: [key[0], key[1]], shape: [...shape], dtype }, backend);
}

/**
 * JAX's `uniform` arithmetic: `max(minval, u·(maxval − minval) + minval)` with the bounds rounded to
 * `dtype` first, so float32 draws round exactly like JAX's.
 */
function scaled(u: Tensor, minval: number, maxval: number, dtype: FloatDType): Tensor {
  const lo = round(minval, dtype);
  const hi = round(maxval, dtype);
  if (lo === 0 && hi === 1) return u;
  return u.mul(round(hi - lo, dtype)).add(lo).maximum(lo);
}

/**
 * Uniform numbers on `[minval, maxval)`: `max(minval, u·(maxval − minval) + minval)` where
 * `u = m·2^-b` with `m` uniform on `[0, 2^b)`, `b` = 23 random mantissa bits for float32 and 52 for
 * float64 (bit-for-bit `jax.random.uniform`).
 *
 * @param shape  output shape (default `[]`, a scalar)
 * @param opts   `minval` (default 0), `maxval` (default 1), `dtype` (float32), `backend`
 * @returns a `dtype` tensor of `shape`
 * @example
 * ```ts
 * random.uniform(random.key(0), [2, 3], { minval: -1, maxval: 1 });
 * ```
 */
export function uniform(
  key: Key,
  shape: readonly number[] = [],
  opts: DrawOptions & { minval?: number; maxval?: number } = {},
): Tensor {
  const op = 'uniform';
  const k = checkKey(op, key);
  const s = checkShape(op, shape);
  const dtype = checkDtype(op, opts.dtype ?? 'float32');
  const minval = checkFinite(op, 'minval', opts.minval ?? 0);
  const maxval = checkFinite(op, 'maxval', opts.maxval ?? 1);
  if (!(maxval > minval)) fail(op, `maxval (${maxval}) must be greater than minval (${minval})`);
  return scope(() => scaled(rawUniform(k, s, dtype, opts.backend), minval, maxval, dtype));
}

/**
 * Standard normal numbers by the inverse CDF: `√2 · erfinv(u)` with `u` uniform on the open interval
 * (−1, 1) (from `nextafter(−1, 0)` up to 1, as `jax.random.normal`).
 *
 * @param shape  output shape (default `[]`)
 * @param opts   `dtype` (float32), `backend`
 * @example
 * ```ts
 * const w = random.normal(key, [256, 128]).mul(Math.sqrt(2 / 256)); // He initialisation
 * ```
 */
export function normal(key: Key, shape: readonly number[] = [], opts: DrawOptions = {}): Tensor {
  const op = 'normal';
  const k = checkKey(op, key);
  const s = checkShape(op, shape);
  const dtype = checkDtype(op, opts.dtype ?? 'float32');
  const lo = nextAfter(-1, 1, dtype);
  return scope(() => scaled(rawUniform(k, s, dtype, opts.backend), lo, 1, dtype).erfinv().mul(SQRT2));
}

/**
 * Bernoulli draws: `u < p` with `u` uniform on [0, 1), so each element is `true` with
 * probability `p`.
 *
 * @param p      probability of `true`: a number in [0, 1] or a float tensor broadcastable to `shape`
 *   (default 0.5)
 * @param shape  output shape (default: `p`'s shape, `[]` for a number)
 * @returns a bool tensor of `shape`
 * @example
 * ```ts
 * const mask = random.bernoulli(key, 0.9, [32, 128]); // dropout keep-mask
 * ```
 */
export function bernoulli(key: Key, p: number | Tensor = 0.5, shape?: readonly number[]): Tensor {
  const op = 'bernoulli';
  const k = checkKey(op, key);
  if (p instanceof Tensor) {
    const s = shape === undefined ? p.shape : checkShape(op, shape);
    if (!shapesEqual(broadcastShapes(op, s, p.shape), s)) {
      fail(op, `p of shape ${fmt(p.shape)} does not broadcast to shape ${fmt(s)}`);
    }
    const dtype: FloatDType = p.dtype === 'float64' ? 'float64' : 'float32';
    return scope(() => rawUniform(k, s, dtype, p.backend).lt(p));
  }
  if (typeof p !== 'number' || !(p >= 0 && p <= 1)) fail(op, `p must be in [0, 1], got ${String(p)}`);
  const s = checkShape(op, shape ?? []);
  return scope(() => rawUniform(k, s, 'float32').lt(p));
}

/** Standard Gumbel numbers `−log(−log(u))`, `u` uniform on [tiny, 1) as `jax.random.gumbel`. */
function gumbel(key: Key, shape: readonly number[], dtype: FloatDType, backend: Backend): Tensor {
  const tiny = dtype === 'float32' ? 2 ** -126 : 2 ** -1022;
  return scaled(rawUniform(key, shape, dtype, backend), tiny, 1, dtype).log().neg().log().neg();
}

/**
 * Draws category indices from unnormalized log-probabilities by the Gumbel-max trick:
 * `argmax(logits + g)` along `axis` with `g` standard Gumbel, which picks category `j` with
 * probability `softmax(logits)[j]`.
 *
 * @param logits  float tensor; `axis` indexes the categories, the other dims are a batch
 * @param opts    `axis` (default −1); `shape`, the result shape (default: the batch shape). It must
 *   end with a shape the batch broadcasts to, so `shape = [n, ...batch]` gives `n` draws per batch
 *   entry.
 * @returns an int32 tensor of `shape`
 * @example
 * ```ts
 * const logits = tensor([0, Math.log(3)]);                 // p = [1/4, 3/4]
 * random.categorical(key, logits, { shape: [1000] });      // ~750 ones
 * ```
 */
export function categorical(
  key: Key,
  logits: Tensor,
  opts: { axis?: number; shape?: readonly number[] } = {},
): Tensor {
  const op = 'categorical';
  const k = checkKey(op, key);
  if (!(logits instanceof Tensor)) fail(op, `logits must be a Tensor, got ${String(logits)}`);
  if (logits.rank === 0) fail(op, 'logits must have at least one dim (the categories), got a scalar');
  const axis = normalizeAxis(op, opts.axis ?? -1, logits.rank);
  if (logits.shape[axis] === 0) fail(op, `logits ${fmt(logits.shape)} have no categories along axis ${axis}`);
  const batch = logits.shape.filter((_, i) => i !== axis);
  const shape = opts.shape === undefined ? batch : checkShape(op, opts.shape);
  const tail = shape.slice(shape.length - batch.length);
  if (shape.length < batch.length || batch.some((d, i) => d !== 1 && d !== tail[i])) {
    fail(op, `shape ${fmt(shape)} must end with dims that the batch shape ${fmt(batch)} broadcasts to`);
  }
  // Gumbel noise of shape (...prefix, ...tail with the categories re-inserted at `axis`).
  const prefix = shape.length - batch.length;
  const noiseShape = [...shape];
  noiseShape.splice(prefix + axis, 0, logits.shape[axis]);
  const dtype: FloatDType = logits.dtype === 'float64' ? 'float64' : 'float32';
  return scope(() => gumbel(k, noiseShape, dtype, logits.backend).add(logits).argmax(prefix + axis));
}

/**
 * Uniform integers on `[minval, maxval)`: `minval + floor(u·(maxval − minval))` with `u` a float64
 * uniform (52 random bits), so every value has probability `1/(maxval − minval)` up to a relative
 * error below `(maxval − minval)·2^-52`.
 *
 * Needs a backend with float64 (the CPU backend has it).
 *
 * @param shape   output shape
 * @param minval  smallest value, an integer ≥ −2^31
 * @param maxval  one past the largest value, an integer ≤ 2^31 and greater than `minval`
 * @returns an int32 tensor of `shape`
 * @example
 * ```ts
 * random.randint(key, [10], 0, 6); // ten dice rolls, 0..5
 * ```
 */
export function randint(
  key: Key,
  shape: readonly number[],
  minval: number,
  maxval: number,
  opts: { backend?: Backend } = {},
): Tensor {
  const op = 'randint';
  const k = checkKey(op, key);
  const s = checkShape(op, shape);
  for (const [name, v] of [['minval', minval], ['maxval', maxval]] as const) {
    if (!Number.isInteger(v) || v < -(2 ** 31) || v > 2 ** 31) {
      fail(op, `${name} must be an integer in [-2^31, 2^31], got ${String(v)}`);
    }
  }
  if (maxval <= minval) fail(op, `maxval (${maxval}) must be greater than minval (${minval})`);
  const span = maxval - minval;
  const bits = () => apply1('randomBits', [], { key: k, shape: s }, opts.backend);
  // the whole int32 range: the raw bits are the draw
  if (span === 2 ** 32) return bits();
  // 32 random bits reduced mod span (Python-style mod, so in [0, span)): each value's probability
  // is off by at most span/2^32, and only int32 arithmetic is needed (every backend has it)
  if (span < 2 ** 31) return scope(() => bits().mod(span).add(minval));
  // wider ranges don't fit int32 arithmetic: floor(u·span) with a 52-bit float64 uniform (exact)
  return scope(() => rawUniform(k, s, 'float64', opts.backend).mul(span).floor().add(minval).cast('int32'));
}

/**
 * A uniformly random permutation: of `0..n-1` (int32) for a number, or of a tensor's first axis.
 *
 * Sorts by random keys like `jax.random.permutation`: `x ← x[argsort(u)]` with `u` float32 uniforms
 * (23 random bits), repeated for `R = ⌈3·log2(n)/23⌉` rounds with fresh keys. As the sort is stable,
 * the rounds together sort by one 23·R-bit key per element, so the result is exactly uniform unless
 * two elements tie in every round, which has probability at most `(n²/2)·2^(−23·R) ≤ 1/(2n)`.
 *
 * @param x  a non-negative integer `n`, or a tensor with at least one dim
 * @example
 * ```ts
 * random.permutation(key, 5);                 // e.g. [3, 0, 4, 1, 2]
 * const shuffled = random.permutation(key, x); // rows of x in random order
 * ```
 */
export function permutation(key: Key, x: number | Tensor, opts: { backend?: Backend } = {}): Tensor {
  const op = 'permutation';
  const k = checkKey(op, key);
  if (x instanceof Tensor) {
    if (x.rank === 0) fail(op, 'x must be an integer or a tensor with at least one dim, got a scalar tensor');
    return scope(() => x.indexSelect(0, shuffledRange(k, x.shape[0], x.backend)));
  }
  if (!Number.isInteger(x) || x < 0 || x >= 2 ** 31) {
    fail(op, `x must be a non-negative int32 or a tensor, got ${String(x)}`);
  }
  return scope(() => shuffledRange(k, x, opts.backend));
}

function shuffledRange(k: Key, n: number, backend?: Backend): Tensor {
  const rounds = n <= 1 ? 0 : Math.ceil((3 * Math.log2(n)) / 23);
  let perm = arange(n, undefined, 1, { dtype: 'int32', backend });
  for (let r = 0; r < rounds; r++) {
    const [next, sub] = split(k);
    k = next;
    perm = perm.indexSelect(0, rawUniform(sub, [n], 'float32', perm.backend).argsort());
  }
  return perm;
}

/**
 * Standard normal numbers truncated to `(lower, upper)`, by the inverse CDF:
 * `√2 · erfinv(u)` with `u` uniform on `[erf(lower/√2), erf(upper/√2))`, clipped into the open
 * interval against rounding (as `jax.random.truncated_normal`).
 *
 * @param lower  lower bound (may be `-Infinity`)
 * @param upper  upper bound (may be `Infinity`), greater than `lower`
 * @param shape  output shape (default `[]`)
 * @param opts   `dtype` (float32), `backend`
 * @example
 * ```ts
 * const w = random.truncatedNormal(key, -2, 2, [512, 512]).mul(0.02);
 * ```
 */
export function truncatedNormal(
  key: Key,
  lower: number,
  upper: number,
  shape: readonly number[] = [],
  opts: DrawOptions = {},
): Tensor {
  const op = 'truncatedNormal';
  const k = checkKey(op, key);
  const s = checkShape(op, shape);
  const dtype = checkDtype(op, opts.dtype ?? 'float32');
  for (const [name, v] of [['lower', lower], ['upper', upper]] as const) {
    if (typeof v !== 'number' || Number.isNaN(v)) fail(op, `${name} must be a number, got ${String(v)}`);
  }
  const lo = nextAfter(round(lower, dtype), 1, dtype);
  const hi = nextAfter(round(upper, dtype), -1, dtype);
  if (!(lo <= hi)) fail(op, `upper (${upper}) must be greater than lower (${lower}) with a ${dtype} number between them`);
  return scope(() => {
    // a = erf(lower/√2), b = erf(upper/√2) as 0-d tensors; u = max(a, u·(b − a) + a).
    const bound = (v: number) => full([], round(v, dtype), { dtype, backend: opts.backend }).div(SQRT2).erf();
    const a = bound(lower);
    const b = bound(upper);
    const u = rawUniform(k, s, dtype, opts.backend).mul(b.sub(a)).add(a).maximum(a);
    return u.erfinv().mul(SQRT2).clip(lo, hi);
  });
}
