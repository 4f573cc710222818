// The entry points the JS side and the worker threads call: a job descriptor in linear memory
// starts with its kind (JOB_GEMM, JOB_CONV2D, ...), and its work items are numbered 0..items − 1.
// Threads claim items from a shared counter (src/cpu/wasm/pool.ts); each item writes its own
// part of the output, so results do not depend on which thread computes which item.
#include "gemm.h"

/** Number of work items of the job at `job`. */
EXPORT u32 job_items(const u32 *job) {
  switch (job[0]) {
    case JOB_GEMM: return gemm_items(job);
    case JOB_CONV2D: return conv2d_items(job);
    case JOB_UNARY: return unary_items(job);
    case JOB_REDUCE: return reduce_items(job);
    case JOB_SOFTMAX: return softmax_items(job);
    case JOB_ADAM: return adam_items(job);
    default: return 0;
  }
}

/** Computes work item `item` of the job at `job`, using `scratch` (scratch_size() floats). */
EXPORT void work_item(const u32 *job, u32 item, float *scratch) {
  switch (job[0]) {
    case JOB_GEMM: gemm_item(job, item, scratch); break;
    case JOB_CONV2D: conv2d_item(job, item, scratch); break;
    case JOB_UNARY: unary_item(job, item, scratch); break;
    case JOB_REDUCE: reduce_item(job, item, scratch); break;
    case JOB_SOFTMAX: softmax_item(job, item, scratch); break;
    case JOB_ADAM: adam_item(job, item, scratch); break;
    default: break;
  }
}

/** Floats of scratch one thread needs. */
EXPORT u32 scratch_size(void) { return SCRATCH_FLOATS; }
