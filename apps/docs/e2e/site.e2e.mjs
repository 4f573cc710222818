// The browser test of the built site: serves apps/docs/build on a free localhost port, opens every
// page of the sitemap in Chromium, runs every note with its Run button, and fails on any console
// error, page error, failed request, note error, empty output or missing plot. Saves a full-page
// screenshot of every page to apps/docs/artifacts/screenshots/<path>.png. Chromium runs with
// WebGPU on SwiftShader, so the notes run on the WebGPU backend (the badge says which ran).
//
//   pnpm --filter @ml/docs test:e2e        (after `pnpm docs:build`)
//
// Environment: CHROMIUM (default /usr/bin/chromium); E2E_RUN_TIMEOUT_MS (default 120000) per
// note; E2E_ONLY (a substring: only pages whose path contains it); E2E_WEBGPU=0 runs Chromium
// without a GPU (the notes then run on the CPU backend). Without Chromium the test is skipped,
// unless CI is set, where it fails.
import { createReadStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const siteDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const buildDir = path.join(siteDir, 'build');
const shotsDir = path.join(siteDir, 'artifacts', 'screenshots');
const executablePath = process.env.CHROMIUM ?? '/usr/bin/chromium';
const runTimeout = Number(process.env.E2E_RUN_TIMEOUT_MS ?? 120_000);
const only = process.env.E2E_ONLY;
const webgpu = process.env.E2E_WEBGPU !== '0';

const CHROMIUM_ARGS = [
  '--headless=new',
  '--no-sandbox',
  // WebGPU on SwiftShader (a Vulkan GPU emulated on the CPU): the notes run on the page's WebGPU
  // backend, as they do for a reader whose browser has a GPU.
  ...(webgpu ? ['--enable-unsafe-webgpu', '--use-webgpu-adapter=swiftshader'] : ['--disable-gpu']),
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
    console.error(`e2e: FAILED: no Chromium at ${executablePath} (CI is set, so the browser test cannot be skipped).`);
    process.exit(1);
  }
  log(`e2e: SKIPPED: no Chromium at ${executablePath}. Install it (apt-get install chromium) or set CHROMIUM=<path>.`);
  process.exit(0);
}
if (!existsSync(path.join(buildDir, 'sitemap.xml'))) {
  console.error(`e2e: FAILED: no built site at ${buildDir} (run \`pnpm docs:build\` first).`);
  process.exit(1);
}

// ---- a static server with Docusaurus's conventions (/a/b → a/b.html or a/b/index.html)

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.xml': 'application/xml; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.map': 'application/json; charset=utf-8',
};

function isFile(p) {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

/** The file for a URL path, or undefined. */
function resolveFile(urlPath) {
  let rel;
  try {
    rel = decodeURIComponent(urlPath);
  } catch {
    return undefined;
  }
  const base = path.resolve(buildDir, `.${rel}`);
  if (base !== buildDir && !base.startsWith(buildDir + path.sep)) return undefined;
  const candidates = rel.endsWith('/')
    ? [path.join(base, 'index.html')]
    : [base, `${base}.html`, path.join(base, 'index.html')];
  return candidates.find(isFile);
}

const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const file = resolveFile(url.pathname);
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405).end();
    return;
  }
  if (!file) {
    const notFound = path.join(buildDir, '404.html');
    res.writeHead(404, { 'content-type': TYPES['.html'] });
    if (req.method === 'HEAD' || !isFile(notFound)) res.end();
    else createReadStream(notFound).pipe(res);
    return;
  }
  res.writeHead(200, {
    'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream',
    'content-length': statSync(file).size,
    'cache-control': 'no-cache',
  });
  if (req.method === 'HEAD') res.end();
  else createReadStream(file).pipe(res);
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const origin = `http://127.0.0.1:${server.address().port}`;

// ---- the pages

const sitemap = readFileSync(path.join(buildDir, 'sitemap.xml'), 'utf8');
const pagePaths = [...sitemap.matchAll(/<loc>([^<]+)<\/loc>/g)]
  .map((m) => new URL(m[1].replace(/&amp;/g, '&')).pathname)
  .filter((p) => !only || p.includes(only))
  .sort();
const extraPaths = only ? [] : ['/api/index.html'];
if (pagePaths.length === 0 && extraPaths.length === 0) {
  console.error(`e2e: FAILED: the sitemap lists no pages${only ? ` matching "${only}"` : ''}.`);
  process.exit(1);
}

function screenshotPath(urlPath) {
  let rel = urlPath.replace(/^\/+/, '').replace(/\.html$/, '').replace(/\/+$/, '');
  if (rel === '') rel = 'index';
  return path.join(shotsDir, `${rel}.png`);
}

// ---- the checks

/** The note whose Runnable also gets the interaction checks (edit, error, stop, reset). */
const INTERACTION_NOTE = 'hello-tensor';

const STOPPABLE_NOTE = `import type { NoteContext } from '../src/runtime/context.js';

export default async function run(ctx: NoteContext) {
  ctx.print('looping until stopped');
  for (let i = 0; ; i++) await ctx.progress((i % 1000) / 1000, \`step \${i}\`);
}
`;

async function waitForEnd(page, handle) {
  await page.waitForFunction(
    (el) => ['done', 'error', 'stopped'].includes(el.getAttribute('data-status') ?? ''),
    handle,
    { timeout: runTimeout, polling: 100 },
  );
}

/** Checks that the highlighted code and the textarea over it have the same size (same wrapping). */
async function checkEditorOverlay(r, slug, problems) {
  const sizes = await r.evaluate((el) => {
    const ta = el.querySelector('textarea');
    const pre = ta?.parentElement?.querySelector('pre');
    if (!ta || !pre) return null;
    return { pre: pre.getBoundingClientRect().height, ta: ta.clientHeight, scroll: ta.scrollHeight };
  });
  if (!sizes) problems.push(`note ${slug}: no code editor`);
  else if (Math.abs(sizes.pre - sizes.ta) > 1 || sizes.scroll > sizes.ta + 1) {
    problems.push(`note ${slug}: the editor's text and its highlighting differ in size (${JSON.stringify(sizes)})`);
  }
}

/** Edits and reruns a note: an edit that runs, one that fails, one that is stopped, then Reset. */
async function checkInteractions(page, r, handle, source, problems) {
  const textarea = r.locator('textarea');
  const button = r.locator('[data-testid="run-button"]');
  const output = r.locator('[data-testid="run-output"]');
  const step = async (name, code, expectStatus, expectText, { stop = false } = {}) => {
    await textarea.fill(code);
    if ((await button.innerText()).trim() !== 'Run edited') problems.push(`${name}: the button does not say "Run edited"`);
    await button.click();
    if (stop) {
      await r.locator('[data-testid="stop-button"]').click({ timeout: 10_000 });
    }
    await waitForEnd(page, handle);
    const status = await r.getAttribute('data-status');
    const text = await output.innerText();
    if (status !== expectStatus) problems.push(`${name}: status ${status}, expected ${expectStatus}: ${text.slice(0, 300)}`);
    else if (!expectText.test(text)) problems.push(`${name}: output does not match ${expectText}: ${text.slice(0, 300)}`);
  };

  const okEdit = source.replace("ctx.print(String(c));", "ctx.print('edited in the page', String(c));");
  const badEdit = source.replace('tensor([10, 20, 30])', 'tensor([10, 20])');
  if (okEdit === source || badEdit === source) {
    problems.push(`interactions: notes/${INTERACTION_NOTE}.ts no longer has the lines this test edits`);
    return;
  }
  await step('edited run', okEdit, 'done', /edited in the page Tensor\(shape=\(2, 3\)/);
  await step('edited run with an error', badEdit, 'error', /add|broadcast/i);
  await step('stopped run', STOPPABLE_NOTE, 'stopped', /looping until stopped[\s\S]*stopped/, { stop: true });
  await r.getByRole('button', { name: 'Reset' }).click();
  if ((await textarea.inputValue()) !== source) problems.push('reset: the source was not restored');
  if ((await button.innerText()).trim() !== 'Run') problems.push('reset: the button does not say "Run"');
  await button.click();
  await waitForEnd(page, handle);
  if ((await r.getAttribute('data-status')) !== 'done') problems.push('reset: the original note does not run again');
  log('  edit, error, stop and reset checked');
}

// ---- the browser

const { chromium } = await import('playwright-core');
const userDataDir = mkdtempSync(path.join(tmpdir(), 'ml-docs-e2e-'));
rmSync(shotsDir, { recursive: true, force: true });
const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath,
  headless: true,
  args: CHROMIUM_ARGS,
  viewport: { width: 1280, height: 900 },
  colorScheme: 'light',
  reducedMotion: 'reduce',
});

const failures = [];
let interactionsChecked = false;
const summary = [];
const started = Date.now();

async function visit(urlPath, { notes }) {
  const problems = [];
  const page = await context.newPage();
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(`console error: ${msg.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('requestfailed', (req) => {
    problems.push(`request failed: ${req.url()} (${req.failure()?.errorText ?? 'unknown'})`);
  });
  page.on('response', (res) => {
    if (res.status() >= 400) problems.push(`HTTP ${res.status()}: ${res.url()}`);
  });
  page.on('request', (req) => {
    const u = new URL(req.url());
    if (!['data:', 'blob:'].includes(u.protocol) && u.origin !== origin) {
      problems.push(`request to another host: ${req.url()}`);
    }
  });

  const t0 = Date.now();
  let ran = 0;
  try {
    const response = await page.goto(origin + urlPath, { waitUntil: 'load' });
    if (!response || !response.ok()) problems.push(`navigation: HTTP ${response?.status() ?? 'no response'}`);
    if (notes) {
      const runnables = page.locator('[data-testid="runnable"]');
      const count = await runnables.count();
      for (let i = 0; i < count; i++) {
        const r = runnables.nth(i);
        const slug = await r.getAttribute('data-note');
        await r.scrollIntoViewIfNeeded();
        const handle = await r.elementHandle();
        // The Run button works once the page is hydrated.
        await page.waitForFunction((el) => el.getAttribute('data-ready') === 'true', handle, { timeout: 30_000 });
        const source = await r.locator('textarea').inputValue();
        const tRun = Date.now();
        await r.locator('[data-testid="run-button"]').click();
        await waitForEnd(page, handle);
        const status = await r.getAttribute('data-status');
        const output = r.locator('[data-testid="run-output"]');
        const ms = Date.now() - tRun;
        if (status !== 'done') {
          const text = (await output.innerText()).trim().split('\n').slice(0, 6).join(' | ');
          problems.push(`note ${slug}: status ${status}: ${text}`);
          continue;
        }
        const text = (await output.innerText()).trim();
        const elements = await output.locator('pre, table, svg, figure').count();
        if (text === '' && elements === 0) problems.push(`note ${slug}: the output panel is empty`);
        if (/\bctx\.plot\s*\(/.test(source)) {
          const svgs = await output.locator('[data-testid="run-figure"] svg').count();
          if (svgs === 0) problems.push(`note ${slug}: calls ctx.plot but no plot SVG appeared`);
        }
        const badge = await r.locator('[data-testid="backend-badge"]').textContent().catch(() => null);
        if (!badge) problems.push(`note ${slug}: no backend badge after the run`);
        ran++;
        log(`  ran ${slug} on ${badge ?? '?'} in ${ms} ms`);
        await checkEditorOverlay(r, slug, problems);
        if (slug === INTERACTION_NOTE) {
          await checkInteractions(page, r, handle, source, problems);
          interactionsChecked = true;
        }
      }
    }
    const shot = screenshotPath(urlPath);
    mkdirSync(path.dirname(shot), { recursive: true });
    await page.screenshot({ path: shot, fullPage: true });
  } catch (e) {
    problems.push(`${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
  } finally {
    await page.close();
  }
  const secs = ((Date.now() - t0) / 1000).toFixed(1);
  summary.push(`${problems.length ? 'FAIL' : 'ok  '} ${urlPath} (${ran} note${ran === 1 ? '' : 's'} run, ${secs} s)`);
  for (const p of problems) failures.push(`${urlPath}: ${p}`);
  log(`${problems.length ? 'FAIL' : 'ok  '} ${urlPath}${problems.map((p) => `\n    ${p}`).join('')}`);
}

try {
  log(`e2e: ${pagePaths.length} pages from the sitemap, served from ${origin}, Chromium at ${executablePath}, ${webgpu ? 'WebGPU on SwiftShader' : 'no GPU (E2E_WEBGPU=0)'}`);
  for (const p of pagePaths) await visit(p, { notes: true });
  for (const p of extraPaths) await visit(p, { notes: false });
} finally {
  await context.close();
  server.close();
  rmSync(userDataDir, { recursive: true, force: true });
}

if (!interactionsChecked && !only) failures.push(`no page runs notes/${INTERACTION_NOTE}.ts, so edit/stop/reset went unchecked`);
const secs = ((Date.now() - started) / 1000).toFixed(1);
log(`\ne2e summary (${secs} s):\n${summary.map((s) => `  ${s}`).join('\n')}`);
log(`screenshots: ${path.relative(process.cwd(), shotsDir) || shotsDir}`);
if (failures.length > 0) {
  console.error(`\ne2e: FAILED: ${failures.length} problem(s):\n${failures.map((f) => `  ${f}`).join('\n')}`);
  process.exit(1);
}
log('e2e: passed');
