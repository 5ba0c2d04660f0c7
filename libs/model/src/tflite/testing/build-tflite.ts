/**
 * Test helper: writes small TFLite flatbuffers with the `flatbuffers` Builder, so the reader and
 * interpreter can be checked on cases the shipped MobileNets do not cover (int8 per-channel
 * weights, MEAN, FULLY_CONNECTED, fp16 constants, unsupported operators). Field ids follow
 * tensorflow/lite/schema/schema.fbs.
 */
import { Builder } from 'flatbuffers';
import { TensorType, TFLITE_FILE_IDENTIFIER } from '../schema';

export interface TensorSpec {
  name: string;
  shape: number[];
  type: TensorType;
  data?: Uint8Array;
  quant?: { scale: number[]; zeroPoint: number[]; dim?: number };
}

export type OptionField = [id: number, kind: 'i8' | 'i32' | 'f32' | 'bool' | 'i32vec', value: number | number[]];

export interface OpSpec {
  builtin: number;
  inputs: number[];
  outputs: number[];
  /** BuiltinOptions union type id and the option table's fields. */
  options?: { type: number; fields: OptionField[] };
}

export interface ModelSpec {
  tensors: TensorSpec[];
  ops: OpSpec[];
  inputs: number[];
  outputs: number[];
}

export function buildTflite(spec: ModelSpec): Uint8Array {
  const b = new Builder(1024);
  const int32Vec = (v: number[]): number => {
    b.startVector(4, v.length, 4);
    for (let i = v.length - 1; i >= 0; i--) b.addInt32(v[i]);
    return b.endVector();
  };
  const offsetVec = (v: number[]): number => {
    b.startVector(4, v.length, 4);
    for (let i = v.length - 1; i >= 0; i--) b.addOffset(v[i]);
    return b.endVector();
  };

  // Buffers: 0 is the empty sentinel; each constant tensor gets its own.
  const bufferOffsets: number[] = [];
  const tensorBuffer: number[] = [];
  const addBuffer = (data?: Uint8Array): number => {
    const vec = data ? b.createByteVector(data) : 0;
    b.startObject(3);
    if (vec) b.addFieldOffset(0, vec, 0);
    bufferOffsets.push(b.endObject());
    return bufferOffsets.length - 1;
  };
  addBuffer();
  for (const t of spec.tensors) tensorBuffer.push(t.data ? addBuffer(t.data) : 0);

  const tensors = spec.tensors.map((t, i) => {
    const shape = int32Vec(t.shape);
    const name = b.createString(t.name);
    let quant = 0;
    if (t.quant) {
      b.startVector(4, t.quant.scale.length, 4);
      for (let k = t.quant.scale.length - 1; k >= 0; k--) b.addFloat32(t.quant.scale[k]);
      const scale = b.endVector();
      b.startVector(8, t.quant.zeroPoint.length, 8);
      for (let k = t.quant.zeroPoint.length - 1; k >= 0; k--) b.addInt64(BigInt(t.quant.zeroPoint[k]));
      const zp = b.endVector();
      b.startObject(7);
      b.addFieldOffset(2, scale, 0);
      b.addFieldOffset(3, zp, 0);
      b.addFieldInt32(6, t.quant.dim ?? 0, 0);
      quant = b.endObject();
    }
    b.startObject(6);
    b.addFieldOffset(0, shape, 0);
    b.addFieldInt8(1, t.type, 0);
    b.addFieldInt32(2, tensorBuffer[i], 0);
    b.addFieldOffset(3, name, 0);
    if (quant) b.addFieldOffset(4, quant, 0);
    return b.endObject();
  });

  const codes = [...new Set(spec.ops.map((o) => o.builtin))];
  const operators = spec.ops.map((op) => {
    const inputs = int32Vec(op.inputs);
    const outputs = int32Vec(op.outputs);
    let options = 0;
    if (op.options) {
      const vecs = op.options.fields.map(([, kind, v]) => (kind === 'i32vec' ? int32Vec(v as number[]) : 0));
      b.startObject(8);
      op.options.fields.forEach(([id, kind, v], k) => {
        if (kind === 'i8' || kind === 'bool') b.addFieldInt8(id, Number(v), null);
        else if (kind === 'i32') b.addFieldInt32(id, v as number, null);
        else if (kind === 'f32') b.addFieldFloat32(id, v as number, null);
        else b.addFieldOffset(id, vecs[k], 0);
      });
      options = b.endObject();
    }
    b.startObject(5);
    b.addFieldInt32(0, codes.indexOf(op.builtin), 0);
    b.addFieldOffset(1, inputs, 0);
    b.addFieldOffset(2, outputs, 0);
    if (op.options) {
      b.addFieldInt8(3, op.options.type, 0);
      b.addFieldOffset(4, options, 0);
    }
    return b.endObject();
  });

  const opcodes = codes.map((code) => {
    b.startObject(4);
    b.addFieldInt8(0, Math.min(code, 127), 0);
    b.addFieldInt32(2, 1, 1);
    b.addFieldInt32(3, code, 0);
    return b.endObject();
  });

  const tensorsVec = offsetVec(tensors);
  const inputsVec = int32Vec(spec.inputs);
  const outputsVec = int32Vec(spec.outputs);
  const operatorsVec = offsetVec(operators);
  const sgName = b.createString('main');
  b.startObject(5);
  b.addFieldOffset(0, tensorsVec, 0);
  b.addFieldOffset(1, inputsVec, 0);
  b.addFieldOffset(2, outputsVec, 0);
  b.addFieldOffset(3, operatorsVec, 0);
  b.addFieldOffset(4, sgName, 0);
  const subgraph = b.endObject();

  const opcodesVec = offsetVec(opcodes);
  const subgraphsVec = offsetVec([subgraph]);
  const buffersVec = offsetVec(bufferOffsets);
  const description = b.createString('test model');
  b.startObject(5);
  b.addFieldInt32(0, 3, 0);
  b.addFieldOffset(1, opcodesVec, 0);
  b.addFieldOffset(2, subgraphsVec, 0);
  b.addFieldOffset(3, description, 0);
  b.addFieldOffset(4, buffersVec, 0);
  b.finish(b.endObject(), TFLITE_FILE_IDENTIFIER);
  return b.asUint8Array().slice();
}

/** Little-endian bytes of a typed array. */
export function bytesOf(a: Int8Array | Uint8Array | Int32Array | Float32Array | Uint16Array): Uint8Array {
  return new Uint8Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength));
}
