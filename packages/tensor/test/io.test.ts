import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { DType, TypedArray } from '../src/dtype.js';
import { allocArray } from '../src/dtype.js';
import type { Backend } from '../src/backend.js';
import { createCpuBackend } from '../src/cpu/backend.js';
import { getBackend, memory } from '../src/engine.js';
import type { ArrayData } from '../src/io/index.js';
import {
  decodeNpy,
  decodeSafetensors,
  encodeNpy,
  encodeSafetensors,
  fromNpy,
  loadSafetensors,
  saveSafetensors,
  toNpy,
} from '../src/io/index.js';
import { tensor } from '../src/ops/create.js';
import { flip, transpose } from '../src/ops/shape.js';

// Files written by NumPy 2.4 (`np.save`, or `np.lib.format.write_array(..., version=...)`); the
// safetensors file was written with struct + json in the layout of the reference writer.
const FIXTURES = {
  // np.arange(6, dtype='<f4').reshape(2, 3)
  f4: 'k05VTVBZAQB2AHsnZGVzY3InOiAnPGY0JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDIsIDMpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAAAAACAPwAAAEAAAEBAAACAQAAAoEA=',
  // np.array([-0.0, inf, -inf, 1e-45, 1.1754942e-38, 3.4028235e38], '<f4')
  f4Special: 'k05VTVBZAQB2AHsnZGVzY3InOiAnPGY0JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDYsKSwgfSAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAACAAACAfwAAgP8BAAAA//9/AP//f38=',
  // np.array([-0.0, inf, 5e-324, 2.2250738585072014e-308, 0.1, nan], '<f8')
  f8Special: 'k05VTVBZAQB2AHsnZGVzY3InOiAnPGY4JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDYsKSwgfSAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAAAAAAAgAAAAAAAAPB/AQAAAAAAAAAAAAAAAAAQAJqZmZmZmbk/AAAAAAAA+H8=',
  // np.array([[1, -2], [2**31 - 1, -2**31]], '>i4')
  i4BigEndian: 'k05VTVBZAQB2AHsnZGVzY3InOiAnPmk0JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDIsIDIpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAAB/////n////+AAAAA',
  // np.asfortranarray(np.arange(24, dtype='<f8').reshape(2, 3, 4))
  f8Fortran: 'k05VTVBZAQB2AHsnZGVzY3InOiAnPGY4JywgJ2ZvcnRyYW5fb3JkZXInOiBUcnVlLCAnc2hhcGUnOiAoMiwgMywgNCksIH0gICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAAAAAAAAAAAAAAAAChAAAAAAAAAEEAAAAAAAAAwQAAAAAAAACBAAAAAAAAANEAAAAAAAADwPwAAAAAAACpAAAAAAAAAFEAAAAAAAAAxQAAAAAAAACJAAAAAAAAANUAAAAAAAAAAQAAAAAAAACxAAAAAAAAAGEAAAAAAAAAyQAAAAAAAACRAAAAAAAAANkAAAAAAAAAIQAAAAAAAAC5AAAAAAAAAHEAAAAAAAAAzQAAAAAAAACZAAAAAAAAAN0A=',
  // np.array([0, -1, 2**31 - 1, -2**31], '<i8')
  i8Fits: 'k05VTVBZAQB2AHsnZGVzY3InOiAnPGk4JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDQsKSwgfSAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAAAAAAAAP//////////////fwAAAAAAAACA/////w==',
  // np.array([1, 3000000000], '<i8')
  i8TooBig: 'k05VTVBZAQB2AHsnZGVzY3InOiAnPGk4JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDIsKSwgfSAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoBAAAAAAAAAABe0LIAAAAA',
  // np.array([[True, False, True]])
  bool: 'k05VTVBZAQB2AHsnZGVzY3InOiAnfGIxJywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDEsIDMpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoBAAE=',
  // np.array(200, 'u1')
  u1Scalar: 'k05VTVBZAQB2AHsnZGVzY3InOiAnfHUxJywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKCksIH0gICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIArI',
  // np.zeros((0, 3), '<f4')
  f4Empty: 'k05VTVBZAQB2AHsnZGVzY3InOiAnPGY0JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDAsIDMpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAo=',
  // np.array([1, -0.0, 65504, 2**-24, inf, 0.1], '<f2')
  f2: 'k05VTVBZAQB2AHsnZGVzY3InOiAnPGYyJywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDYsKSwgfSAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAPACA/3sBAAB8Zi4=',
  // np.array([0, 65535, 258], '>u2')
  u2BigEndian: 'k05VTVBZAQB2AHsnZGVzY3InOiAnPnUyJywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDMsKSwgfSAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAP//AQI=',
  // np.array([1 + 2j], 'c8')
  c8: 'k05VTVBZAQB2AHsnZGVzY3InOiAnPGM4JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDEsKSwgfSAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAIA/AAAAQA==',
  // np.zeros(2, dtype=[('a', '<f4')])
  structured: 'k05VTVBZAQB2AHsnZGVzY3InOiBbKCdhJywgJzxmNCcpXSwgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDIsKSwgfSAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAAAAAAAAA==',
  // np.array(['ab'], 'U2')
  unicode: 'k05VTVBZAQB2AHsnZGVzY3InOiAnPFUyJywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDEsKSwgfSAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAphAAAAYgAAAA==',
  // np.arange(3, dtype='<i4'), version (2, 0)
  i4V2: 'k05VTVBZAgB0AAAAeydkZXNjcic6ICc8aTQnLCAnZm9ydHJhbl9vcmRlcic6IEZhbHNlLCAnc2hhcGUnOiAoMywpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAAAAQAAAAIAAAA=',
  // np.arange(3, dtype='<f4'), version (3, 0)
  f4V3: 'k05VTVBZAwB0AAAAeydkZXNjcic6ICc8ZjQnLCAnZm9ydHJhbl9vcmRlcic6IEZhbHNlLCAnc2hhcGUnOiAoMywpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAAAAACAPwAAAEA=',
  // metadata {format: 'np', note: 'fixture'}; b F64 [0.5, -0.0, 1e300]; ids I64 [1, -7, 2**31 - 1, -2**31];
  // s I32 -5 (0-d); w F32 arange(6).reshape(2, 3) / 4; bf BF16 [1, -2.5, 3.140625]; h F16 [0.5, -2, 2**-24];
  // empty U8 (0, 4); mask BOOL [[True, False], [False, True]]
  safetensors: 'AAIAAAAAAAB7Il9fbWV0YWRhdGFfXyI6eyJmb3JtYXQiOiJucCIsIm5vdGUiOiJmaXh0dXJlIn0sImIiOnsiZHR5cGUiOiJGNjQiLCJzaGFwZSI6WzNdLCJkYXRhX29mZnNldHMiOlswLDI0XX0sImlkcyI6eyJkdHlwZSI6Ikk2NCIsInNoYXBlIjpbNF0sImRhdGFfb2Zmc2V0cyI6WzI0LDU2XX0sInMiOnsiZHR5cGUiOiJJMzIiLCJzaGFwZSI6W10sImRhdGFfb2Zmc2V0cyI6WzU2LDYwXX0sInciOnsiZHR5cGUiOiJGMzIiLCJzaGFwZSI6WzIsM10sImRhdGFfb2Zmc2V0cyI6WzYwLDg0XX0sImJmIjp7ImR0eXBlIjoiQkYxNiIsInNoYXBlIjpbM10sImRhdGFfb2Zmc2V0cyI6Wzg0LDkwXX0sImgiOnsiZHR5cGUiOiJGMTYiLCJzaGFwZSI6WzNdLCJkYXRhX29mZnNldHMiOls5MCw5Nl19LCJlbXB0eSI6eyJkdHlwZSI6IlU4Iiwic2hhcGUiOlswLDRdLCJkYXRhX29mZnNldHMiOls5Niw5Nl19LCJtYXNrIjp7ImR0eXBlIjoiQk9PTCIsInNoYXBlIjpbMiwyXSwiZGF0YV9vZmZzZXRzIjpbOTYsMTAwXX19ICAgICAgIAAAAAAAAOA/AAAAAAAAAICcdQCIPOQ3fgEAAAAAAAAA+f////////////9/AAAAAAAAAID/////+////wAAAAAAAIA+AAAAPwAAQD8AAIA/AACgP4A/IMBJQAA4AMABAAEAAAE=',
};

const b64 = (s: string): Uint8Array => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
const fixture = (name: keyof typeof FIXTURES): Uint8Array => b64(FIXTURES[name]);
/** The bytes of a typed array, for bit-exact comparisons (-0, subnormals, NaN). */
const bytesOf = (a: TypedArray): number[] => Array.from(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
const ascii = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));
const concatBytes = (...parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((at, p) => (out.set(p, at), at + p.length), 0);
  return out;
};

const SPECIAL_F64 = [0, -0, 1.5, -2.25, Infinity, -Infinity, 5e-324, 2.2250738585072014e-308, Number.MAX_VALUE, 0.1];
const SPECIAL_F32 = [0, -0, 1.5, Infinity, -Infinity, 1.401298464324817e-45, 1.1754942106924411e-38, 3.4028234663852886e38, Math.fround(0.1)];

/** One sample array per dtype and shape, with edge values cycled in. */
function sample(dtype: DType, shape: number[]): ArrayData {
  const size = shape.reduce((n, d) => n * d, 1);
  const data = allocArray(dtype, size);
  for (let i = 0; i < size; i++) {
    if (dtype === 'float64') data[i] = SPECIAL_F64[i % SPECIAL_F64.length] * (i + 1);
    else if (dtype === 'float32') data[i] = SPECIAL_F32[i % SPECIAL_F32.length];
    else if (dtype === 'int32') data[i] = [0, -1, 2147483647, -2147483648, 12345][i % 5];
    else if (dtype === 'uint8') data[i] = (i * 37) % 256;
    else data[i] = i % 3 === 0 ? 1 : 0;
  }
  return { dtype, shape, data };
}

const DTYPES: DType[] = ['float32', 'float64', 'int32', 'uint8', 'bool'];
const SHAPES = [[], [0], [5], [2, 3], [3, 0, 2], [2, 1, 3, 2]];

function expectSame(got: ArrayData, want: ArrayData): void {
  expect(got.dtype).toBe(want.dtype);
  expect([...got.shape]).toEqual([...want.shape]);
  expect(got.data.constructor).toBe(want.data.constructor);
  expect(bytesOf(got.data)).toEqual(bytesOf(want.data));
}

/** A .npy file with a hand-written header. */
function npyWith(header: string, body = new Uint8Array(), version = 1): Uint8Array {
  const prefix = new Uint8Array(version === 1 ? 10 : 12);
  prefix.set(ascii('\x93NUMPY'));
  prefix[6] = version;
  const dv = new DataView(prefix.buffer);
  if (version === 1) dv.setUint16(8, header.length, true);
  else dv.setUint32(8, header.length, true);
  return concatBytes(prefix, ascii(header), body);
}

describe('npy', () => {
  it('round-trips every dtype and shape bit-exactly, including 0-d and zero-size', () => {
    for (const dtype of DTYPES) {
      for (const shape of SHAPES) {
        const a = sample(dtype, shape);
        const bytes = encodeNpy(a);
        expect(bytes.subarray(0, 8)).toEqual(ascii('\x93NUMPY\x01\x00'));
        const hlen = bytes[8] | (bytes[9] << 8);
        expect((10 + hlen) % 64).toBe(0);
        expect(bytes[10 + hlen - 1]).toBe(0x0a);
        expectSame(decodeNpy(bytes), a);
      }
    }
  });

  it('writes exactly what np.save writes', () => {
    for (const name of ['f4', 'f4Special', 'f8Special', 'bool', 'u1Scalar', 'f4Empty'] as const) {
      expect(encodeNpy(decodeNpy(fixture(name))), name).toEqual(fixture(name));
    }
  });

  it('reads little- and big-endian files, versions 1.0 to 3.0', () => {
    expectSame(decodeNpy(fixture('f4')), { dtype: 'float32', shape: [2, 3], data: new Float32Array([0, 1, 2, 3, 4, 5]) });
    expectSame(decodeNpy(fixture('i4BigEndian')), { dtype: 'int32', shape: [2, 2], data: new Int32Array([1, -2, 2147483647, -2147483648]) });
    expectSame(decodeNpy(fixture('i4V2')), { dtype: 'int32', shape: [3], data: new Int32Array([0, 1, 2]) });
    expectSame(decodeNpy(fixture('f4V3')), { dtype: 'float32', shape: [3], data: new Float32Array([0, 1, 2]) });
    expectSame(decodeNpy(fixture('bool')), { dtype: 'bool', shape: [1, 3], data: new Uint8Array([1, 0, 1]) });
    expectSame(decodeNpy(fixture('u1Scalar')), { dtype: 'uint8', shape: [], data: new Uint8Array([200]) });
    expectSame(decodeNpy(fixture('f4Empty')), { dtype: 'float32', shape: [0, 3], data: new Float32Array(0) });
  });

  it('keeps -0, infinities, subnormals and NaN', () => {
    const f4 = decodeNpy(fixture('f4Special'));
    expect(Array.from(f4.data)).toEqual([-0, Infinity, -Infinity, 1.401298464324817e-45, 1.1754942106924411e-38, 3.4028234663852886e38]);
    const f8 = decodeNpy(fixture('f8Special'));
    expect(Object.is(f8.data[0], -0)).toBe(true);
    expect(Array.from(f8.data)).toEqual([-0, Infinity, 5e-324, 2.2250738585072014e-308, 0.1, NaN]);
  });

  it('reorders Fortran-order data to row-major', () => {
    const a = decodeNpy(fixture('f8Fortran'));
    expect(a.shape).toEqual([2, 3, 4]);
    expect(Array.from(a.data)).toEqual(Array.from({ length: 24 }, (_, i) => i));
  });

  it('widens only when exact', () => {
    expectSame(decodeNpy(fixture('i8Fits')), { dtype: 'int32', shape: [4], data: new Int32Array([0, -1, 2147483647, -2147483648]) });
    expect(() => decodeNpy(fixture('i8TooBig'))).toThrow(/^npy: <i8 value 3000000000 at index 1 does not fit in int32/);
    const f2 = decodeNpy(fixture('f2'));
    expect(f2.dtype).toBe('float32');
    expect(Array.from(f2.data)).toEqual([1, -0, 65504, 5.960464477539063e-8, Infinity, 0.0999755859375]);
    expectSame(decodeNpy(fixture('u2BigEndian')), { dtype: 'int32', shape: [3], data: new Int32Array([0, 65535, 258]) });
    const u4 = npyWith("{'descr': '<u4', 'fortran_order': False, 'shape': (2,), }\n", new Uint8Array([1, 0, 0, 0, 0, 0, 0, 0x80]));
    expect(() => decodeNpy(u4)).toThrow(/npy: <u4 value 2147483648 at index 1 does not fit in int32/);
    const u8 = npyWith("{'descr': '>u8', 'fortran_order': False, 'shape': (1,), }\n", new Uint8Array([0, 0, 0, 0, 0, 0, 0, 7]));
    expectSame(decodeNpy(u8), { dtype: 'int32', shape: [1], data: new Int32Array([7]) });
    const i1 = npyWith("{'descr': '|i1', 'fortran_order': False, 'shape': (2,), }\n", new Uint8Array([0xff, 5]));
    expectSame(decodeNpy(i1), { dtype: 'int32', shape: [2], data: new Int32Array([-1, 5]) });
  });

  it('rejects dtypes a tensor cannot hold', () => {
    expect(() => decodeNpy(fixture('c8'))).toThrow(/^npy: descr '<c8' holds complex numbers/);
    expect(() => decodeNpy(fixture('structured'))).toThrow(/^npy: structured dtypes/);
    expect(() => decodeNpy(fixture('unicode'))).toThrow(/^npy: descr '<U2' holds unicode strings/);
    const header = (descr: string) => npyWith(`{'descr': '${descr}', 'fortran_order': False, 'shape': (1,), }\n`, new Uint8Array(16));
    expect(() => decodeNpy(header('<f16'))).toThrow(/^npy: unsupported descr '<f16'/);
    expect(() => decodeNpy(header('=f4'))).toThrow(/^npy: descr '=f4' has no explicit byte order/);
    expect(() => decodeNpy(header('<b2'))).toThrow(/^npy: unsupported descr '<b2'/);
  });

  it('parses the header strictly', () => {
    const ok = npyWith('{"descr": "<i4", "fortran_order": False, "shape": (1,)}   \n', new Uint8Array(4));
    expect(decodeNpy(ok).shape).toEqual([1]);
    const bad = (header: string, re: RegExp) => expect(() => decodeNpy(npyWith(header, new Uint8Array(64)))).toThrow(re);
    bad("{'descr': '<f4', 'fortran_order': False, }", /^npy: header is missing key 'shape'/);
    bad("{'descr': '<f4', 'shape': (1,), 'extra': 1, 'fortran_order': False}", /^npy: malformed header .*expected a string, True, False or a tuple/);
    bad("{'descr': '<f4', 'shape': (1,), 'extra': 'x', 'fortran_order': False}", /^npy: header has unexpected key 'extra'/);
    bad("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (1,)}", /^npy: malformed header .*duplicate key 'descr'/);
    bad("{'descr': '<f4', 'fortran_order': False, 'shape': (3)}", /^npy: malformed header .*trailing comma/);
    bad("{'descr': '<f4', 'fortran_order': False, 'shape': (2, -1)}", /^npy: shape has a negative dimension -1/);
    bad("{'descr': '<f4', 'fortran_order': False, 'shape': (inf,)}", /^npy: shape dimension 'inf' is not a non-negative integer/);
    bad("{'descr': '<f4', 'fortran_order': False, 'shape': (2.5,)}", /^npy: shape dimension '2.5' is not a non-negative integer/);
    bad("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,)}", /^npy: shape dimension 99999999999999999999 is too large/);
    bad("{'descr': '<f4', 'fortran_order': 0, 'shape': (1,)}", /^npy: malformed header/);
    bad("{'descr': '<f4', 'fortran_order': 'no', 'shape': (1,)}", /^npy: header 'fortran_order' must be True or False/);
    bad("{'descr': '<f4', 'fortran_order': False, 'shape': [1]}", /^npy: structured dtypes|^npy: malformed/);
    bad("{'descr': '<f4', 'fortran_order': False, 'shape': (1,)} x", /^npy: malformed header .*unexpected text after the dictionary/);
    bad("{'descr': '<f4', 'fortran_order': False, 'shape': (1,)", /^npy: malformed header .*expected ',' or '}'/);
    bad('', /^npy: malformed header/);
  });

  it('rejects corrupt files with a clear message', () => {
    const good = fixture('f4');
    const bad = (bytes: Uint8Array, re: RegExp) => expect(() => decodeNpy(bytes)).toThrow(re);
    bad(good.subarray(0, good.length - 1), /^npy: data is truncated: shape \(2, 3\) of <f4 needs 24 bytes but 23 follow the header/);
    bad(concatBytes(good, new Uint8Array(4)), /^npy: data length disagrees with the shape: .* needs 24 bytes but 28/);
    bad(good.subarray(0, 100), /^npy: header length 118 runs past the end of the file/);
    bad(good.subarray(0, 9), /^npy: not a \.npy file/);
    bad(concatBytes(ascii('\x93NUMPX'), good.subarray(6)), /^npy: not a \.npy file: bad magic .*\\x93NUMPX/);
    bad(ascii('PK\x03\x04 this is a zip file'), /^npy: not a \.npy file: bad magic/);
    const v4 = good.slice();
    v4[6] = 4;
    bad(v4, /^npy: unsupported format version 4\.0/);
    const huge = fixture('i4V2').slice();
    huge.set([0xff, 0xff, 0xff, 0x7f], 8);
    bad(huge, /^npy: header length 2147483647 runs past the end of the file/);
    const v3 = fixture('f4V3').slice();
    v3[20] = 0xff;
    bad(v3, /^npy: header is not valid UTF-8/);
  });

  it('rejects invalid input to the encoder', () => {
    expect(() => encodeNpy({ dtype: 'float32', shape: [2, 2], data: new Float32Array(3) })).toThrow(/^npy: array data has 3 elements but shape \(2, 2\) needs 4/);
    expect(() => encodeNpy({ dtype: 'float32', shape: [2], data: new Float64Array(2) })).toThrow(/^npy: array data must be the typed array for dtype float32, got Float64Array/);
    expect(() => encodeNpy({ dtype: 'int8' as DType, shape: [1], data: new Int32Array(1) })).toThrow(/^npy: array has unknown dtype int8/);
    expect(() => encodeNpy({ dtype: 'int32', shape: [-1], data: new Int32Array(1) })).toThrow(/^npy: array shape must contain non-negative integers/);
  });

  it('writes bools as 0/1 and reads any nonzero byte as true', () => {
    const a = encodeNpy({ dtype: 'bool', shape: [3], data: new Uint8Array([0, 7, 255]) });
    expect(Array.from(a.subarray(a.length - 3))).toEqual([0, 1, 1]);
    a[a.length - 1] = 9;
    expect(Array.from(decodeNpy(a).data)).toEqual([0, 1, 1]);
  });

  it('reads a file that starts at an odd offset of a larger buffer', () => {
    const file = fixture('f8Special');
    const shifted = new Uint8Array(file.length + 3);
    shifted.set(file, 1);
    expectSame(decodeNpy(shifted.subarray(1, 1 + file.length)), decodeNpy(file));
  });

  it('writes arrays that are views into a larger buffer', () => {
    const big = new Float64Array([9, 1, 2, 3, 9]);
    const a = { dtype: 'float64' as const, shape: [3], data: big.subarray(1, 4) };
    expect(Array.from(decodeNpy(encodeNpy(a)).data)).toEqual([1, 2, 3]);
  });
});

/** A safetensors file with a hand-written header (an object or raw JSON text). */
function stWith(header: object | string, data = new Uint8Array(), pad = true): Uint8Array {
  let json = typeof header === 'string' ? header : JSON.stringify(header);
  if (pad) json += ' '.repeat((8 - (json.length % 8)) % 8);
  const h = new TextEncoder().encode(json);
  const len = new Uint8Array(8);
  new DataView(len.buffer).setBigUint64(0, BigInt(h.length), true);
  return concatBytes(len, h, data);
}

describe('safetensors', () => {
  it('round-trips every dtype and shape bit-exactly, with metadata', () => {
    const tensors: Record<string, ArrayData> = {};
    for (const dtype of DTYPES) for (const [i, shape] of SHAPES.entries()) tensors[`${dtype}.${i}`] = sample(dtype, shape);
    const bytes = encodeSafetensors(tensors, { format: 'np', 'ünïcode': '✓' });
    const out = decodeSafetensors(bytes);
    expect(out.metadata).toEqual({ format: 'np', 'ünïcode': '✓' });
    expect(Object.keys(out.tensors).sort()).toEqual(Object.keys(tensors).sort());
    for (const name of Object.keys(tensors)) expectSame(out.tensors[name], tensors[name]);
  });

  it('follows the layout: u64 length, space-padded JSON, data in sorted-name order', () => {
    const bytes = encodeSafetensors({
      z: { dtype: 'uint8', shape: [3], data: new Uint8Array([1, 2, 3]) },
      a: { dtype: 'float64', shape: [1], data: new Float64Array([0.5]) },
    });
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(n % 8).toBe(0);
    const text = new TextDecoder().decode(bytes.subarray(8, 8 + n));
    expect(text.trimEnd()).toBe('{"a":{"dtype":"F64","shape":[1],"data_offsets":[0,8]},"z":{"dtype":"U8","shape":[3],"data_offsets":[8,11]}}');
    expect(text.slice(text.trimEnd().length)).toMatch(/^ *$/);
    expect(bytes.length).toBe(8 + n + 11);
    expect(Array.from(bytes.subarray(8 + n + 8))).toEqual([1, 2, 3]);
    expect(decodeSafetensors(encodeSafetensors({})).tensors).toEqual({});
    expect(new TextDecoder().decode(encodeSafetensors({}, {}).subarray(8))).toBe('{}      ');
  });

  it('reads a file in the reference layout, converting F16/BF16/I64 exactly', () => {
    const { tensors, metadata } = decodeSafetensors(fixture('safetensors'));
    expect(metadata).toEqual({ format: 'np', note: 'fixture' });
    expectSame(tensors.w, { dtype: 'float32', shape: [2, 3], data: new Float32Array([0, 0.25, 0.5, 0.75, 1, 1.25]) });
    expectSame(tensors.b, { dtype: 'float64', shape: [3], data: new Float64Array([0.5, -0, 1e300]) });
    expectSame(tensors.ids, { dtype: 'int32', shape: [4], data: new Int32Array([1, -7, 2147483647, -2147483648]) });
    expectSame(tensors.s, { dtype: 'int32', shape: [], data: new Int32Array([-5]) });
    expectSame(tensors.bf, { dtype: 'float32', shape: [3], data: new Float32Array([1, -2.5, 3.140625]) });
    expectSame(tensors.h, { dtype: 'float32', shape: [3], data: new Float32Array([0.5, -2, 2 ** -24]) });
    expectSame(tensors.empty, { dtype: 'uint8', shape: [0, 4], data: new Uint8Array(0) });
    expectSame(tensors.mask, { dtype: 'bool', shape: [2, 2], data: new Uint8Array([1, 0, 0, 1]) });
  });

  it('rejects I64 values that do not fit in int32, naming the value', () => {
    const data = new Uint8Array(16);
    new DataView(data.buffer).setBigInt64(8, -5000000000n, true);
    const file = stWith({ t: { dtype: 'I64', shape: [2], data_offsets: [0, 16] } }, data);
    expect(() => decodeSafetensors(file)).toThrow(/^safetensors: I64 value -5000000000 at index 1 does not fit in int32/);
  });

  it('rejects corrupt files with a clear message', () => {
    const t = (dtype: string, shape: unknown, data_offsets: unknown) => ({ dtype, shape, data_offsets });
    const bad = (bytes: Uint8Array, re: RegExp) => expect(() => decodeSafetensors(bytes)).toThrow(re);
    const d8 = new Uint8Array(8);
    const good = fixture('safetensors');

    bad(good.subarray(0, 5), /^safetensors: file is truncated: 5 bytes/);
    bad(good.subarray(0, 100), /^safetensors: header length 512 runs past the end of the file \(92 bytes/);
    bad(good.subarray(0, good.length - 1), /^safetensors: tensor 'mask' data_offsets \[96, 100\] are out of range: the data buffer has 99 bytes/);
    const huge = good.slice();
    huge.set([0, 0, 0, 0, 0, 1, 0, 0], 0);
    bad(huge, /^safetensors: header length 1099511627776 exceeds the 100000000-byte limit/);
    huge.fill(0xff, 0, 8);
    bad(huge, /^safetensors: header length 18446744073709551615 exceeds/);
    bad(stWith('{"t": {"dtype": "F32",'), /^safetensors: header is not valid JSON/);
    bad(stWith('[1, 2]'), /^safetensors: header must be a JSON object starting with '\{'/);
    bad(stWith('{} {}'), /^safetensors: header is not valid JSON/);
    bad(stWith('\ufeff{}'), /^safetensors: header must be a JSON object starting with '\{'/);
    bad(concatBytes(stWith('{"a":1}', undefined, false).subarray(0, 8), new Uint8Array([0x7b, 0xff, 0xfe, 0x7d, 0x20, 0x20, 0x20])), /^safetensors: header is not valid UTF-8/);
    bad(stWith({ t: t('X9', [2], [0, 8]) }, d8), /^safetensors: tensor 't' has unknown dtype "X9"/);
    bad(stWith({ t: t('F8_E4M3', [8], [0, 8]) }, d8), /^safetensors: tensor 't' has unsupported dtype F8_E4M3/);
    bad(stWith({ t: t('F32', [-2], [0, 8]) }, d8), /^safetensors: tensor 't' shape must contain non-negative integers/);
    bad(stWith({ t: t('F32', [1.5], [0, 8]) }, d8), /^safetensors: tensor 't' shape must contain non-negative integers/);
    bad(stWith({ t: t('F32', '2', [0, 8]) }, d8), /^safetensors: tensor 't' shape must be an array/);
    bad(stWith({ t: t('F32', [3], [0, 8]) }, d8), /^safetensors: tensor 't' has wrong size: shape \[3\] of F32 needs 12 bytes but data_offsets span 8/);
    bad(stWith({ t: t('F32', [2], [0, 16]) }, d8), /^safetensors: tensor 't' data_offsets \[0, 16\] are out of range: the data buffer has 8 bytes/);
    bad(stWith({ t: t('F32', [2], [8, 0]) }, d8), /^safetensors: tensor 't' data_offsets \[8, 0\] end before they begin/);
    bad(stWith({ t: t('F32', [2], [0]) }, d8), /^safetensors: tensor 't' data_offsets must be \[begin, end\]/);
    bad(stWith({ t: t('F32', [2], [-1, 7]) }, d8), /^safetensors: tensor 't' data_offsets must be \[begin, end\]/);
    bad(stWith({ t: { dtype: 'F32', shape: [2] } }, d8), /^safetensors: tensor 't' data_offsets must be/);
    bad(stWith({ t: 5 }, d8), /^safetensors: tensor 't' must be an object/);
    bad(stWith({ a: t('U8', [6], [0, 6]), b: t('U8', [4], [4, 8]) }, d8), /^safetensors: tensor 'b' data_offsets \[4, 8\] overlap tensor 'a', which ends at 6/);
    bad(stWith({ a: t('U8', [4], [0, 4]), b: t('U8', [2], [6, 8]) }, d8), /^safetensors: gap in the data buffer: bytes \[4, 6\) belong to no tensor/);
    bad(stWith({ a: t('U8', [4], [4, 8]) }, d8), /^safetensors: gap in the data buffer: bytes \[0, 4\)/);
    bad(stWith({ a: t('U8', [4], [0, 4]) }, d8), /^safetensors: gap in the data buffer: bytes \[4, 8\) after the last tensor/);
    bad(stWith({ a: t('U8', [4], [0, 4]), b: t('U8', [0], [2, 2]), c: t('U8', [4], [4, 8]) }, d8), /overlap tensor 'a'/);
    bad(stWith({ __metadata__: { n: 1 } }), /^safetensors: __metadata__ value for "n" must be a string, got 1/);
    bad(stWith({ __metadata__: ['x'] }), /^safetensors: __metadata__ must be an object of strings/);
    bad(stWith('{"a": {"dtype": "U8", "shape": [8], "data_offsets": [0, 8]}, "a": {"dtype": "U8", "shape": [8], "data_offsets": [0, 8]}}', d8), /^safetensors: header has duplicate key "a"/);
    bad(stWith('{"a": {"dtype": "U8", "dtype": "U8", "shape": [8], "data_offsets": [0, 8]}}', d8), /^safetensors: header has duplicate key "dtype"/);
  });

  it('accepts what the format allows', () => {
    const d8 = new Uint8Array(8);
    // Unpadded header, null metadata, entries in any order, zero-size tensors anywhere, escaped names.
    const file = stWith('{"b":{"dtype":"U8","shape":[4],"data_offsets":[4,8]},"__metadata__":null,"e":{"dtype":"F64","shape":[0],"data_offsets":[4,4]},"a\\"\\u00e9":{"dtype":"I32","shape":[],"data_offsets":[0,4]}}', d8, false);
    const { tensors, metadata } = decodeSafetensors(file);
    expect(metadata).toEqual({});
    expect(Object.keys(tensors).sort()).toEqual(['a"é', 'b', 'e']);
    expect(tensors.e.shape).toEqual([0]);
    // Keys that look like array items or nested objects are not duplicates.
    expect(() => decodeSafetensors(stWith({ x: { dtype: 'U8', shape: [1, 1], data_offsets: [0, 1] }, y: { dtype: 'U8', shape: [1], data_offsets: [1, 2] } }, new Uint8Array(2)))).not.toThrow();
    // A tensor named __proto__ stays an ordinary entry.
    const proto = decodeSafetensors(stWith('{"__proto__":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}', new Uint8Array([3])));
    expect(Object.keys(proto.tensors)).toEqual(['__proto__']);
    const again = decodeSafetensors(encodeSafetensors(proto.tensors));
    expect(Array.from(Object.getOwnPropertyDescriptor(again.tensors, '__proto__')?.value.data)).toEqual([3]);
  });

  it('rejects invalid input to the encoder', () => {
    const a = { dtype: 'uint8' as const, shape: [1], data: new Uint8Array(1) };
    expect(() => encodeSafetensors({ __metadata__: a })).toThrow(/^safetensors: a tensor cannot be named '__metadata__'/);
    expect(() => encodeSafetensors({ a: { ...a, shape: [2] } })).toThrow(/^safetensors: tensor 'a' data has 1 elements but shape \(2,\) needs 2/);
    expect(() => encodeSafetensors({ a }, { n: 1 as unknown as string })).toThrow(/^safetensors: __metadata__ value for "n" must be a string/);
    expect(() => encodeSafetensors({ a: undefined as never })).toThrow(/^safetensors: tensor 'a' must be \{ dtype, shape, data \}/);
  });
});

describe('property: random arrays round-trip', () => {
  const valuesFor: Record<DType, fc.Arbitrary<number>> = {
    float32: fc.float(),
    float64: fc.double(),
    int32: fc.integer({ min: -2147483648, max: 2147483647 }),
    uint8: fc.integer({ min: 0, max: 255 }),
    bool: fc.integer({ min: 0, max: 1 }),
  };
  const arrays = fc
    .tuple(fc.constantFrom(...DTYPES), fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 4 }))
    .chain(([dtype, shape]) => {
      const size = shape.reduce((n, d) => n * d, 1);
      return fc.array(valuesFor[dtype], { minLength: size, maxLength: size }).map((values): ArrayData => {
        const data = allocArray(dtype, size);
        data.set(values);
        return { dtype, shape, data };
      });
    });

  it('through npy', () => {
    fc.assert(fc.property(arrays, (a) => expectSame(decodeNpy(encodeNpy(a)), a)));
  });

  it('through safetensors', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ maxLength: 8 }), arrays, { maxKeys: 4 }), (tensors) => {
        delete tensors.__metadata__;
        const out = decodeSafetensors(encodeSafetensors(tensors)).tensors;
        expect(Object.keys(out).sort()).toEqual(Object.keys(tensors).sort());
        for (const name of Object.keys(tensors)) expectSame(out[name], tensors[name]);
      }),
    );
  });
});

describe('tensor-level', () => {
  it('saves and loads tensors with .npy, keeping dtype and shape', async () => {
    for (const dtype of DTYPES) {
      for (const shape of SHAPES) {
        const a = sample(dtype, shape);
        const t = tensor(a.data, { dtype, shape });
        const back = fromNpy(await toNpy(t));
        expect(back.dtype).toBe(dtype);
        expect(back.shape).toEqual(shape);
        expect(bytesOf(await back.data())).toEqual(bytesOf(a.data));
        t.dispose();
        back.dispose();
      }
    }
  });

  it('writes views in their logical (row-major) order', async () => {
    const t = tensor(new Int32Array([0, 1, 2, 3, 4, 5]), { shape: [2, 3] });
    const tt = transpose(t);
    expect(tt.isContiguous).toBe(false);
    expectSame(decodeNpy(await toNpy(tt)), { dtype: 'int32', shape: [3, 2], data: new Int32Array([0, 3, 1, 4, 2, 5]) });
    const f = flip(t, 1);
    const { tensors } = decodeSafetensors(await saveSafetensors({ f, tt }));
    expectSame(tensors.f, { dtype: 'int32', shape: [2, 3], data: new Int32Array([2, 1, 0, 5, 4, 3]) });
    expectSame(tensors.tt, { dtype: 'int32', shape: [3, 2], data: new Int32Array([0, 3, 1, 4, 2, 5]) });
    for (const x of [t, tt, f]) x.dispose();
  });

  it('saves and loads named tensors with safetensors', async () => {
    const w = tensor([[1, 2], [3, 4]]);
    const m = tensor([true, false]);
    const bytes = await saveSafetensors({ w, m }, { format: 'np' });
    const { tensors, metadata } = loadSafetensors(bytes, { backend: getBackend() });
    expect(metadata).toEqual({ format: 'np' });
    expect(await tensors.w.array()).toEqual([[1, 2], [3, 4]]);
    expect(tensors.m.dtype).toBe('bool');
    expect(await tensors.m.array()).toEqual([true, false]);
    for (const x of [w, m, tensors.w, tensors.m]) x.dispose();
  });

  it('reads NumPy files into tensors', async () => {
    const t = fromNpy(fixture('f8Fortran'));
    expect(t.dtype).toBe('float64');
    expect(t.shape).toEqual([2, 3, 4]);
    expect(Array.from(await t.data())).toEqual(Array.from({ length: 24 }, (_, i) => i));
    t.dispose();
  });

  it('rejects non-tensors and creates nothing when a file cannot be loaded', async () => {
    await expect(toNpy({} as never)).rejects.toThrow(/^npy: toNpy expects a Tensor/);
    await expect(saveSafetensors({ x: 1 as never })).rejects.toThrow(/^safetensors: value for 'x' is not a Tensor/);
    // A CPU backend that stores no float64.
    const cpu = createCpuBackend();
    const capabilities = { ...cpu.capabilities, dtypes: ['float32', 'uint8'] };
    const noF64 = new Proxy(cpu, {
      get: (target, key) => {
        if (key === 'name') return 'no-f64';
        if (key === 'capabilities') return capabilities;
        const v = Reflect.get(target, key);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    }) as Backend;
    const file = encodeSafetensors({ a: sample('float32', [2]), b: sample('float64', [2]) });
    expect(() => loadSafetensors(file, { backend: noF64 })).toThrow(/^safetensors: backend "no-f64" does not support dtype float64/);
    expect(memory(noF64)).toMatchObject({ tensors: 0, buffers: 0, bytes: 0 });
  });
});
