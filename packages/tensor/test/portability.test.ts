import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

describe('browser portability', () => {
  it('src imports no Node built-ins and uses no Node globals', () => {
    const offenders = sources(join(root, 'src')).filter((file) => {
      const text = readFileSync(file, 'utf8');
      return /from ['"]node:|require\(|\bBuffer\b|\bprocess\.(?!getBuiltinModule)/.test(text);
    });
    expect(offenders).toEqual([]);
  });

  it('package.json is ESM, side-effect free, with an exports map', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    expect(pkg.type).toBe('module');
    expect(pkg.sideEffects).toBe(false);
    expect(pkg.exports['.']).toEqual({ types: './dist/index.d.ts', import: './dist/index.js' });
  });
});
