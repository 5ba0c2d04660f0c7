/**
 * Exports a quantized TFLite graph to ONNX as it is quantized, in QDQ form: every TFLite tensor
 * keeps its uint8/int8 type, scale and zero point; each operator reads its inputs through
 * DequantizeLinear and writes its output through QuantizeLinear with the output tensor's own
 * parameters (the requantization between ops). ONNX Runtime fuses DQ -> Conv -> Q into QLinearConv,
 * DQ -> Add -> Q into QLinearAdd, DQ -> GlobalAveragePool -> Q into QLinearGlobalAveragePool, and so
 * on, which run on MLAS's integer kernels.
 *
 * - weights stay the stored integers (uint8 per tensor, or int8 per output channel), re-laid out
 *   for ONNX; biases stay int32 with scale = input scale * weight scale (per channel when the
 *   weights are), as the TFLite kernels compute them;
 * - fused RELU/RELU6/RELU_N1_TO_1 are clamps in the quantized domain: the integer interval TFLite
 *   computes from the output's scale and zero point, as a Clip on the integer tensor, and nothing
 *   when it is the whole range of the type (RELU6 on a [0, 6] output, as in the shipped MobileNets,
 *   is the saturation of QuantizeLinear itself);
 * - RESHAPE/SQUEEZE and layout transposes act on the integer tensors directly;
 * - TFLite QUANTIZE is QuantizeLinear (from float) or a requantization (DQ -> Q), DEQUANTIZE is
 *   DequantizeLinear; the graph input is float pixels, quantized at the start when the TFLite
 *   input is quantized, and the features are dequantized at the end.
 *
 * What cannot be expressed (per-channel activations, int16 tensors, float operators inside a
 * quantized graph, non-clamp fused activations) is refused with the operator named.
 */
import { UnsupportedOperatorError } from '../../errors';
import type { TfliteGraph } from '../../tflite/graph';
import { activationOf, biasOf } from '../../tflite/operator-options';
import { ActivationFunction, type Conv2DOptions, type DepthwiseConv2DOptions, type OperatorDef, type Pool2DOptions } from '../../tflite/schema';
import { bytesOf, intAttr, intsAttr, transpose4 } from '../builders';
import type { OnnxExportOptions } from '../export';
import { convAttributes, convWeightLayout, isSpatialOne, ONNX_INPUT_NAME, type Refusal } from '../graph-builder';
import { encodeOnnxModel, OnnxDataType, type OnnxAttribute, type OnnxModel, type OnnxValueInfo } from '../proto';
import { TfliteOnnxExporter, type LoweredValue } from '../tflite-onnx-exporter';
import { activationQuant, fusedClampRange, rawConstant, sameQuant, type QuantType, type RawConstant, type TensorQuant } from './quant';

/** Bump when the int8 graph changes for the same input, so cached `.onnx` files are rebuilt. */
export const ONNX_INT8_EXPORTER_VERSION = 1;

/** As for the float exporter; the input is always NHWC float pixels. */
export interface Int8ExportOptions extends Omit<OnnxExportOptions, 'inputLayout'> {
  /** Store uint8 conv weights as uint8 (default, as in the file) or shifted to int8 (see int8WeightEncoding). */
  int8Weights?: 'uint8' | 'int8';
}

/** A value in the ONNX graph: integer (with its quantization) or float, NCHW or TFLite layout. */
interface Value extends LoweredValue {
  quant?: TensorQuant;
}

const ONNX_TYPE: Record<QuantType | 'int32', number> = { uint8: OnnxDataType.UINT8, int8: OnnxDataType.INT8, int32: OnnxDataType.INT32 };

/**
 * True when the operators computing `outputs` produce quantized (uint8/int8) tensors: the model
 * is a quantized one. A float model (or one with only weights stored as integers) is not.
 */
export function isQuantizedGraph(graph: TfliteGraph, outputs: readonly number[]): boolean {
  return graph.operatorsFor(outputs).some((op) => {
    const q = activationQuant(graph, op.outputs[0]);
    return q !== 'float' && !('problem' in q);
  });
}

/** Exports the quantized subgraph computing `options.outputs` (float outputs, [batch, n]) as `.onnx` bytes. */
export function exportTfliteToOnnxInt8(graph: TfliteGraph, options: Int8ExportOptions): Uint8Array {
  return encodeOnnxModel(buildOnnxModelInt8(graph, options));
}

export function buildOnnxModelInt8(graph: TfliteGraph, options: Int8ExportOptions): OnnxModel {
  return new Int8Exporter(graph, options).build();
}

class Int8Exporter extends TfliteOnnxExporter<Value> {
  private readonly shared = new Map<string, string>();

  constructor(
    graph: TfliteGraph,
    private readonly options: Int8ExportOptions,
  ) {
    super(graph, options, { target: 'int8 ONNX', advice: 'Use precision: float32 for this model (the float32 path runs it dequantized).' });
  }

  protected envelope() {
    return { graphName: 'tflite_export_int8', producerVersion: `int8-${ONNX_INT8_EXPORTER_VERSION}`, docString: `Exported from ${this.graph.file} (TFLite) with its quantization, as QDQ.` };
  }

  protected bindInput(): OnnxValueInfo {
    const { graph } = this;
    const [h, w, c] = graph.inputShape;
    const inputInfo = this.inputInfo([h, w, c]);
    const inQ = activationQuant(graph, graph.inputIndex);
    if (inQ !== 'float' && 'problem' in inQ) throw new UnsupportedOperatorError(`${graph.file}: the input cannot be exported to int8 ONNX: ${inQ.problem}. Use precision: float32 for this model.`, graph.file, 'input');
    // Quantize the float pixels once, then every layout change moves bytes, not floats.
    if (inQ === 'float') this.values.set(graph.inputIndex, { name: ONNX_INPUT_NAME, layout: 'plain' });
    else this.values.set(graph.inputIndex, { name: this.quantize(ONNX_INPUT_NAME, asUint8(inQ), 'input_q'), layout: 'plain', quant: asUint8(inQ) });
    return inputInfo;
  }

  protected bindOutput(t: number, name: string): void {
    const v = this.value(t);
    const plain = isSpatialOne(this.graph.tensor(t).shape) ? v.name : this.toPlain(v);
    const flat = this.node('Flatten', [plain], [intAttr('axis', 1)]);
    if (v.quant) this.node('DequantizeLinear', [flat, ...this.qparams(v.quant)], [], undefined, name);
    else this.node('Identity', [flat], [], undefined, name);
  }

  // --- values ---------------------------------------------------------------------------------

  /** A constant shared by every node using the same bytes (scales, zero points, clamp bounds). */
  private sharedInit(dims: number[], dataType: number, raw: Uint8Array): string {
    const key = `${dataType}:${dims.join('x')}:${Buffer.from(raw).toString('hex')}`;
    let name = this.shared.get(key);
    if (!name) {
      name = this.init(`c${dataType}`, dims, dataType, raw);
      this.shared.set(key, name);
    }
    return name;
  }

  private intScalar(type: QuantType | 'int32', value: number): string {
    return this.sharedInit([], ONNX_TYPE[type], bytesOf(typed(type, [value])));
  }

  protected floatScalar(value: number): string {
    return this.sharedInit([], OnnxDataType.FLOAT, bytesOf(Float32Array.of(value)));
  }

  /** [scale, zero point] initializer names of a per-tensor quantization. */
  private qparams(q: TensorQuant): [string, string] {
    return [this.floatScalar(q.scale), this.intScalar(q.type, q.zeroPoint)];
  }

  private quantize(x: string, q: TensorQuant, hint?: string): string {
    return this.node('QuantizeLinear', [x, ...this.qparams(q)], [], hint);
  }

  /** The float value of an integer one (a DequantizeLinear, made once per value and layout). */
  private dequantize(name: string, q: TensorQuant): string {
    return this.once(`${name}:dq`, () => this.node('DequantizeLinear', [name, ...this.qparams(q)], [], `${name}_dq`));
  }

  private toPlain(v: Value): string {
    return v.layout === 'plain' ? v.name : this.transposed(v.name, [0, 2, 3, 1], 'plain', `${v.name}_plain`);
  }

  private toNchw(v: Value): string {
    return v.layout === 'nchw' ? v.name : this.transposed(v.name, [0, 3, 1, 2], 'nchw', `${v.name}_nchw`);
  }

  /** The quantization of an operator's output tensor; refuses what cannot be expressed. */
  private outQuant(op: OperatorDef): TensorQuant {
    const q = activationQuant(this.graph, op.outputs[0]);
    if (q === 'float') throw this.unsupported(op, 'its output is float32 inside a quantized graph (a partly quantized model)');
    if ('problem' in q) throw this.unsupported(op, q.problem);
    return asUint8(q);
  }

  /** A quantized operand: an activation, or a quantized constant stored as integers. */
  private quantInput(op: OperatorDef, t: number): Value & { quant: TensorQuant } {
    if (this.graph.isConstant(t)) {
      const raw = this.raw(op, t);
      if (raw.scale.length !== 1 || raw.type === 'int32') throw this.unsupported(op, `constant operand ${this.graph.tensor(t).name} is not a per-tensor uint8/int8 tensor`);
      const quant = asUint8({ type: raw.type, scale: raw.scale[0], zeroPoint: raw.zeroPoint[0] });
      const values = raw.type === 'int8' ? Uint8Array.from(raw.values, (v) => v + 128) : raw.values;
      return { name: this.init(this.graph.tensor(t).name, raw.shape, OnnxDataType.UINT8, bytesOf(values)), layout: 'plain', quant };
    }
    const v = this.value(t);
    if (!v.quant) throw this.unsupported(op, `its input ${this.graph.tensor(t).name} is float32 inside a quantized graph (a partly quantized model)`);
    return v as Value & { quant: TensorQuant };
  }

  private raw(op: OperatorDef, t: number): RawConstant {
    const r = rawConstant(this.graph, t);
    if ('problem' in r) throw this.unsupported(op, r.problem);
    return r;
  }

  /** Quantizes a float result to the op's output tensor and applies its fused activation as an integer clamp. */
  private output(op: OperatorDef, y: string, layout: Value['layout'], act: ActivationFunction | undefined): void {
    const q = this.outQuant(op);
    let name = this.quantize(y, q, this.graph.tensor(op.outputs[0]).name);
    const range = fusedClampRange(act, q);
    if (range === 'unsupported') throw this.unsupported(op, `fused activation ${ActivationFunction[act ?? 0] ?? act} is not a clamp`);
    if (range) name = this.node('Clip', [name, this.intScalar(q.type, range[0]), this.intScalar(q.type, range[1])], [], 'clamp');
    this.values.set(op.outputs[0], { name, layout, quant: q });
  }

  // --- operators ------------------------------------------------------------------------------

  protected conv(op: OperatorDef, opt: Conv2DOptions | DepthwiseConv2DOptions, depthwise: boolean, inShape: readonly number[]): void {
    const g = this.graph;
    const x = this.quantInput(op, op.inputs[0]);
    const wr = this.raw(op, op.inputs[1]);
    if (wr.type === 'int32') throw this.unsupported(op, 'int32 weights');
    const [, kh, kw] = wr.shape;
    // Per-channel scales run along the output channels: TFLite axis 0 (conv) or 3 (depthwise), ONNX axis 0.
    if (wr.scale.length > 1 && wr.axis !== (depthwise ? 3 : 0)) throw this.unsupported(op, `weights quantized along dimension ${wr.axis}`);
    const layout = convWeightLayout(depthwise, wr.shape, inShape[3]);
    if ('problem' in layout) throw this.unsupported(op, layout.problem);
    const wq = reencodeWeights(wr.type, transpose4(wr.values, wr.shape, layout.perm), wr.zeroPoint, this.options.int8Weights ?? 'uint8');
    const weight = this.init(g.tensor(op.inputs[1]).name, layout.dims, ONNX_TYPE[wq.type], bytesOf(wq.values));
    const wParams = this.channelParams(wq.type, wr.scale, wq.zeroPoint);
    const inputs = [this.dequantize(this.toNchw(x), x.quant), this.node('DequantizeLinear', [weight, ...wParams], wr.scale.length > 1 ? [intAttr('axis', 0)] : [], 'w_dq')];
    const bias = biasOf(op);
    if (bias !== undefined) inputs.push(this.bias(op, bias, x.quant.scale, wr.scale, layout.dims[0]));
    const y = this.node('Conv', inputs, convAttributes(opt, inShape, [kh, kw], layout.group));
    this.output(op, y, 'nchw', opt.activation);
  }

  protected fullyConnected(op: OperatorDef, inShape: readonly number[]): void {
    const g = this.graph;
    const x = this.quantInput(op, op.inputs[0]);
    const wr = this.raw(op, op.inputs[1]); // [out, in]
    if (wr.type === 'int32') throw this.unsupported(op, 'int32 weights');
    if (wr.scale.length > 1 && wr.axis !== 0) throw this.unsupported(op, `weights quantized along dimension ${wr.axis}`);
    const [outN, inN] = wr.shape;
    let xf = this.dequantize(this.toPlain(x), x.quant);
    if (!(inShape.length === 2 && inShape[1] === inN)) xf = this.node('Reshape', [xf, this.int64s([-1, inN])]);
    const wq = reencodeWeights(wr.type, wr.values, wr.zeroPoint, this.options.int8Weights ?? 'uint8');
    const weight = this.init(g.tensor(op.inputs[1]).name, [outN, inN], ONNX_TYPE[wq.type], bytesOf(wq.values));
    const inputs = [xf, this.node('DequantizeLinear', [weight, ...this.channelParams(wq.type, wr.scale, wq.zeroPoint)], wr.scale.length > 1 ? [intAttr('axis', 0)] : [], 'w_dq')];
    const bias = biasOf(op);
    if (bias !== undefined) inputs.push(this.bias(op, bias, x.quant.scale, wr.scale, outN));
    this.output(op, this.node('Gemm', inputs, [intAttr('transB', 1)]), 'plain', activationOf(op.options));
  }

  protected elementwise(op: OperatorDef, opType: 'Add' | 'Mul', nchw: boolean): void {
    const g = this.graph;
    const operand = (t: number): string => {
      const v = this.quantInput(op, t);
      if (!g.isConstant(t)) return this.dequantize(nchw ? this.toNchw(v) : this.toPlain(v), v.quant);
      const rank = g.tensor(t).shape.length;
      if (nchw && rank > 1) throw this.unsupported(op, 'a constant operand with more than one axis');
      // A rank-1 constant broadcasts along the channels: in NCHW it is [c, 1, 1].
      const name = nchw && rank === 1 ? this.node('Reshape', [v.name, this.int64s([-1, 1, 1])]) : v.name;
      return this.dequantize(name, v.quant);
    };
    const y = this.node(opType, [operand(op.inputs[0]), operand(op.inputs[1])]);
    this.output(op, y, nchw ? 'nchw' : 'plain', activationOf(op.options));
  }

  protected pool(op: OperatorDef, opt: Pool2DOptions, pool: { opType: string; attributes: OnnxAttribute[] }): void {
    const x = this.quantInput(op, op.inputs[0]);
    const xf = this.dequantize(this.toNchw(x), x.quant);
    this.output(op, this.node(pool.opType, [xf], pool.attributes), 'nchw', opt.activation);
  }

  protected mean(op: OperatorDef, axes: number[], spatial: boolean, keepDims: boolean): void {
    const x = this.quantInput(op, op.inputs[0]);
    if (spatial) {
      const y = this.node('GlobalAveragePool', [this.dequantize(this.toNchw(x), x.quant)]);
      if (keepDims) this.output(op, y, 'nchw', undefined);
      else this.output(op, this.node('Flatten', [y], [intAttr('axis', 1)]), 'plain', undefined);
      return;
    }
    const y = this.node('ReduceMean', [this.dequantize(this.toPlain(x), x.quant)], [intsAttr('axes', axes), intAttr('keepdims', keepDims ? 1 : 0)]);
    this.output(op, y, 'plain', undefined);
  }

  protected reshape(op: OperatorDef, inShape: readonly number[], target: number[] | Refusal): void {
    const x = this.quantInput(op, op.inputs[0]);
    const q = this.outQuant(op);
    if ('problem' in target) throw this.unsupported(op, target.problem);
    const source = isSpatialOne(inShape) ? x.name : this.toPlain(x);
    // Moving integers is exact when the output shares the input's quantization (TFLite requires it).
    const y = sameQuant(x.quant, q)
      ? this.node('Reshape', [source, this.int64s(target)])
      : this.quantize(this.node('Reshape', [this.dequantize(source, x.quant), this.int64s(target)]), q);
    this.values.set(op.outputs[0], { name: y, layout: 'plain', quant: q });
  }

  protected softmax(op: OperatorDef, beta: number): void {
    const x = this.quantInput(op, op.inputs[0]);
    let xf = this.dequantize(this.toPlain(x), x.quant);
    if (beta !== 1) xf = this.node('Mul', [xf, this.floatScalar(beta)]);
    this.output(op, this.node('Softmax', [xf], [intAttr('axis', -1)]), 'plain', undefined);
  }

  protected quantizeOp(op: OperatorDef): void {
    const q = this.outQuant(op);
    const v = this.value(op.inputs[0]);
    const y = v.quant ? (sameQuant(v.quant, q) ? v.name : this.quantize(this.dequantize(v.name, v.quant), q)) : this.quantize(v.name, q);
    this.values.set(op.outputs[0], { name: y, layout: v.layout, quant: q });
  }

  protected dequantizeOp(op: OperatorDef): void {
    const v = this.value(op.inputs[0]);
    this.values.set(op.outputs[0], { name: v.quant ? this.dequantize(v.name, v.quant) : v.name, layout: v.layout });
  }

  protected activationOp(op: OperatorDef, code: number): void {
    const x = this.quantInput(op, op.inputs[0]);
    this.output(op, this.activationNodes(code, this.dequantize(x.name, x.quant)), x.layout, undefined);
  }

  /** Scale and zero-point initializers of weights: scalars, or [channels] vectors. */
  private channelParams(type: QuantType, scale: number[], zeroPoint: number[]): [string, string] {
    if (scale.length === 1) return [this.floatScalar(scale[0]), this.intScalar(type, zeroPoint[0])];
    return [
      this.init('w_scale', [scale.length], OnnxDataType.FLOAT, bytesOf(Float32Array.from(scale))),
      this.init('w_zero_point', [zeroPoint.length], ONNX_TYPE[type], bytesOf(typed(type, zeroPoint))),
    ];
  }

  /** The int32 bias, dequantized with scale = input scale * weight scale (per channel when the weights are). */
  private bias(op: OperatorDef, t: number, inScale: number, wScale: number[], channels: number): string {
    const br = this.raw(op, t);
    if (br.type !== 'int32' || br.values.length !== channels) throw this.unsupported(op, `bias ${this.graph.tensor(t).name} is not ${channels} int32 values`);
    if (br.zeroPoint.some((z) => z !== 0)) throw this.unsupported(op, `bias ${this.graph.tensor(t).name} has a non-zero zero point`);
    const b = this.init(this.graph.tensor(t).name, [channels], OnnxDataType.INT32, bytesOf(br.values));
    const scales = wScale.map((s) => inScale * s);
    if (scales.length === 1) return this.node('DequantizeLinear', [b, this.floatScalar(scales[0])], [], 'b_dq');
    const s = this.init('b_scale', [channels], OnnxDataType.FLOAT, bytesOf(Float32Array.from(scales)));
    return this.node('DequantizeLinear', [b, s], [intAttr('axis', 0)], 'b_dq');
  }

  private int64s(values: readonly number[]): string {
    return this.sharedInit([values.length], OnnxDataType.INT64, bytesOf(BigInt64Array.from(values.map((v) => BigInt(v)))));
  }
}

// --- helpers ----------------------------------------------------------------------------------

/**
 * int8 activations as uint8 with the zero point moved by 128: the same real values, integer
 * sums and clamps, and the uint8-activation kernels ONNX Runtime fuses QDQ into on every CPU
 * (it only fuses int8-activation QDQ where int8 kernels are preferred, i.e. on ARM).
 */
function asUint8(q: TensorQuant): TensorQuant {
  return q.type === 'int8' ? { type: 'uint8', scale: q.scale, zeroPoint: q.zeroPoint + 128 } : q;
}

/** Weights in the requested integer type, shifted by 128 when it differs (same real values and sums). */
function reencodeWeights(type: QuantType, values: Uint8Array | Int8Array, zeroPoint: number[], want: QuantType): { type: QuantType; values: Uint8Array | Int8Array; zeroPoint: number[] } {
  if (type === want) return { type, values, zeroPoint };
  const shift = want === 'int8' ? -128 : 128;
  const out = want === 'int8' ? Int8Array.from(values, (v) => v + shift) : Uint8Array.from(values, (v) => v + shift);
  return { type: want, values: out, zeroPoint: zeroPoint.map((z) => z + shift) };
}

function typed(type: QuantType | 'int32', values: readonly number[]): Int8Array | Uint8Array | Int32Array {
  if (type === 'uint8') return Uint8Array.from(values);
  if (type === 'int8') return Int8Array.from(values);
  return Int32Array.from(values);
}
