import { BuiltinOp } from '../builtin-ops';
import { BuiltinOptionsType, TensorType } from '../schema';
import type { ModelSpec } from './build-tflite';

/**
 * An image input `image` pooled by one 4x4 VALID AVERAGE_POOL_2D into `pool`, optionally followed
 * by `l2`, an L2_NORMALIZATION (an operator no engine supports: only that feature layer fails).
 */
export function poolModelSpec(options: { inputShape: number[]; l2Norm?: boolean }): ModelSpec {
  const channels = options.inputShape[3];
  const pooled = [1, 1, 1, channels];
  return {
    inputs: [0],
    outputs: [options.l2Norm ? 2 : 1],
    tensors: [
      { name: 'image', shape: options.inputShape, type: TensorType.FLOAT32 },
      { name: 'pool', shape: pooled, type: TensorType.FLOAT32 },
      ...(options.l2Norm ? [{ name: 'l2', shape: pooled, type: TensorType.FLOAT32 }] : []),
    ],
    ops: [
      {
        builtin: BuiltinOp.AVERAGE_POOL_2D,
        inputs: [0],
        outputs: [1],
        options: { type: BuiltinOptionsType.Pool2DOptions, fields: [[0, 'i8', 1], [1, 'i32', 1], [2, 'i32', 1], [3, 'i32', 4], [4, 'i32', 4]] },
      },
      ...(options.l2Norm ? [{ builtin: 11, inputs: [1], outputs: [2] }] : []),
    ],
  };
}
