// The fused Adam update for the WebAssembly CPU path, four lanes at a time over chunks of
// CHUNK elements (see adamStep in src/ops/optim.ts for the math):
//   m' = m + (1 − β₁)(g − m)      v' = β₂v + (1 − β₂)g²      v̂ = max(vMax, v') or v'
//   θ' = θ − stepSize · m' / (√v̂ · vScale + ε)
// in float32, like the tensors (the TypeScript kernel rounds once from double instead).
#include "gemm.h"

#define CHUNK 16384

typedef struct {
  u32 kind;          // JOB_ADAM
  u32 n;
  u32 amsgrad;       // 1: vmax and vmax_out are used
  const float *theta, *g, *m, *v, *vmax;
  float *theta_out, *m_out, *v_out, *vmax_out;
  float beta1, beta2, eps, step_size, v_scale;
} AdamJob;

u32 adam_items(const void *desc) {
  const AdamJob *job = desc;
  return (job->n + CHUNK - 1) / CHUNK;
}

/** One element, the same arithmetic as the lanes below. */
static inline void adam_one(const AdamJob *job, u32 i) {
  const float g = job->g[i];
  const float m = job->m[i] + (1.0f - job->beta1) * (g - job->m[i]);
  const float v = job->beta2 * job->v[i] + (1.0f - job->beta2) * (g * g);
  float vh = v;
  if (job->amsgrad) {
    const float old = job->vmax[i];
    vh = old != old || v != v ? old + v : (old > v ? old : v);
    job->vmax_out[i] = vh;
  }
  job->m_out[i] = m;
  job->v_out[i] = v;
  job->theta_out[i] = job->theta[i] - job->step_size * m / (__builtin_sqrtf(vh) * job->v_scale + job->eps);
}

void adam_item(const void *desc, u32 item, float *scratch) {
  (void)scratch;
  const AdamJob *job = desc;
  const u32 start = item * CHUNK, end = min_u(job->n, start + CHUNK);
  const v128_t a1 = wasm_f32x4_splat(1.0f - job->beta1), b2 = wasm_f32x4_splat(job->beta2);
  const v128_t a2 = wasm_f32x4_splat(1.0f - job->beta2), eps = wasm_f32x4_splat(job->eps);
  const v128_t step = wasm_f32x4_splat(job->step_size), vs = wasm_f32x4_splat(job->v_scale);
  u32 i = start;
  for (; i + 4 <= end; i += 4) {
    const v128_t g = wasm_v128_load(job->g + i), m0 = wasm_v128_load(job->m + i);
    const v128_t m = wasm_f32x4_add(m0, wasm_f32x4_mul(a1, wasm_f32x4_sub(g, m0)));
    const v128_t v = wasm_f32x4_add(wasm_f32x4_mul(b2, wasm_v128_load(job->v + i)), wasm_f32x4_mul(a2, wasm_f32x4_mul(g, g)));
    v128_t vh = v;
    if (job->amsgrad) {
      vh = wasm_f32x4_max(wasm_v128_load(job->vmax + i), v); // NaN-propagating
      wasm_v128_store(job->vmax_out + i, vh);
    }
    wasm_v128_store(job->m_out + i, m);
    wasm_v128_store(job->v_out + i, v);
    const v128_t den = wasm_f32x4_add(wasm_f32x4_mul(wasm_f32x4_sqrt(vh), vs), eps);
    const v128_t th = wasm_f32x4_sub(wasm_v128_load(job->theta + i), wasm_f32x4_div(wasm_f32x4_mul(step, m), den));
    wasm_v128_store(job->theta_out + i, th);
  }
  for (; i < end; i++) adam_one(job, i);
}
