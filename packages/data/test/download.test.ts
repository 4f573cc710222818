/**
 * The download path against a local HTTP server (no network needed): synthetic MNIST files with
 * their checksums injected, the cache, corrupt downloads and cache files, offline and HTTP errors.
 */
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { MNIST_FILES, MNIST_SHA256 } from '@ml/data';
import { downloadCached, loadMnist, TINY_SHAKESPEARE_SHA256, tinyShakespeare } from '@ml/data/node';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

function idx(type: number, dims: number[], data: number[]): Uint8Array {
  const head = [0, 0, type, dims.length, ...dims.flatMap((d) => [d >>> 24, (d >>> 16) & 255, (d >>> 8) & 255, d & 255])];
  return Uint8Array.from([...head, ...data]);
}

// 4 test images of 28×28 whose pixel p of image n is (n·31 + p) mod 256; labels 3, 1, 4, 1
const N = 4;
const pixel = (n: number, p: number) => (n * 31 + p) % 256;
const files: Record<string, Uint8Array> = {
  [MNIST_FILES.test.images]: new Uint8Array(gzipSync(idx(0x08, [N, 28, 28], Array.from({ length: N * 784 }, (_, k) => pixel(Math.floor(k / 784), k % 784))))),
  [MNIST_FILES.test.labels]: new Uint8Array(gzipSync(idx(0x08, [N], [3, 1, 4, 1]))),
  'input.txt': new TextEncoder().encode('First Citizen:\nBefore we proceed any further, hear me speak.\n'),
};
const checksums = Object.fromEntries(Object.entries(files).map(([name, b]) => [name, sha(b)]));

let server: Server;
let base: string;
let requests: string[] = [];
let dir: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    requests.push(req.url ?? '');
    const [, folder, name] = (req.url ?? '').split('/');
    const body = files[name];
    if (!body) {
      res.writeHead(404).end('not found');
      return;
    }
    const out = folder === 'corrupt' ? Uint8Array.from(body, (b, i) => (i === body.length - 1 ? b ^ 1 : b)) : body;
    res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(out);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(async () => {
  requests = [];
  dir = await mkdtemp(join(tmpdir(), 'ml-data-'));
  return () => rm(dir, { recursive: true, force: true });
});

/** A port with nothing listening. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const addr = s.address();
  await new Promise((resolve) => s.close(resolve));
  return typeof addr === 'object' && addr ? addr.port : 1;
}

describe('loadMnist from a local mirror', () => {
  it('downloads, verifies, caches, and decodes the split', async () => {
    const { images, labels } = await loadMnist({ split: 'test', cacheDir: dir, mirror: `${base}/mnist`, checksums });
    expect(images.shape).toEqual([N, 1, 28, 28]);
    expect(labels.dtype).toBe('int32');
    expect(await labels.array()).toEqual([3, 1, 4, 1]);
    const px = await images.data();
    for (const [n, p] of [[0, 0], [1, 5], [3, 783], [2, 400]]) expect(px[n * 784 + p]).toBe(Math.fround(pixel(n, p) / 255));
    expect(requests.sort()).toEqual([`/mnist/${MNIST_FILES.test.images}`, `/mnist/${MNIST_FILES.test.labels}`]);
    // exactly the two verified files, no temporaries
    expect((await readdir(dir)).sort()).toEqual([MNIST_FILES.test.images, MNIST_FILES.test.labels].sort());
    expect(sha(await readFile(join(dir, MNIST_FILES.test.images)))).toBe(checksums[MNIST_FILES.test.images]);
    images.dispose();
    labels.dispose();

    // a second load is served from the cache
    requests = [];
    const again = await loadMnist({ split: 'test', cacheDir: dir, mirror: `${base}/mnist/`, checksums });
    expect(requests).toEqual([]);
    expect(await again.labels.array()).toEqual([3, 1, 4, 1]);
    again.images.dispose();
    again.labels.dispose();
  });

  it('a corrupt cached file is downloaded again and replaced', async () => {
    await writeFile(join(dir, MNIST_FILES.test.labels), 'garbage');
    const { images, labels } = await loadMnist({ split: 'test', cacheDir: dir, mirror: `${base}/mnist`, checksums });
    expect(await labels.array()).toEqual([3, 1, 4, 1]);
    expect(sha(await readFile(join(dir, MNIST_FILES.test.labels)))).toBe(checksums[MNIST_FILES.test.labels]);
    images.dispose();
    labels.dispose();
  });

  it('a download with the wrong checksum fails and caches nothing', async () => {
    const load = loadMnist({ split: 'test', cacheDir: dir, mirror: `${base}/corrupt`, checksums });
    await expect(load).rejects.toThrow(/^loadMnist: checksum mismatch for http:\/\/127\.0\.0\.1:\d+\/corrupt\/t10k-(images|labels).*: expected sha256 [0-9a-f]{64}, got [0-9a-f]{64}/);
    expect(await readdir(dir)).toEqual([]);
  });

  it('the standard checksums reject files that are not the real MNIST', async () => {
    await expect(loadMnist({ split: 'test', cacheDir: dir, mirror: `${base}/mnist` })).rejects.toThrow(
      `expected sha256 ${MNIST_SHA256[MNIST_FILES.test.images]}`,
    );
  });

  it('offline: a clear message naming the URL and the cache path', async () => {
    const port = await closedPort();
    const load = loadMnist({ split: 'train', cacheDir: dir, mirror: `http://127.0.0.1:${port}/` });
    await expect(load).rejects.toThrow(`loadMnist: cannot download http://127.0.0.1:${port}/${MNIST_FILES.train.images}`);
    await expect(load).rejects.toThrow(/ECONNREFUSED.*offline.*put a copy of the file at/);
  });

  it('HTTP errors and bad arguments', async () => {
    await expect(downloadCached({ url: `${base}/mnist/missing.gz`, path: join(dir, 'x'), sha256: '0'.repeat(64), op: 'test' })).rejects.toThrow(
      'test: cannot download http://127.0.0.1',
    );
    await expect(downloadCached({ url: `${base}/mnist/missing.gz`, path: join(dir, 'x'), sha256: '0'.repeat(64) })).rejects.toThrow('HTTP 404');
    await expect(downloadCached({ url: `${base}/x`, path: join(dir, 'x'), sha256: 'abc' })).rejects.toThrow('download: sha256 must be 64 hex digits');
    await expect(loadMnist({ split: 'val' as never, cacheDir: dir })).rejects.toThrow("loadMnist: split must be 'train' or 'test', got val");
  });

  it('the standard file names and checksums are well-formed', () => {
    const names = [...Object.values(MNIST_FILES.train), ...Object.values(MNIST_FILES.test)];
    expect(Object.keys(MNIST_SHA256).sort()).toEqual(names.sort());
    for (const s of Object.values(MNIST_SHA256)) expect(s).toMatch(/^[0-9a-f]{64}$/);
    expect(TINY_SHAKESPEARE_SHA256).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('tinyShakespeare download and local file', () => {
  it('downloads into the cache with a checksum, then reads the cache', async () => {
    const text = await tinyShakespeare({ cacheDir: dir, url: `${base}/txt/input.txt`, sha256: checksums['input.txt'] });
    expect(text.startsWith('First Citizen:\n')).toBe(true);
    expect(await readdir(dir)).toEqual(['input.txt']);
    requests = [];
    expect(await tinyShakespeare({ cacheDir: dir, url: `${base}/txt/input.txt`, sha256: checksums['input.txt'] })).toBe(text);
    expect(requests).toEqual([]);
    await expect(tinyShakespeare({ cacheDir: join(dir, 'other'), url: `${base}/corrupt/input.txt`, sha256: checksums['input.txt'] })).rejects.toThrow(
      'tinyShakespeare: checksum mismatch',
    );
  });

  it('reads a local path, checking the checksum only when given', async () => {
    const path = join(dir, 'mine.txt');
    await writeFile(path, 'to be or not to be');
    expect(await tinyShakespeare({ path })).toBe('to be or not to be');
    await expect(tinyShakespeare({ path, sha256: TINY_SHAKESPEARE_SHA256 })).rejects.toThrow(`expected ${TINY_SHAKESPEARE_SHA256}`);
    await expect(tinyShakespeare({ path: join(dir, 'nope.txt') })).rejects.toThrow('tinyShakespeare: cannot read');
    await writeFile(path, Uint8Array.of(0xff, 0xfe, 0x41));
    await expect(tinyShakespeare({ path })).rejects.toThrow('tinyShakespeare: the file is not valid UTF-8 text');
  });
});
