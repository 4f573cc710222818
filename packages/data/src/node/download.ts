/**
 * Downloads into a cache folder: checksum-verified, written atomically (temporary file in the same
 * folder, then rename), so the cache only ever holds complete, verified files.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, dirname, join } from 'node:path';

/** The default cache folder: `$ML_DATA_HOME`, else `~/.cache/ml-data`. */
export function defaultCacheDir(): string {
  return process.env.ML_DATA_HOME || join(homedir(), '.cache', 'ml-data');
}

/** SHA-256 of `bytes`, hex. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Writes `bytes` to `path` atomically: temporary file, flush, rename over `path`. */
export async function writeFileAtomic(path: string, bytes: Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const fh = await open(tmp, 'wx');
  try {
    await fh.writeFile(bytes);
    await fh.sync();
  } catch (e) {
    await fh.close().catch(() => {});
    await rm(tmp, { force: true });
    throw e;
  }
  await fh.close();
  try {
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

/** Options of {@link downloadCached}. */
export interface DownloadOptions {
  /** Where to fetch the file from. */
  url: string;
  /** Where the cached copy lives. */
  path: string;
  /** Expected SHA-256 (hex). A cached copy that does not match is downloaded again. */
  sha256: string;
  /** Name used in error messages (default `'download'`). */
  op?: string;
  /** Give up after this many milliseconds (default 300 000). */
  timeoutMs?: number;
}

function reason(e: unknown): string {
  const err = e as { message?: string; cause?: { code?: string; message?: string } };
  const cause = err.cause?.code ?? err.cause?.message;
  return cause ? `${err.message} (${cause})` : String(err.message ?? e);
}

/**
 * The bytes of `url`, from the cache at `path` when a verified copy is there, else downloaded,
 * verified against `sha256` and cached atomically.
 *
 * @throws with a clear message when offline or the server fails (nothing is cached), or when the
 *   download's checksum does not match (nothing is cached)
 * @example
 * ```ts
 * const bytes = await downloadCached({ url, path: join(cacheDir, 'file.gz'), sha256 });
 * ```
 */
export async function downloadCached(opts: DownloadOptions): Promise<Uint8Array> {
  const { url, path, sha256, op = 'download', timeoutMs = 300_000 } = opts;
  if (!/^[0-9a-f]{64}$/i.test(sha256)) throw new Error(`${op}: sha256 must be 64 hex digits, got ${String(sha256)}`);
  const cached = await readFile(path).then((b) => new Uint8Array(b), () => null);
  if (cached && sha256Hex(cached) === sha256.toLowerCase()) return cached;
  let bytes: Uint8Array;
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) throw new Error(`the server answered HTTP ${res.status} ${res.statusText}`.trim());
    bytes = new Uint8Array(await res.arrayBuffer());
  } catch (e) {
    throw new Error(
      `${op}: cannot download ${url}: ${reason(e)}. If this machine is offline, put a copy of the file at ${path}, or point to another mirror.`,
    );
  }
  const got = sha256Hex(bytes);
  if (got !== sha256.toLowerCase()) {
    throw new Error(`${op}: checksum mismatch for ${url}: expected sha256 ${sha256.toLowerCase()}, got ${got} (${bytes.length} bytes); the file was not cached`);
  }
  await writeFileAtomic(path, bytes);
  return bytes;
}
