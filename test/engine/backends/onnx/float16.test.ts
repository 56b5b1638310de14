// float16 conversions against onnxruntime's own Cast operator (the conversion the fp16 exports' graphs use):
// every one of the 65,536 half bit patterns to float32, and float32 to half on edge cases and random values
// across the whole half range (ties, subnormals, overflow, zeros, infinities, NaN).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import onnxProto from 'onnx-proto';
import { argmax, convertFloats, f32ToF16Bits, float16Table, toFloat16, toFloat32 } from '../../../../src/engine/backends/onnx/float16.js';

const { onnx } = onnxProto;
const DT = onnx.TensorProto.DataType;

async function castSession(from: number, to: number): Promise<ort.InferenceSession> {
  const vi = (name: string, elemType: number) => ({ name, type: { tensorType: { elemType, shape: { dim: [{ dimParam: 'n' }] } } } });
  const model = onnx.ModelProto.encode({
    irVersion: 9,
    opsetImport: [{ domain: '', version: 20 }],
    graph: {
      name: 'cast',
      input: [vi('x', from)],
      output: [vi('y', to)],
      node: [{ opType: 'Cast', input: ['x'], output: ['y'], attribute: [{ name: 'to', type: onnx.AttributeProto.AttributeType.INT, i: to }] }],
    },
  }).finish();
  return ort.InferenceSession.create(model);
}

test('every half bit pattern converts to the float32 onnxruntime gives', async () => {
  const s = await castSession(DT.FLOAT16, DT.FLOAT);
  const all = Uint16Array.from({ length: 65536 }, (_, i) => i);
  const want = (await s.run({ x: new ort.Tensor('float16', all, [all.length]) })).y.data as Float32Array;
  const got = toFloat32(all);
  let bad = 0;
  for (let i = 0; i < all.length; i++) if (!(Object.is(got[i], want[i]) || (Number.isNaN(got[i]) && Number.isNaN(want[i])))) bad++;
  assert.equal(bad, 0);
  assert.equal(float16Table()[0x3c00], 1);
  assert.equal(float16Table()[0x7bff], 65504);
  await s.release();
});

test('float32 to half rounds like onnxruntime: ties to even, subnormals, overflow, signed zeros, NaN', async () => {
  const s = await castSession(DT.FLOAT, DT.FLOAT16);
  const edge = [0, -0, 1, -1, 65504, 65519.99, 65520, -65520, 1e6, Infinity, -Infinity, NaN, 2 ** -24, 2 ** -25, 2 ** -25 * 1.0001, 3 * 2 ** -25, 2 ** -14, 2 ** -14 - 2 ** -25, 1 + 2 ** -11, 1 + 3 * 2 ** -11, 1e-10, -1e-10, 0.1, 1 / 3];
  let seed = 12345;
  const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  const random = Array.from({ length: 20000 }, () => (rand() < 0.5 ? -1 : 1) * 2 ** (rand() * 44 - 28) * (1 + rand()));
  const xs = Float32Array.from([...edge, ...random]);
  const want = (await s.run({ x: new ort.Tensor('float32', xs, [xs.length]) })).y.data as Uint16Array;
  const got = toFloat16(xs);
  const mismatches: string[] = [];
  for (let i = 0; i < xs.length; i++) {
    const bothNaN = (got[i] & 0x7fff) > 0x7c00 && (want[i] & 0x7fff) > 0x7c00;
    if (got[i] !== want[i] && !bothNaN) mismatches.push(`${xs[i]}: ${got[i].toString(16)} vs ort ${want[i].toString(16)}`);
  }
  assert.deepEqual(mismatches.slice(0, 10), []);
  assert.equal(f32ToF16Bits(1), 0x3c00);
  assert.equal(f32ToF16Bits(-0), 0x8000);
  await s.release();
});

test('convertFloats passes agreeing types through untouched; argmax reads half through the table', () => {
  const f = Float32Array.of(0.5, -2, 7.25, 7.25, 3);
  assert.equal(convertFloats(f, 'float32', 'float32'), f);
  const h = convertFloats(f, 'float32', 'float16') as Uint16Array;
  assert.ok(h instanceof Uint16Array);
  assert.deepEqual([...(convertFloats(h, 'float16', 'float32') as Float32Array)], [0.5, -2, 7.25, 7.25, 3]);
  assert.equal(argmax(f, 'float32', 0, 5), 2);
  assert.equal(argmax(h, 'float16', 0, 5), 2, 'first of equal maxima');
  assert.equal(argmax(h, 'float16', 3, 2), 0, 'relative to start');
  // Bit patterns do not order like values for negatives: -2 (0xc000) > 0.5 (0x3800) as integers.
  assert.equal(argmax(toFloat16(Float32Array.of(-2, 0.5)), 'float16', 0, 2), 1);
});
