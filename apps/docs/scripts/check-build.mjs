// Checks the built site after `docusaurus build`: every page rendered on the server (not an error
// page: a component that throws while rendering can leave one behind), no formula rendered as a
// KaTeX error, and the API reference is there. Exits non-zero with the offending pages.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const buildDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'build');
const problems = [];

function* htmlFiles(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (full !== path.join(buildDir, 'api')) yield* htmlFiles(full);
    } else if (entry.name.endsWith('.html')) yield full;
  }
}

if (!existsSync(buildDir)) {
  problems.push(`no build output at ${buildDir}`);
} else {
  let pages = 0;
  for (const file of htmlFiles(buildDir)) {
    pages++;
    const html = readFileSync(file, 'utf8');
    const rel = path.relative(buildDir, file);
    if (!html.includes('<main') || !html.includes('navbar') || html.includes('This page crashed')) {
      problems.push(`${rel}: the page did not render on the server (an error page was built instead)`);
    }
    const errors = html.match(/class="katex-error"[^>]*>[^<]*/g);
    if (errors) {
      for (const e of errors) {
        const title = /title="([^"]*)"/.exec(e)?.[1] ?? '';
        problems.push(`${rel}: KaTeX error ${title}`.trim());
      }
    }
  }
  if (!existsSync(path.join(buildDir, 'api', 'index.html'))) problems.push('the API reference (api/index.html) is missing');
  if (problems.length === 0) console.log(`check-build: ${pages} pages rendered, no math errors, API reference present`);
}

if (problems.length > 0) {
  console.error(`check-build: ${problems.length} problem(s):\n${problems.map((p) => `  ${p}`).join('\n')}`);
  process.exit(1);
}
