/**
 * A typed, bounds-checked reader for the few TFLite flatbuffer tables a CNN feature extractor
 * needs. Field ids follow tensorflow/lite/schema/schema.fbs; a table field with id N lives at
 * vtable offset 4 + 2N, and a union field takes two ids (its `_type` byte, then the value).
 *
 * The `flatbuffers` ByteBuffer reads out-of-range offsets as 0 instead of failing, so every
 * offset is checked here: a truncated or foreign file becomes a `ModelFormatError`, never garbage.
 */
import { ByteBuffer } from 'flatbuffers';
import { ModelFormatError } from '../errors';

export const TFLITE_FILE_IDENTIFIER = 'TFL3';

export enum TensorType {
  FLOAT32 = 0,
  FLOAT16 = 1,
  INT32 = 2,
  UINT8 = 3,
  INT64 = 4,
  STRING = 5,
  BOOL = 6,
  INT16 = 7,
  COMPLEX64 = 8,
  INT8 = 9,
  FLOAT64 = 10,
}

export enum Padding {
  SAME = 0,
  VALID = 1,
}

export enum ActivationFunction {
  NONE = 0,
  RELU = 1,
  RELU_N1_TO_1 = 2,
  RELU6 = 3,
  TANH = 4,
  SIGN_BIT = 5,
}

/** BuiltinOptions union member ids (1-based; 0 is NONE). */
export enum BuiltinOptionsType {
  NONE = 0,
  Conv2DOptions = 1,
  DepthwiseConv2DOptions = 2,
  Pool2DOptions = 5,
  FullyConnectedOptions = 8,
  SoftmaxOptions = 9,
  AddOptions = 11,
  ReshapeOptions = 17,
  MulOptions = 21,
  ReducerOptions = 27,
  SqueezeOptions = 30,
}

export interface QuantizationParameters {
  scale: Float32Array;
  zeroPoint: number[];
  quantizedDimension: number;
}

export interface TensorDef {
  index: number;
  name: string;
  shape: number[];
  type: TensorType;
  /** Index into `TfliteModel.buffers`; 0 is the empty sentinel. */
  buffer: number;
  quantization?: QuantizationParameters;
}

export interface Conv2DOptions {
  kind: 'conv2d';
  padding: Padding;
  strideW: number;
  strideH: number;
  activation: ActivationFunction;
  dilationW: number;
  dilationH: number;
}

export interface DepthwiseConv2DOptions {
  kind: 'depthwise';
  padding: Padding;
  strideW: number;
  strideH: number;
  depthMultiplier: number;
  activation: ActivationFunction;
  dilationW: number;
  dilationH: number;
}

export interface Pool2DOptions {
  kind: 'pool2d';
  padding: Padding;
  strideW: number;
  strideH: number;
  filterWidth: number;
  filterHeight: number;
  activation: ActivationFunction;
}

/** AddOptions, MulOptions and FullyConnectedOptions only matter for their fused activation here. */
export interface ActivationOptions {
  kind: 'activation';
  activation: ActivationFunction;
}

export interface SoftmaxOptions {
  kind: 'softmax';
  beta: number;
}

export interface ReshapeOptions {
  kind: 'reshape';
  newShape?: number[];
}

export interface ReducerOptions {
  kind: 'reducer';
  keepDims: boolean;
}

export interface SqueezeOptions {
  kind: 'squeeze';
  squeezeDims: number[];
}

export type BuiltinOptions =
  | Conv2DOptions
  | DepthwiseConv2DOptions
  | Pool2DOptions
  | ActivationOptions
  | SoftmaxOptions
  | ReshapeOptions
  | ReducerOptions
  | SqueezeOptions;

export interface OperatorCodeDef {
  builtinCode: number;
  customCode?: string;
  version: number;
}

export interface OperatorDef {
  index: number;
  opcodeIndex: number;
  /** Tensor indices; -1 marks an omitted optional input. */
  inputs: number[];
  outputs: number[];
  optionsType: number;
  /** Decoded builtin options, for the option tables this reader knows. */
  options?: BuiltinOptions;
}

export interface SubGraphDef {
  name: string;
  tensors: TensorDef[];
  inputs: number[];
  outputs: number[];
  operators: OperatorDef[];
}

export interface TfliteModel {
  version: number;
  description: string;
  operatorCodes: OperatorCodeDef[];
  subgraphs: SubGraphDef[];
  /** Raw bytes of each buffer (views into the file; empty for the sentinel and activations). */
  buffers: Uint8Array[];
}

/** Thrown inside the reader; `parseTflite` turns it into a ModelFormatError naming the file. */
class OutOfBounds extends Error {}

/** Bounds-checked accessors over a flatbuffers ByteBuffer. */
class Reader {
  readonly bb: ByteBuffer;
  readonly size: number;

  constructor(bytes: Uint8Array) {
    this.bb = new ByteBuffer(bytes);
    this.size = bytes.length;
  }

  check(offset: number, length: number, what: string): void {
    if (!Number.isInteger(offset) || offset < 0 || length < 0 || offset + length > this.size) {
      throw new OutOfBounds(`${what} at byte ${offset} (+${length}) lies outside the ${this.size}-byte file`);
    }
  }

  u8(o: number): number {
    this.check(o, 1, 'byte');
    return this.bb.readUint8(o);
  }
  i8(o: number): number {
    this.check(o, 1, 'byte');
    return this.bb.readInt8(o);
  }
  u16(o: number): number {
    this.check(o, 2, 'uint16');
    return this.bb.readUint16(o);
  }
  i32(o: number): number {
    this.check(o, 4, 'int32');
    return this.bb.readInt32(o);
  }
  u32(o: number): number {
    this.check(o, 4, 'uint32');
    return this.bb.readUint32(o);
  }
  f32(o: number): number {
    this.check(o, 4, 'float32');
    return this.bb.readFloat32(o);
  }
  i64(o: number): number {
    this.check(o, 8, 'int64');
    return Number(this.bb.readInt64(o));
  }
  u64(o: number): number {
    this.check(o, 8, 'uint64');
    return Number(this.bb.readUint64(o));
  }

  /** Position of the table referenced by the uoffset stored at `o`. */
  indirect(o: number): number {
    return o + this.u32(o);
  }

  /** Absolute position of field `id` of the table at `table`, or 0 when the field is absent. */
  field(table: number, id: number): number {
    const vtable = table - this.i32(table);
    const vtableSize = this.u16(vtable);
    this.check(vtable, vtableSize, 'vtable');
    const slot = 4 + 2 * id;
    if (slot + 2 > vtableSize) return 0;
    const rel = this.u16(vtable + slot);
    return rel === 0 ? 0 : table + rel;
  }

  /** [start, length] of the vector referenced by field `id`, checked for `elemSize`-byte items. */
  vector(table: number, id: number, elemSize: number): [number, number] | undefined {
    const f = this.field(table, id);
    if (!f) return undefined;
    const pos = this.indirect(f);
    const length = this.u32(pos);
    this.check(pos + 4, length * elemSize, 'vector');
    return [pos + 4, length];
  }

  tables(table: number, id: number): number[] {
    const v = this.vector(table, id, 4);
    if (!v) return [];
    const out: number[] = [];
    for (let i = 0; i < v[1]; i++) out.push(this.indirect(v[0] + 4 * i));
    return out;
  }

  tableField(table: number, id: number): number | undefined {
    const f = this.field(table, id);
    return f ? this.indirect(f) : undefined;
  }

  int32s(table: number, id: number): number[] | undefined {
    const v = this.vector(table, id, 4);
    if (!v) return undefined;
    const out = new Array<number>(v[1]);
    for (let i = 0; i < v[1]; i++) out[i] = this.bb.readInt32(v[0] + 4 * i);
    return out;
  }

  int64s(table: number, id: number): number[] | undefined {
    const v = this.vector(table, id, 8);
    if (!v) return undefined;
    const out = new Array<number>(v[1]);
    for (let i = 0; i < v[1]; i++) out[i] = Number(this.bb.readInt64(v[0] + 8 * i));
    return out;
  }

  float32s(table: number, id: number): Float32Array | undefined {
    const v = this.vector(table, id, 4);
    if (!v) return undefined;
    const out = new Float32Array(v[1]);
    for (let i = 0; i < v[1]; i++) out[i] = this.bb.readFloat32(v[0] + 4 * i);
    return out;
  }

  bytes(table: number, id: number): Uint8Array | undefined {
    const v = this.vector(table, id, 1);
    if (!v) return undefined;
    return this.bb.bytes().subarray(v[0], v[0] + v[1]);
  }

  string(table: number, id: number): string | undefined {
    const b = this.bytes(table, id);
    return b ? new TextDecoder('utf-8').decode(b) : undefined;
  }

  // Scalars with their schema defaults.
  int32(table: number, id: number, dflt = 0): number {
    const f = this.field(table, id);
    return f ? this.i32(f) : dflt;
  }
  uint32(table: number, id: number, dflt = 0): number {
    const f = this.field(table, id);
    return f ? this.u32(f) : dflt;
  }
  int8(table: number, id: number, dflt = 0): number {
    const f = this.field(table, id);
    return f ? this.i8(f) : dflt;
  }
  uint8(table: number, id: number, dflt = 0): number {
    const f = this.field(table, id);
    return f ? this.u8(f) : dflt;
  }
  bool(table: number, id: number, dflt = false): boolean {
    const f = this.field(table, id);
    return f ? this.u8(f) !== 0 : dflt;
  }
  float32(table: number, id: number, dflt = 0): number {
    const f = this.field(table, id);
    return f ? this.f32(f) : dflt;
  }
  uint64(table: number, id: number, dflt = 0): number {
    const f = this.field(table, id);
    return f ? this.u64(f) : dflt;
  }
}

/**
 * Parses a .tflite file. `file` only labels errors.
 * @throws ModelFormatError when the bytes are not a complete TFLite flatbuffer.
 */
export function parseTflite(bytes: Uint8Array, file: string): TfliteModel {
  if (bytes.length < 8) {
    throw new ModelFormatError(
      `${file} is not a TFLite model: it is only ${bytes.length} bytes long.`,
      file,
    );
  }
  const ident = String.fromCharCode(bytes[4], bytes[5], bytes[6], bytes[7]);
  if (ident !== TFLITE_FILE_IDENTIFIER) {
    throw new ModelFormatError(
      `${file} is not a TFLite model: bytes 4..8 are ${JSON.stringify(ident)}, expected the ` +
        `"${TFLITE_FILE_IDENTIFIER}" file identifier. Check that the file is a .tflite flatbuffer ` +
        '(not a SavedModel, .h5, model.json or an HTML error page saved by a failed download).',
      file,
    );
  }
  // A plain Uint8Array view: Node's Buffer#slice/subarray semantics differ from Uint8Array's.
  const r = new Reader(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length));
  try {
    return readModel(r);
  } catch (err) {
    if (err instanceof OutOfBounds || err instanceof RangeError) {
      throw new ModelFormatError(
        `${file} is truncated or corrupt: ${err.message}. Download or copy the file again.`,
        file,
      );
    }
    throw err;
  }
}

function readModel(r: Reader): TfliteModel {
  const root = r.indirect(0);
  // Model: version(0) operator_codes(1) subgraphs(2) description(3) buffers(4)
  const model: TfliteModel = {
    version: r.uint32(root, 0),
    description: r.string(root, 3) ?? '',
    operatorCodes: r.tables(root, 1).map((t) => readOperatorCode(r, t)),
    subgraphs: r.tables(root, 2).map((t) => readSubGraph(r, t)),
    buffers: r.tables(root, 4).map((t) => readBuffer(r, t)),
  };
  if (model.subgraphs.length === 0) throw new OutOfBounds('the model has no subgraph');
  for (const sg of model.subgraphs) {
    for (const t of sg.tensors) {
      if (t.buffer >= model.buffers.length && t.buffer !== 0) {
        throw new OutOfBounds(`tensor ${t.name} refers to buffer ${t.buffer} of ${model.buffers.length}`);
      }
    }
    for (const op of sg.operators) {
      if (op.opcodeIndex >= model.operatorCodes.length) {
        throw new OutOfBounds(`operator ${op.index} uses opcode ${op.opcodeIndex} of ${model.operatorCodes.length}`);
      }
      for (const i of [...op.inputs, ...op.outputs]) {
        if (i >= sg.tensors.length) throw new OutOfBounds(`operator ${op.index} uses tensor ${i} of ${sg.tensors.length}`);
      }
    }
  }
  return model;
}

function readOperatorCode(r: Reader, t: number): OperatorCodeDef {
  // OperatorCode: deprecated_builtin_code(0, byte) custom_code(1) version(2) builtin_code(3, int)
  // Old files only have the byte; new ones put codes >= 127 in the int field only.
  const deprecated = r.int8(t, 0);
  const extended = r.int32(t, 3);
  return {
    builtinCode: Math.max(deprecated, extended),
    customCode: r.string(t, 1),
    version: r.int32(t, 2, 1),
  };
}

function readSubGraph(r: Reader, t: number): SubGraphDef {
  // SubGraph: tensors(0) inputs(1) outputs(2) operators(3) name(4)
  return {
    tensors: r.tables(t, 0).map((x, i) => readTensor(r, x, i)),
    inputs: r.int32s(t, 1) ?? [],
    outputs: r.int32s(t, 2) ?? [],
    operators: r.tables(t, 3).map((x, i) => readOperator(r, x, i)),
    name: r.string(t, 4) ?? '',
  };
}

function readTensor(r: Reader, t: number, index: number): TensorDef {
  // Tensor: shape(0) type(1) buffer(2) name(3) quantization(4)
  const tensor: TensorDef = {
    index,
    shape: r.int32s(t, 0) ?? [],
    type: r.int8(t, 1) as TensorType,
    buffer: r.uint32(t, 2),
    name: r.string(t, 3) ?? `tensor_${index}`,
  };
  const q = r.tableField(t, 4);
  if (q !== undefined) {
    // QuantizationParameters: min(0) max(1) scale(2) zero_point(3) details_type(4) details(5)
    // quantized_dimension(6)
    const scale = r.float32s(q, 2);
    if (scale && scale.length > 0) {
      tensor.quantization = {
        scale,
        zeroPoint: r.int64s(q, 3) ?? [],
        quantizedDimension: r.int32(q, 6),
      };
    }
  }
  return tensor;
}

function readOperator(r: Reader, t: number, index: number): OperatorDef {
  // Operator: opcode_index(0) inputs(1) outputs(2) builtin_options_type(3) builtin_options(4)
  const op: OperatorDef = {
    index,
    opcodeIndex: r.uint32(t, 0),
    inputs: r.int32s(t, 1) ?? [],
    outputs: r.int32s(t, 2) ?? [],
    optionsType: r.uint8(t, 3),
  };
  const o = r.tableField(t, 4);
  if (o !== undefined) op.options = readOptions(r, op.optionsType, o);
  return op;
}

function readOptions(r: Reader, type: number, o: number): BuiltinOptions | undefined {
  switch (type) {
    case BuiltinOptionsType.Conv2DOptions:
      // padding(0) stride_w(1) stride_h(2) fused_activation_function(3) dilation_w(4) dilation_h(5)
      return {
        kind: 'conv2d',
        padding: r.int8(o, 0),
        strideW: r.int32(o, 1),
        strideH: r.int32(o, 2),
        activation: r.int8(o, 3),
        dilationW: r.int32(o, 4, 1),
        dilationH: r.int32(o, 5, 1),
      };
    case BuiltinOptionsType.DepthwiseConv2DOptions:
      // padding(0) stride_w(1) stride_h(2) depth_multiplier(3) fused_activation_function(4)
      // dilation_w(5) dilation_h(6)
      return {
        kind: 'depthwise',
        padding: r.int8(o, 0),
        strideW: r.int32(o, 1),
        strideH: r.int32(o, 2),
        depthMultiplier: r.int32(o, 3),
        activation: r.int8(o, 4),
        dilationW: r.int32(o, 5, 1),
        dilationH: r.int32(o, 6, 1),
      };
    case BuiltinOptionsType.Pool2DOptions:
      // padding(0) stride_w(1) stride_h(2) filter_width(3) filter_height(4) fused_activation(5)
      return {
        kind: 'pool2d',
        padding: r.int8(o, 0),
        strideW: r.int32(o, 1),
        strideH: r.int32(o, 2),
        filterWidth: r.int32(o, 3),
        filterHeight: r.int32(o, 4),
        activation: r.int8(o, 5),
      };
    case BuiltinOptionsType.AddOptions:
    case BuiltinOptionsType.MulOptions:
    case BuiltinOptionsType.FullyConnectedOptions:
      // fused_activation_function is field 0 in all three.
      return { kind: 'activation', activation: r.int8(o, 0) };
    case BuiltinOptionsType.SoftmaxOptions:
      return { kind: 'softmax', beta: r.float32(o, 0) };
    case BuiltinOptionsType.ReshapeOptions:
      return { kind: 'reshape', newShape: r.int32s(o, 0) };
    case BuiltinOptionsType.ReducerOptions:
      return { kind: 'reducer', keepDims: r.bool(o, 0) };
    case BuiltinOptionsType.SqueezeOptions:
      return { kind: 'squeeze', squeezeDims: r.int32s(o, 0) ?? [] };
    default:
      return undefined;
  }
}

function readBuffer(r: Reader, t: number): Uint8Array {
  // Buffer: data(0) offset(1) size(2). Models over 2 GB keep data outside the flatbuffer,
  // at `offset` from the start of the file (valid when offset > 1).
  const data = r.bytes(t, 0);
  if (data && data.length > 0) return data;
  const offset = r.uint64(t, 1);
  const size = r.uint64(t, 2);
  if (offset > 1) {
    r.check(offset, size, 'external buffer');
    return r.bb.bytes().subarray(offset, offset + size);
  }
  return new Uint8Array(0);
}
