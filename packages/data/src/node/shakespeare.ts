/** Tiny Shakespeare: 40,000 lines of Shakespeare in one 1.1 MB text file (char-rnn's data set). */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { defaultCacheDir, downloadCached, sha256Hex } from './download.js';

/** Where Tiny Shakespeare is fetched from. */
export const TINY_SHAKESPEARE_URL = 'https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt';
/** SHA-256 of the file (1,115,394 bytes). */
export const TINY_SHAKESPEARE_SHA256 = '86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed';

/** Options of {@link tinyShakespeare}. */
export interface TinyShakespeareOptions {
  /** Read this local file instead of downloading (checked against `sha256` only when given). */
  path?: string;
  /** Folder of the cached copy (default `<defaultCacheDir()>/tinyshakespeare`). */
  cacheDir?: string;
  /** Where to download from (default {@link TINY_SHAKESPEARE_URL}). */
  url?: string;
  /** Expected SHA-256 (default {@link TINY_SHAKESPEARE_SHA256}). */
  sha256?: string;
  /** Download timeout in milliseconds (default 300 000). */
  timeoutMs?: number;
}

/**
 * The Tiny Shakespeare text (1,115,394 characters, 65 distinct): read from `path`, or from the
 * cache, or downloaded, checksum-verified and cached.
 * @example
 * ```ts
 * const text = await tinyShakespeare();
 * const tok = new CharTokenizer(text); // vocabSize 65
 * ```
 */
export async function tinyShakespeare(opts: TinyShakespeareOptions = {}): Promise<string> {
  const op = 'tinyShakespeare';
  let bytes: Uint8Array;
  if (opts.path !== undefined) {
    try {
      bytes = new Uint8Array(await readFile(opts.path));
    } catch (e) {
      throw new Error(`${op}: cannot read ${opts.path}: ${(e as Error).message}`);
    }
    if (opts.sha256 !== undefined && sha256Hex(bytes) !== opts.sha256.toLowerCase()) {
      throw new Error(`${op}: ${opts.path} has sha256 ${sha256Hex(bytes)}, expected ${opts.sha256.toLowerCase()}`);
    }
  } else {
    const cacheDir = opts.cacheDir ?? join(defaultCacheDir(), 'tinyshakespeare');
    bytes = await downloadCached({
      url: opts.url ?? TINY_SHAKESPEARE_URL,
      path: join(cacheDir, 'input.txt'),
      sha256: opts.sha256 ?? TINY_SHAKESPEARE_SHA256,
      op,
      timeoutMs: opts.timeoutMs,
    });
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new Error(`${op}: the file is not valid UTF-8 text`);
  }
}
