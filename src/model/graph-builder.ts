// A small ONNX graph builder over onnx-proto (protobufjs): named values, initializers, deduplicated
// constants, name scopes, and one method per ONNX op we use, so the model code in gemma3-graphs.ts reads
// like the PyTorch modules it mirrors. Knows nothing about Gemma; owns only the ONNX encoding.
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

/** Opset 20: the first with Gelu(approximate="tanh"); onnxruntime 1.30 implements all ops used here. */
export const OPSET_VERSION = 20;
/** IR version 9 is the one that goes with opset 20 (ONNX 1.15). */
export const IR_VERSION = 9;

export type ElemType = 'float32' | 'int64' | 'bool';
export type Dim = number | string;

const DT = onnx.TensorProto.DataType;
const ELEM_TYPE: Record<ElemType, number> = { float32: DT.FLOAT, int64: DT.INT64, bool: DT.BOOL };

/** A named tensor in the graph (graph input, initializer or node output). */
export interface Value {
  readonly name: string;
}

/** Marks a number as a FLOAT attribute even when it is integral (e.g. alpha = 1). */
export interface FloatAttr {
  readonly float: number;
}
export type AttrValue = number | string | readonly number[] | FloatAttr;
export const floatAttr = (x: number): FloatAttr => ({ float: x });

function encodeAttr(name: string, v: AttrValue): onnxProto.onnx.IAttributeProto {
  const A = onnx.AttributeProto.AttributeType;
  if (typeof v === 'string') return { name, type: A.STRING, s: new TextEncoder().encode(v) };
  if (typeof v === 'number') {
    return Number.isInteger(v) ? { name, type: A.INT, i: v } : { name, type: A.FLOAT, f: v };
  }
  if (Array.isArray(v)) return { name, type: A.INTS, ints: [...v] };
  return { name, type: A.FLOAT, f: (v as FloatAttr).float };
}

function valueInfo(name: string, elem: ElemType, dims: readonly Dim[]): onnxProto.onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: ELEM_TYPE[elem],
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

/** Little-endian raw bytes of a typed array, without copying (ONNX raw_data is little-endian). */
function rawBytes(data: Float32Array | BigInt64Array | Uint8Array): Uint8Array {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

export class GraphBuilder {
  private readonly nodes: onnxProto.onnx.INodeProto[] = [];
  private readonly initializers: onnxProto.onnx.ITensorProto[] = [];
  private readonly inputs: onnxProto.onnx.IValueInfoProto[] = [];
  private readonly outputs: onnxProto.onnx.IValueInfoProto[] = [];
  private readonly used = new Set<string>();
  private readonly constants = new Map<string, Value>();
  private readonly scopes: string[] = [];
  private counter = 0;

  constructor(readonly graphName: string) {}

  // ---- naming -------------------------------------------------------------------------------------

  /** Runs `fn` with node and value names prefixed by `scope/`, so profiles and errors say where they are. */
  scope<T>(scope: string, fn: () => T): T {
    this.scopes.push(scope);
    try {
      return fn();
    } finally {
      this.scopes.pop();
    }
  }

  private fresh(hint: string): string {
    const prefix = this.scopes.length > 0 ? `/${this.scopes.join('/')}/` : '/';
    let name = `${prefix}${hint}_${this.counter++}`;
    while (this.used.has(name)) name = `${prefix}${hint}_${this.counter++}`;
    this.used.add(name);
    return name;
  }

  private claim(name: string): void {
    if (this.used.has(name)) throw new Error(`internal: duplicate ONNX value name ${name} in ${this.graphName}`);
    this.used.add(name);
  }

  // ---- graph interface ----------------------------------------------------------------------------

  input(name: string, elem: ElemType, dims: readonly Dim[]): Value {
    this.claim(name);
    this.inputs.push(valueInfo(name, elem, dims));
    return { name };
  }

  /** Declares `v` as graph output `name` (an Identity renames it when the value has another name). */
  output(v: Value, name: string, elem: ElemType, dims: readonly Dim[]): void {
    if (v.name !== name) {
      this.claim(name);
      this.nodes.push({ opType: 'Identity', input: [v.name], output: [name], name: `/${name}/Identity` });
    }
    this.outputs.push(valueInfo(name, elem, dims));
  }

  initializer(name: string, elem: ElemType, dims: readonly number[], data: Float32Array | BigInt64Array | Uint8Array): Value {
    const expected = dims.reduce((a, b) => a * b, 1);
    if (data.length !== expected) {
      throw new Error(`internal: initializer ${name} has ${data.length} values, shape [${dims.join(',')}] needs ${expected}`);
    }
    this.claim(name);
    this.initializers.push({ name, dataType: ELEM_TYPE[elem], dims: [...dims], rawData: rawBytes(data) });
    return { name };
  }

  /** A small constant (shape, axes, scalar factor), deduplicated by value. */
  constant(elem: 'float32' | 'int64', values: readonly number[], dims: readonly number[] = [values.length]): Value {
    const key = `${elem}:${dims.join('x')}:${values.join(',')}`;
    const hit = this.constants.get(key);
    if (hit) return hit;
    const name = `const_${elem === 'float32' ? 'f' : 'i'}_${this.constants.size}`;
    const data = elem === 'float32' ? Float32Array.from(values) : BigInt64Array.from(values.map((x) => BigInt(x)));
    const v = this.initializer(name, elem, dims, data);
    this.constants.set(key, v);
    return v;
  }

  scalarF(x: number): Value {
    return this.constant('float32', [x], []);
  }
  scalarI(x: number): Value {
    return this.constant('int64', [x], []);
  }
  ints(xs: readonly number[]): Value {
    return this.constant('int64', xs);
  }

  /** Adds a node; returns its outputs. Empty-string inputs are ONNX's "optional input omitted". */
  node(opType: string, inputs: ReadonlyArray<Value | ''>, attrs: Record<string, AttrValue> = {}, numOutputs = 1): Value[] {
    const outputs = Array.from({ length: numOutputs }, () => ({ name: this.fresh(opType) }));
    this.nodes.push({
      opType,
      name: `${outputs[0].name}_node`,
      input: inputs.map((x) => (x === '' ? '' : x.name)),
      output: outputs.map((o) => o.name),
      attribute: Object.entries(attrs).map(([k, v]) => encodeAttr(k, v)),
    });
    return outputs;
  }

  op(opType: string, inputs: ReadonlyArray<Value | ''>, attrs: Record<string, AttrValue> = {}): Value {
    return this.node(opType, inputs, attrs, 1)[0];
  }

  // ---- elementwise and shape ops ------------------------------------------------------------------

  add(a: Value, b: Value): Value {
    return this.op('Add', [a, b]);
  }
  sub(a: Value, b: Value): Value {
    return this.op('Sub', [a, b]);
  }
  mul(a: Value, b: Value): Value {
    return this.op('Mul', [a, b]);
  }
  div(a: Value, b: Value): Value {
    return this.op('Div', [a, b]);
  }
  neg(a: Value): Value {
    return this.op('Neg', [a]);
  }
  sqrt(a: Value): Value {
    return this.op('Sqrt', [a]);
  }
  pow(a: Value, exponent: number): Value {
    return this.op('Pow', [a, this.scalarF(exponent)]);
  }
  cos(a: Value): Value {
    return this.op('Cos', [a]);
  }
  sin(a: Value): Value {
    return this.op('Sin', [a]);
  }
  matMul(a: Value, b: Value): Value {
    return this.op('MatMul', [a, b]);
  }
  reduceMean(x: Value, axes: readonly number[], keepdims = true): Value {
    return this.op('ReduceMean', [x, this.ints(axes)], { keepdims: keepdims ? 1 : 0 });
  }
  softmax(x: Value, axis = -1): Value {
    return this.op('Softmax', [x], { axis });
  }
  geluTanh(x: Value): Value {
    return this.op('Gelu', [x], { approximate: 'tanh' });
  }
  reshape(x: Value, shape: readonly number[]): Value {
    return this.op('Reshape', [x, this.ints(shape)]);
  }
  reshapeTo(x: Value, shape: Value): Value {
    return this.op('Reshape', [x, shape]);
  }
  transpose(x: Value, perm: readonly number[]): Value {
    return this.op('Transpose', [x], { perm });
  }
  unsqueeze(x: Value, axes: readonly number[]): Value {
    return this.op('Unsqueeze', [x, this.ints(axes)]);
  }
  concat(xs: readonly Value[], axis: number): Value {
    return this.op('Concat', xs, { axis });
  }
  split2(x: Value, axis: number): [Value, Value] {
    const [a, b] = this.node('Split', [x], { axis, num_outputs: 2 }, 2);
    return [a, b];
  }
  cast(x: Value, to: ElemType): Value {
    return this.op('Cast', [x], { to: ELEM_TYPE[to] });
  }
  /** Shape(x)[start:end] as an int64 1-D tensor. */
  shape(x: Value, start?: number, end?: number): Value {
    const attrs: Record<string, AttrValue> = {};
    if (start !== undefined) attrs.start = start;
    if (end !== undefined) attrs.end = end;
    return this.op('Shape', [x], attrs);
  }
  gather(data: Value, indices: Value, axis = 0): Value {
    return this.op('Gather', [data, indices], { axis });
  }
  slice(x: Value, starts: Value, ends: Value, axes: Value): Value {
    return this.op('Slice', [x, starts, ends, axes]);
  }
  range(start: Value, limit: Value, delta: Value): Value {
    return this.op('Range', [start, limit, delta]);
  }
  where(cond: Value, a: Value, b: Value): Value {
    return this.op('Where', [cond, a, b]);
  }
  and(a: Value, b: Value): Value {
    return this.op('And', [a, b]);
  }
  lessOrEqual(a: Value, b: Value): Value {
    return this.op('LessOrEqual', [a, b]);
  }
  greater(a: Value, b: Value): Value {
    return this.op('Greater', [a, b]);
  }

  // ---- encoding -----------------------------------------------------------------------------------

  /** The encoded ModelProto. Deterministic: no timestamps, names assigned in construction order. */
  encode(docString: string, metadata: Record<string, string> = {}): Uint8Array {
    const model: onnxProto.onnx.IModelProto = {
      irVersion: IR_VERSION,
      producerName: 'gemma-bench',
      producerVersion: '1',
      domain: 'ai.gemma-bench',
      modelVersion: 1,
      docString,
      opsetImport: [{ domain: '', version: OPSET_VERSION }],
      metadataProps: Object.entries(metadata).map(([key, value]) => ({ key, value })),
      graph: {
        name: this.graphName,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      },
    };
    return onnx.ModelProto.encode(model).finish();
  }
}
