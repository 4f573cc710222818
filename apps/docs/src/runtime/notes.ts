/**
 * The notes, bundled by webpack from `notes/*.ts`: each note's source text (shown in the page,
 * exactly the file that runs) and its compiled module (loaded on the first Run, one chunk per note).
 */
import type { NoteRun } from './context';

const sources = require.context('!!raw-loader!../../notes', false, /^\.\/[\w.-]+\.ts$/);
const modules = require.context('../../notes', false, /^\.\/[\w.-]+\.ts$/, 'lazy');

const keyOf = (slug: string) => `./${slug}.ts`;

/** The slugs of every note (file names without `.ts`). */
export function noteSlugs(): string[] {
  return sources
    .keys()
    .filter((k) => k.startsWith('./'))
    .map((k) => k.slice(2, -3))
    .sort();
}

/** The note's source text, or undefined when there is no `notes/<slug>.ts`. */
export function noteSource(slug: string): string | undefined {
  if (!sources.keys().includes(keyOf(slug))) return undefined;
  const mod = sources(keyOf(slug)) as { default: string } | string;
  return typeof mod === 'string' ? mod : mod.default;
}

/** The note's bundled `run` function (its default export). */
export async function loadNote(slug: string): Promise<NoteRun> {
  const mod = (await modules(keyOf(slug))) as { default?: unknown };
  if (typeof mod.default !== 'function') {
    throw new Error(`notes/${slug}.ts must \`export default async function run(ctx)\``);
  }
  return mod.default as NoteRun;
}

/**
 * Loads a note file that another note imports (`./other.js`, `./other.ts` or `./other`), or
 * returns undefined when there is no such file in notes/.
 */
export async function loadSibling(request: string): Promise<unknown> {
  const key = `${request.replace(/\.(ts|js)$/, '')}.ts`;
  return modules.keys().includes(key) ? modules(key) : undefined;
}
