// f32 sum and max over the last axis of a contiguous (rows, r) array for the WebAssembly CPU
// path (a full reduction is one row). Each row is cut into segments of SEG elements; a work
// item reduces one segment into a double-precision partial, and reduce_finish combines each
// row's partials in order. Segments, lanes and the combining order are fixed by the shape
// alone, so the result does not depend on the thread count. Sums accumulate in double, like
// the TypeScript kernel; max propagates NaN.
#include "gemm.h"

#define SEG 65536

enum { REDUCE_SUM = 1, REDUCE_MAX = 2 };

typedef struct {
  u32 kind;        // JOB_REDUCE
  u32 op;          // REDUCE_*
  u32 rows, r;     // x is (rows, r), r ≥ 1
  const float *x;
  float *y;        // (rows)
  double *partial; // (rows, segments)
} ReduceJob;

static inline u32 segments(const ReduceJob *job) { return (job->r + SEG - 1) / SEG; }

u32 reduce_items(const void *desc) {
  const ReduceJob *job = desc;
  return job->rows * segments(job);
}

static double sum_segment(const float *x, u32 n) {
  v128_t a0 = wasm_f64x2_splat(0), a1 = a0, a2 = a0, a3 = a0;
  u32 i = 0;
  for (; i + 8 <= n; i += 8) {
    v128_t v0 = wasm_v128_load(x + i), v1 = wasm_v128_load(x + i + 4);
    a0 = wasm_f64x2_add(a0, wasm_f64x2_promote_low_f32x4(v0));
    a1 = wasm_f64x2_add(a1, wasm_f64x2_promote_low_f32x4(wasm_i32x4_shuffle(v0, v0, 2, 3, 0, 1)));
    a2 = wasm_f64x2_add(a2, wasm_f64x2_promote_low_f32x4(v1));
    a3 = wasm_f64x2_add(a3, wasm_f64x2_promote_low_f32x4(wasm_i32x4_shuffle(v1, v1, 2, 3, 0, 1)));
  }
  v128_t s = wasm_f64x2_add(wasm_f64x2_add(a0, a1), wasm_f64x2_add(a2, a3));
  double acc = wasm_f64x2_extract_lane(s, 0) + wasm_f64x2_extract_lane(s, 1);
  for (; i < n; i++) acc += x[i];
  return acc;
}

static double max_segment(const float *x, u32 n) {
  v128_t m0 = wasm_f32x4_splat(-__builtin_inff()), m1 = m0;
  u32 i = 0;
  for (; i + 8 <= n; i += 8) {
    m0 = wasm_f32x4_max(m0, wasm_v128_load(x + i)); // NaN-propagating
    m1 = wasm_f32x4_max(m1, wasm_v128_load(x + i + 4));
  }
  v128_t m = wasm_f32x4_max(m0, m1);
  float lanes[4];
  wasm_v128_store(lanes, m);
  float acc = lanes[0];
  for (int t = 1; t < 4; t++) acc = acc != acc ? acc : (lanes[t] != lanes[t] || lanes[t] > acc ? lanes[t] : acc);
  for (; i < n; i++) acc = acc != acc ? acc : (x[i] != x[i] || x[i] > acc ? x[i] : acc);
  return acc;
}

void reduce_item(const void *desc, u32 item, float *scratch) {
  (void)scratch;
  const ReduceJob *job = desc;
  const u32 segs = segments(job);
  const u32 row = item / segs, seg = item % segs;
  const u32 start = seg * SEG, n = min_u(SEG, job->r - start);
  const float *x = job->x + (unsigned long)row * job->r + start;
  job->partial[item] = job->op == REDUCE_SUM ? sum_segment(x, n) : max_segment(x, n);
}

/** Combines each row's partials, in segment order, into y. */
EXPORT void reduce_finish(const ReduceJob *job) {
  const u32 segs = segments(job);
  for (u32 row = 0; row < job->rows; row++) {
    const double *p = job->partial + (unsigned long)row * segs;
    double acc = p[0];
    for (u32 s = 1; s < segs; s++) {
      if (job->op == REDUCE_SUM) acc += p[s];
      else acc = acc != acc ? acc : (p[s] != p[s] || p[s] > acc ? p[s] : acc);
    }
    job->y[row] = (float)acc;
  }
}
