/**
 * Turns the constant buffers of a TFLite model into float32 (weights, biases) or int32 (shapes,
 * axes) arrays. Quantized weights are dequantized with real = scale * (q - zero_point), per tensor
 * or per channel along `quantized_dimension`.
 */
import { ModelFormatError } from '../errors';
import { TensorType, type TensorDef } from './schema';

export interface ConstantValue {
  dtype: 'float32' | 'int32';
  shape: number[];
  values: Float32Array | Int32Array;
}

const BYTES: Partial<Record<TensorType, number>> = {
  [TensorType.FLOAT32]: 4,
  [TensorType.FLOAT16]: 2,
  [TensorType.INT32]: 4,
  [TensorType.UINT8]: 1,
  [TensorType.INT64]: 8,
  [TensorType.INT16]: 2,
  [TensorType.INT8]: 1,
  [TensorType.BOOL]: 1,
};

/** Decodes one constant tensor. `file` only labels errors. */
export function decodeConstant(tensor: TensorDef, data: Uint8Array, file: string): ConstantValue {
  const count = tensor.shape.reduce((a, b) => a * b, 1);
  const width = BYTES[tensor.type];
  if (width === undefined) {
    throw new ModelFormatError(
      `${file}: constant tensor ${tensor.name} has TFLite type ${TensorType[tensor.type] ?? tensor.type}, which this loader cannot read.`,
      file,
    );
  }
  if (data.length !== count * width) {
    throw new ModelFormatError(
      `${file}: constant tensor ${tensor.name} of shape [${tensor.shape}] needs ${count * width} bytes but its buffer has ${data.length}; the file is corrupt.`,
      file,
    );
  }
  // Copy (new Uint8Array, not Buffer#slice, which shares memory) so typed-array views start at an
  // aligned offset 0 wherever the buffer sits in the file.
  const buf = new Uint8Array(data).buffer;
  let raw: ArrayLike<number>;
  switch (tensor.type) {
    case TensorType.FLOAT32:
      return { dtype: 'float32', shape: tensor.shape, values: new Float32Array(buf, 0, count) };
    case TensorType.FLOAT16:
      return { dtype: 'float32', shape: tensor.shape, values: halfToFloat(new Uint16Array(buf, 0, count)) };
    case TensorType.INT32:
      raw = new Int32Array(buf, 0, count);
      break;
    case TensorType.UINT8:
    case TensorType.BOOL:
      raw = new Uint8Array(buf, 0, count);
      break;
    case TensorType.INT8:
      raw = new Int8Array(buf, 0, count);
      break;
    case TensorType.INT16:
      raw = new Int16Array(buf, 0, count);
      break;
    case TensorType.INT64: {
      const big = new BigInt64Array(buf, 0, count);
      raw = Int32Array.from(big, (v) => Number(v));
      break;
    }
    default:
      throw new Error('unreachable');
  }
  if (tensor.quantization) {
    return { dtype: 'float32', shape: tensor.shape, values: dequantize(raw, tensor, file) };
  }
  return { dtype: 'int32', shape: tensor.shape, values: raw instanceof Int32Array ? raw : Int32Array.from(raw) };
}

function dequantize(raw: ArrayLike<number>, tensor: TensorDef, file: string): Float32Array {
  const q = tensor.quantization!;
  const out = new Float32Array(raw.length);
  const zp = (i: number): number => q.zeroPoint[i] ?? q.zeroPoint[0] ?? 0;
  if (q.scale.length === 1) {
    const s = q.scale[0];
    const z = zp(0);
    for (let i = 0; i < raw.length; i++) out[i] = s * (raw[i] - z);
    return out;
  }
  const dim = q.quantizedDimension;
  if (dim < 0 || dim >= tensor.shape.length || tensor.shape[dim] !== q.scale.length) {
    throw new ModelFormatError(
      `${file}: tensor ${tensor.name} has ${q.scale.length} scales but dimension ${dim} of its shape [${tensor.shape}] does not match.`,
      file,
    );
  }
  // Elements sharing a channel are contiguous runs of `inner` values, repeating every channel.
  const inner = tensor.shape.slice(dim + 1).reduce((a, b) => a * b, 1);
  const channels = tensor.shape[dim];
  for (let i = 0; i < raw.length; i++) {
    const c = Math.floor(i / inner) % channels;
    out[i] = q.scale[c] * (raw[i] - zp(c));
  }
  return out;
}

/** IEEE 754 binary16 to float32. */
function halfToFloat(h: Uint16Array): Float32Array {
  const out = new Float32Array(h.length);
  for (let i = 0; i < h.length; i++) {
    const v = h[i];
    const sign = v & 0x8000 ? -1 : 1;
    const exp = (v >> 10) & 0x1f;
    const frac = v & 0x3ff;
    if (exp === 0) out[i] = sign * 2 ** -14 * (frac / 1024);
    else if (exp === 0x1f) out[i] = frac ? NaN : sign * Infinity;
    else out[i] = sign * 2 ** (exp - 15) * (1 + frac / 1024);
  }
  return out;
}
