// What the GEMM (sgemm.c) shares with the kernels built on it (conv.c): the block sizes, the
// packing of A and the register-blocked microkernel.
#ifndef GEMM_H
#define GEMM_H
#include <wasm_simd128.h>

#define MR 4    // rows of A per packed panel (and of the microkernel's tile)
#define NR 8    // columns of B per packed panel (and of the microkernel's tile)
#define KC 256  // depth of a block of K
#define MC 128  // rows of A packed at once
#define NC 512  // columns of B packed at once

typedef unsigned int u32;

// Functions the JS side calls.
#define EXPORT __attribute__((visibility("default")))

/** Floats of scratch one thread needs: its packed blocks of A (MC × KC) and B (KC × NC). */
#define SCRATCH_FLOATS (MC * KC + KC * NC)

/** What a job descriptor's first 32-bit field says it is (see work.c). */
enum { JOB_GEMM = 1, JOB_CONV2D = 2, JOB_UNARY = 3, JOB_REDUCE = 4, JOB_SOFTMAX = 5, JOB_ADAM = 6 };

u32 gemm_items(const void *job);
void gemm_item(const void *job, u32 item, float *scratch);
u32 conv2d_items(const void *job);
void conv2d_item(const void *job, u32 item, float *scratch);
u32 unary_items(const void *job);
void unary_item(const void *job, u32 item, float *scratch);
u32 softmax_items(const void *job);
void softmax_item(const void *job, u32 item, float *scratch);
u32 adam_items(const void *job);
void adam_item(const void *job, u32 item, float *scratch);
u32 reduce_items(const void *job);
void reduce_item(const void *job, u32 item, float *scratch);

static inline u32 min_u(u32 a, u32 b) { return a < b ? a : b; }

/** Packs rows i0..i0+mc of A (columns p0..p0+kc, row stride lda) into panels of MR rows: dst[panel][k][r]. */
void pack_a(const float *a, u32 lda, u32 i0, u32 mc, u32 p0, u32 kc, float *dst);

/**
 * acc (MR×NR) = Apanel (kc × MR) · Bpanel (kc × NR), then C[rows, cols] = acc (first K block)
 * or C += acc (later blocks), C with row stride ldc.
 */
void kernel_4x8(u32 kc, const float *ap, const float *bp, float *c, u32 ldc, u32 rows, u32 cols, int first);

#endif
