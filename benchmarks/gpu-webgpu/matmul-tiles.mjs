#!/usr/bin/env node
// Each output-tile shape of @ml/gpu-webgpu's float32 matmul kernel on square products, timed as
// run.mjs times a matmul (each run waits for the GPU by reading one element back), to tune which
// shape the kernel picks by size. Rows of every product are checked against float64 first.
//
//   node --expose-gc gpu-webgpu/matmul-tiles.mjs [--json] [--sizes 1024,2048,4096] [--tiles auto,L,M] [--out <file.json>]
//
// Tile shapes are the names of TILES in packages/gpu-webgpu/src/kernels/matmul.ts (L 128×128,
// M 64×64, T 16×64; to try another shape, add it there and name it in --tiles); 'auto' is the
// shape the kernel chooses itself. Each runs through `apply('matmul', [a, b], { tile })`.
import { existsSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { table } from '../common/format.mjs';
import { gitCommit, machineInfo } from '../common/machine.mjs';
import { consoleToStderr, gc, progress, stdoutWrite } from '../common/output.mjs';
import { median } from '../common/timing.mjs';

const USAGE = `usage: node --expose-gc gpu-webgpu/matmul-tiles.mjs [--json] [--sizes 1024,2048,4096] [--tiles auto,L,M] [--out <file>]`;
const opts = { json: false, sizes: [1024, 2048, 4096], tiles: ['auto', 'L', 'M'], out: null };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a === '--json') opts.json = true;
  else if (a === '--sizes') opts.sizes = argv[++i].split(',').map(Number);
  else if (a === '--tiles') opts.tiles = argv[++i].split(',');
  else if (a === '--out') opts.out = argv[++i];
  else {
    process.stderr.write(`${USAGE}\n`);
    process.exit(a === '--help' ? 0 : 2);
  }
}
if (opts.json) consoleToStderr();

/** Output rows × columns per workgroup, for the workgroup count (other names show '–'). */
const TILE_SIZES = { L: [128, 128], M: [64, 64], T: [16, 64] };
const PROTOCOL = { warmup: 3, minRuns: 5, minTimeMs: 500, maxRuns: 200 };

async function main() {
  if (!process.env.VK_ICD_FILENAMES && !process.env.VK_DRIVER_FILES) {
    const gpuNode = existsSync('/dev/dri') || existsSync('/dev/nvidia0') || existsSync('/dev/kfd');
    const swiftshader = '/usr/lib/chromium/vk_swiftshader_icd.json';
    if (!gpuNode && existsSync(swiftshader)) process.env.VK_ICD_FILENAMES = swiftshader;
  }
  const ml = await import('@ml/tensor');
  const { webgpu } = await import('@ml/gpu-webgpu');
  const backend = await webgpu();
  progress(`WebGPU adapter: ${backend.adapterName}`);
  const results = [];
  for (const n of opts.sizes) {
    // fixed-seed inputs in [-1, 1)
    let s = 12345 + n;
    const rand = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32) * 2 - 1;
    const A = Float32Array.from({ length: n * n }, rand);
    const B = Float32Array.from({ length: n * n }, rand);
    const a = ml.tensor(A, { shape: [n, n], backend });
    const b = ml.tensor(B, { shape: [n, n], backend });
    // float64 reference of 8 evenly spaced rows
    const rows = Array.from({ length: 8 }, (_, i) => Math.floor((i * (n - 1)) / 7));
    const ref = rows.map((r) => {
      const out = new Float64Array(n);
      for (let k = 0; k < n; k++) {
        const av = A[r * n + k];
        for (let j = 0; j < n; j++) out[j] += av * B[k * n + j];
      }
      return out;
    });
    for (const tile of opts.tiles) {
      const run = () => (tile === 'auto' ? ml.matmul(a, b) : ml.apply('matmul', [a, b], { tile }, backend)[0]);
      const once = async () => {
        const o = run();
        const one = ml.sliceView(o, [0, 0], [1, 1], [1, 1]);
        await one.data();
        one.dispose();
        o.dispose();
      };
      // check
      const o = run();
      const got = await o.data();
      o.dispose();
      let worst = 0;
      rows.forEach((r, i) => {
        for (let j = 0; j < n; j++) worst = Math.max(worst, Math.abs(got[r * n + j] - ref[i][j]) / (1 + Math.abs(ref[i][j])));
      });
      const ok = worst <= 4e-7 * (n + 4);
      for (let w = 0; w < PROTOCOL.warmup; w++) await once();
      const times = [];
      let total = 0;
      while ((times.length < PROTOCOL.minRuns || total < PROTOCOL.minTimeMs) && times.length < PROTOCOL.maxRuns) {
        const t0 = performance.now();
        await once();
        const t = performance.now() - t0;
        times.push(t);
        total += t;
      }
      const ms = median(times);
      const size = TILE_SIZES[tile];
      const workgroups = size ? Math.ceil(n / size[0]) * Math.ceil(n / size[1]) : null;
      const r = { n, tile, ms, runs: times.length, tflops: (2 * n ** 3) / (ms * 1e9), workgroups, ok, relErr: worst };
      results.push(r);
      progress(`  ${n}² ${tile.padEnd(4)} ${ms.toFixed(3)} ms  ${r.tflops.toFixed(2)} TFLOP/s${ok ? '' : `  ✗ error ${worst}`}`);
      gc();
    }
    a.dispose();
    b.dispose();
  }
  const json = { suite: 'gpu-webgpu-matmul-tiles', machine: { ...machineInfo(), gpu: { adapter: backend.adapterName } }, commit: gitCommit(), config: { ...opts, ...PROTOCOL }, date: new Date().toISOString(), results };
  if (opts.out) writeFileSync(resolve(opts.out), JSON.stringify(json, null, 2) + '\n');
  if (opts.json) return void stdoutWrite(JSON.stringify(json, null, 2) + '\n');
  stdoutWrite(
    [
      `WebGPU adapter: ${backend.adapterName}; commit ${json.commit}`,
      `protocol: 3 warm-up runs, then the median of ≥ 5 runs and ≥ 500 ms; each run reads one element back`,
      '',
      ...table(
        ['size', 'tile', 'workgroups', 'ms', 'TFLOP/s', 'check'],
        results.map((r) => [`${r.n}²`, r.tile, r.workgroups === null ? '–' : String(r.workgroups), r.ms.toFixed(3), r.tflops.toFixed(2), r.ok ? 'ok' : `✗ ${r.relErr.toExponential(1)}`]),
      ),
    ].join('\n') + '\n',
  );
}

await main();
process.exit(0);
