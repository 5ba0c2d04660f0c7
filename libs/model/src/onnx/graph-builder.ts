/**
 * What the float and the int8 exporter share: node and initializer bookkeeping with fresh names,
 * conversions made once per value, the model envelope, and how each TFLite operator's geometry
 * (conv weight layout, padding, pools, MEAN, reshape targets) maps onto ONNX.
 */
import type { TfliteGraph } from '../tflite/graph';
import { windowOf } from '../tflite/operator-options';
import { BuiltinOp } from '../tflite/builtin-ops';
import { Padding, type Conv2DOptions, type DepthwiseConv2DOptions, type OperatorDef, type Pool2DOptions } from '../tflite/schema';
import { intAttr, intsAttr, valueInfo } from './builders';
import type { OnnxAttribute, OnnxModel, OnnxNode, OnnxTensor, OnnxValueInfo } from './proto';

/** ONNX operator set the graphs target (Clip takes min/max as inputs from 11 on). */
export const ONNX_OPSET = 13;
/** IR version 7 matches opset 13 (ONNX 1.8). */
export const ONNX_IR_VERSION = 7;

export const ONNX_INPUT_NAME = 'input';

/** The graph under construction: nodes, initializers and the names given to them. */
export abstract class OnnxGraphBuilder {
  protected readonly nodes: OnnxNode[] = [];
  protected readonly initializers: OnnxTensor[] = [];
  /** Converted copies of values (a transpose, a dequantization), by a key naming value and conversion. */
  private readonly converted = new Map<string, string>();
  private counter = 0;

  constructor(protected readonly graph: TfliteGraph) {}

  protected fresh(hint: string): string {
    return `${hint.replace(/[^A-Za-z0-9_./-]/g, '_').slice(-60)}__${this.counter++}`;
  }

  /** Appends a node and returns its (single) output name. */
  protected node(opType: string, inputs: string[], attribute: OnnxAttribute[] = [], hint = opType, output?: string): string {
    const out = output ?? this.fresh(hint);
    this.nodes.push({ name: `${opType}_${this.nodes.length}`, op_type: opType, input: inputs, output: [out], attribute });
    return out;
  }

  protected init(hint: string, dims: number[], dataType: number, raw: Uint8Array): string {
    const name = this.fresh(hint);
    this.initializers.push({ name, dims, data_type: dataType, raw_data: raw });
    return name;
  }

  /** The conversion stored under `key`, made by `make` the first time it is asked for. */
  protected once(key: string, make: () => string): string {
    let name = this.converted.get(key);
    if (!name) {
      name = make();
      this.converted.set(key, name);
    }
    return name;
  }

  /** A Transpose of `name` by `perm`, made once per value and target layout. */
  protected transposed(name: string, perm: number[], layout: string, hint: string): string {
    return this.once(`${name}:${layout}`, () => this.node('Transpose', [name], [intsAttr('perm', perm)], hint));
  }

  /** The float NHWC (or NCHW) image input with a symbolic batch. */
  protected inputInfo(dims: readonly number[]): OnnxValueInfo {
    return valueInfo(ONNX_INPUT_NAME, [{ dim_param: 'batch' }, ...dims.map((d) => ({ dim_value: d }))]);
  }

  /** The [batch, n] float output `name` that TFLite tensor `t` is flattened to. */
  protected outputInfo(name: string, t: number): OnnxValueInfo {
    return valueInfo(name, [{ dim_param: 'batch' }, { dim_value: flatSize(this.graph.tensor(t).shape) }]);
  }

  protected model(graphName: string, producerVersion: string, docString: string, input: OnnxValueInfo, outputs: OnnxValueInfo[]): OnnxModel {
    return {
      ir_version: ONNX_IR_VERSION,
      opset_import: [{ domain: '', version: ONNX_OPSET }],
      producer_name: 'mlbench',
      producer_version: producerVersion,
      graph: { name: graphName, doc_string: docString, node: this.nodes, initializer: this.initializers, input: [input], output: outputs },
    };
  }
}

/** Values per batch item of a [batch, ...] shape. */
export function flatSize(shape: readonly number[]): number {
  return shape.slice(1).reduce((a, b) => a * b, 1);
}

/** True for a rank-4 shape with H = W = 1: NCHW and NHWC then share one memory order. */
export function isSpatialOne(shape: readonly number[]): boolean {
  return shape.length === 4 && shape[1] === 1 && shape[2] === 1;
}

/** A reason the operator cannot be lowered, as opposed to a lowering. */
export interface Refusal {
  problem: string;
}

/**
 * How TFLite conv weights are laid out for ONNX: CONV_2D [out, h, w, in] -> [out, in, h, w];
 * DEPTHWISE_CONV_2D [1, h, w, in * m] (output channel c * m + k) -> [in * m, 1, h, w] with
 * group = in, since ONNX group g produces output channels g * m .. g * m + m - 1, the same order.
 */
export function convWeightLayout(depthwise: boolean, shape: readonly number[], inChannels: number): { dims: number[]; perm: number[]; group: number } | Refusal {
  const [kOut, kh, kw, kIn] = shape;
  if (!depthwise) return { dims: [kOut, kIn, kh, kw], perm: [0, 3, 1, 2], group: 1 };
  if (!inChannels || kIn % inChannels !== 0) return { problem: `cannot infer the depth multiplier from weights [${shape}]` };
  return { dims: [kIn, 1, kh, kw], perm: [3, 0, 1, 2], group: inChannels };
}

/** The Conv attributes of a TFLite convolution over an NHWC input, with kernel [kh, kw]. */
export function convAttributes(opt: Conv2DOptions | DepthwiseConv2DOptions, inShape: readonly number[], kernel: [number, number], group: number): OnnxAttribute[] {
  const { strides, dilations } = windowOf(opt);
  const pads = tfPads(opt.padding, [inShape[1], inShape[2]], kernel, strides, dilations);
  return [intsAttr('kernel_shape', kernel), intsAttr('strides', strides), intsAttr('dilations', dilations), intsAttr('pads', pads), intAttr('group', group)];
}

/** The ONNX pool for a TFLite one: a global pool when the window covers the whole map, else a windowed one. */
export function poolLowering(opt: Pool2DOptions, inShape: readonly number[], average: boolean): { opType: string; attributes: OnnxAttribute[] } {
  const kernel = [opt.filterHeight, opt.filterWidth];
  const whole = kernel[0] === inShape[1] && kernel[1] === inShape[2] && (opt.padding === Padding.VALID || (inShape[1] === 1 && inShape[2] === 1));
  if (whole) return { opType: average ? 'GlobalAveragePool' : 'GlobalMaxPool', attributes: [] };
  const { strides } = windowOf(opt);
  const pads = tfPads(opt.padding, [inShape[1], inShape[2]], kernel, strides, [1, 1]);
  // TensorFlow's SAME average pool divides by the number of real (unpadded) values.
  const attributes = [intsAttr('kernel_shape', kernel), intsAttr('strides', strides), intsAttr('pads', pads)];
  if (average) attributes.push(intAttr('count_include_pad', 0));
  return { opType: average ? 'AveragePool' : 'MaxPool', attributes };
}

/** MEAN's axes (made non-negative) and whether it is a global average pool over H and W of an NHWC map. */
export function meanAxes(graph: TfliteGraph, op: OperatorDef, inShape: readonly number[]): { axes: number[]; spatial: boolean } {
  const axes = Array.from(graph.constantValue(op.inputs[1]).values).map((a) => (a < 0 ? a + inShape.length : a));
  return { axes, spatial: inShape.length === 4 && axes.length === 2 && axes.includes(1) && axes.includes(2) };
}

/** The ONNX Reshape target of a RESHAPE/SQUEEZE: the batch axis inferred when it is kept, else the file's constant shape. */
export function reshapeTarget(graph: TfliteGraph, op: OperatorDef, inShape: readonly number[]): number[] | Refusal {
  const outShape = graph.tensor(op.outputs[0]).shape;
  // The batch axis is kept: every other dimension comes from the file, the batch is inferred.
  if (outShape.length > 0 && inShape.length > 0 && outShape[0] === inShape[0]) return [-1, ...outShape.slice(1)];
  if (graph.opCode(op) === BuiltinOp.RESHAPE && op.inputs.length > 1 && op.inputs[1] >= 0 && graph.isConstant(op.inputs[1])) return Array.from(graph.constantValue(op.inputs[1]).values);
  return { problem: `a reshape from [${inShape}] to [${outShape}] that does not keep the batch axis` };
}

/** ONNX `pads` [top, left, bottom, right] for TensorFlow padding (SAME puts the odd extra row/column at the end). */
export function tfPads(padding: Padding, input: number[], kernel: number[], strides: number[], dilations: number[]): number[] {
  if (padding === Padding.VALID) return [0, 0, 0, 0];
  const before: number[] = [];
  const after: number[] = [];
  for (let i = 0; i < 2; i++) {
    const out = Math.ceil(input[i] / strides[i]);
    const effective = (kernel[i] - 1) * dilations[i] + 1;
    const total = Math.max((out - 1) * strides[i] + effective - input[i], 0);
    before.push(Math.floor(total / 2));
    after.push(total - Math.floor(total / 2));
  }
  return [before[0], before[1], after[0], after[1]];
}
