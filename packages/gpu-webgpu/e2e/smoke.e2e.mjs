// The browser smoke test of @ml/gpu-webgpu: serves a tiny page that loads the built ESM of
// @ml/tensor and @ml/gpu-webgpu through an import map, opens it in headless Chromium with WebGPU
// on SwiftShader (no GPU needed), runs e2e/program.mjs on `await webgpu()` and checks every value
// against the same program run here in Node on the CPU backend. Fails on any console error, page
// error, failed request or value out of tolerance.
//
//   pnpm --filter @ml/gpu-webgpu test:e2e     (after `pnpm turbo run build --filter=@ml/gpu-webgpu...`)
//
// Environment: CHROMIUM (default /usr/bin/chromium); E2E_TIMEOUT_MS (default 120000). Without
// Chromium the test is skipped, unless CI is set, where it fails.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const pkgDir = path.resolve(here, '..');
const roots = {
  '/tensor/': path.resolve(pkgDir, '../tensor/dist'),
  '/gpu-webgpu/': path.join(pkgDir, 'dist'),
};
const executablePath = process.env.CHROMIUM ?? '/usr/bin/chromium';
const timeout = Number(process.env.E2E_TIMEOUT_MS ?? 120_000);

const CHROMIUM_ARGS = [
  '--headless=new',
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  '--use-webgpu-adapter=swiftshader',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** float32 agreement between the page (WebGPU) and Node (CPU): see the README's tolerances. */
const RTOL = 1e-5;
const ATOL = 1e-6;

function log(line) {
  process.stdout.write(`${line}\n`);
}

// ---- preconditions

if (!existsSync(executablePath)) {
  if (process.env.CI) {
    console.error(`gpu-webgpu e2e: FAILED: no Chromium at ${executablePath} (CI is set, so the browser smoke test cannot be skipped).`);
    process.exit(1);
  }
  log(`gpu-webgpu e2e: SKIPPED: no Chromium at ${executablePath}. Install it (apt-get install chromium) or set CHROMIUM=<path>.`);
  process.exit(0);
}
for (const dir of Object.values(roots)) {
  if (!existsSync(path.join(dir, 'index.js'))) {
    console.error(`gpu-webgpu e2e: FAILED: no build at ${dir} (run \`pnpm turbo run build --filter=@ml/gpu-webgpu...\` first).`);
    process.exit(1);
  }
}

// ---- the expected values: the same program on the CPU backend

const T = await import(pathToFileURL(path.join(roots['/tensor/'], 'index.js')).href);
const { program } = await import(pathToFileURL(path.join(here, 'program.mjs')).href);
const expected = await program(T, T.createCpuBackend());

// ---- the page

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>@ml/gpu-webgpu smoke test</title>
<link rel="icon" href="data:,">
<script type="importmap">
{ "imports": { "@ml/tensor": "/tensor/index.js", "@ml/gpu-webgpu": "/gpu-webgpu/index.js" } }
</script>
<script type="module">
import * as T from '@ml/tensor';
import { webgpu } from '@ml/gpu-webgpu';
import { program } from '/program.mjs';
try {
  const gpu = await webgpu();
  const result = await program(T, gpu);
  window.__smoke = { ok: true, adapter: gpu.adapterName, result };
  gpu.destroy();
} catch (e) {
  window.__smoke = { ok: false, error: e instanceof Error ? e.stack || e.message : String(e) };
}
document.body.dataset.done = 'true';
</script>
</head>
<body><p>@ml/gpu-webgpu smoke test</p></body>
</html>
`;

const TYPES = { '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8', '.map': 'application/json; charset=utf-8' };

/** The file for a URL path under one of the served roots, or undefined. */
function resolveFile(urlPath) {
  if (urlPath === '/program.mjs') return path.join(here, 'program.mjs');
  for (const [prefix, dir] of Object.entries(roots)) {
    if (!urlPath.startsWith(prefix)) continue;
    const file = path.resolve(dir, `.${decodeURIComponent(urlPath.slice(prefix.length - 1))}`);
    if (!file.startsWith(dir + path.sep)) return undefined;
    try {
      return statSync(file).isFile() ? file : undefined;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (url.pathname === '/') {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache' }).end(PAGE);
    return;
  }
  const file = resolveFile(url.pathname);
  if (!file) {
    res.writeHead(404).end();
    return;
  }
  res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-cache' });
  res.end(readFileSync(file));
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const origin = `http://127.0.0.1:${server.address().port}`;

// ---- the browser

const problems = [];
const started = Date.now();
const { chromium } = await import('playwright-core');
const browser = await chromium.launch({ executablePath, headless: true, args: CHROMIUM_ARGS });
let smoke;
try {
  const page = await browser.newPage();
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(`console error: ${msg.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('requestfailed', (req) => problems.push(`request failed: ${req.url()} (${req.failure()?.errorText ?? 'unknown'})`));
  page.on('response', (res) => {
    if (res.status() >= 400) problems.push(`HTTP ${res.status()}: ${res.url()}`);
  });
  page.on('request', (req) => {
    const u = new URL(req.url());
    if (!['data:', 'blob:'].includes(u.protocol) && u.origin !== origin) problems.push(`request to another host: ${req.url()}`);
  });
  log(`gpu-webgpu e2e: ${origin}, Chromium at ${executablePath}`);
  await page.goto(`${origin}/`, { waitUntil: 'load' });
  await page.waitForFunction(() => document.body?.dataset.done === 'true', undefined, { timeout, polling: 100 });
  smoke = await page.evaluate(() => window.__smoke);
} catch (e) {
  problems.push(e instanceof Error ? e.message.split('\n')[0] : String(e));
} finally {
  await browser.close();
  server.close();
}

// ---- the checks

function compare(label, got, want, { exact = false } = {}) {
  const g = [got].flat(Infinity);
  const w = [want].flat(Infinity);
  if (g.length !== w.length) {
    problems.push(`${label}: ${g.length} values, expected ${w.length}`);
    return;
  }
  let bad = 0;
  let first = '';
  for (let i = 0; i < w.length; i++) {
    const ok = exact ? Object.is(g[i], w[i]) : Math.abs(g[i] - w[i]) <= ATOL + RTOL * Math.abs(w[i]);
    if (!ok && bad++ === 0) first = `[${i}]: got ${g[i]}, want ${w[i]}`;
  }
  if (bad) problems.push(`${label}: ${bad} of ${w.length} values differ (${exact ? 'bit-exact' : `rtol ${RTOL}, atol ${ATOL}`}), first ${first}`);
  else log(`  ${label}: ${w.length} values agree${exact ? ' bit for bit' : ''}`);
}

if (smoke && !smoke.ok) problems.push(`the program failed in the page: ${smoke.error}`);
if (smoke?.ok) {
  const got = smoke.result;
  log(`  adapter: ${smoke.adapter}`);
  compare('random.uniform', got.uniform, expected.uniform, { exact: true });
  compare('random.normal (erfinv)', got.weights, expected.weights);
  compare('matmul (2, 3)·(3, 4)', got.logits, expected.logits);
  compare('softmax', got.softmax, expected.softmax);
  compare('softmax rows sum to 1', got.softmaxRowSums, [1, 1]);
  compare('matmul (37, 19)·(19, 23), row sums', got.rowSums, expected.rowSums);
  if (got.memory.tensors !== 0 || got.memory.buffers !== 0 || got.memory.bytes !== 0) {
    problems.push(`memory after the program: ${JSON.stringify(got.memory)}, expected no live tensors, buffers or bytes`);
  } else log('  memory: back to 0 tensors, 0 buffers, 0 bytes');
} else if (!smoke) problems.push('the page reported no result');

const secs = ((Date.now() - started) / 1000).toFixed(1);
if (problems.length) {
  console.error(`gpu-webgpu e2e: FAILED (${secs} s): ${problems.length} problem(s):\n${problems.map((p) => `  ${p}`).join('\n')}`);
  process.exit(1);
}
log(`gpu-webgpu e2e: passed (${secs} s)`);
