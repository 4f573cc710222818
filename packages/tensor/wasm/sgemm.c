// f32 GEMM for the WebAssembly CPU path: C = A·B, row-major, over a batch of matrices.
//
// The structure is the classic GotoBLAS one. Each work item (one batch entry and MC rows of C)
// walks K in blocks of KC: it packs its rows of A into panels of MR = 4 rows, then for each
// block of NC columns packs that (KC, NC) block of B into panels of NR = 8 columns, and runs the
// register-blocked microkernel: a 4×8 tile of C lives in 8 f32x4 accumulators over the KC block.
// Packing B inside the item (rather than once, up front) repeats it m / MC times, about 1/MC of
// the multiply-adds, and lets every thread pack in parallel.
//
// Every element of C is produced by exactly one work item, always with the same sequence of
// operations (K in blocks of KC, each block summed in k order, then added to C). So the result
// does not depend on how many threads share the items or which thread takes which.
#include "gemm.h"

// The job a batch of work items share (laid out by the JS side, 32-bit fields).
typedef struct {
  u32 kind;            // JOB_GEMM
  u32 m, n, k;         // C is (m, n), A (m, k), B (k, n)
  u32 batches;
  const float *a;      // A of batch 0, row-major with row stride lda
  u32 lda, a_batch;    // a_batch: elements between batch entries (0 = shared)
  const float *b;      // B of batch 0, row-major with row stride ldb
  u32 ldb, b_batch;
  float *c;            // C of batch 0, contiguous (m, n) per batch entry
  u32 a_trans;         // 1: A is stored transposed, A[i, p] = a[p·lda + i]
  u32 b_trans;         // 1: B is stored transposed, B[p, j] = b[j·ldb + p]
} Job;

/**
 * Packs the (kc, n) block of B at b (row stride ldb) into dst: for each panel of NR columns,
 * its kc rows (kc × NR floats, zero-padded past n).
 */
static void pack_b(const float *b, u32 ldb, u32 kc, u32 n, float *dst) {
  u32 panels = (n + NR - 1) / NR;
  for (u32 q = 0; q < panels; q++) {
    u32 j0 = q * NR;
    const float *src = b + j0;
    if (j0 + NR <= n) {
      for (u32 kk = 0; kk < kc; kk++) {
        wasm_v128_store(dst, wasm_v128_load(src));
        wasm_v128_store(dst + 4, wasm_v128_load(src + 4));
        dst += NR;
        src += ldb;
      }
    } else {
      for (u32 kk = 0; kk < kc; kk++) {
        for (u32 c = 0; c < NR; c++) dst[c] = j0 + c < n ? src[c] : 0.0f;
        dst += NR;
        src += ldb;
      }
    }
  }
}

/**
 * Transposes 4 rows of kc floats (row r at src + r·lds) into dst, k-major: dst[k·ldd + r] =
 * src[r·lds + k]. 4×4 blocks go through registers (two rounds of shuffles).
 */
static void transpose_4_rows(const float *src, u32 lds, u32 kc, float *dst, u32 ldd) {
  const float *s0 = src, *s1 = src + lds, *s2 = src + 2 * lds, *s3 = src + 3 * lds;
  u32 kk = 0;
  for (; kk + 4 <= kc; kk += 4) {
    v128_t r0v = wasm_v128_load(s0 + kk), r1v = wasm_v128_load(s1 + kk);
    v128_t r2v = wasm_v128_load(s2 + kk), r3v = wasm_v128_load(s3 + kk);
    v128_t t0 = wasm_i32x4_shuffle(r0v, r1v, 0, 4, 1, 5);
    v128_t t1 = wasm_i32x4_shuffle(r2v, r3v, 0, 4, 1, 5);
    v128_t t2 = wasm_i32x4_shuffle(r0v, r1v, 2, 6, 3, 7);
    v128_t t3 = wasm_i32x4_shuffle(r2v, r3v, 2, 6, 3, 7);
    wasm_v128_store(dst, wasm_i64x2_shuffle(t0, t1, 0, 2));
    wasm_v128_store(dst + ldd, wasm_i64x2_shuffle(t0, t1, 1, 3));
    wasm_v128_store(dst + 2 * ldd, wasm_i64x2_shuffle(t2, t3, 0, 2));
    wasm_v128_store(dst + 3 * ldd, wasm_i64x2_shuffle(t2, t3, 1, 3));
    dst += 4 * ldd;
  }
  for (; kk < kc; kk++, dst += ldd) {
    dst[0] = s0[kk]; dst[1] = s1[kk]; dst[2] = s2[kk]; dst[3] = s3[kk];
  }
}

/** pack_b for B stored transposed (bt (n, k), row stride ldbt): 4×4 transposes into the panels. */
static void pack_b_t(const float *bt, u32 ldbt, u32 p0, u32 kc, u32 n, float *dst) {
  u32 panels = (n + NR - 1) / NR;
  for (u32 q = 0; q < panels; q++) {
    u32 j0 = q * NR;
    if (j0 + NR <= n) {
      for (u32 half = 0; half < NR; half += 4) {
        transpose_4_rows(bt + (unsigned long)(j0 + half) * ldbt + p0, ldbt, kc, dst + half, NR);
      }
    } else {
      for (u32 kk = 0; kk < kc; kk++) {
        for (u32 c = 0; c < NR; c++) dst[kk * NR + c] = j0 + c < n ? bt[(unsigned long)(j0 + c) * ldbt + p0 + kk] : 0.0f;
      }
    }
    dst += (unsigned long)kc * NR;
  }
}

/** pack_a for A stored transposed (at (k, m), row stride ldat): each k gives MR consecutive floats. */
static void pack_a_t(const float *at, u32 ldat, u32 i0, u32 mc, u32 p0, u32 kc, float *dst) {
  for (u32 r0 = 0; r0 < mc; r0 += MR) {
    u32 rows = min_u(MR, mc - r0);
    const float *src = at + (unsigned long)p0 * ldat + i0 + r0;
    for (u32 kk = 0; kk < kc; kk++, src += ldat, dst += MR) {
      if (rows == MR) wasm_v128_store(dst, wasm_v128_load(src));
      else for (u32 r = 0; r < MR; r++) dst[r] = r < rows ? src[r] : 0.0f;
    }
  }
}

/** Packs rows i0..i0+mc of A (columns p0..p0+kc) into panels of MR rows: dst[panel][k][r]. */
void pack_a(const float *a, u32 lda, u32 i0, u32 mc, u32 p0, u32 kc, float *dst) {
  for (u32 r0 = 0; r0 < mc; r0 += MR) {
    u32 rows = min_u(MR, mc - r0);
    const float *src = a + (unsigned long)(i0 + r0) * lda + p0;
    if (rows == MR) {
      // rows of A become k-major columns of the panel
      transpose_4_rows(src, lda, kc, dst, MR);
      dst += (unsigned long)kc * MR;
    } else {
      for (u32 kk = 0; kk < kc; kk++) {
        for (u32 r = 0; r < MR; r++) dst[r] = r < rows ? src[(unsigned long)r * lda + kk] : 0.0f;
        dst += MR;
      }
    }
  }
}

/**
 * The microkernel: acc (4×8) = Apanel (kc × 4) · Bpanel (kc × 8), then C[rows, cols] (+)= acc.
 * `first` says whether this is the first KC block (store) or a later one (add).
 */
void kernel_4x8(u32 kc, const float *ap, const float *bp, float *c, u32 ldc, u32 rows, u32 cols, int first) {
  v128_t c00 = wasm_f32x4_splat(0), c01 = c00, c10 = c00, c11 = c00;
  v128_t c20 = c00, c21 = c00, c30 = c00, c31 = c00;
  for (u32 kk = 0; kk < kc; kk++) {
    v128_t b0 = wasm_v128_load(bp), b1 = wasm_v128_load(bp + 4);
    v128_t a0 = wasm_v128_load32_splat(ap);
    v128_t a1 = wasm_v128_load32_splat(ap + 1);
    c00 = wasm_f32x4_add(c00, wasm_f32x4_mul(a0, b0));
    c01 = wasm_f32x4_add(c01, wasm_f32x4_mul(a0, b1));
    v128_t a2 = wasm_v128_load32_splat(ap + 2);
    c10 = wasm_f32x4_add(c10, wasm_f32x4_mul(a1, b0));
    c11 = wasm_f32x4_add(c11, wasm_f32x4_mul(a1, b1));
    v128_t a3 = wasm_v128_load32_splat(ap + 3);
    c20 = wasm_f32x4_add(c20, wasm_f32x4_mul(a2, b0));
    c21 = wasm_f32x4_add(c21, wasm_f32x4_mul(a2, b1));
    c30 = wasm_f32x4_add(c30, wasm_f32x4_mul(a3, b0));
    c31 = wasm_f32x4_add(c31, wasm_f32x4_mul(a3, b1));
    ap += MR;
    bp += NR;
  }
  if (rows == MR && cols == NR) {
    float *r0 = c, *r1 = c + ldc, *r2 = c + 2 * ldc, *r3 = c + 3 * ldc;
    if (!first) {
      c00 = wasm_f32x4_add(wasm_v128_load(r0), c00); c01 = wasm_f32x4_add(wasm_v128_load(r0 + 4), c01);
      c10 = wasm_f32x4_add(wasm_v128_load(r1), c10); c11 = wasm_f32x4_add(wasm_v128_load(r1 + 4), c11);
      c20 = wasm_f32x4_add(wasm_v128_load(r2), c20); c21 = wasm_f32x4_add(wasm_v128_load(r2 + 4), c21);
      c30 = wasm_f32x4_add(wasm_v128_load(r3), c30); c31 = wasm_f32x4_add(wasm_v128_load(r3 + 4), c31);
    }
    wasm_v128_store(r0, c00); wasm_v128_store(r0 + 4, c01);
    wasm_v128_store(r1, c10); wasm_v128_store(r1 + 4, c11);
    wasm_v128_store(r2, c20); wasm_v128_store(r2 + 4, c21);
    wasm_v128_store(r3, c30); wasm_v128_store(r3 + 4, c31);
    return;
  }
  // edge tile: same sums, stored lane by lane
  v128_t acc[8] = {c00, c01, c10, c11, c20, c21, c30, c31};
  for (u32 r = 0; r < rows; r++) {
    for (u32 j = 0; j < cols; j++) {
      v128_t v = acc[r * 2 + j / 4];
      float x;
      switch (j & 3) {
        case 0: x = wasm_f32x4_extract_lane(v, 0); break;
        case 1: x = wasm_f32x4_extract_lane(v, 1); break;
        case 2: x = wasm_f32x4_extract_lane(v, 2); break;
        default: x = wasm_f32x4_extract_lane(v, 3); break;
      }
      float *dst = c + (unsigned long)r * ldc + j;
      *dst = first ? x : *dst + x;
    }
  }
}

/** Work items of a job: one per (batch entry, block of MC rows). */
u32 gemm_items(const void *desc) {
  const Job *job = desc;
  return job->batches * ((job->m + MC - 1) / MC);
}

/** Computes work item `item` of `job`, packing into `scratch` (SCRATCH_FLOATS). */
void gemm_item(const void *desc, u32 item, float *scratch) {
  const Job *job = desc;
  u32 blocks = (job->m + MC - 1) / MC;
  u32 bt = item / blocks;
  u32 i0 = (item % blocks) * MC;
  u32 mc = min_u(MC, job->m - i0);
  u32 n = job->n, k = job->k;
  const float *a = job->a + (unsigned long)bt * job->a_batch;
  const float *b = job->b + (unsigned long)bt * job->b_batch;
  float *bpack = scratch + MC * KC;
  float *c = job->c + (unsigned long)bt * job->m * n;
  if (k == 0) {
    for (u32 i = 0; i < mc; i++) for (u32 j = 0; j < n; j++) c[(unsigned long)(i0 + i) * n + j] = 0.0f;
    return;
  }
  for (u32 p0 = 0; p0 < k; p0 += KC) {
    u32 kc = min_u(KC, k - p0);
    if (job->a_trans) pack_a_t(a, job->lda, i0, mc, p0, kc, scratch);
    else pack_a(a, job->lda, i0, mc, p0, kc, scratch);
    for (u32 jb = 0; jb < n; jb += NC) {
      u32 nc = min_u(NC, n - jb);
      if (job->b_trans) pack_b_t(b + (unsigned long)jb * job->ldb, job->ldb, p0, kc, nc, bpack);
      else pack_b(b + (unsigned long)p0 * job->ldb + jb, job->ldb, kc, nc, bpack);
      for (u32 q = 0; q * NR < nc; q++) {
        u32 j0 = jb + q * NR;
        const float *bpanel = bpack + (unsigned long)q * kc * NR;
        for (u32 r0 = 0; r0 < mc; r0 += MR) {
          kernel_4x8(kc, scratch + (unsigned long)r0 * kc, bpanel, c + (unsigned long)(i0 + r0) * n + j0, n,
                     min_u(MR, mc - r0), min_u(NR, n - j0), p0 == 0);
        }
      }
    }
  }
}
