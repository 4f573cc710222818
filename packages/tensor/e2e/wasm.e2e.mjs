// The browser test of the CPU backend's WebAssembly runtime. Serves the built package and a test
// page from two localhost origins, one cross-origin isolated (COOP same-origin + COEP
// require-corp) and one not, and opens the page from each in headless Chromium. The page
// computes float32 matmuls and conv2ds (see cases.mjs) on its main thread and in a module
// worker, which also computes them on the plain TypeScript kernels. Checks:
//   - the isolated page's main thread runs on 1 thread (it cannot Atomics.wait), its worker on
//     the 3 threads it asks for: 2 pool workers start, each computes work items, none fails;
//   - the other page has no SharedArrayBuffer, and the runtime still works there, on 1 thread
//     with an unshared memory, in the page and in its worker (which asks for 3);
//   - every runtime's memory grows past its initial size (one case's output needs it), and the
//     results stay right afterwards (an unshared memory detaches its old buffer when it grows);
//   - every WebAssembly result came out of the runtime's linear memory (so WASM computed it) and
//     is bit-identical to all the others, whatever the origin, context or thread count;
//   - they, and the TypeScript kernels' results, are within float32 rounding (1e-5·√k, inputs in
//     [-1, 1), k the length of each dot product) of float64 loops run here on the same inputs;
//   - no console error, page error, failed request or request to another host.
// Prints a table of what ran where, the time of each case, and how soon the pool workers joined
// (the worker yields to its event loop until they have, before it computes the cases); exits 1 on
// any problem, and after E2E_TIMEOUT_MS.
//
//   pnpm --filter @ml/tensor test:e2e     (after `pnpm --filter @ml/tensor build`)
//
// Environment: CHROMIUM (default /usr/bin/chromium); E2E_TIMEOUT_MS (default 120000). Without
// Chromium the test is skipped, unless CI is set, where it fails.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CASES } from './cases.mjs';
import { reference } from './reference.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const pkgDir = path.resolve(here, '..');
const distDir = path.join(pkgDir, 'dist');
const executablePath = process.env.CHROMIUM ?? '/usr/bin/chromium';
const timeout = Number(process.env.E2E_TIMEOUT_MS ?? 120_000);

const CHROMIUM_ARGS = [
  '--headless=new',
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

function log(line) {
  process.stdout.write(`${line}\n`);
}

// ---- preconditions

if (!existsSync(executablePath)) {
  if (process.env.CI) {
    console.error(`tensor wasm e2e: FAILED: no Chromium at ${executablePath} (CI is set, so the browser test cannot be skipped).`);
    process.exit(1);
  }
  log(`tensor wasm e2e: SKIPPED: no Chromium at ${executablePath}. Install it (apt-get install chromium) or set CHROMIUM=<path>.`);
  process.exit(0);
}
if (!existsSync(path.join(distDir, 'index.js')) || !existsSync(path.join(distDir, 'cpu', 'wasm', 'binary.generated.js'))) {
  console.error(`tensor wasm e2e: FAILED: no build at ${distDir} (run \`pnpm --filter @ml/tensor build\` first).`);
  process.exit(1);
}

const started = Date.now();
// on exit, playwright kills the browser it launched
const watchdog = setTimeout(() => {
  console.error(`tensor wasm e2e: FAILED: timed out after ${timeout / 1000} s.`);
  process.exit(1);
}, timeout);

// ---- the float64 references, from the same inputs the browser uses

const refs = Object.fromEntries(CASES.map((c) => [c.name, reference(c)]));

// ---- two servers: the same files, with and without cross-origin isolation

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>@ml/tensor WebAssembly test</title>
<link rel="icon" href="data:,">
<script type="module" src="/e2e/page.mjs"></script>
</head>
<body><p>@ml/tensor WebAssembly test</p></body>
</html>
`;

const ISOLATION = {
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-embedder-policy': 'require-corp',
  'cross-origin-resource-policy': 'same-origin',
};

const TYPES = { '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8', '.map': 'application/json; charset=utf-8' };

/** The file under `dir` for the URL path `rest` (which starts with '/'), or undefined. */
function fileUnder(dir, rest) {
  let file;
  try {
    file = path.resolve(dir, `.${decodeURIComponent(rest)}`);
  } catch {
    return undefined;
  }
  if (!file.startsWith(dir + path.sep)) return undefined;
  try {
    return statSync(file).isFile() ? file : undefined;
  } catch {
    return undefined;
  }
}

function resolveFile(urlPath) {
  if (urlPath.startsWith('/tensor/')) return fileUnder(distDir, urlPath.slice('/tensor'.length));
  if (urlPath.startsWith('/e2e/') && urlPath.endsWith('.mjs')) return fileUnder(here, urlPath.slice('/e2e'.length));
  return undefined;
}

async function serve(isolated) {
  const headers = { 'cache-control': 'no-cache', ...(isolated ? ISOLATION : {}) };
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname === '/') {
      res.writeHead(200, { ...headers, 'content-type': 'text/html; charset=utf-8' }).end(PAGE);
      return;
    }
    const file = resolveFile(url.pathname);
    if (!file) {
      res.writeHead(404, headers).end();
      return;
    }
    res.writeHead(200, { ...headers, 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream' });
    res.end(readFileSync(file));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, origin: `http://127.0.0.1:${server.address().port}` };
}

const sites = [
  { name: 'isolated', isolated: true, ...(await serve(true)) },
  { name: 'not isolated', isolated: false, ...(await serve(false)) },
];

// ---- the browser

const problems = [];

/** Opens the page of `site`, waits for its report and returns it (undefined on failure). */
async function visit(site) {
  const page = await browser.newPage();
  const where = site.name;
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(`${where}: console error: ${msg.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`${where}: page error: ${err.message}`));
  page.on('requestfailed', (req) => problems.push(`${where}: request failed: ${req.url()} (${req.failure()?.errorText ?? 'unknown'})`));
  page.on('response', (res) => {
    if (res.status() >= 400) problems.push(`${where}: HTTP ${res.status()}: ${res.url()}`);
  });
  page.on('request', (req) => {
    const u = new URL(req.url());
    if (!['data:', 'blob:'].includes(u.protocol) && u.origin !== site.origin) problems.push(`${where}: request to another host: ${req.url()}`);
  });
  try {
    const t0 = Date.now();
    await page.goto(`${site.origin}/`, { waitUntil: 'load' });
    const left = Math.max(1000, timeout - (Date.now() - started));
    await page.waitForFunction(() => document.body?.dataset.done === 'true', undefined, { timeout: left, polling: 100 });
    const report = await page.evaluate(() => window.__e2e);
    report.seconds = (Date.now() - t0) / 1000;
    return report;
  } catch (e) {
    problems.push(`${where}: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
    return undefined;
  } finally {
    await page.close();
  }
}

const { chromium } = await import('playwright-core');
log(`tensor wasm e2e: Chromium at ${executablePath}; isolated ${sites[0].origin}, not isolated ${sites[1].origin}`);
const browser = await chromium.launch({ executablePath, headless: true, args: CHROMIUM_ARGS });
try {
  for (const site of sites) site.report = await visit(site);
} finally {
  await browser.close();
  for (const site of sites) site.server.close();
}

// ---- the checks

function decode(b64) {
  const buf = Buffer.from(b64, 'base64');
  return new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
}

/** Every probe of every page, with where it ran and what it should have found. */
const probes = [];
for (const site of sites) {
  const r = site.report;
  if (!r) continue;
  if (r.error) problems.push(`${site.name}: the page failed: ${r.error}`);
  const envs = [['page', r.env]];
  if (r.worker && !r.worker.ok) problems.push(`${site.name}: the worker failed: ${r.worker.error}`);
  if (r.worker?.ok) envs.push(['worker', r.worker.env]);
  for (const [ctx, env] of envs) {
    if (!env) continue;
    const sab = site.isolated ? 'function' : 'undefined';
    if (env.crossOriginIsolated !== site.isolated || env.sharedArrayBuffer !== sab) {
      problems.push(`${site.name} ${ctx}: crossOriginIsolated ${env.crossOriginIsolated}, typeof SharedArrayBuffer '${env.sharedArrayBuffer}'; expected ${site.isolated}, '${sab}'`);
    }
  }
  for (const p of [...(r.page ?? []), ...(r.worker?.ok ? r.worker.probes : [])]) {
    const inWorker = p.label.startsWith('worker');
    const wasm = p.request !== null;
    // only a worker of an isolated page may block and share memory
    const threads = !wasm ? null : inWorker && site.isolated ? (p.request.threads ?? r.env.cores) : 1;
    probes.push({ site, probe: p, wasm, threads, results: Object.fromEntries(Object.entries(p.results).map(([k, v]) => [k, decode(v)])) });
  }
  if (!r.page?.length) problems.push(`${site.name}: the page reported no probes`);
}

for (const { site, probe: p, wasm, threads } of probes) {
  const where = `${site.name}, ${p.label}`;
  if (!wasm) continue;
  if (p.threads !== threads) problems.push(`${where}: runtime.threads is ${p.threads}, expected ${threads}`);
  if (p.memories !== 1) problems.push(`${where}: ${p.memories} WebAssembly memories were made, expected 1`);
  else {
    if (p.sharedMemory !== site.isolated) problems.push(`${where}: the memory is ${p.sharedMemory ? '' : 'not '}shared, expected ${site.isolated ? 'shared' : 'unshared'}`);
    if (!(p.memoryBytes[1] > p.memoryBytes[0])) problems.push(`${where}: the memory did not grow (${p.memoryBytes.join(' → ')} bytes), so its growth went untested: make 'matmul (800, 8)·(8, 1200)' larger`);
  }
  if (p.poolStarted !== threads - 1) problems.push(`${where}: ${p.poolStarted} pool workers started, expected ${threads - 1}`);
  if (p.poolUnknown > 0) problems.push(`${where}: cannot tell whether ${p.poolUnknown} pool worker(s) computed (the runtime posted them no memory and scratch address)`);
  else {
    const joined = new Set(Object.values(p.poolInCase).flat());
    if (joined.size !== p.poolStarted) problems.push(`${where}: only ${joined.size} of ${p.poolStarted} pool workers computed work items of the cases`);
  }
  for (const e of p.poolErrors) problems.push(`${where}: a pool worker raised: ${e}`);
  for (const c of CASES) {
    if (p.inMemory[c.name] !== true) problems.push(`${where}: ${c.name}: the result is not in the runtime's linear memory (did WebAssembly compute it?)`);
  }
}

/** The results every WebAssembly result must equal bit for bit: the isolated worker on 1 thread. */
const base = probes.find((q) => q.site.isolated && q.probe.label === 'worker, threads 1');
if (!base) problems.push('no results from the isolated page\'s worker on 1 thread to compare with');

/** Checks `got` against the float64 reference; returns the worst |error| / tolerance. */
function checkTolerance(where, c, got) {
  const ref = refs[c.name];
  if (got.length !== ref.length) {
    problems.push(`${where}: ${c.name}: ${got.length} values, expected ${ref.length}`);
    return NaN;
  }
  const tol = 1e-5 * Math.sqrt(c.k);
  let worst = 0;
  let bad = 0;
  let first = '';
  for (let i = 0; i < ref.length; i++) {
    const err = Math.abs(got[i] - ref[i]);
    if (!(err <= tol) && bad++ === 0) first = `[${i}]: got ${got[i]}, float64 ${ref[i]}`;
    if (err > worst || Number.isNaN(err)) worst = Number.isNaN(err) ? Infinity : err;
  }
  if (bad) problems.push(`${where}: ${c.name}: ${bad} of ${ref.length} values off the float64 reference by more than ${tol.toExponential(2)}, first ${first}`);
  return worst / tol;
}

const worstRatio = {};
if (base) {
  for (const c of CASES) worstRatio[c.name] = checkTolerance('isolated, worker, threads 1', c, base.results[c.name]);
  for (const q of probes) {
    const where = `${q.site.name}, ${q.probe.label}`;
    for (const c of CASES) {
      const got = q.results[c.name];
      const want = base.results[c.name];
      if (!got) {
        problems.push(`${where}: ${c.name}: no result`);
        continue;
      }
      if (!q.wasm) {
        q.tsRatio = Math.max(q.tsRatio ?? 0, checkTolerance(where, c, got));
        const a = new Uint32Array(got.buffer, got.byteOffset, got.length);
        const b = new Uint32Array(want.buffer, want.byteOffset, want.length);
        q.sameBits = (q.sameBits ?? 0) + a.filter((x, i) => x === b[i]).length;
        q.total = (q.total ?? 0) + a.length;
        continue;
      }
      if (q === base) continue;
      const a = new Uint32Array(got.buffer, got.byteOffset, got.length);
      const b = new Uint32Array(want.buffer, want.byteOffset, want.length);
      let bad = a.length === b.length ? 0 : Math.max(a.length, b.length);
      let first = a.length === b.length ? '' : ` (${a.length} values, expected ${b.length})`;
      for (let i = 0; i < Math.min(a.length, b.length); i++) {
        if (a[i] !== b[i] && bad++ === 0) first = `, first [${i}]: ${got[i]} vs ${want[i]}`;
      }
      if (bad) problems.push(`${where}: ${c.name}: ${bad} values differ from the isolated worker's 1-thread results${first}`);
      else q.identical = (q.identical ?? 0) + 1;
    }
  }
}

// ---- the report

const sum = (o) => Object.values(o).reduce((a, b) => a + b, 0);
const pad = (s, n) => String(s).padEnd(n);
const rows = [['origin', 'context', 'threads', 'pool workers', 'memory', 'load', 'cases', 'results']];
for (const q of probes) {
  const p = q.probe;
  const asked = p.request === null ? '' : ` (asked ${p.request.threads ?? 'default'})`;
  const results = !q.wasm
    ? `TypeScript kernels: within ${q.tsRatio?.toFixed(2)}·tol, ${q.sameBits}/${q.total} values bit-equal to WASM`
    : q === base
      ? `the reference: within ${Math.max(...Object.values(worstRatio)).toFixed(2)}·tol of float64`
      : `${q.identical ?? 0}/${CASES.length} cases bit-identical to the reference`;
  rows.push([
    q.site.name,
    p.label.replace(/, threads \d+| kernels|, default threads/g, ''),
    q.wasm ? `${p.threads}${asked}` : '-',
    !q.wasm ? '-' : p.poolStarted === 0 ? 'none' : `${p.poolStarted}, in ${Object.values(p.poolInCase).filter((w) => w.length > 0).length}/${CASES.length} cases`,
    q.wasm ? `${p.sharedMemory ? 'shared' : 'unshared'}, ${p.memoryBytes.map((b) => (b / 2 ** 20).toFixed(1)).join('→')} MiB` : '-',
    q.wasm ? `${p.loadMs.toFixed(0)} ms` : '-',
    `${sum(p.ms).toFixed(0)} ms`,
    results,
  ]);
}
const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
log('');
for (const r of rows) log(`  ${r.map((s, i) => pad(s, widths[i])).join('  ')}`.trimEnd());

// per-case times where it is interesting: the isolated worker on 3 threads, on 1, and in TypeScript
const timed = probes.filter((q) => q.site.isolated && q.probe.label.startsWith('worker'));
if (timed.length) {
  const w = Math.max(...CASES.map((c) => c.name.length)) + 2;
  log('');
  log(`  ${pad('ms in the isolated page\'s worker', w)}${timed.map((q) => pad(q.probe.label.replace('worker, ', ''), 20)).join('')}worst error / tolerance`);
  for (const c of CASES) {
    log(`  ${pad(c.name, w)}${timed.map((q) => pad(q.probe.ms[c.name]?.toFixed(1) ?? '-', 20)).join('')}${worstRatio[c.name]?.toFixed(3) ?? '-'}`);
  }
}

// how soon the pool joins: a browser starts a worker only when its creator returns to its event loop
for (const q of probes.filter((x) => x.probe.poolStarted > 0 && x.probe.poolJoinMs !== undefined)) {
  const p = q.probe;
  log('');
  log(`  ${q.site.name}, ${p.label}: ${p.poolJoinedAtOnce} of ${p.poolStarted} pool workers joined the jobs run right after loading; all had joined ${p.poolJoinMs.toFixed(0)} ms after loading, with this thread yielding between jobs.`);
}

clearTimeout(watchdog);
const secs = ((Date.now() - started) / 1000).toFixed(1);
if (problems.length) {
  console.error(`\ntensor wasm e2e: FAILED (${secs} s): ${problems.length} problem(s):\n${problems.map((p) => `  ${p}`).join('\n')}`);
  process.exit(1);
}
log(`\ntensor wasm e2e: passed (${secs} s)`);
