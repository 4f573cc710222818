/**
 * Runs a note the reader edited: TypeScript → JavaScript with sucrase (in the page), then the
 * module is evaluated with a `require` that hands it the same bundled modules the original note
 * uses (`@ml/tensor`, `@ml/autograd`, `@ml/gpu-webgpu`, `@ml/nn`, `@ml/optim`, `@ml/data`,
 * `@observablehq/plot`, sibling notes), so
 * an edited note behaves like a file.
 */
import type { NoteRun } from './context';
import { loadSibling } from './notes';

const PACKAGES: Record<string, () => Promise<unknown>> = {
  '@ml/tensor': () => import('@ml/tensor'),
  '@ml/autograd': () => import('@ml/autograd'),
  '@ml/gpu-webgpu': () => import('@ml/gpu-webgpu'),
  '@ml/nn': () => import('@ml/nn'),
  '@ml/optim': () => import('@ml/optim'),
  '@ml/data': () => import('@ml/data'),
  '@observablehq/plot': () => import('@observablehq/plot'),
};

/** The context module only holds types; an import of it that survives compilation gets nothing. */
const TYPES_ONLY = /(^|\/)src\/runtime\/context(\.js|\.ts)?$/;

async function resolveImport(request: string): Promise<unknown> {
  const pkg = PACKAGES[request];
  if (pkg) return pkg();
  if (TYPES_ONLY.test(request)) return {};
  if (request.startsWith('./')) {
    const mod = await loadSibling(request);
    if (mod !== undefined) return mod;
  }
  const available = [...Object.keys(PACKAGES), './<another note>.js'].join(', ');
  throw new Error(`Cannot import "${request}" here: a note can import ${available}`);
}

/** Compiles the edited source of `notes/<slug>.ts` and returns its default export. */
export async function compileNote(source: string, slug: string): Promise<NoteRun> {
  const { transform } = await import('sucrase');
  const file = `notes/${slug}.ts`;
  let code: string;
  try {
    code = transform(source, { transforms: ['typescript', 'imports'], filePath: file }).code;
  } catch (e) {
    throw new SyntaxError(`${file}: ${e instanceof Error ? e.message : String(e)}`);
  }

  const requests = new Set([...code.matchAll(/\brequire\((['"])([^'"]+)\1\)/g)].map((m) => m[2]));
  const loaded = new Map<string, unknown>();
  for (const request of requests) loaded.set(request, await resolveImport(request));
  const requireFn = (request: string): unknown => {
    if (!loaded.has(request)) throw new Error(`Cannot import "${request}" here`);
    return loaded.get(request);
  };

  const module = { exports: {} as Record<string, unknown> };
  const evaluate = new Function('exports', 'require', 'module', `${code}\n//# sourceURL=${file}`);
  evaluate(module.exports, requireFn, module);
  const run = module.exports.default;
  if (typeof run !== 'function') {
    throw new Error(`${file} must \`export default async function run(ctx)\``);
  }
  return run as NoteRun;
}
