// CPU profiles for the profile scripts: run this script again as a child under --cpu-prof, then
// list the functions that took the time.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { basename, join } from 'node:path';

/**
 * Runs `node --cpu-prof <childArgs>` and returns the lines of its summary (the `top` functions by
 * self time, with inclusive time), or one line saying the child failed. `keep` copies the raw
 * .cpuprofile there; `note` is added to the heading.
 */
export function profileChild(childArgs, { top, keep = null, note = '' }) {
  const dir = mkdtempSync(join(os.tmpdir(), 'ml-prof-'));
  try {
    const r = spawnSync(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${dir}`, ...childArgs], { stdio: ['ignore', 'ignore', 'inherit'] });
    const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
    if (r.status !== 0 || !file) return [`cpu profile: the profiled child failed (exit ${r.status})`];
    if (keep) copyFileSync(join(dir, file), keep);
    return summarize(JSON.parse(readFileSync(join(dir, file), 'utf8')), top, note);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Top functions of a .cpuprofile by self time, with their inclusive time. */
function summarize(profile, top, note) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const keyOf = (n) => {
    const cf = n.callFrame;
    const where = cf.url ? `${shortUrl(cf.url)}:${cf.lineNumber + 1}` : '';
    return `${cf.functionName || '(anonymous)'}${where ? `  ${where}` : ''}`;
  };
  const self = new Map();
  const total = new Map();
  let all = 0;
  profile.samples.forEach((id, i) => {
    const dt = (profile.timeDeltas[i] ?? 0) / 1000;
    all += dt;
    const leaf = byId.get(id);
    const k = keyOf(leaf);
    self.set(k, (self.get(k) ?? 0) + dt);
    const seen = new Set();
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
      const key = keyOf(byId.get(cur));
      if (seen.has(key)) continue;
      seen.add(key);
      total.set(key, (total.get(key) ?? 0) + dt);
    }
  });
  const lines = [`cpu profile (node --cpu-prof${note ? `; ${note}` : ''}), ${all.toFixed(0)} ms sampled; top ${top} functions by self time:`];
  lines.push(`  ${'self ms'.padStart(8)}  ${'self %'.padStart(6)}  ${'total %'.padStart(7)}  function  file:line`);
  for (const [k, ms] of [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    lines.push(`  ${ms.toFixed(0).padStart(8)}  ${((100 * ms) / all).toFixed(1).padStart(6)}  ${((100 * total.get(k)) / all).toFixed(1).padStart(7)}  ${k}`);
  }
  return lines;
}

/** "packages/tensor/dist/cpu/matmul.js" style paths, without the machine's directories. */
function shortUrl(url) {
  const m = url.match(/(packages\/[^/]+\/.*)$/) ?? url.match(/node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?(.*)$/);
  if (m) return m[1];
  if (url.startsWith('node:')) return url;
  return basename(url);
}
