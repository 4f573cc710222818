// f32 elementwise math for the WebAssembly CPU path: exp, log, tanh and sigmoid, four lanes at a
// time (SIMD128), over chunks of CHUNK elements that threads claim one by one; and softmax and
// log-softmax of rows, built on the same exp.
//
// The approximations are the classic Cephes single-precision ones (range reduction, then a
// minimax polynomial), accurate to about 1–2 ulp; the scalar TypeScript kernels (Math.exp...)
// remain the reference they are tested against. Special values follow IEEE: NaN in, NaN out;
// exp overflows to +inf and underflows through the subnormals to 0; log(0) = −inf, log(x < 0) = NaN.
#include "gemm.h"

#define CHUNK 16384

enum { UNARY_EXP = 1, UNARY_LOG = 2, UNARY_TANH = 3, UNARY_SIGMOID = 4 };

typedef struct {
  u32 kind;      // JOB_UNARY
  u32 op;        // UNARY_*
  u32 n;
  const float *x;
  float *y;
} UnaryJob;

static inline v128_t splat(float v) { return wasm_f32x4_splat(v); }

/**
 * p·2^n for integer-valued lanes n in [−150, 129], as two factors so that neither over- nor
 * underflows. n's integer bits come from adding 1.5·2²³ (whose float has n in its low mantissa
 * bits), cheaper on x64 than a saturating float-to-int conversion.
 */
static inline v128_t pow2_mul(v128_t p, v128_t n) {
  const v128_t magic = wasm_f32x4_splat(12582912.0f);
  v128_t ni = wasm_i32x4_sub(wasm_f32x4_add(n, magic), magic);
  v128_t half = wasm_i32x4_shr(ni, 1);
  v128_t rest = wasm_i32x4_sub(ni, half);
  v128_t s1 = wasm_i32x4_shl(wasm_i32x4_add(half, wasm_i32x4_splat(127)), 23);
  v128_t s2 = wasm_i32x4_shl(wasm_i32x4_add(rest, wasm_i32x4_splat(127)), 23);
  return wasm_f32x4_mul(wasm_f32x4_mul(p, s1), s2);
}

/** e^x: x = n·ln2 + r with |r| ≤ ln2/2, e^r by a degree-6 polynomial, times 2^n. */
static inline v128_t exp4(v128_t x) {
  // beyond these e^x is +inf or 0 anyway; pmax(x, lo) = x < lo ? lo : x keeps NaN (one maxps
  // on x64, where min/max with wasm's NaN and −0 rules take several instructions)
  x = wasm_f32x4_pmin(wasm_f32x4_pmax(x, splat(-104.0f)), splat(89.0f));
  v128_t n = wasm_f32x4_nearest(wasm_f32x4_mul(x, splat(1.44269504088896341f)));
  v128_t r = wasm_f32x4_sub(x, wasm_f32x4_mul(n, splat(0.693359375f)));
  r = wasm_f32x4_sub(r, wasm_f32x4_mul(n, splat(-2.12194440e-4f)));
  v128_t p = splat(1.9875691500e-4f);
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), splat(1.3981999507e-3f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), splat(8.3334519073e-3f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), splat(4.1665795894e-2f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), splat(1.6666665459e-1f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), splat(5.0000001201e-1f));
  p = wasm_f32x4_add(wasm_f32x4_mul(wasm_f32x4_mul(p, r), r), wasm_f32x4_add(r, splat(1.0f)));
  return pow2_mul(p, n);
}

/** ln x: x = m·2^e with m in [√½, √2), ln m by a degree-9 polynomial in m − 1, plus e·ln2. */
static inline v128_t log4(v128_t x) {
  // subnormals: scale into the normal range first
  v128_t tiny = wasm_f32x4_lt(x, splat(1.17549435e-38f));
  v128_t xs = wasm_v128_bitselect(wasm_f32x4_mul(x, splat(8388608.0f)), x, tiny);
  v128_t eadj = wasm_v128_bitselect(splat(-23.0f), splat(0.0f), tiny);
  v128_t bits = xs;
  v128_t e = wasm_f32x4_convert_i32x4(wasm_i32x4_sub(wasm_u32x4_shr(bits, 23), wasm_i32x4_splat(126)));
  // mantissa in [0.5, 1)
  v128_t m = wasm_v128_or(wasm_v128_and(bits, wasm_i32x4_splat(0x007fffff)), wasm_i32x4_splat(0x3f000000));
  v128_t small = wasm_f32x4_lt(m, splat(0.707106781186547524f));
  // m < √½: use 2m − 1 and e − 1; else m − 1
  m = wasm_f32x4_sub(wasm_f32x4_add(m, wasm_v128_and(small, m)), splat(1.0f));
  e = wasm_f32x4_add(wasm_f32x4_sub(e, wasm_v128_and(small, splat(1.0f))), eadj);
  v128_t z = wasm_f32x4_mul(m, m);
  v128_t p = splat(7.0376836292e-2f);
  p = wasm_f32x4_add(wasm_f32x4_mul(p, m), splat(-1.1514610310e-1f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, m), splat(1.1676998740e-1f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, m), splat(-1.2420140846e-1f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, m), splat(1.4249322787e-1f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, m), splat(-1.6668057665e-1f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, m), splat(2.0000714765e-1f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, m), splat(-2.4999993993e-1f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, m), splat(3.3333331174e-1f));
  p = wasm_f32x4_mul(wasm_f32x4_mul(p, m), z);
  p = wasm_f32x4_add(p, wasm_f32x4_mul(e, splat(-2.12194440e-4f)));
  p = wasm_f32x4_sub(p, wasm_f32x4_mul(z, splat(0.5f)));
  v128_t y = wasm_f32x4_add(wasm_f32x4_add(m, p), wasm_f32x4_mul(e, splat(0.693359375f)));
  // special values: +inf → +inf, 0 → −inf, negative or NaN → NaN
  y = wasm_v128_bitselect(splat(__builtin_inff()), y, wasm_f32x4_eq(x, splat(__builtin_inff())));
  y = wasm_v128_bitselect(splat(-__builtin_inff()), y, wasm_f32x4_eq(x, splat(0.0f)));
  y = wasm_v128_bitselect(splat(__builtin_nanf("")), y, wasm_v128_or(wasm_f32x4_lt(x, splat(0.0f)), wasm_f32x4_ne(x, x)));
  return y;
}

/** tanh x: x + x³·P(x²) for |x| < 0.625, else sign(x)·(1 − 2/(e^{2|x|} + 1)). */
static inline v128_t tanh4(v128_t x) {
  v128_t ax = wasm_f32x4_abs(x);
  v128_t z = wasm_f32x4_mul(x, x);
  v128_t p = splat(-5.70498872745e-3f);
  p = wasm_f32x4_add(wasm_f32x4_mul(p, z), splat(2.06390887954e-2f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, z), splat(-5.37397155531e-2f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, z), splat(1.33314422036e-1f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, z), splat(-3.33332819422e-1f));
  v128_t small = wasm_f32x4_add(x, wasm_f32x4_mul(wasm_f32x4_mul(p, z), x));
  v128_t e = exp4(wasm_f32x4_add(ax, ax));
  v128_t big = wasm_f32x4_sub(splat(1.0f), wasm_f32x4_div(splat(2.0f), wasm_f32x4_add(e, splat(1.0f))));
  big = wasm_v128_or(big, wasm_v128_and(x, wasm_i32x4_splat((int)0x80000000))); // copy the sign
  v128_t y = wasm_v128_bitselect(small, big, wasm_f32x4_lt(ax, splat(0.625f)));
  return wasm_v128_bitselect(x, y, wasm_f32x4_ne(x, x)); // NaN stays NaN
}

/** σ(x) = 1/(1 + e^{−x}) for x ≥ 0, e^x/(1 + e^x) below (no cancellation, no overflow). */
static inline v128_t sigmoid4(v128_t x) {
  v128_t e = exp4(wasm_f32x4_neg(wasm_f32x4_abs(x))); // e^{−|x|} in (0, 1]
  v128_t r = wasm_f32x4_div(splat(1.0f), wasm_f32x4_add(splat(1.0f), e));
  v128_t y = wasm_v128_bitselect(r, wasm_f32x4_mul(e, r), wasm_f32x4_ge(x, splat(0.0f)));
  return wasm_v128_bitselect(x, y, wasm_f32x4_ne(x, x));
}

static inline v128_t apply(u32 op, v128_t x) {
  switch (op) {
    case UNARY_EXP: return exp4(x);
    case UNARY_LOG: return log4(x);
    case UNARY_TANH: return tanh4(x);
    default: return sigmoid4(x);
  }
}

// ---- softmax and log-softmax over the last axis of a contiguous (rows, r) array

typedef struct {
  u32 kind;      // JOB_SOFTMAX
  u32 log;       // 0: softmax, 1: log-softmax
  u32 rows, r;   // r ≥ 1
  const float *x;
  float *y;
} SoftmaxJob;

/** Rows per work item: about CHUNK elements each. */
static inline u32 rows_per_item(const SoftmaxJob *job) {
  u32 k = CHUNK / job->r;
  return k ? k : 1;
}

u32 softmax_items(const void *desc) {
  const SoftmaxJob *job = desc;
  u32 k = rows_per_item(job);
  return (job->rows + k - 1) / k;
}

/** Loads the 1–3 elements left at x[0..n) into a vector, `fill` in the other lanes. */
static inline v128_t load_tail(const float *x, u32 n, float fill) {
  float tmp[4] = {fill, fill, fill, fill};
  for (u32 t = 0; t < n; t++) tmp[t] = x[t];
  return wasm_v128_load(tmp);
}

static inline void store_tail(float *y, u32 n, v128_t v) {
  float tmp[4];
  wasm_v128_store(tmp, v);
  for (u32 t = 0; t < n; t++) y[t] = tmp[t];
}

static inline float lane0(v128_t v) { return wasm_f32x4_extract_lane(v, 0); }

/**
 * One row: m = max (NaN if any), then softmax y = e^{x − m} / Σ e^{x − m}, or log-softmax
 * y = x − m' − ln Σ e^{x − m'} with m' = m where finite, else 0. Sums in double.
 */
static void softmax_row(const float *x, float *y, u32 r, int log) {
  const u32 body = r & ~3u, tail = r - body;
  v128_t mv = wasm_f32x4_splat(-__builtin_inff());
  for (u32 i = 0; i < body; i += 4) mv = wasm_f32x4_max(mv, wasm_v128_load(x + i));
  if (tail) mv = wasm_f32x4_max(mv, load_tail(x + body, tail, -__builtin_inff()));
  // horizontal max, NaN-propagating like the lanes
  mv = wasm_f32x4_max(mv, wasm_i32x4_shuffle(mv, mv, 2, 3, 0, 1));
  mv = wasm_f32x4_max(mv, wasm_i32x4_shuffle(mv, mv, 1, 0, 3, 2));
  float m = lane0(mv);
  if (log && !(m - m == 0.0f)) m = 0.0f; // ±∞ or NaN: shift by 0 instead
  const v128_t shift = wasm_f32x4_splat(m);
  v128_t s0 = wasm_f64x2_splat(0), s1 = s0;
  for (u32 i = 0; i < body; i += 4) {
    v128_t e = exp4(wasm_f32x4_sub(wasm_v128_load(x + i), shift));
    if (!log) wasm_v128_store(y + i, e);
    s0 = wasm_f64x2_add(s0, wasm_f64x2_promote_low_f32x4(e));
    s1 = wasm_f64x2_add(s1, wasm_f64x2_promote_low_f32x4(wasm_i32x4_shuffle(e, e, 2, 3, 0, 1)));
  }
  if (tail) {
    // padding lanes read −∞ (NaN − m stays NaN where it should): e^{−∞ − m} = 0 adds nothing
    v128_t e = exp4(wasm_f32x4_sub(load_tail(x + body, tail, -__builtin_inff()), shift));
    if (!log) store_tail(y + body, tail, e);
    s0 = wasm_f64x2_add(s0, wasm_f64x2_promote_low_f32x4(e));
    s1 = wasm_f64x2_add(s1, wasm_f64x2_promote_low_f32x4(wasm_i32x4_shuffle(e, e, 2, 3, 0, 1)));
  }
  v128_t sd = wasm_f64x2_add(s0, s1);
  const float s = (float)(wasm_f64x2_extract_lane(sd, 0) + wasm_f64x2_extract_lane(sd, 1));
  if (log) {
    // (x − m') − ln Σ, in that order: x − m' is exact near the max, where the result is small
    const v128_t ls = log4(wasm_f32x4_splat(s));
    for (u32 i = 0; i < body; i += 4) wasm_v128_store(y + i, wasm_f32x4_sub(wasm_f32x4_sub(wasm_v128_load(x + i), shift), ls));
    if (tail) store_tail(y + body, tail, wasm_f32x4_sub(wasm_f32x4_sub(load_tail(x + body, tail, 0), shift), ls));
  } else {
    const v128_t sv = wasm_f32x4_splat(s);
    for (u32 i = 0; i < body; i += 4) wasm_v128_store(y + i, wasm_f32x4_div(wasm_v128_load(y + i), sv));
    for (u32 i = body; i < r; i++) y[i] = y[i] / s;
  }
}

void softmax_item(const void *desc, u32 item, float *scratch) {
  (void)scratch;
  const SoftmaxJob *job = desc;
  const u32 k = rows_per_item(job);
  const u32 end = min_u(job->rows, (item + 1) * k);
  for (u32 row = item * k; row < end; row++) {
    const unsigned long at = (unsigned long)row * job->r;
    softmax_row(job->x + at, job->y + at, job->r, job->log);
  }
}

// ---- elementwise functions

u32 unary_items(const void *desc) {
  const UnaryJob *job = desc;
  return (job->n + CHUNK - 1) / CHUNK;
}

void unary_item(const void *desc, u32 item, float *scratch) {
  (void)scratch;
  const UnaryJob *job = desc;
  const u32 start = item * CHUNK, end = min_u(job->n, start + CHUNK);
  const float *x = job->x;
  float *y = job->y;
  u32 i = start;
  for (; i + 4 <= end; i += 4) wasm_v128_store(y + i, apply(job->op, wasm_v128_load(x + i)));
  if (i < end) {
    // the last 1–3 elements, through one padded vector
    float tmp[4] = {0, 0, 0, 0};
    for (u32 t = 0; i + t < end; t++) tmp[t] = x[i + t];
    v128_t r = apply(job->op, wasm_v128_load(tmp));
    wasm_v128_store(tmp, r);
    for (u32 t = 0; i + t < end; t++) y[i + t] = tmp[t];
  }
}
