/**
 * Threefry-2x32 with 20 rounds (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3",
 * SC 2011; the Random123 library), and the key handling of JAX's `threefry2x32` PRNG in its
 * *partitionable* mode (`jax_threefry_partitionable`, the default since JAX 0.5).
 *
 * Threefry is a keyed bijection on 64-bit blocks: `threefry(key, counter)` is a pseudorandom
 * function of both, so element `i` of a draw depends only on `(key, i)`. Every backend (CPU loop,
 * GPU shader) computes the same bits independently per element.
 *
 * All values are uint32 held in JS numbers; `>>> 0` wraps sums modulo 2^32.
 */

/** Rotation distances of Threefry-2x32 (Random123's R_32x2_*), cycled every 8 rounds. */
const ROTATIONS = [13, 15, 26, 6, 17, 29, 16, 24] as const;

/** Skein's key-schedule parity constant. */
const PARITY = 0x1bd11bda;

const TWO_32 = 4294967296;

/**
 * Threefry-2x32-20 of counter `(c0, c1)` under key `(k0, k1)`.
 *
 * With `k2 = k0 ^ k1 ^ 0x1BD11BDA`, start from `x = (c0 + k0, c1 + k1)`; each round `r` is
 * `x0 += x1; x1 = rotl(x1, R[r mod 8]) ^ x0`, and after rounds 4, 8, ..., 20 (injection `s = 1..5`)
 * the key schedule is added: `x0 += k[s mod 3]; x1 += k[(s + 1) mod 3] + s`.
 *
 * @returns the two output words, each a uint32.
 */
export function threefry2x32(k0: number, k1: number, c0: number, c1: number): [number, number] {
  const ks = [k0 >>> 0, k1 >>> 0, (k0 ^ k1 ^ PARITY) >>> 0];
  let x0 = (c0 + ks[0]) >>> 0;
  let x1 = (c1 + ks[1]) >>> 0;
  for (let s = 1; s <= 5; s++) {
    const rot = s % 2 === 1 ? 0 : 4; // injections alternate between the two halves of ROTATIONS
    for (let r = 0; r < 4; r++) {
      const d = ROTATIONS[rot + r];
      x0 = (x0 + x1) >>> 0;
      x1 = ((x1 << d) | (x1 >>> (32 - d))) ^ x0;
    }
    x0 = (x0 + ks[s % 3]) >>> 0;
    x1 = (x1 + ks[(s + 1) % 3] + s) >>> 0;
  }
  return [x0, x1];
}

/** Splits a non-negative integer below 2^53 into its high and low 32-bit words. */
export function splitU64(n: number): [number, number] {
  return [Math.floor(n / TWO_32) >>> 0, n >>> 0];
}

/**
 * The raw key of an integer seed: `[hi32(seed), lo32(seed)]`, as JAX's `threefry_seed`. A negative
 * seed is taken in 64-bit two's complement (JAX's result with 64-bit integers enabled), so
 * `seed = -1` gives `[0xffffffff, 0xffffffff]`.
 */
export function seedKey(seed: number): [number, number] {
  // floor(seed / 2^32) is exact for safe integers; `>>> 0` wraps a negative high word.
  return [Math.floor(seed / TWO_32) >>> 0, seed >>> 0];
}

/** Key `i` of `split(key, n)`: `threefry(key, (0, i))` (the counter is the 64-bit index `i`). */
export function splitKey(k0: number, k1: number, i: number): [number, number] {
  const [hi, lo] = splitU64(i);
  return threefry2x32(k0, k1, hi, lo);
}

/** `fold(key, data)`: `threefry(key, (0, data mod 2^32))`, as JAX's `fold_in`. */
export function foldKey(k0: number, k1: number, data: number): [number, number] {
  return threefry2x32(k0, k1, 0, data >>> 0);
}

/** 32 random bits for element `i` of a draw: `x0 ^ x1` of `threefry(key, (hi32(i), lo32(i)))`. */
export function bits32(k0: number, k1: number, i: number): number {
  const [x0, x1] = threefry2x32(k0, k1, Math.floor(i / TWO_32) >>> 0, i >>> 0);
  return (x0 ^ x1) >>> 0;
}

/**
 * Fills `out` with float32 uniforms on [0, 1) for flat indices `0..out.length-1`.
 *
 * JAX's construction: `bitcast_f32((bits >>> 9) | 0x3f800000) - 1`, i.e. the top 23 bits become
 * the mantissa of a float in [1, 2). That float is `1 + m·2^-23` with `m = bits >>> 9`, so the
 * result is exactly `m·2^-23` (subtracting 1 is exact), which is what we compute.
 */
export function fillUniform32(k0: number, k1: number, out: Float32Array): void {
  for (let i = 0; i < out.length; i++) {
    out[i] = (bits32(k0, k1, i) >>> 9) * 2 ** -23;
  }
}

/**
 * Fills `out` with float64 uniforms on [0, 1) for flat indices `0..out.length-1`.
 *
 * The 64-bit value is `x0·2^32 + x1` of `threefry(key, (hi32(i), lo32(i)))` (JAX's partitionable
 * 64-bit draw) and its top 52 bits `m = (x0·2^32 + x1) >>> 12` become the mantissa:
 * `bitcast_f64(m | 0x3ff0000000000000) - 1 = m·2^-52`, computed exactly as
 * `(x0 >>> 12)·2^-20 + (((x0 & 0xfff) << 20) | (x1 >>> 12))·2^-52`.
 */
export function fillUniform64(k0: number, k1: number, out: Float64Array): void {
  for (let i = 0; i < out.length; i++) {
    const [x0, x1] = threefry2x32(k0, k1, Math.floor(i / TWO_32) >>> 0, i >>> 0);
    const hi = x0 >>> 12;
    const lo = (((x0 & 0xfff) << 20) | (x1 >>> 12)) >>> 0;
    out[i] = hi * 2 ** -20 + lo * 2 ** -52;
  }
}
