/**
 * WGSL conv2d (groups of 1) as one implicit GEMM: the output, read as (O, N·oh·ow), is the
 * product of the filters W (O, K) with the im2col columns of the image (K, N·oh·ow), K = C·kh·kw,
 * without ever writing the columns to memory.
 *
 * The tiling is the matmul kernel's (see matmul.ts): workgroups of 16×16 threads each compute an
 * output tile of 16·tm filters × 64·tn4 output pixels, walking K in steps of BK; every step stages
 * a filter tile (from the weight, vec4 along K when it is dense) and a column tile in workgroup
 * memory, the global loads of step t + 1 issued before the arithmetic of step t. The difference is
 * the column tile: each thread gathers its entries straight from the image. A thread always loads
 * the same output pixel (column), so the pixel's image, and the top-left corner of its window, are
 * worked out once; per K entry it splits k into (channel, kernel row, kernel column), reads the
 * input pixel through the image's strides, and reads 0 outside the image (the zero padding).
 *
 * The batch is folded into the columns (column = n·L + l, L = oh·ow), so small feature maps
 * (7×7 in the last layers of a ResNet) still fill whole tiles. The output is dense
 * (N, O, oh, ow): column (n, l) of filter o lands at n·O·L + o·L + l, stored as vec4 when L is a
 * multiple of 4 (4 consecutive columns are then 4 consecutive pixels of one image).
 */
import type { Conv2dParams } from '@ml/tensor';
import type { GpuKernel, GpuView } from '../backend.js';
import { workgroupsFor } from '../backend.js';
import { acc, LARGE_MIN_TILES, THREADS, tileArithmetic, TILES, WX, WY } from './matmul.js';
import type { TileConfig } from './matmul.js';

/** The tile shapes by name, for `params.tile` (tests force each one): matmul's. */
export const CONV_TILES: Readonly<Record<string, TileConfig>> = TILES;

function chooseTile(o: number, cols: number): TileConfig {
  if (o <= 16) return CONV_TILES.T;
  if (o >= 128 && cols >= 128 && Math.ceil(o / 128) * Math.ceil(cols / 128) >= LARGE_MIN_TILES) return CONV_TILES.L;
  return CONV_TILES.M;
}

/**
 * How the filter tile is loaded: 'v4' vec4 along K (a dense filter: unit stride along K, aligned);
 * 'lin' scalars with one stride along K (the (C, kh, kw) dims of the weight merge into one);
 * 'gen' scalars, k split into (channel, kernel row, kernel column) (any other strides).
 */
type WeightMode = 'v4' | 'lin' | 'gen';

/** The weight's load mode and strides: [O stride, K stride (lin/v4), C, kh, kw strides]. */
function weightLayout(w: GpuView): { mode: WeightMode; strides: number[] } {
  const [o, c, kh, kw] = w.shape;
  const k = c * kh * kw;
  // strides of size-1 dims are never stepped: zero keeps them out of the tests
  const s = w.strides.map((st, d) => (w.shape[d] === 1 ? 0 : st));
  let sk: number | null = null;
  let next: number | null = null;
  let linear = true;
  for (let d = 3; d >= 1; d--) {
    if (w.shape[d] === 1) continue;
    if (next === null) sk = s[d];
    else if (s[d] !== next) linear = false;
    next = s[d] * w.shape[d];
  }
  sk ??= 1;
  const strides = [o === 1 ? 0 : s[0], sk, s[1], s[2], s[3]];
  if (!linear) return { mode: 'gen', strides };
  const aligned = sk === 1 && k % 4 === 0 && k > 0 && w.offset % 4 === 0 && strides[0] % 4 === 0;
  return { mode: aligned ? 'v4' : 'lin', strides };
}

/**
 * The WGSL of one kernel variant, for a kh × kw kernel (a 1×1 one reads channel k at the window's
 * corner); `vecOut`: L is a multiple of 4 (vec4 stores).
 */
function conv2dCode(t: TileConfig, mode: WeightMode, kh: number, kw: number, vecOut: boolean): string {
  const one = kh === 1 && kw === 1;
  const TM = t.tm * WY; // filters per tile
  const TN4 = t.tn4 * WX; // vec4 columns per tile
  const TN = TN4 * 4;
  const BK = t.bk;
  const BK4 = BK / 4;
  const vecW = mode === 'v4';

  // ---- the filter tile: As[m·BK4 + k/4][k%4] = W(m0 + m, k0 + k)
  const countA = vecW ? (TM * BK) / 4 : TM * BK;
  const passesA = Math.ceil(countA / THREADS);
  const guardA = countA % THREADS !== 0;
  const declA: string[] = [];
  const loadA: string[] = [];
  const storeA: string[] = [];
  for (let p = 0; p < passesA; p++) {
    const reg = `pA${p}`;
    const s = `let s = lid + ${p * THREADS}u;`;
    const open = guardA ? `if (s < ${countA}u) ` : '';
    // consecutive threads walk along K, the weight's dense dim
    const r = vecW ? `(s / ${BK4}u)` : `(s / ${BK}u)`;
    const c = vecW ? `(4u * (s % ${BK4}u))` : `(s % ${BK}u)`;
    let index: string;
    if (mode === 'gen') {
      index = `offW + i32(m0 + ${r}) * swO + i32(kc) * swC + i32(kt / kw) * swI + i32(kt % kw) * swJ`;
    } else {
      index = `offW + i32(m0 + ${r}) * swO + i32(k0 + ${c})${vecW ? '' : ' * swK'}`;
    }
    const split = mode === 'gen' ? `let kc = (k0 + ${c}) / KK; let kt = (k0 + ${c}) % KK; ` : '';
    declA.push(`  var ${reg}: ${vecW ? 'vec4<f32>' : 'f32'};`);
    loadA.push(
      `  { ${s} ${reg} = ${vecW ? 'vec4<f32>(0.0)' : '0.0'}; ${open}{ if (m0 + ${r} < M && k0 + ${c} < K) { ${split}${reg} = inW[${vecW ? `u32(${index}) >> 2u` : `u32(${index})`}]; } } }`,
    );
    storeA.push(vecW ? `  { ${s} ${open}{ As[${r} * ${BK4}u + (${c} >> 2u)] = ${reg}; } }` : `  { ${s} ${open}{ As[${r} * ${BK4}u + (${c} >> 2u)][${c} & 3u] = ${reg}; } }`);
  }

  // ---- the column tile: Bs[k·TN4 + n/4][n%4] = im2col(k0 + k, n0 + n); each thread keeps its column
  const RS = THREADS / TN; // rows per pass
  const passesB = (BK * TN) / THREADS;
  const declB: string[] = [];
  const loadB: string[] = [];
  const storeB: string[] = [];
  for (let p = 0; p < passesB; p++) {
    const reg = `pB${p}`;
    const row = `(brow + ${p * RS}u)`;
    declB.push(`  var ${reg}: f32;`);
    const pixel = one
      ? `if (bin) { ${reg} = inX[u32(bbase + i32(k) * sxC + iy0 * sxH + ix0 * sxW)]; }`
      : `let kc = k / KK; let kt = k % KK; let ki = kt / kw; let iy = iy0 + i32(ki) * dh; let ix = ix0 + i32(kt - ki * kw) * dw; ` +
        `if (iy >= 0 && iy < H && ix >= 0 && ix < W) { ${reg} = inX[u32(bbase + i32(kc) * sxC + iy * sxH + ix * sxW)]; }`;
    loadB.push(`  { let k = k0 + ${row}; ${reg} = 0.0; if (bvalid && k < K) { ${pixel} } }`);
    storeB.push(`  Bs[${row} * ${TN4}u + (bcol >> 2u)][bcol & 3u] = ${reg};`);
  }

  // ---- the arithmetic of one staged step, fully unrolled (matmul's)
  const body = tileArithmetic(t);

  // ---- the stores: column gc = n·L + l of filter gm goes to n·M·L + gm·L + l
  const accDecl: string[] = [];
  for (let i = 0; i < t.tm; i++) for (let j = 0; j < t.tn4; j++) accDecl.push(`  var ${acc(i, j)} = vec4<f32>(0.0);`);
  const write: string[] = [];
  for (let j = 0; j < t.tn4; j++) {
    const gc = `n0 + 4u * (tx + ${j * WX}u)`;
    if (vecOut) {
      write.push(`  { let gc = ${gc}; if (gc < NC) { let ob = (gc / L) * M * L + gc % L;`);
      for (let i = 0; i < t.tm; i++) {
        write.push(`    { let gm = m0 + ty * ${t.tm}u + ${i}u; if (gm < M) { outC[(ob + gm * L) >> 2u] = ${acc(i, j)}; } }`);
      }
      write.push('  } }');
    } else {
      ['x', 'y', 'z', 'w'].forEach((comp, e) => {
        write.push(`  { let gc = ${gc} + ${e}u; if (gc < NC) { let ob = (gc / L) * M * L + gc % L;`);
        for (let i = 0; i < t.tm; i++) {
          write.push(`    { let gm = m0 + ty * ${t.tm}u + ${i}u; if (gm < M) { outC[ob + gm * L] = ${acc(i, j)}.${comp}; } }`);
        }
        write.push('  } }');
      });
    }
  }

  return /* wgsl */ `
@group(0) @binding(0) var<storage, read> inX: array<f32>;
@group(0) @binding(1) var<storage, read> inW: array<${vecW ? 'vec4<f32>' : 'f32'}>;
@group(0) @binding(2) var<storage, read_write> outC: array<${vecOut ? 'vec4<f32>' : 'f32'}>;
@group(0) @binding(3) var<storage, read> info: array<i32>;

var<workgroup> As: array<vec4<f32>, ${TM * BK4}>;
var<workgroup> Bs: array<vec4<f32>, ${BK * TN4}>;

@compute @workgroup_size(${WX}, ${WY}, 1)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_id) lid3: vec3u, @builtin(local_invocation_index) lid: u32) {
  let M = u32(info[0]);
  let NC = u32(info[1]);
  let K = u32(info[2]);
  let tilesN = u32(info[3]);
  // workgroups run over (tile row, tile column), folded into x and y past 65535
  let g = wid.x + wid.y * nwg.x;
  if (g >= u32(info[4])) { return; }
  let m0 = (g / tilesN) * ${TM}u;
  let n0 = (g % tilesN) * ${TN}u;
  let tx = lid3.x;
  let ty = lid3.y;
  let L = u32(info[5]);
  let ow = u32(info[6]);
  // the kernel size is part of the pipeline: divisions by it compile to multiplies
  const KK = ${kh * kw}u;
  const kw = ${kw}u;
  let dh = info[11];
  let dw = info[12];
  let H = info[13];
  let W = info[14];
  let sxC = info[17];
  let sxH = info[18];
  let sxW = info[19];
  let offW = info[20];
  let swO = info[21];
  let swK = info[22];
  let swC = info[23];
  let swI = info[24];
  let swJ = info[25];
  // this thread's column of the column tile: its image, and the top-left corner of its window
  let bcol = lid % ${TN}u;
  let brow = lid / ${TN}u;
  let gcol = n0 + bcol;
  let bvalid = gcol < NC;
  let bl = gcol % L;
  let iy0 = i32(bl / ow) * info[7] - info[9];
  let ix0 = i32(bl % ow) * info[8] - info[10];
  let bbase = info[15] + i32(gcol / L) * info[16];
  let bin = iy0 >= 0 && iy0 < H && ix0 >= 0 && ix0 < W;
${accDecl.join('\n')}
${declA.join('\n')}
${declB.join('\n')}
  let steps = (K + ${BK - 1}u) / ${BK}u;
  var k0 = 0u;
${loadA.join('\n')}
${loadB.join('\n')}
  for (var step = 0u; step < steps; step++) {
${storeA.join('\n')}
${storeB.join('\n')}
    workgroupBarrier();
    k0 = k0 + ${BK}u;
    if (step + 1u < steps) {
${loadA.join('\n')}
${loadB.join('\n')}
    }
${body.join('\n')}
    workgroupBarrier();
  }
${write.join('\n')}
}
`;
}

/**
 * x (N, C, H, W) and weight (O, C, kh, kw), any strides → (N, O, oh, ow) dense.
 * `params.tile` (internal, for tests and tuning): a tile shape of CONV_TILES to use instead of
 * the one chosen by size.
 */
export const conv2dKernel: GpuKernel = (gpu, [x, w], [out], p: Conv2dParams & { tile?: string }) => {
  const [n, c, h, wd] = x.shape;
  const [o, , kh, kw] = w.shape;
  const [, , oh, ow] = out.shape;
  const l = oh * ow;
  const cols = n * l;
  const k = c * kh * kw;
  const t = p.tile ? CONV_TILES[p.tile] : chooseTile(o, cols);
  if (!t) throw new Error(`conv2d: unknown tile shape "${p.tile}" (one of ${Object.keys(CONV_TILES).join(', ')})`);
  const { mode, strides: ws } = weightLayout(w);
  const vecOut = l % 4 === 0;
  const tilesM = Math.ceil(o / (t.tm * WY));
  const tilesN = Math.ceil(cols / (t.tn4 * WX * 4));
  const total = tilesM * tilesN;
  gpu.dispatch({
    op: 'conv2d',
    key: `conv2d|${t.name}|${mode}|${kh}x${kw}|${vecOut ? 'v' : 's'}`,
    code: () => conv2dCode(t, mode, kh, kw, vecOut),
    inputs: [x.storage, w.storage],
    outputs: [out.storage],
    // [0] O, N·L, K, tiles along N·L, workgroups, L, ow, [7] stride, padding, dilation, H, W,
    // [15] x offset and strides, [20] weight offset, O stride, K stride, C, kh, kw strides
    meta: [
      o, cols, k, tilesN, total, l, ow,
      p.stride[0], p.stride[1], p.padding[0], p.padding[1], p.dilation[0], p.dilation[1], h, wd,
      x.offset, ...x.strides,
      w.offset, ...ws,
    ],
    workgroups: workgroupsFor(total, 1),
  });
};
