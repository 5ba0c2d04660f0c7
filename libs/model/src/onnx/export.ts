/**
 * Exports the float network of a parsed TFLite graph (weights dequantized exactly as the tfjs
 * interpreter does) to an ONNX graph:
 *
 * - the NHWC image input is transposed once to NCHW, and rank-4 activations stay NCHW;
 * - CONV_2D -> Conv, DEPTHWISE_CONV_2D -> Conv with `group` = input channels;
 * - TensorFlow SAME padding -> explicit, possibly asymmetric `pads` (the extra row/column at the end);
 * - fused RELU6 -> Clip with min/max inputs (opset >= 11), RELU -> Relu;
 * - ADD/MUL -> Add/Mul, AVERAGE_POOL_2D over the whole map and MEAN over H,W -> GlobalAveragePool,
 *   other pools -> AveragePool/MaxPool, RESHAPE/SQUEEZE -> Reshape, FULLY_CONNECTED -> Gemm;
 * - every output is flattened to [batch, values] in TFLite (NHWC) element order.
 *
 * The batch dimension is symbolic ("batch"), so one file serves every batch size.
 */
import { ModelFormatError } from '../errors';
import type { TfliteGraph } from '../tflite/graph';
import { activationOf, biasOf } from '../tflite/operator-options';
import { ActivationFunction, type Conv2DOptions, type DepthwiseConv2DOptions, type OperatorDef, type Pool2DOptions } from '../tflite/schema';
import { bytesOf, intAttr, intsAttr, toFloat, transpose4 } from './builders';
import { convAttributes, convWeightLayout, isSpatialOne, ONNX_INPUT_NAME, type Refusal } from './graph-builder';
import { encodeOnnxModel, OnnxDataType, type OnnxAttribute, type OnnxModel, type OnnxValueInfo } from './proto';
import { TfliteOnnxExporter, type LoweredValue, type OnnxExportTarget } from './tflite-onnx-exporter';

export { ONNX_INPUT_NAME, ONNX_IR_VERSION, ONNX_OPSET, tfPads } from './graph-builder';

/** Bump when the exported graph changes for the same input, so cached `.onnx` files are rebuilt. */
export const ONNX_EXPORTER_VERSION = 1;

export interface OnnxExportOptions extends OnnxExportTarget {
  /**
   * Layout of the graph input: `nhwc` (default, as the FeatureExtractor receives pixels; one
   * Transpose node at the start) or `nchw` (the caller transposes pixels itself).
   */
  inputLayout?: 'nhwc' | 'nchw';
}

/** Exports the subgraph that computes `options.outputs` and returns `.onnx` bytes. */
export function exportTfliteToOnnx(graph: TfliteGraph, options: OnnxExportOptions): Uint8Array {
  return encodeOnnxModel(buildOnnxModel(graph, options));
}

/** The ONNX model as plain objects (before protobuf encoding). */
export function buildOnnxModel(graph: TfliteGraph, options: OnnxExportOptions): OnnxModel {
  return new Exporter(graph, options).build();
}

class Exporter extends TfliteOnnxExporter<LoweredValue> {
  private readonly initializerNames = new Set<string>();

  constructor(
    graph: TfliteGraph,
    private readonly options: OnnxExportOptions,
  ) {
    super(graph, options, { target: 'ONNX', advice: 'Use engine: tfjs for this model, or pick an earlier featureLayer.' });
  }

  protected envelope() {
    return { graphName: 'tflite_export', producerVersion: String(ONNX_EXPORTER_VERSION), docString: `Exported from ${this.graph.file} (TFLite); weights dequantized to float32.` };
  }

  protected bindInput(): OnnxValueInfo {
    const { graph } = this;
    const [h, w, c] = graph.inputShape;
    const layout = this.options.inputLayout ?? 'nhwc';
    const inputInfo = this.inputInfo(layout === 'nhwc' ? [h, w, c] : [c, h, w]);
    if (layout === 'nhwc') {
      const nchw = this.node('Transpose', [ONNX_INPUT_NAME], [intsAttr('perm', [0, 3, 1, 2])], 'input_nchw');
      this.values.set(graph.inputIndex, { name: nchw, layout: 'nchw' });
    } else {
      this.values.set(graph.inputIndex, { name: ONNX_INPUT_NAME, layout: 'nchw' });
    }
    return inputInfo;
  }

  protected bindOutput(t: number, name: string): void {
    const ref = this.value(t);
    const plain = isSpatialOne(this.graph.tensor(t).shape) ? ref.name : this.toPlain(t, ref);
    this.node('Flatten', [plain], [intAttr('axis', 1)], undefined, name);
  }

  // --- values ---------------------------------------------------------------------------------

  private floatInit(hint: string, dims: number[], values: Float32Array): string {
    return this.init(hint, dims, OnnxDataType.FLOAT, bytesOf(values));
  }

  private int64Init(hint: string, values: readonly number[]): string {
    return this.init(hint, [values.length], OnnxDataType.INT64, bytesOf(BigInt64Array.from(values.map((v) => BigInt(v)))));
  }

  /** A named scalar float constant, shared by every node that uses the same value. */
  protected floatScalar(value: number): string {
    const name = `const_${String(value).replace(/[^0-9a-z]/gi, '_')}`;
    if (!this.initializerNames.has(name)) {
      this.initializerNames.add(name);
      this.initializers.push({ name, dims: [], data_type: OnnxDataType.FLOAT, raw_data: bytesOf(Float32Array.of(value)) });
    }
    return name;
  }

  /** Constants become float initializers the first time they are used. */
  protected override value(t: number): LoweredValue {
    if (!this.values.has(t) && this.graph.isConstant(t)) {
      const c = this.graph.constantValue(t);
      this.values.set(t, { name: this.floatInit(this.graph.tensor(t).name, c.shape, toFloat(c)), layout: 'plain' });
    }
    return super.value(t);
  }

  /** The value in TFLite layout (a Transpose back to NHWC when it is held NCHW). */
  private toPlain(t: number, ref = this.value(t)): string {
    return ref.layout === 'plain' ? ref.name : this.transposed(ref.name, [0, 2, 3, 1], 'plain', `${ref.name}_nhwc`);
  }

  /** A rank-4 value in NCHW layout. */
  private toNchw(t: number, ref = this.value(t)): string {
    if (ref.layout === 'nchw') return ref.name;
    if (this.graph.tensor(t).shape.length !== 4) {
      throw new ModelFormatError(`${this.graph.file}: internal: tensor ${this.graph.tensor(t).name} is not rank 4`, this.graph.file);
    }
    return this.transposed(ref.name, [0, 3, 1, 2], 'nchw', `${ref.name}_nchw`);
  }

  /** Appends the node(s) for a fused activation; returns the final output name. */
  private activation(x: string, act: ActivationFunction | undefined, op: OperatorDef): string {
    switch (act ?? ActivationFunction.NONE) {
      case ActivationFunction.NONE:
        return x;
      case ActivationFunction.RELU:
        return this.node('Relu', [x]);
      case ActivationFunction.RELU6:
        return this.node('Clip', [x, this.floatScalar(0), this.floatScalar(6)], [], 'relu6');
      case ActivationFunction.RELU_N1_TO_1:
        return this.node('Clip', [x, this.floatScalar(-1), this.floatScalar(1)], [], 'relu_n1_to_1');
      case ActivationFunction.TANH:
        return this.node('Tanh', [x]);
      default:
        throw this.unsupported(op, `fused activation ${ActivationFunction[act ?? 0] ?? act}`);
    }
  }

  private set(op: OperatorDef, name: string, layout: LoweredValue['layout']): void {
    this.values.set(op.outputs[0], { name, layout });
  }

  /** The TFLite name of the operator's output, the hint of the node computing it. */
  private outName(op: OperatorDef): string {
    return this.graph.tensor(op.outputs[0]).name;
  }

  // --- operators ------------------------------------------------------------------------------

  protected conv(op: OperatorDef, opt: Conv2DOptions | DepthwiseConv2DOptions, depthwise: boolean, inShape: readonly number[]): void {
    const g = this.graph;
    const wv = g.constantValue(op.inputs[1]);
    const [, kh, kw] = wv.shape;
    const layout = convWeightLayout(depthwise, wv.shape, inShape[3]);
    if ('problem' in layout) throw this.unsupported(op, layout.problem);
    const weight = this.floatInit(`${g.tensor(op.inputs[1]).name}`, layout.dims, transpose4(toFloat(wv), wv.shape, layout.perm));
    const inputs = [this.toNchw(op.inputs[0]), weight];
    const bias = biasOf(op);
    if (bias !== undefined) {
      const bv = g.constantValue(bias);
      inputs.push(this.floatInit(g.tensor(bias).name, [bv.values.length], toFloat(bv)));
    }
    const y = this.node('Conv', inputs, convAttributes(opt, inShape, [kh, kw], layout.group), this.outName(op));
    this.set(op, this.activation(y, opt.activation, op), 'nchw');
  }

  protected fullyConnected(op: OperatorDef, inShape: readonly number[]): void {
    const g = this.graph;
    const wv = g.constantValue(op.inputs[1]); // [out, in]
    const [outN, inN] = wv.shape;
    const x = this.toPlain(op.inputs[0]);
    const flat = inShape.length === 2 && inShape[1] === inN ? x : this.node('Reshape', [x, this.int64Init('fc_shape', [-1, inN])]);
    const inputs = [flat, this.floatInit(g.tensor(op.inputs[1]).name, [outN, inN], toFloat(wv))];
    const bias = biasOf(op);
    if (bias !== undefined) inputs.push(this.floatInit(g.tensor(bias).name, [outN], toFloat(g.constantValue(bias))));
    const y = this.node('Gemm', inputs, [intAttr('transB', 1)], this.outName(op));
    this.set(op, this.activation(y, activationOf(op.options), op), 'plain');
  }

  protected elementwise(op: OperatorDef, opType: 'Add' | 'Mul', nchw: boolean): void {
    const g = this.graph;
    const o = op.options;
    const operand = (t: number): string => {
      if (!g.isConstant(t)) return nchw ? this.toNchw(t) : this.toPlain(t);
      const c = g.constantValue(t);
      if (!nchw) return this.value(t).name;
      // Broadcast against NHWC: right-align to rank 4, then store NCHW.
      const shape4 = [...Array(Math.max(0, 4 - c.shape.length)).fill(1), ...c.shape] as number[];
      if (shape4.length !== 4) throw this.unsupported(op, `constant operand of rank ${c.shape.length}`);
      return this.floatInit(g.tensor(t).name, [shape4[0], shape4[3], shape4[1], shape4[2]], transpose4(toFloat(c), shape4, [0, 3, 1, 2]));
    };
    const [a, b] = op.inputs;
    const y = this.node(opType, [operand(a), operand(b)], [], this.outName(op));
    this.set(op, this.activation(y, o?.kind === 'activation' ? o.activation : undefined, op), nchw ? 'nchw' : 'plain');
  }

  protected pool(op: OperatorDef, opt: Pool2DOptions, pool: { opType: string; attributes: OnnxAttribute[] }): void {
    const x = this.toNchw(op.inputs[0]);
    const y = this.node(pool.opType, [x], pool.attributes, this.outName(op));
    this.set(op, this.activation(y, opt.activation, op), 'nchw');
  }

  protected mean(op: OperatorDef, axes: number[], spatial: boolean, keepDims: boolean): void {
    if (spatial) {
      const y = this.node('GlobalAveragePool', [this.toNchw(op.inputs[0])], [], this.outName(op));
      if (keepDims) this.set(op, y, 'nchw');
      else this.set(op, this.node('Flatten', [y], [intAttr('axis', 1)]), 'plain');
      return;
    }
    const y = this.node('ReduceMean', [this.toPlain(op.inputs[0])], [intsAttr('axes', axes), intAttr('keepdims', keepDims ? 1 : 0)], this.outName(op));
    this.set(op, y, 'plain');
  }

  protected reshape(op: OperatorDef, inShape: readonly number[], target: number[] | Refusal): void {
    if ('problem' in target) throw this.unsupported(op, target.problem);
    // [n, 1, 1, c] has the same memory order in NCHW and NHWC, so no transpose is needed.
    const x = isSpatialOne(inShape) ? this.value(op.inputs[0]).name : this.toPlain(op.inputs[0]);
    this.set(op, this.node('Reshape', [x, this.int64Init('shape', target)], [], this.outName(op)), 'plain');
  }

  protected softmax(op: OperatorDef, beta: number): void {
    let x = this.toPlain(op.inputs[0]);
    if (beta !== 1) x = this.node('Mul', [x, this.floatScalar(beta)]);
    this.set(op, this.node('Softmax', [x], [intAttr('axis', -1)], this.outName(op)), 'plain');
  }

  /** Activations are float throughout: (de)quantization is the identity on real values. */
  protected quantizeOp(op: OperatorDef): void {
    this.values.set(op.outputs[0], this.value(op.inputs[0]));
  }

  protected dequantizeOp(op: OperatorDef): void {
    this.quantizeOp(op);
  }

  protected activationOp(op: OperatorDef, code: number): void {
    const ref = this.value(op.inputs[0]);
    this.values.set(op.outputs[0], { name: this.activationNodes(code, ref.name, this.outName(op)), layout: ref.layout });
  }
}
