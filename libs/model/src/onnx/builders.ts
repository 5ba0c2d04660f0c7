/** Small constructors of ONNX protobuf values (attributes, value infos) and raw tensor data. */
import type { ConstantValue } from '../tflite/constants';
import { OnnxAttributeType, OnnxDataType, type OnnxAttribute, type OnnxValueInfo } from './proto';

/** A constant's values as float32 (shapes and axes arrive as int32). */
export function toFloat(c: ConstantValue): Float32Array {
  return c.values instanceof Float32Array ? c.values : Float32Array.from(c.values);
}

/** Transposes a rank-4 row-major array (float weights, or integer ones for the int8 export): result dims are `shape[perm[i]]`. */
export function transpose4<T extends Float32Array | Int32Array | Int8Array | Uint8Array>(values: T, shape: readonly number[], perm: readonly number[]): T {
  const out = new (values.constructor as new (length: number) => T)(values.length);
  const strides = [shape[1] * shape[2] * shape[3], shape[2] * shape[3], shape[3], 1];
  const dims = perm.map((p) => shape[p]);
  const s = perm.map((p) => strides[p]);
  let k = 0;
  for (let a = 0; a < dims[0]; a++)
    for (let b = 0; b < dims[1]; b++)
      for (let c = 0; c < dims[2]; c++)
        for (let d = 0; d < dims[3]; d++) out[k++] = values[a * s[0] + b * s[1] + c * s[2] + d * s[3]];
  return out;
}

export function bytesOf(a: Float32Array | BigInt64Array | Int32Array | Int8Array | Uint8Array): Uint8Array {
  // Raw tensor data is little-endian; so are the typed arrays on every platform Node supports.
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

export function intsAttr(name: string, ints: number[]): OnnxAttribute {
  return { name, type: OnnxAttributeType.INTS, ints };
}

export function intAttr(name: string, i: number): OnnxAttribute {
  return { name, type: OnnxAttributeType.INT, i };
}

export function floatAttr(name: string, f: number): OnnxAttribute {
  return { name, type: OnnxAttributeType.FLOAT, f };
}

export function valueInfo(name: string, dim: { dim_value?: number; dim_param?: string }[]): OnnxValueInfo {
  return { name, type: { tensor_type: { elem_type: OnnxDataType.FLOAT, shape: { dim } } } };
}
