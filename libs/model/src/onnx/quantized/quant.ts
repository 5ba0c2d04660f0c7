/**
 * Reading a TFLite graph's quantization as stored (no dequantization): activation scale and zero
 * point, raw integer constants with their per-tensor or per-channel parameters, and the integer
 * range a fused activation clamps to (TFLite's CalculateActivationRangeQuantized).
 */
import { ModelFormatError } from '../../errors';
import type { TfliteGraph } from '../../tflite/graph';
import { ActivationFunction, TensorType } from '../../tflite/schema';

export type QuantType = 'uint8' | 'int8';

/** Per-tensor quantization of an activation: real = scale * (q - zeroPoint). */
export interface TensorQuant {
  type: QuantType;
  scale: number;
  zeroPoint: number;
}

/** A constant as its stored integers, with one (scale, zero point) per tensor or per channel along `axis`. */
export type RawConstant = RawConstantParams & ({ type: QuantType; values: Int8Array | Uint8Array } | { type: 'int32'; values: Int32Array });

interface RawConstantParams {
  shape: number[];
  scale: number[];
  zeroPoint: number[];
  /** TFLite `quantized_dimension`; meaningful when `scale` has more than one entry. */
  axis: number;
}

export const QUANT_RANGE: Record<QuantType, [number, number]> = { uint8: [0, 255], int8: [-128, 127] };

/** What the int8 exporter cannot express about a tensor, in words. */
export interface QuantProblem {
  problem: string;
}

/**
 * The quantization of a non-constant tensor: a TensorQuant, `float` for an unquantized float32
 * tensor, or the problem the int8 exporter cannot express.
 */
export function activationQuant(graph: TfliteGraph, t: number): TensorQuant | 'float' | QuantProblem {
  const d = graph.tensor(t);
  if (d.type === TensorType.FLOAT32 && !d.quantization) return 'float';
  const type = quantType(d.type);
  if (!type) return { problem: `tensor ${d.name} is ${TensorType[d.type] ?? d.type} (the int8 exporter handles UINT8 and INT8 activations)` };
  const q = d.quantization;
  if (!q || q.scale.length === 0) return { problem: `tensor ${d.name} is ${TensorType[d.type]} without quantization parameters` };
  if (q.scale.length > 1) return { problem: `tensor ${d.name} is an activation quantized per channel (${q.scale.length} scales); ONNX QLinear operators need one scale per activation` };
  if (!(q.scale[0] > 0) || !Number.isFinite(q.scale[0])) return { problem: `tensor ${d.name} has scale ${q.scale[0]}` };
  return { type, scale: q.scale[0], zeroPoint: q.zeroPoint[0] ?? 0 };
}

function quantType(type: TensorType): QuantType | undefined {
  if (type === TensorType.UINT8) return 'uint8';
  if (type === TensorType.INT8) return 'int8';
  return undefined;
}

/**
 * The stored integers of a constant tensor that has its own buffer (weights, biases), or a string
 * problem saying why there are none (float weights, weights produced by DEQUANTIZE, another integer type).
 */
export function rawConstant(graph: TfliteGraph, t: number): RawConstant | QuantProblem {
  const d = graph.tensor(t);
  const data = d.buffer > 0 ? graph.model.buffers[d.buffer] : undefined;
  if (!data || data.length === 0) return { problem: `tensor ${d.name} is not stored in the file as integers (float or dequantized weights)` };
  const q = d.quantization;
  if (!q || q.scale.length === 0) return { problem: `tensor ${d.name} (${TensorType[d.type] ?? d.type}) has no quantization parameters` };
  const count = d.shape.reduce((a, b) => a * b, 1);
  const copy = new Uint8Array(data).buffer; // aligned, owned copy
  let typed: Pick<RawConstant, 'type' | 'values'>;
  if (d.type === TensorType.UINT8 && data.length === count) typed = { type: 'uint8', values: new Uint8Array(copy) };
  else if (d.type === TensorType.INT8 && data.length === count) typed = { type: 'int8', values: new Int8Array(copy) };
  else if (d.type === TensorType.INT32 && data.length === count * 4) typed = { type: 'int32', values: new Int32Array(copy) };
  else return { problem: `tensor ${d.name} is ${TensorType[d.type] ?? d.type} with ${data.length} bytes for shape [${d.shape}]` };
  const scale = Array.from(q.scale);
  if (scale.length > 1) {
    const axis = q.quantizedDimension;
    if (axis < 0 || axis >= d.shape.length || d.shape[axis] !== scale.length) {
      throw new ModelFormatError(`${graph.file}: tensor ${d.name} has ${scale.length} scales but dimension ${axis} of its shape [${d.shape}] does not match.`, graph.file);
    }
  }
  const zeroPoint = scale.map((_, i) => q.zeroPoint[i] ?? q.zeroPoint[0] ?? 0);
  return { ...typed, shape: [...d.shape], scale, zeroPoint, axis: q.quantizedDimension } as RawConstant;
}

/** TFLite's TfLiteRound: half away from zero. */
function roundHalfAway(x: number): number {
  return Math.sign(x) * Math.round(Math.abs(x));
}

/**
 * The integer interval a fused activation clamps a quantized output to, as TFLite computes it;
 * undefined when it is the whole range of the type (saturation alone does it) or for NONE, and
 * `unsupported` for activations that are not a clamp (TANH, SIGN_BIT).
 */
export function fusedClampRange(act: ActivationFunction | undefined, q: TensorQuant): [number, number] | undefined | 'unsupported' {
  const [tmin, tmax] = QUANT_RANGE[q.type];
  const quantize = (x: number): number => q.zeroPoint + roundHalfAway(x / q.scale);
  let lo = tmin;
  let hi = tmax;
  switch (act ?? ActivationFunction.NONE) {
    case ActivationFunction.NONE:
      return undefined;
    case ActivationFunction.RELU:
      lo = Math.max(tmin, quantize(0));
      break;
    case ActivationFunction.RELU6:
      lo = Math.max(tmin, quantize(0));
      hi = Math.min(tmax, quantize(6));
      break;
    case ActivationFunction.RELU_N1_TO_1:
      lo = Math.max(tmin, quantize(-1));
      hi = Math.min(tmax, quantize(1));
      break;
    default:
      return 'unsupported';
  }
  return lo === tmin && hi === tmax ? undefined : [lo, hi];
}

/** Same type, scale and zero point. */
export function sameQuant(a: TensorQuant, b: TensorQuant): boolean {
  return a.type === b.type && a.scale === b.scale && a.zeroPoint === b.zeroPoint;
}
