/**
 * Engine-neutral readings of a TFLite operator's options, shared by the tfjs interpreter and the
 * ONNX exporter so both decode a model the same way.
 */
import { ModelFormatError } from '../errors';
import { ActivationFunction, type BuiltinOptions, type OperatorDef } from './schema';

/** Fused activations both engines implement. */
export const SUPPORTED_ACTIVATIONS: ReadonlySet<number> = new Set([
  ActivationFunction.NONE,
  ActivationFunction.RELU,
  ActivationFunction.RELU6,
  ActivationFunction.RELU_N1_TO_1,
  ActivationFunction.TANH,
]);

/** The fused activation of an operator, when its options carry one. */
export function activationOf(o: BuiltinOptions | undefined): ActivationFunction | undefined {
  return o && 'activation' in o ? o.activation : undefined;
}

/** The options of `kind`, or a ModelFormatError when they are missing or of another type. */
export function optionsOf<K extends BuiltinOptions['kind']>(o: BuiltinOptions | undefined, kind: K): Extract<BuiltinOptions, { kind: K }> {
  if (!o || o.kind !== kind) throw new ModelFormatError(`operator options missing or of the wrong type (expected ${kind})`);
  return o as Extract<BuiltinOptions, { kind: K }>;
}

/** [strideH, strideW] and [dilationH, dilationW] of a convolution or pool (a 0 in the file means 1). */
export function windowOf(opt: { strideH: number; strideW: number; dilationH?: number; dilationW?: number }): { strides: [number, number]; dilations: [number, number] } {
  return { strides: [opt.strideH || 1, opt.strideW || 1], dilations: [opt.dilationH || 1, opt.dilationW || 1] };
}

/** The tensor index of the optional bias (input 2), or undefined when the operator has none. */
export function biasOf(op: OperatorDef): number | undefined {
  const bias = op.inputs[2];
  return bias !== undefined && bias >= 0 ? bias : undefined;
}

/** SOFTMAX's beta (1 when absent). */
export function softmaxBeta(o: BuiltinOptions | undefined): number {
  return o?.kind === 'softmax' ? o.beta : 1;
}

/** MEAN's keep_dims flag. */
export function keepDimsOf(o: BuiltinOptions | undefined): boolean {
  return o?.kind === 'reducer' ? o.keepDims : false;
}
