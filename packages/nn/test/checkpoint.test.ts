import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Buffer, decodeCheckpoint, DIGEST_KEY, encodeCheckpoint, loadCheckpointBytes, Module, Parameter } from '@ml/nn';
import { loadCheckpoint, readCheckpoint, saveCheckpoint, writeFileAtomic } from '@ml/nn/node';
import { decodeSafetensors, memory, random, scope, zeros } from '@ml/tensor';
import type { Tensor } from '@ml/tensor';
import { describe, expect, it } from 'vitest';

class Net extends Module {
  weight: Parameter;
  bias: Parameter;
  runningVar: Buffer;
  steps: Buffer;
  constructor(seed: number, inF = 5, outF = 3) {
    super();
    const [k1, k2] = random.split(random.key(seed));
    this.weight = new Parameter(random.normal(k1, [outF, inF]));
    this.bias = new Parameter(random.normal(k2, [outF], { dtype: 'float64' }));
    this.runningVar = new Buffer(zeros([outF]).add(seed));
    this.steps = new Buffer(zeros([1], { dtype: 'int32' }).add(seed));
  }
  forward(x: Tensor): Tensor {
    return x;
  }
}

const tmp = () => mkdtempSync(join(tmpdir(), 'ml-ckpt-'));

async function bits(t: Tensor): Promise<number[]> {
  const d = await t.data();
  return Array.from(new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
}

describe('checkpoints', () => {
  it('round-trip is bit-exact for every dtype', async () => {
    const a = new Net(1);
    const b = new Net(2);
    await loadCheckpointBytes(b, await encodeCheckpoint(a));
    for (const [[na, ta], [nb, tb]] of [a.namedParameters(), a.namedBuffers()].flat().map((e, i) => [e, [...b.namedParameters(), ...b.namedBuffers()][i]] as const)) {
      expect(nb).toBe(na);
      expect(tb.dtype).toBe(ta.dtype);
      expect(await bits(tb)).toEqual(await bits(ta));
    }
    a.dispose();
    b.dispose();
  });

  it('is a plain safetensors file with format=pt and PyTorch-style names on request', async () => {
    const a = new Net(1);
    const { tensors, metadata } = decodeSafetensors(await encodeCheckpoint(a, { naming: 'pytorch' }));
    expect(Object.keys(tensors).sort()).toEqual(['bias', 'running_var', 'steps', 'weight']);
    expect(metadata.format).toBe('pt');
    expect(metadata[DIGEST_KEY]).toMatch(/^[0-9a-f]{64}$/);
    a.dispose();
  });

  it('a flipped byte in the data fails the checksum and leaves the model untouched', async () => {
    const a = new Net(1);
    const b = new Net(2);
    const bytes = await encodeCheckpoint(a);
    bytes[bytes.length - 3] ^= 0x40;
    const before = await bits(b.weight);
    await expect(loadCheckpointBytes(b, bytes)).rejects.toThrow(/checksum.*corrupt/);
    expect(await bits(b.weight)).toEqual(before);
    a.dispose();
    b.dispose();
  });

  it('truncated or garbage files give a clear error', async () => {
    const a = new Net(1);
    const bytes = await encodeCheckpoint(a);
    await expect(decodeCheckpoint(bytes.subarray(0, bytes.length - 10))).rejects.toThrow(/not a valid checkpoint/);
    await expect(decodeCheckpoint(new Uint8Array([1, 2, 3]))).rejects.toThrow(/not a valid checkpoint/);
    a.dispose();
  });

  it('a different architecture is rejected with every problem listed, model untouched', async () => {
    const a = new Net(1, 5, 3);
    const b = new Net(2, 4, 3);
    const before = await bits(b.weight);
    await expect(loadCheckpointBytes(b, await encodeCheckpoint(a))).rejects.toThrow(/size mismatch for weight: the state has shape \(3, 5\), the module has \(3, 4\)/);
    expect(await bits(b.weight)).toEqual(before);
    a.dispose();
    b.dispose();
  });

  it('loading does not leak tensors', async () => {
    const a = new Net(1);
    const b = new Net(2);
    const bytes = await encodeCheckpoint(a);
    const before = memory();
    await loadCheckpointBytes(b, bytes);
    expect(memory().tensors).toBe(before.tensors);
    a.dispose();
    b.dispose();
  });

  it('files: atomic save, load, and a failed write leaves the old file', async () => {
    const dir = tmp();
    const path = join(dir, 'model.safetensors');
    const a = new Net(1);
    const b = new Net(2);
    await saveCheckpoint(a, path);
    expect(readdirSync(dir)).toEqual(['model.safetensors']); // no temp file left behind
    const meta = await loadCheckpoint(b, path);
    expect(meta.format).toBe('pt');
    expect(await bits(b.weight)).toEqual(await bits(a.weight));
    const old = readFileSync(path);
    // a write that fails half-way (the target folder vanished) must not touch the old checkpoint
    await expect(writeFileAtomic(join(dir, 'missing', 'x.safetensors'), new Uint8Array(10))).rejects.toThrow();
    await expect(saveCheckpoint({ w: 'not a tensor' as unknown as Tensor }, path)).rejects.toThrow(/not a Tensor/);
    expect(readFileSync(path)).toEqual(old);
    expect(readdirSync(dir)).toEqual(['model.safetensors']);
    const { tensors } = await readCheckpoint(path);
    expect(Object.keys(tensors).sort()).toEqual(['bias', 'runningVar', 'steps', 'weight']);
    scope(() => Object.values(tensors).forEach((t) => t.dispose()));
    writeFileSync(path, old.subarray(0, 20));
    await expect(loadCheckpoint(b, path)).rejects.toThrow(/model.safetensors.*not a valid checkpoint/);
    await expect(loadCheckpoint(b, join(dir, 'nope.safetensors'))).rejects.toThrow(/cannot read/);
    a.dispose();
    b.dispose();
  });
});
