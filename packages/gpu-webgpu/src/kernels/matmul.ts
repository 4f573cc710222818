/**
 * WGSL matmul: C = A·B for every batch item, A (…, M, K) and B (…, K, N) read through their
 * strides (batch strides may be 0: the front end broadcasts with stride-0 views).
 *
 * float32 uses a tiled kernel. Each workgroup of 16×16 threads computes one output tile of
 * 16·tm rows × 64·tn4 columns (128×128, 64×64 or 16×64, by problem size); K is walked in steps
 * of BK. Every step the workgroup stages an A tile (rows × BK) and a B tile (BK × columns) in
 * workgroup memory, then every thread accumulates a tm × 4·tn4 block of C in registers, each
 * row as tn4 vec4. The global
 * loads of step t + 1 are issued into registers before the arithmetic of step t, so their
 * latency overlaps it.
 *
 * Operands are never copied: their offsets and strides travel in the `info` buffer, and the
 * load code is specialized per layout:
 * - A with unit K stride ("row-major") loads vec4 along K; A with unit M stride (a transposed
 *   operand) loads vec4 along M and scatters the four values into the staged tile;
 * - B with unit N stride loads vec4 along N; B with unit K stride (the xWᵀ case) loads vec4
 *   along K;
 * - vec4 loads need the loaded dim to be a multiple of 4 and the offset and the other strides
 *   (batch strides included) to be multiples of 4, so a vec4 is either wholly inside the matrix
 *   or wholly outside it; anything else (odd sizes, steps, slices) loads scalars, with threads
 *   laid along the operand's smaller stride so consecutive threads read nearby addresses.
 * Out-of-range rows, columns and K entries load as 0, so any M, N, K works (K = 0 gives zeros).
 * The output is dense: rows are stored as vec4 when N is a multiple of 4, as scalars otherwise.
 *
 * Integer dtypes (int32, and uint8 stored as u32) use a simple kernel: one thread per output
 * element looping over K, with wrapping integer arithmetic (uint8 reduced mod 256 at the end),
 * which equals the CPU backend's exact sum converted to the dtype. float32 matrices of at most
 * 256 outputs (batches of tiny matrices) use it too: a tile of theirs would leave most of its
 * workgroup idle.
 */
import type { GpuKernel, GpuView, WebGPUBackend } from '../backend.js';
import { workgroupsFor } from '../backend.js';
import { bindings, entry, storageType } from '../wgsl.js';

/** Threads per workgroup along N (x) and M (y). */
export const WX = 16;
export const WY = 16;
export const THREADS = WX * WY;

/** A register-block shape: each thread owns `tm` rows × `tn4` vec4 columns; K steps of `bk`. */
export interface TileConfig {
  readonly name: string;
  readonly tm: number;
  readonly tn4: number;
  readonly bk: number;
}

/** 128×128 output tiles, 8×8 per thread: for outputs far larger than the GPU (see LARGE_MIN_TILES). */
const LARGE: TileConfig = { name: 'L', tm: 8, tn4: 2, bk: 8 };
/** 64×64 output tiles, 4×4 per thread: the general case. */
const MEDIUM: TileConfig = { name: 'M', tm: 4, tn4: 1, bk: 16 };
/** 16×64 output tiles, 1×4 per thread: few rows (matrix-vector products, small batches). */
const THIN: TileConfig = { name: 'T', tm: 1, tn4: 1, bk: 16 };

/**
 * Workgroups of 128×128 tiles from which the large tiles are used. On an NVIDIA H100 (132 SMs,
 * Dawn over Vulkan) 64×64 tiles were faster than 128×128 ones at every square size measured,
 * 1024² to 4096² (at 2048², 0.89 against 1.04 ms; at 4096², 4.67 against 5.68 ms): the large
 * tiles are kept for outputs beyond that, 2048 of them (about 5800² and up).
 */
export const LARGE_MIN_TILES = 2048;

/** The tile shapes by name, for `params.tile` (tests and tuning measure each one). */
export const TILES: Record<string, TileConfig> = { L: LARGE, M: MEDIUM, T: THIN };

/** The accumulator of row i, vec4 column j of a thread's register block. */
export const acc = (i: number, j: number): string => `c${i}_${j}`;

/**
 * WGSL of the arithmetic of one staged K step of tile `t`, fully unrolled: every thread adds
 * As(its rows, BK) · Bs(BK, its vec4 columns) into its accumulators `acc(i, j)`. The staged
 * tiles are As[m·BK4 + k/4] (vec4 along K) and Bs[k·TN4 + n/4] (vec4 along N), as the matmul and
 * conv2d kernels lay them out.
 */
export function tileArithmetic(t: TileConfig): string[] {
  const TN4 = t.tn4 * WX;
  const BK4 = t.bk / 4;
  const body: string[] = [];
  for (let q = 0; q < BK4; q++) {
    body.push('  {');
    for (let e = 0; e < 4; e++) {
      for (let j = 0; j < t.tn4; j++) body.push(`    let b${e}_${j} = Bs[${(4 * q + e) * TN4 + j * WX}u + tx];`);
    }
    for (let i = 0; i < t.tm; i++) {
      body.push(`    { let a = As[(ty * ${t.tm}u + ${i}u) * ${BK4}u + ${q}u];`);
      for (let j = 0; j < t.tn4; j++) {
        body.push(`      ${acc(i, j)} = ${acc(i, j)} + a.x * b0_${j} + a.y * b1_${j} + a.z * b2_${j} + a.w * b3_${j};`);
      }
      body.push('    }');
    }
    body.push('  }');
  }
  return body;
}

function chooseTile(m: number, n: number, batch: number): TileConfig {
  if (m <= 16) return THIN;
  if (m >= 128 && n >= 128 && Math.ceil(m / 128) * Math.ceil(n / 128) * batch >= LARGE_MIN_TILES) return LARGE;
  return MEDIUM;
}

/**
 * How one operand is loaded: 'r4' reads vec4 of 4 consecutive columns of a row (unit column
 * stride), 'c4' vec4 of 4 consecutive rows of a column (unit row stride); 'sr' and 'sc' read
 * scalars, consecutive threads walking along a row ('sr') or down a column ('sc').
 */
type Mode = 'r4' | 'c4' | 'sr' | 'sc';

/**
 * A matrix operand (rows × cols) per batch item: its offset and strides with the strides of
 * size-1 dims zeroed (they are never stepped, and zero keeps them out of the alignment tests).
 */
interface Operand {
  offset: number;
  rows: number;
  cols: number;
  rowStride: number;
  colStride: number;
}

/** The load mode of an operand; `batchAligned` tells whether all its batch strides are multiples of 4. */
function modeOf(o: Operand, batchAligned: boolean): Mode {
  const aligned = batchAligned && o.offset % 4 === 0;
  if (aligned && o.colStride === 1 && o.cols % 4 === 0 && o.rowStride % 4 === 0) return 'r4';
  if (aligned && o.rowStride === 1 && o.rows % 4 === 0 && o.colStride % 4 === 0) return 'c4';
  return Math.abs(o.colStride) <= Math.abs(o.rowStride) ? 'sr' : 'sc';
}

/** Batch dims with size-1 dims dropped and adjacent dims merged where both operands allow it. */
function collapseBatch(shape: readonly number[], sa: readonly number[], sb: readonly number[]): { shape: number[]; sa: number[]; sb: number[] } {
  const out = { shape: [] as number[], sa: [] as number[], sb: [] as number[] };
  for (let d = 0; d < shape.length; d++) {
    if (shape[d] === 1) continue;
    const last = out.shape.length - 1;
    if (last >= 0 && out.sa[last] === sa[d] * shape[d] && out.sb[last] === sb[d] * shape[d]) {
      out.shape[last] *= shape[d];
      out.sa[last] = sa[d];
      out.sb[last] = sb[d];
    } else {
      out.shape.push(shape[d]);
      out.sa.push(sa[d]);
      out.sb.push(sb[d]);
    }
  }
  return out;
}

/** Shared geometry of both kernels: sizes, the two operands and the collapsed batch. */
interface Problem {
  m: number;
  n: number;
  k: number;
  batch: number;
  a: Operand;
  b: Operand;
  batchShape: number[];
  batchA: number[];
  batchB: number[];
}

function problemOf(a: GpuView, b: GpuView): Problem {
  const r = a.shape.length;
  const [m, k] = a.shape.slice(-2);
  const n = b.shape[r - 1];
  const operand = (v: GpuView, rows: number, cols: number): Operand => ({
    offset: v.offset,
    rows,
    cols,
    rowStride: rows === 1 ? 0 : v.strides[r - 2],
    colStride: cols === 1 ? 0 : v.strides[r - 1],
  });
  const bt = collapseBatch(a.shape.slice(0, -2), a.strides.slice(0, -2), b.strides.slice(0, -2));
  return {
    m,
    n,
    k,
    batch: bt.shape.reduce((p, q) => p * q, 1),
    a: operand(a, m, k),
    b: operand(b, k, n),
    batchShape: bt.shape,
    batchA: bt.sa,
    batchB: bt.sb,
  };
}

/**
 * Meta words from index 6 on: [offA, rowStrideA, colStrideA, offB, rowStrideB, colStrideB,
 * batchRank, (size, strideA, strideB) per batch dim].
 */
function operandMeta(p: Problem): number[] {
  const meta = [p.a.offset, p.a.rowStride, p.a.colStride, p.b.offset, p.b.rowStride, p.b.colStride, p.batchShape.length];
  p.batchShape.forEach((d, i) => meta.push(d, p.batchA[i], p.batchB[i]));
  return meta;
}

/** WGSL that reads the operand offsets and strides and moves the offsets to batch item `bt`. */
const OPERAND_WGSL = `
  var offA = info[6];
  let rsA = info[7];
  let csA = info[8];
  var offB = info[9];
  let rsB = info[10];
  let csB = info[11];
  var rem = bt;
  for (var d = info[12] - 1; d >= 0; d--) {
    let base = 13 + 3 * d;
    let size = u32(info[base]);
    let q = i32(rem % size);
    rem = rem / size;
    offA += q * info[base + 1];
    offB += q * info[base + 2];
  }`;

// ---- the tiled float32 kernel

/**
 * Code staging one operand tile: register declarations, global loads into the registers, and
 * stores of the registers into workgroup memory. The staged A tile is `As: array<vec4f>` of
 * rows × (BK/4) vec4 (4 consecutive K per vec4); the staged B tile is `Bs: array<vec4f>` of
 * BK × (cols/4) vec4 (4 consecutive N per vec4): in both, the staged vec4s run along the
 * operand's column dim.
 */
interface Staging {
  decl: string;
  load: string;
  store: string;
}

/**
 * `name`: 'A' or 'B'. The tile spans `tr` × `tc` elements of the operand, starting at
 * (`r0`, `c0`) (WGSL u32 expressions), within the operand's `R` × `C` (WGSL u32 expressions).
 * `slot(r, c)` gives the staged element for operand element (r, c) within the tile as
 * [vec4 index expression, component expression].
 */
function staging(
  name: 'A' | 'B',
  mode: Mode,
  tr: number,
  tc: number,
  r0: string,
  c0: string,
  R: string,
  C: string,
  slot: (r: string, c: string) => [string, string],
): Staging {
  const off = `off${name}`;
  const rs = `rs${name}`;
  const cs = `cs${name}`;
  const input = `in${name}`;
  const vec = mode === 'r4' || mode === 'c4';
  const count = vec ? (tr * tc) / 4 : tr * tc;
  const passes = Math.ceil(count / THREADS);
  const guard = count % THREADS !== 0;
  const decl: string[] = [];
  const load: string[] = [];
  const store: string[] = [];
  for (let p = 0; p < passes; p++) {
    const reg = `p${name}${p}`;
    decl.push(`  var ${reg}: ${vec ? 'vec4<f32>' : 'f32'};`);
    // the element (or first element of the vec4) this thread handles in pass p
    let r: string;
    let c: string;
    if (mode === 'r4') {
      r = `(s / ${tc / 4}u)`;
      c = `(4u * (s % ${tc / 4}u))`;
    } else if (mode === 'c4') {
      r = `(4u * (s % ${tr / 4}u))`;
      c = `(s / ${tr / 4}u)`;
    } else if (mode === 'sr') {
      r = `(s / ${tc}u)`;
      c = `(s % ${tc}u)`;
    } else {
      r = `(s % ${tr}u)`;
      c = `(s / ${tr}u)`;
    }
    const s = `let s = lid + ${p * THREADS}u;`;
    const open = guard ? `if (s < ${count}u) ` : '';
    // the unit stride of a vec4 mode is written as such
    const rowTerm = mode === 'c4' ? `i32(${r0} + ${r})` : `i32(${r0} + ${r}) * ${rs}`;
    const colTerm = mode === 'r4' ? `i32(${c0} + ${c})` : `i32(${c0} + ${c}) * ${cs}`;
    const index = `${off} + ${rowTerm} + ${colTerm}`;
    load.push(
      `  { ${s} ${reg} = ${vec ? 'vec4<f32>(0.0)' : '0.0'}; ${open}{ if (${r0} + ${r} < ${R} && ${c0} + ${c} < ${C}) { ${reg} = ${input}[${vec ? `u32(${index}) >> 2u` : `u32(${index})`}]; } } }`,
    );
    if (mode === 'r4') {
      // the staged vec4s run along the operand's columns too: one vec4 store
      store.push(`  { ${s} ${open}{ ${name}s[${slot(r, c)[0]}] = ${reg}; } }`);
    } else if (mode === 'c4') {
      // the four values lie in four staged vec4s: scatter them one component at a time
      const parts = ['x', 'y', 'z', 'w'].map((comp, j) => {
        const [v, e] = slot(`(${r} + ${j}u)`, c);
        return `${name}s[${v}][${e}] = ${reg}.${comp};`;
      });
      store.push(`  { ${s} ${open}{ ${parts.join(' ')} } }`);
    } else {
      const [v, e] = slot(r, c);
      store.push(`  { ${s} ${open}{ ${name}s[${v}][${e}] = ${reg}; } }`);
    }
  }
  return { decl: decl.join('\n'), load: load.join('\n'), store: store.join('\n') };
}

function tiledCode(t: TileConfig, modeA: Mode, modeB: Mode, vecOut: boolean): string {
  const TM = t.tm * WY; // rows per tile
  const TN4 = t.tn4 * WX; // vec4 columns per tile
  const TN = TN4 * 4;
  const BK = t.bk;
  const BK4 = BK / 4;
  const vecA = modeA === 'r4' || modeA === 'c4';
  const vecB = modeB === 'r4' || modeB === 'c4';
  // A(r = m, c = k) sits in As[m·BK4 + k/4][k%4]; B(r = k, c = n) in Bs[k·TN4 + n/4][n%4]
  const sa = staging('A', modeA, TM, BK, 'm0', 'k0', 'M', 'K', (r, c) => [`${r} * ${BK4}u + (${c} >> 2u)`, `${c} & 3u`]);
  const sb = staging('B', modeB, BK, TN, 'k0', 'n0', 'K', 'N', (r, c) => [`${r} * ${TN4}u + (${c} >> 2u)`, `${c} & 3u`]);
  const body = tileArithmetic(t);
  const accDecl: string[] = [];
  const write: string[] = [];
  for (let i = 0; i < t.tm; i++) {
    for (let j = 0; j < t.tn4; j++) accDecl.push(`  var ${acc(i, j)} = vec4<f32>(0.0);`);
    write.push(`  { let gm = m0 + ty * ${t.tm}u + ${i}u; if (gm < M) { let row = obase + gm * N;`);
    for (let j = 0; j < t.tn4; j++) {
      const gn = `n0 + 4u * (tx + ${j * WX}u)`;
      if (vecOut) {
        write.push(`    { let gn = ${gn}; if (gn < N) { outC[(row + gn) >> 2u] = ${acc(i, j)}; } }`);
      } else {
        write.push(
          `    { let gn = ${gn}; let v = ${acc(i, j)}; ` +
            ['x', 'y', 'z', 'w'].map((comp, e) => `if (gn + ${e}u < N) { outC[row + gn + ${e}u] = v.${comp}; }`).join(' ') +
            ' }',
        );
      }
    }
    write.push('  } }');
  }
  return /* wgsl */ `
@group(0) @binding(0) var<storage, read> inA: array<${vecA ? 'vec4<f32>' : 'f32'}>;
@group(0) @binding(1) var<storage, read> inB: array<${vecB ? 'vec4<f32>' : 'f32'}>;
@group(0) @binding(2) var<storage, read_write> outC: array<${vecOut ? 'vec4<f32>' : 'f32'}>;
@group(0) @binding(3) var<storage, read> info: array<i32>;

var<workgroup> As: array<vec4<f32>, ${TM * BK4}>;
var<workgroup> Bs: array<vec4<f32>, ${BK * TN4}>;

@compute @workgroup_size(${WX}, ${WY}, 1)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_id) lid3: vec3u, @builtin(local_invocation_index) lid: u32) {
  let M = u32(info[0]);
  let N = u32(info[1]);
  let K = u32(info[2]);
  let tilesN = u32(info[3]);
  let tilesMN = u32(info[4]);
  // workgroups run over (batch, tile row, tile column), folded into x and y past 65535
  let g = wid.x + wid.y * nwg.x;
  if (g >= u32(info[5])) { return; }
  let bt = g / tilesMN;
  let m0 = ((g % tilesMN) / tilesN) * ${TM}u;
  let n0 = (g % tilesN) * ${TN}u;
  let tx = lid3.x;
  let ty = lid3.y;
${OPERAND_WGSL}
  let obase = bt * M * N;
${accDecl.join('\n')}
${sa.decl}
${sb.decl}
  let steps = (K + ${BK - 1}u) / ${BK}u;
  var k0 = 0u;
${sa.load}
${sb.load}
  for (var step = 0u; step < steps; step++) {
${sa.store}
${sb.store}
    workgroupBarrier();
    k0 = k0 + ${BK}u;
    if (step + 1u < steps) {
${sa.load}
${sb.load}
    }
${body.join('\n')}
    workgroupBarrier();
  }
${write.join('\n')}
}
`;
}

function matmulTiled(gpu: WebGPUBackend, p: Problem, a: GpuView, b: GpuView, out: GpuView, tile?: string): void {
  const t = tile ? TILES[tile] : chooseTile(p.m, p.n, p.batch);
  if (!t) throw new Error(`matmul: unknown tile shape "${tile}" (one of ${Object.keys(TILES).join(', ')})`);
  const batchAligned = (s: number[]) => s.every((v) => v % 4 === 0);
  const modeA = modeOf(p.a, batchAligned(p.batchA));
  const modeB = modeOf(p.b, batchAligned(p.batchB));
  const vecOut = p.n % 4 === 0;
  const tilesM = Math.ceil(p.m / (t.tm * WY));
  const tilesN = Math.ceil(p.n / (t.tn4 * WX * 4));
  const total = tilesM * tilesN * p.batch;
  gpu.dispatch({
    op: 'matmul',
    key: `matmul|f32|${t.name}|${modeA}|${modeB}|${vecOut ? 'v' : 's'}`,
    code: () => tiledCode(t, modeA, modeB, vecOut),
    inputs: [a.storage, b.storage],
    outputs: [out.storage],
    meta: [p.m, p.n, p.k, tilesN, tilesM * tilesN, total, ...operandMeta(p)],
    workgroups: workgroupsFor(total, 1),
  });
}

// ---- the simple kernel: integers, and float32 matrices too small to fill a tile

/** float32 matrices with at most this many outputs use the simple kernel (a tile would sit mostly idle). */
const SIMPLE_MAX_OUTPUTS = 256;

function matmulSimple(gpu: WebGPUBackend, p: Problem, a: GpuView, b: GpuView, out: GpuView): void {
  const t = storageType(out.dtype);
  const total = p.m * p.n * p.batch;
  const result = t === 'u32' ? '(acc & 255u)' : 'acc';
  gpu.dispatch({
    op: 'matmul',
    key: `matmul|${t}`,
    code: () => `${bindings([a.dtype, b.dtype], [out.dtype], true)}
${entry()}
  let M = u32(info[0]);
  let N = u32(info[1]);
  let K = i32(info[2]);
  if (i >= u32(info[5])) { return; }
  let bt = i / (M * N);
  let m = i32((i / N) % M);
  let n = i32(i % N);
${OPERAND_WGSL}
  var acc = ${t === 'f32' ? '0.0' : t === 'i32' ? '0' : '0u'};
  var ia = offA + m * rsA;
  var ib = offB + n * csB;
  for (var k = 0; k < K; k++) {
    acc = acc + in0[u32(ia)] * in1[u32(ib)];
    ia += csA;
    ib += rsB;
  }
  out0[i] = ${result};
}`,
    inputs: [a.storage, b.storage],
    outputs: [out.storage],
    meta: [p.m, p.n, p.k, 0, 0, total, ...operandMeta(p)],
    workgroups: workgroupsFor(total),
  });
}

/**
 * `params.tile` (internal, for tests and tuning): the name of a tile shape in TILES, forcing the
 * tiled float32 kernel with it instead of the shape chosen by size.
 */
const matmulKernel: GpuKernel = (gpu, [a, b], [out], params: { tile?: string } = {}) => {
  const p = problemOf(a, b);
  if (storageType(out.dtype) === 'f32' && (params?.tile || p.m * p.n > SIMPLE_MAX_OUTPUTS)) matmulTiled(gpu, p, a, b, out, params?.tile);
  else matmulSimple(gpu, p, a, b, out);
};

export const MATMUL_KERNELS: Record<string, GpuKernel> = {
  matmul: matmulKernel,
};
