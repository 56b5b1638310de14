// Rewrites an ONNX model so that every float32 graph input and output is float16, with Cast nodes at the edges:
// the I/O of the onnx-community fp16 exports (`*_fp16.onnx`), on the real tiny model, so the fp16 path of the
// onnx backend runs for real in tests (the math inside stays float32; only the interface changes).
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
const FLOAT = onnx.TensorProto.DataType.FLOAT;
const FLOAT16 = onnx.TensorProto.DataType.FLOAT16;

export function withFloat16Io(bytes: Uint8Array): Uint8Array {
  const model = onnx.ModelProto.decode(bytes);
  const g = model.graph!;
  const nodes = g.node ?? [];
  const rename = (from: string, to: string) => {
    for (const n of nodes) {
      n.input = (n.input ?? []).map((x) => (x === from ? to : x));
      n.output = (n.output ?? []).map((x) => (x === from ? to : x));
    }
    for (const v of g.valueInfo ?? []) if (v.name === from) v.name = to;
  };
  const head: onnxProto.onnx.INodeProto[] = [];
  const tail: onnxProto.onnx.INodeProto[] = [];
  for (const io of g.input ?? []) {
    if (io.type?.tensorType?.elemType !== FLOAT) continue;
    const inner = `${io.name}__f32`;
    rename(io.name!, inner);
    io.type.tensorType.elemType = FLOAT16;
    head.push({ opType: 'Cast', name: `${inner}_cast`, input: [io.name!], output: [inner], attribute: [{ name: 'to', type: onnx.AttributeProto.AttributeType.INT, i: FLOAT }] });
  }
  for (const io of g.output ?? []) {
    if (io.type?.tensorType?.elemType !== FLOAT) continue;
    const inner = `${io.name}__f32`;
    rename(io.name!, inner);
    io.type.tensorType.elemType = FLOAT16;
    tail.push({ opType: 'Cast', name: `${inner}_cast`, input: [inner], output: [io.name!], attribute: [{ name: 'to', type: onnx.AttributeProto.AttributeType.INT, i: FLOAT16 }] });
  }
  g.node = [...head, ...nodes, ...tail];
  return onnx.ModelProto.encode(model).finish();
}
