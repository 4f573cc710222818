// f32 2-D convolution (NCHW, groups 1) for the WebAssembly CPU path, as an implicit GEMM: per
// image, out (O, L) = W (O, K) · cols (K, L) with K = C·kh·kw and L = oh·ow, where cols is
// im2col of the image. The columns are never stored: the packing step that feeds the GEMM's
// microkernel (gemm.h) reads its panels of NR output pixels straight from the image, so the
// only memory the product touches is the image, the filters and the output.
//
// A work item is one image and one block of NC output pixels. It walks K in blocks of KC: packs
// that (KC, NC) block of the columns from the image, then for each block of MC filters packs
// them (pack_a) and runs the microkernel over the tiles. Each output element is written by one
// item with a fixed order of operations, so results do not depend on the thread count.
#include "gemm.h"

// The job descriptor (laid out by the JS side, 32-bit fields).
typedef struct {
  u32 kind;                 // JOB_CONV2D
  u32 n, c, h, w;           // input (n, c, h, w), contiguous
  u32 o, kh, kw;            // filters (o, c·kh·kw), contiguous
  u32 oh, ow;               // output (n, o, oh, ow), contiguous
  u32 sh, sw, ph, pw, dh, dw;
  const float *x;
  const float *wt;
  float *out;
} ConvJob;

/**
 * Packs rows p0..p0+kc of the columns of image x, output pixels jb..jb+nc, into panels of NR
 * pixels: dst[panel][k][t] = x[c, oy·sh − ph + i·dh, ox·sw − pw + j·dw] for k = p0 + kk ↔ (c, i, j)
 * and pixel jb + panel·NR + t ↔ (oy, ox); 0 outside the image and past the last pixel.
 */
static void pack_image(const ConvJob *job, const float *x, u32 p0, u32 kc, u32 jb, u32 nc, float *dst) {
  const int h = (int)job->h, w = (int)job->w, ow = (int)job->ow;
  const int sh = (int)job->sh, sw = (int)job->sw, ph = (int)job->ph, pw = (int)job->pw;
  const int dh = (int)job->dh, dw = (int)job->dw;
  const u32 kh = job->kh, kw = job->kw;
  for (u32 q = 0; q * NR < nc; q++) {
    const int p = (int)(jb + q * NR);
    const int cols = (int)min_u(NR, nc - q * NR);
    const int oy = p / ow, ox0 = p % ow;
    // the panel's pixels lie in one output row: one input row per k
    const int in_row = cols == NR && ox0 + NR <= ow;
    int oys[NR], oxs[NR];
    for (int t = 0; t < NR; t++) {
      oys[t] = (p + t) / ow;
      oxs[t] = (p + t) % ow;
    }
    u32 ci = p0 / (kh * kw), rem = p0 % (kh * kw);
    u32 ki = rem / kw, kj = rem % kw;
    for (u32 kk = 0; kk < kc; kk++) {
      const float *plane = x + (unsigned long)ci * h * w;
      const int ry = (int)ki * dh - ph, rx = (int)kj * dw - pw;
      if (in_row) {
        const int iy = oy * sh + ry, ix0 = ox0 * sw + rx;
        if (iy < 0 || iy >= h) {
          wasm_v128_store(dst, wasm_f32x4_splat(0));
          wasm_v128_store(dst + 4, wasm_f32x4_splat(0));
        } else if (sw == 1 && ix0 >= 0 && ix0 + NR <= w) {
          const float *src = plane + iy * w + ix0;
          wasm_v128_store(dst, wasm_v128_load(src));
          wasm_v128_store(dst + 4, wasm_v128_load(src + 4));
        } else {
          const float *src = plane + iy * w;
          for (int t = 0; t < NR; t++) {
            const int ix = ix0 + t * sw;
            dst[t] = ix >= 0 && ix < w ? src[ix] : 0.0f;
          }
        }
      } else {
        for (int t = 0; t < NR; t++) {
          const int iy = oys[t] * sh + ry, ix = oxs[t] * sw + rx;
          dst[t] = t < cols && iy >= 0 && iy < h && ix >= 0 && ix < w ? plane[iy * w + ix] : 0.0f;
        }
      }
      dst += NR;
      if (++kj == kw) {
        kj = 0;
        if (++ki == kh) {
          ki = 0;
          ci++;
        }
      }
    }
  }
}

/** Work items: one per (image, block of NC output pixels). */
u32 conv2d_items(const void *desc) {
  const ConvJob *job = desc;
  u32 l = job->oh * job->ow;
  return job->n * ((l + NC - 1) / NC);
}

/** Computes work item `item` of the job, packing into `scratch` (SCRATCH_FLOATS). */
void conv2d_item(const void *desc, u32 item, float *scratch) {
  const ConvJob *job = desc;
  const u32 l = job->oh * job->ow, k = job->c * job->kh * job->kw, o = job->o;
  const u32 blocks = (l + NC - 1) / NC;
  const u32 img = item / blocks, jb = (item % blocks) * NC, nc = min_u(NC, l - jb);
  const float *x = job->x + (unsigned long)img * job->c * job->h * job->w;
  float *out = job->out + (unsigned long)img * o * l;
  float *bpack = scratch + MC * KC;
  if (k == 0) {
    for (u32 i = 0; i < o; i++) for (u32 t = 0; t < nc; t++) out[(unsigned long)i * l + jb + t] = 0.0f;
    return;
  }
  for (u32 p0 = 0; p0 < k; p0 += KC) {
    const u32 kc = min_u(KC, k - p0);
    pack_image(job, x, p0, kc, jb, nc, bpack); // (kc, nc) of the columns
    for (u32 i0 = 0; i0 < o; i0 += MC) {
      const u32 mc = min_u(MC, o - i0);
      pack_a(job->wt, k, i0, mc, p0, kc, scratch); // (mc, kc) of the filters
      for (u32 q = 0; q * NR < nc; q++) {
        const u32 j0 = jb + q * NR;
        const float *bpanel = bpack + (unsigned long)q * kc * NR;
        for (u32 r0 = 0; r0 < mc; r0 += MR) {
          kernel_4x8(kc, scratch + (unsigned long)r0 * kc, bpanel, out + (unsigned long)(i0 + r0) * l + j0, l,
                     min_u(MR, mc - r0), min_u(NR, l - j0), p0 == 0);
        }
      }
    }
  }
}

/**
 * Copies `planes` images (h, w) from src into dst with ph rows and pw columns of zeros on each
 * side, (h + 2ph, w + 2pw) each. The JS side pads the input once this way, so that the packing
 * above reads whole rows of 8 pixels without bounds checks even where the window overlaps the
 * border.
 */
EXPORT void pad_planes(const float *src, float *dst, u32 planes, u32 h, u32 w, u32 ph, u32 pw) {
  const u32 pwd = w + 2 * pw, phd = h + 2 * ph;
  for (u32 p = 0; p < planes; p++) {
    float *out = dst + (unsigned long)p * phd * pwd;
    for (u32 i = 0; i < ph * pwd; i++) out[i] = 0.0f;
    for (u32 y = 0; y < h; y++) {
      float *row = out + (unsigned long)(y + ph) * pwd;
      const float *in = src + ((unsigned long)p * h + y) * w;
      for (u32 x = 0; x < pw; x++) row[x] = row[pw + w + x] = 0.0f;
      u32 x = 0;
      for (; x + 4 <= w; x += 4) wasm_v128_store(row + pw + x, wasm_v128_load(in + x));
      for (; x < w; x++) row[pw + x] = in[x];
    }
    for (u32 i = (ph + h) * pwd; i < phd * pwd; i++) out[i] = 0.0f;
  }
}
