/** CPU kernels that move data: concat, pad, gather and scatterAdd. */
import { fail, fmt } from '../errors.js';
import { contiguousStrides, sizeOf } from '../shape.js';
import type { CpuKernel } from './backend.js';
import type { CpuView } from './strided.js';
import { copyStrided, dense } from './strided.js';

/** A view of the contiguous output `out` restricted to `shape` starting at element `offset`. */
function window(out: CpuView, shape: readonly number[], offset: number): CpuView {
  return { ...out, shape, strides: contiguousStrides(out.shape), offset };
}

/** Copies `src` (any strides) into the strided window `dst` of the same shape. */
function copyInto(src: CpuView, dst: CpuView): void {
  const n = sizeOf(src.shape);
  if (n === 0) return;
  const values = dense(src);
  const rank = dst.shape.length;
  const idx = new Array<number>(rank).fill(0);
  let pos = dst.offset;
  for (let i = 0; i < n; i++) {
    dst.storage[pos] = values[i];
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]++;
      pos += dst.strides[d];
      if (idx[d] < dst.shape[d]) break;
      pos -= dst.strides[d] * dst.shape[d];
      idx[d] = 0;
    }
  }
}

const concatKernel: CpuKernel = (inputs, [out], { axis }: { axis: number }) => {
  const strides = contiguousStrides(out.shape);
  let start = 0;
  for (const x of inputs) {
    copyInto(x, window(out, x.shape, start * strides[axis]));
    start += x.shape[axis];
  }
};

const padKernel: CpuKernel = ([x], [out], { pads, value }: { pads: [number, number][]; value: number }) => {
  out.storage.fill(value);
  const strides = contiguousStrides(out.shape);
  const offset = pads.reduce((acc, [before], d) => acc + before * strides[d], 0);
  copyInto(x, window(out, x.shape, offset));
};

/** Walks every position of `index` (row-major), giving its linear position and the matching source position with dim `axis` replaced by the index value. */
function forEachIndex(
  op: string,
  x: CpuView,
  index: CpuView,
  axis: number,
  visit: (i: number, srcOffset: number) => void,
): void {
  const idx = dense(index);
  const shape = index.shape;
  const rank = shape.length;
  const coord = new Array<number>(rank).fill(0);
  const dimSize = x.shape[axis];
  for (let i = 0; i < idx.length; i++) {
    let v = idx[i];
    if (v < -dimSize || v >= dimSize) {
      fail(op, `index ${v} is out of range for dim ${axis} of size ${dimSize} (input ${fmt(x.shape)})`);
    }
    if (v < 0) v += dimSize;
    let off = x.offset;
    for (let d = 0; d < rank; d++) off += (d === axis ? v : coord[d]) * x.strides[d];
    visit(i, off);
    for (let d = rank - 1; d >= 0; d--) {
      if (++coord[d] < shape[d]) break;
      coord[d] = 0;
    }
  }
}

/**
 * Gather whose index varies only along `axis` (what indexSelect and embedding lookups produce):
 * copies whole rows of the dims after `axis`, with one typed-array copy per row when they are
 * contiguous in `x`. Returns false when the index is not of that form.
 */
function gatherRows(x: CpuView, index: CpuView, out: CpuView, axis: number): boolean {
  const rank = out.shape.length;
  for (let d = 0; d < rank; d++) if (d !== axis && index.strides[d] !== 0 && index.shape[d] !== 1) return false;
  const dimSize = x.shape[axis];
  const count = out.shape[axis];
  const rows = new Int32Array(count); // the index values along axis, range-checked once
  for (let j = 0; j < count; j++) {
    let v = index.storage[index.offset + j * index.strides[axis]];
    if (v < -dimSize || v >= dimSize) fail('gather', `index ${v} is out of range for dim ${axis} of size ${dimSize} (input ${fmt(x.shape)})`);
    if (v < 0) v += dimSize;
    rows[j] = v;
  }
  let inner = 1;
  let innerContiguous = true;
  for (let d = rank - 1; d > axis; d--) {
    if (x.strides[d] !== inner) innerContiguous = false;
    inner *= out.shape[d];
  }
  if (inner === 0 || count === 0) return true;
  const outerShape = out.shape.slice(0, axis);
  const outer = sizeOf(outerShape);
  const coord = new Array<number>(axis).fill(0);
  const o = out.storage;
  const src = x.storage;
  let pos = 0;
  for (let k = 0; k < outer; k++) {
    let base = x.offset;
    for (let d = 0; d < axis; d++) base += coord[d] * x.strides[d];
    for (let j = 0; j < count; j++) {
      const start = base + rows[j] * x.strides[axis];
      if (innerContiguous) {
        o.set(src.subarray(start, start + inner), pos);
        pos += inner;
      } else {
        const row: CpuView = { ...x, shape: out.shape.slice(axis + 1), strides: x.strides.slice(axis + 1), offset: start };
        const values = dense(row);
        o.set(values, pos);
        pos += inner;
      }
    }
    for (let d = axis - 1; d >= 0; d--) {
      if (++coord[d] < outerShape[d]) break;
      coord[d] = 0;
    }
  }
  return true;
}

const gatherKernel: CpuKernel = ([x, index], [out], { axis }: { axis: number }) => {
  if (gatherRows(x, index, out, axis)) return;
  const src = x.storage;
  const o = out.storage;
  forEachIndex('gather', x, index, axis, (i, off) => {
    o[i] = src[off];
  });
};

const scatterAddKernel: CpuKernel = ([x, index, src], [out], { axis }: { axis: number }) => {
  copyStrided(x, out.storage);
  const values = dense(src);
  const o = out.storage;
  const target: CpuView = { ...out, strides: contiguousStrides(out.shape), offset: 0 };
  forEachIndex('scatterAdd', target, index, axis, (i, off) => {
    o[off] += values[i];
  });
};

export const MOVEMENT_KERNELS: Record<string, CpuKernel> = {
  concat: concatKernel,
  pad: padKernel,
  gather: gatherKernel,
  scatterAdd: scatterAddKernel,
};
