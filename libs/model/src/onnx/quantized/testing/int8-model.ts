/**
 * Test helper: a small TF2-style full-integer TFLite model (float input, QUANTIZE to int8, int8
 * weights quantized per output channel, int32 per-channel biases, DEQUANTIZE at the end) and an
 * integer reference of what TFLite computes on it, written out loop by loop.
 *
 *   input [1, 6, 6, 2] float -> QUANTIZE int8 (1/64, 0)
 *   -> CONV_2D 3x3 stride 1 SAME, 4 channels, RELU6, out int8 (6/255, -128): the whole range is [0, 6]
 *   -> DEPTHWISE_CONV_2D 3x3 stride 2 SAME, RELU6, out int8 (0.05, -100): RELU6 clamps to [-100, 20]
 *   -> MEAN over H, W -> int8 (0.05, -100) -> DEQUANTIZE -> [1, 4] float
 */
import { BuiltinOp } from '../../../tflite/builtin-ops';
import { ActivationFunction, BuiltinOptionsType, TensorType } from '../../../tflite/schema';
import { bytesOf, type ModelSpec, type OptionField } from '../../../tflite/testing/build-tflite';

export const INPUT_Q = { scale: 1 / 64, zeroPoint: 0 };
export const CONV_OUT_Q = { scale: 6 / 255, zeroPoint: -128 };
export const DW_OUT_Q = { scale: 0.05, zeroPoint: -100 };
const CONV_W_SCALES = [0.01, 0.02, 0.005, 0.015];
const DW_W_SCALES = [0.03, 0.01, 0.02, 0.04];

/** Deterministic int8 values in [-127, 127]. */
function int8s(n: number, seed: number): Int8Array {
  let s = seed;
  return Int8Array.from({ length: n }, () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return Math.floor((s / 2147483648) * 255) - 127;
  });
}

export const CONV_W = int8s(4 * 3 * 3 * 2, 11); // [out 4, 3, 3, in 2]
export const CONV_B = Int32Array.from([300, -500, 1200, 0]);
export const DW_W = int8s(3 * 3 * 4, 12); // [1, 3, 3, 4]
export const DW_B = Int32Array.from([-40, 900, 100, 2500]);

const opt = (type: number, fields: OptionField[]) => ({ type, fields });

/** The model; `activation` replaces the depthwise RELU6 (to build refusals). */
export function int8ModelSpec(options: { depthwiseActivation?: ActivationFunction; meanOut?: TensorType } = {}): ModelSpec {
  const q = (p: { scale: number; zeroPoint: number }) => ({ scale: [p.scale], zeroPoint: [p.zeroPoint] });
  return {
    inputs: [0],
    outputs: [9],
    tensors: [
      { name: 'input', shape: [1, 6, 6, 2], type: TensorType.FLOAT32 },
      { name: 'input_int8', shape: [1, 6, 6, 2], type: TensorType.INT8, quant: q(INPUT_Q) },
      { name: 'conv/w', shape: [4, 3, 3, 2], type: TensorType.INT8, data: bytesOf(CONV_W), quant: { scale: CONV_W_SCALES, zeroPoint: [0, 0, 0, 0], dim: 0 } },
      { name: 'conv/b', shape: [4], type: TensorType.INT32, data: bytesOf(CONV_B), quant: { scale: CONV_W_SCALES.map((s) => s * INPUT_Q.scale), zeroPoint: [0, 0, 0, 0] } },
      { name: 'conv/out', shape: [1, 6, 6, 4], type: TensorType.INT8, quant: q(CONV_OUT_Q) },
      { name: 'dw/w', shape: [1, 3, 3, 4], type: TensorType.INT8, data: bytesOf(DW_W), quant: { scale: DW_W_SCALES, zeroPoint: [0, 0, 0, 0], dim: 3 } },
      { name: 'dw/b', shape: [4], type: TensorType.INT32, data: bytesOf(DW_B), quant: { scale: DW_W_SCALES.map((s) => s * CONV_OUT_Q.scale), zeroPoint: [0, 0, 0, 0] } },
      { name: 'dw/out', shape: [1, 3, 3, 4], type: TensorType.INT8, quant: q(DW_OUT_Q) },
      { name: 'mean/out', shape: [1, 4], type: options.meanOut ?? TensorType.INT8, quant: q(DW_OUT_Q) },
      { name: 'output', shape: [1, 4], type: TensorType.FLOAT32 },
      { name: 'mean/axes', shape: [2], type: TensorType.INT32, data: bytesOf(Int32Array.from([1, 2])) },
    ],
    ops: [
      { builtin: BuiltinOp.QUANTIZE, inputs: [0], outputs: [1] },
      { builtin: BuiltinOp.CONV_2D, inputs: [1, 2, 3], outputs: [4], options: opt(BuiltinOptionsType.Conv2DOptions, [[0, 'i8', 0], [1, 'i32', 1], [2, 'i32', 1], [3, 'i8', ActivationFunction.RELU6]]) },
      {
        builtin: BuiltinOp.DEPTHWISE_CONV_2D,
        inputs: [4, 5, 6],
        outputs: [7],
        options: opt(BuiltinOptionsType.DepthwiseConv2DOptions, [[0, 'i8', 0], [1, 'i32', 2], [2, 'i32', 2], [3, 'i32', 1], [4, 'i8', options.depthwiseActivation ?? ActivationFunction.RELU6]]),
      },
      { builtin: BuiltinOp.MEAN, inputs: [7, 10], outputs: [8], options: opt(BuiltinOptionsType.ReducerOptions, [[0, 'bool', 0]]) },
      { builtin: BuiltinOp.DEQUANTIZE, inputs: [8], outputs: [9] },
    ],
  };
}

const clamp = (v: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, v));

/**
 * What TFLite's integer kernels compute on one [6, 6, 2] image: int32 accumulation of
 * (x - x_zero_point) * w plus the int32 bias, rescaled by input scale * weight scale / output scale,
 * rounded, offset by the output zero point and clamped to the fused activation's integer range.
 * Returns the dequantized [4] output.
 */
export function int8Reference(image: Float32Array): Float32Array {
  const x = Array.from(image, (v) => clamp(Math.round(v / INPUT_Q.scale) + INPUT_Q.zeroPoint, -128, 127));
  // Conv 3x3, stride 1, SAME (pad 1 each side), 2 -> 4 channels, RELU6 (integer range [-128, 127] here).
  const conv = new Array<number>(6 * 6 * 4);
  for (let y = 0; y < 6; y++)
    for (let xx = 0; xx < 6; xx++)
      for (let o = 0; o < 4; o++) {
        let acc = CONV_B[o];
        for (let ky = 0; ky < 3; ky++)
          for (let kx = 0; kx < 3; kx++) {
            const iy = y + ky - 1;
            const ix = xx + kx - 1;
            if (iy < 0 || iy >= 6 || ix < 0 || ix >= 6) continue;
            for (let c = 0; c < 2; c++) acc += (x[(iy * 6 + ix) * 2 + c] - INPUT_Q.zeroPoint) * CONV_W[((o * 3 + ky) * 3 + kx) * 2 + c];
          }
        const q = Math.round((acc * INPUT_Q.scale * CONV_W_SCALES[o]) / CONV_OUT_Q.scale) + CONV_OUT_Q.zeroPoint;
        conv[(y * 6 + xx) * 4 + o] = clamp(q, Math.max(-128, CONV_OUT_Q.zeroPoint), Math.min(127, CONV_OUT_Q.zeroPoint + Math.round(6 / CONV_OUT_Q.scale)));
      }
  // Depthwise 3x3, stride 2, SAME on 6x6: out 3x3, total padding 1, at the end.
  const dw = new Array<number>(3 * 3 * 4);
  const lo = Math.max(-128, DW_OUT_Q.zeroPoint);
  const hi = Math.min(127, DW_OUT_Q.zeroPoint + Math.round(6 / DW_OUT_Q.scale));
  for (let y = 0; y < 3; y++)
    for (let xx = 0; xx < 3; xx++)
      for (let c = 0; c < 4; c++) {
        let acc = DW_B[c];
        for (let ky = 0; ky < 3; ky++)
          for (let kx = 0; kx < 3; kx++) {
            const iy = y * 2 + ky;
            const ix = xx * 2 + kx;
            if (iy >= 6 || ix >= 6) continue;
            acc += (conv[(iy * 6 + ix) * 4 + c] - CONV_OUT_Q.zeroPoint) * DW_W[(ky * 3 + kx) * 4 + c];
          }
        const q = Math.round((acc * CONV_OUT_Q.scale * DW_W_SCALES[c]) / DW_OUT_Q.scale) + DW_OUT_Q.zeroPoint;
        dw[(y * 3 + xx) * 4 + c] = clamp(q, lo, hi);
      }
  // MEAN over H, W with the same quantization in and out: the rounded mean of the integers.
  return Float32Array.from({ length: 4 }, (_, c) => {
    let sum = 0;
    for (let i = 0; i < 9; i++) sum += dw[i * 4 + c] - DW_OUT_Q.zeroPoint;
    return DW_OUT_Q.scale * Math.round(sum / 9);
  });
}
