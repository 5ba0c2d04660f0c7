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
import { ModelFormatError, UnsupportedOperatorError } from '../errors';
import { BuiltinOp } from '../tflite/builtin-ops';
import type { TfliteGraph } from '../tflite/graph';
import { activationOf, biasOf, keepDimsOf, softmaxBeta, windowOf } from '../tflite/operator-options';
import { ActivationFunction, Padding, type OperatorDef } from '../tflite/schema';
import { bytesOf, floatAttr, intAttr, intsAttr, toFloat, transpose4, valueInfo } from './builders';
import { encodeOnnxModel, OnnxDataType, type OnnxAttribute, type OnnxModel, type OnnxNode, type OnnxTensor, type OnnxValueInfo } from './proto';

/** Bump when the exported graph changes for the same input, so cached `.onnx` files are rebuilt. */
export const ONNX_EXPORTER_VERSION = 1;
/** ONNX operator set the graphs target (Clip takes min/max as inputs from 11 on). */
export const ONNX_OPSET = 13;
/** IR version 7 matches opset 13 (ONNX 1.8). */
export const ONNX_IR_VERSION = 7;

export const ONNX_INPUT_NAME = 'input';

export interface OnnxExportOptions {
  /** Tensor indices to output, each flattened to [batch, n]; named by `outputNames`. */
  outputs: readonly number[];
  /** Names of the graph outputs; default `output0`, `output1`, ... */
  outputNames?: readonly string[];
  /**
   * Layout of the graph input: `nhwc` (default, as the FeatureExtractor receives pixels; one
   * Transpose node at the start) or `nchw` (the caller transposes pixels itself).
   */
  inputLayout?: 'nhwc' | 'nchw';
}

/** A value in the ONNX graph and how its axes relate to the TFLite tensor it stands for. */
interface Ref {
  name: string;
  /** `nchw`: a rank-4 TFLite NHWC tensor stored transposed; `plain`: same layout as TFLite. */
  layout: 'nchw' | 'plain';
}

/** Exports the subgraph that computes `options.outputs` and returns `.onnx` bytes. */
export function exportTfliteToOnnx(graph: TfliteGraph, options: OnnxExportOptions): Uint8Array {
  return encodeOnnxModel(buildOnnxModel(graph, options));
}

/** The ONNX model as plain objects (before protobuf encoding). */
export function buildOnnxModel(graph: TfliteGraph, options: OnnxExportOptions): OnnxModel {
  return new Exporter(graph, options).build();
}

class Exporter {
  private readonly nodes: OnnxNode[] = [];
  private readonly initializers: OnnxTensor[] = [];
  private readonly initializerNames = new Set<string>();
  private readonly values = new Map<number, Ref>();
  /** Converted copies of values (e.g. an NCHW tensor transposed back to NHWC), by `${name}:${layout}`. */
  private readonly converted = new Map<string, string>();
  private counter = 0;

  constructor(
    private readonly graph: TfliteGraph,
    private readonly options: OnnxExportOptions,
  ) {}

  build(): OnnxModel {
    const { graph } = this;
    const [h, w, c] = graph.inputShape;
    const layout = this.options.inputLayout ?? 'nhwc';
    const inputDims = layout === 'nhwc' ? [h, w, c] : [c, h, w];
    const inputInfo = valueInfo(ONNX_INPUT_NAME, [{ dim_param: 'batch' }, ...inputDims.map((d) => ({ dim_value: d }))]);
    if (layout === 'nhwc') {
      const nchw = this.node('Transpose', [ONNX_INPUT_NAME], [intsAttr('perm', [0, 3, 1, 2])], 'input_nchw');
      this.values.set(graph.inputIndex, { name: nchw, layout: 'nchw' });
    } else {
      this.values.set(graph.inputIndex, { name: ONNX_INPUT_NAME, layout: 'nchw' });
    }

    for (const op of graph.operatorsFor(this.options.outputs)) this.exportOp(op);

    const outputs: OnnxValueInfo[] = this.options.outputs.map((t, i) => {
      const name = this.options.outputNames?.[i] ?? `output${i}`;
      const ref = this.value(t);
      const shape = graph.tensor(t).shape;
      const plain = this.isSpatialOne(t) ? ref.name : this.toPlain(t, ref);
      this.node('Flatten', [plain], [intAttr('axis', 1)], undefined, name);
      const size = shape.slice(1).reduce((a, b) => a * b, 1);
      return valueInfo(name, [{ dim_param: 'batch' }, { dim_value: size }]);
    });

    return {
      ir_version: ONNX_IR_VERSION,
      opset_import: [{ domain: '', version: ONNX_OPSET }],
      producer_name: 'mlbench',
      producer_version: String(ONNX_EXPORTER_VERSION),
      graph: {
        name: 'tflite_export',
        doc_string: `Exported from ${graph.file} (TFLite); weights dequantized to float32.`,
        node: this.nodes,
        initializer: this.initializers,
        input: [inputInfo],
        output: outputs,
      },
    };
  }

  // --- graph building -------------------------------------------------------------------------

  private fresh(hint: string): string {
    return `${hint.replace(/[^A-Za-z0-9_./-]/g, '_').slice(-60)}__${this.counter++}`;
  }

  /** Appends a node and returns its (single) output name. */
  private node(opType: string, inputs: string[], attribute: OnnxAttribute[] = [], hint = opType, output?: string): string {
    const out = output ?? this.fresh(hint);
    this.nodes.push({ name: `${opType}_${this.nodes.length}`, op_type: opType, input: inputs, output: [out], attribute });
    return out;
  }

  private floatInit(hint: string, dims: number[], values: Float32Array): string {
    const name = this.fresh(hint);
    this.initializers.push({ name, dims, data_type: OnnxDataType.FLOAT, raw_data: bytesOf(values) });
    return name;
  }

  private int64Init(hint: string, values: readonly number[]): string {
    const name = this.fresh(hint);
    const data = BigInt64Array.from(values.map((v) => BigInt(v)));
    this.initializers.push({ name, dims: [values.length], data_type: OnnxDataType.INT64, raw_data: bytesOf(data) });
    return name;
  }

  /** A named scalar float constant, shared by every node that uses the same value. */
  private scalar(value: number): string {
    const name = `const_${String(value).replace(/[^0-9a-z]/gi, '_')}`;
    if (!this.initializerNames.has(name)) {
      this.initializerNames.add(name);
      this.initializers.push({ name, dims: [], data_type: OnnxDataType.FLOAT, raw_data: bytesOf(Float32Array.of(value)) });
    }
    return name;
  }

  private value(t: number): Ref {
    const v = this.values.get(t);
    if (v) return v;
    if (this.graph.isConstant(t)) {
      const c = this.graph.constantValue(t);
      const ref: Ref = { name: this.floatInit(this.graph.tensor(t).name, c.shape, toFloat(c)), layout: 'plain' };
      this.values.set(t, ref);
      return ref;
    }
    throw new ModelFormatError(`${this.graph.file}: internal: tensor ${this.graph.tensor(t).name} has no value during export`, this.graph.file);
  }

  /** True for a rank-4 tensor with H = W = 1: NCHW and NHWC then share one memory order. */
  private isSpatialOne(t: number): boolean {
    const s = this.graph.tensor(t).shape;
    return s.length === 4 && s[1] === 1 && s[2] === 1;
  }

  /** The value in TFLite layout (a Transpose back to NHWC when it is held NCHW). */
  private toPlain(t: number, ref = this.value(t)): string {
    if (ref.layout === 'plain') return ref.name;
    const key = `${ref.name}:plain`;
    let name = this.converted.get(key);
    if (!name) {
      name = this.node('Transpose', [ref.name], [intsAttr('perm', [0, 2, 3, 1])], `${ref.name}_nhwc`);
      this.converted.set(key, name);
    }
    return name;
  }

  /** A rank-4 value in NCHW layout. */
  private toNchw(t: number, ref = this.value(t)): string {
    if (ref.layout === 'nchw') return ref.name;
    if (this.graph.tensor(t).shape.length !== 4) {
      throw new ModelFormatError(`${this.graph.file}: internal: tensor ${this.graph.tensor(t).name} is not rank 4`, this.graph.file);
    }
    const key = `${ref.name}:nchw`;
    let name = this.converted.get(key);
    if (!name) {
      name = this.node('Transpose', [ref.name], [intsAttr('perm', [0, 3, 1, 2])], `${ref.name}_nchw`);
      this.converted.set(key, name);
    }
    return name;
  }

  private unsupported(op: OperatorDef, detail: string): UnsupportedOperatorError {
    return new UnsupportedOperatorError(
      `${this.graph.file}: ${this.graph.operatorLabel(op)} cannot be exported to ONNX: ${detail}. ` +
        'Use engine: tfjs for this model, or pick an earlier featureLayer.',
      this.graph.file,
      this.graph.operatorName(op),
    );
  }

  /** Appends the node(s) for a fused activation; returns the final output name. */
  private activation(x: string, act: ActivationFunction | undefined, op: OperatorDef): string {
    switch (act ?? ActivationFunction.NONE) {
      case ActivationFunction.NONE:
        return x;
      case ActivationFunction.RELU:
        return this.node('Relu', [x]);
      case ActivationFunction.RELU6:
        return this.node('Clip', [x, this.scalar(0), this.scalar(6)], [], 'relu6');
      case ActivationFunction.RELU_N1_TO_1:
        return this.node('Clip', [x, this.scalar(-1), this.scalar(1)], [], 'relu_n1_to_1');
      case ActivationFunction.TANH:
        return this.node('Tanh', [x]);
      default:
        throw this.unsupported(op, `fused activation ${ActivationFunction[act ?? 0] ?? act}`);
    }
  }

  private set(op: OperatorDef, name: string, layout: Ref['layout']): void {
    this.values.set(op.outputs[0], { name, layout });
  }

  // --- operators ------------------------------------------------------------------------------

  private exportOp(op: OperatorDef): void {
    const g = this.graph;
    const code = g.opCode(op);
    const o = op.options;
    const inShape = g.tensor(op.inputs[0]).shape;
    switch (code) {
      case BuiltinOp.CONV_2D:
      case BuiltinOp.DEPTHWISE_CONV_2D: {
        const opt = o?.kind === 'conv2d' || o?.kind === 'depthwise' ? o : undefined;
        if (!opt || inShape.length !== 4) throw this.unsupported(op, 'expected an NHWC input and conv options');
        const wv = g.constantValue(op.inputs[1]);
        const [kOut, kh, kw, kIn] = wv.shape;
        const inC = inShape[3];
        let weight: string;
        let group = 1;
        if (code === BuiltinOp.CONV_2D) {
          // TFLite [out, h, w, in] -> ONNX [out, in, h, w].
          weight = this.floatInit(`${g.tensor(op.inputs[1]).name}`, [kOut, kIn, kh, kw], transpose4(toFloat(wv), wv.shape, [0, 3, 1, 2]));
        } else {
          // TFLite [1, h, w, in * m] (output channel c * m + k) -> ONNX [in * m, 1, h, w] with group = in:
          // ONNX group g produces output channels g * m .. g * m + m - 1, the same order.
          const outC = kIn;
          if (!inC || outC % inC !== 0) throw this.unsupported(op, `cannot infer the depth multiplier from weights [${wv.shape}]`);
          weight = this.floatInit(`${g.tensor(op.inputs[1]).name}`, [outC, 1, kh, kw], transpose4(toFloat(wv), wv.shape, [3, 0, 1, 2]));
          group = inC;
        }
        const inputs = [this.toNchw(op.inputs[0]), weight];
        const bias = biasOf(op);
        if (bias !== undefined) {
          const bv = g.constantValue(bias);
          inputs.push(this.floatInit(g.tensor(bias).name, [bv.values.length], toFloat(bv)));
        }
        const { strides, dilations } = windowOf(opt);
        const pads = tfPads(opt.padding, [inShape[1], inShape[2]], [kh, kw], strides, dilations);
        const y = this.node(
          'Conv',
          inputs,
          [intsAttr('kernel_shape', [kh, kw]), intsAttr('strides', strides), intsAttr('dilations', dilations), intsAttr('pads', pads), intAttr('group', group)],
          g.tensor(op.outputs[0]).name,
        );
        this.set(op, this.activation(y, opt.activation, op), 'nchw');
        return;
      }
      case BuiltinOp.FULLY_CONNECTED: {
        const wv = g.constantValue(op.inputs[1]); // [out, in]
        const [outN, inN] = wv.shape;
        const x = this.toPlain(op.inputs[0]);
        const flat = inShape.length === 2 && inShape[1] === inN ? x : this.node('Reshape', [x, this.int64Init('fc_shape', [-1, inN])]);
        const inputs = [flat, this.floatInit(g.tensor(op.inputs[1]).name, [outN, inN], toFloat(wv))];
        const bias = biasOf(op);
        if (bias !== undefined) inputs.push(this.floatInit(g.tensor(bias).name, [outN], toFloat(g.constantValue(bias))));
        const y = this.node('Gemm', inputs, [intAttr('transB', 1)], g.tensor(op.outputs[0]).name);
        this.set(op, this.activation(y, activationOf(o), op), 'plain');
        return;
      }
      case BuiltinOp.ADD:
      case BuiltinOp.MUL: {
        const [a, b] = op.inputs;
        const nchw = [a, b].every((t) => g.isConstant(t) || (g.tensor(t).shape.length === 4 && this.value(t).layout === 'nchw'));
        const operand = (t: number): string => {
          if (!g.isConstant(t)) return nchw ? this.toNchw(t) : this.toPlain(t);
          const c = g.constantValue(t);
          if (!nchw) return this.value(t).name;
          // Broadcast against NHWC: right-align to rank 4, then store NCHW.
          const shape4 = [...Array(Math.max(0, 4 - c.shape.length)).fill(1), ...c.shape] as number[];
          if (shape4.length !== 4) throw this.unsupported(op, `constant operand of rank ${c.shape.length}`);
          return this.floatInit(g.tensor(t).name, [shape4[0], shape4[3], shape4[1], shape4[2]], transpose4(toFloat(c), shape4, [0, 3, 1, 2]));
        };
        const y = this.node(code === BuiltinOp.ADD ? 'Add' : 'Mul', [operand(a), operand(b)], [], g.tensor(op.outputs[0]).name);
        this.set(op, this.activation(y, o?.kind === 'activation' ? o.activation : undefined, op), nchw ? 'nchw' : 'plain');
        return;
      }
      case BuiltinOp.AVERAGE_POOL_2D:
      case BuiltinOp.MAX_POOL_2D: {
        const opt = o?.kind === 'pool2d' ? o : undefined;
        if (!opt || inShape.length !== 4) throw this.unsupported(op, 'expected an NHWC input and pool options');
        const x = this.toNchw(op.inputs[0]);
        const kernel = [opt.filterHeight, opt.filterWidth];
        const { strides } = windowOf(opt);
        const whole = kernel[0] === inShape[1] && kernel[1] === inShape[2] && (opt.padding === Padding.VALID || (inShape[1] === 1 && inShape[2] === 1));
        let y: string;
        if (whole) {
          y = this.node(code === BuiltinOp.AVERAGE_POOL_2D ? 'GlobalAveragePool' : 'GlobalMaxPool', [x], [], g.tensor(op.outputs[0]).name);
        } else {
          const pads = tfPads(opt.padding, [inShape[1], inShape[2]], kernel, strides, [1, 1]);
          // TensorFlow's SAME average pool divides by the number of real (unpadded) values.
          const attrs = [intsAttr('kernel_shape', kernel), intsAttr('strides', strides), intsAttr('pads', pads)];
          if (code === BuiltinOp.AVERAGE_POOL_2D) attrs.push(intAttr('count_include_pad', 0));
          y = this.node(code === BuiltinOp.AVERAGE_POOL_2D ? 'AveragePool' : 'MaxPool', [x], attrs, g.tensor(op.outputs[0]).name);
        }
        this.set(op, this.activation(y, opt.activation, op), 'nchw');
        return;
      }
      case BuiltinOp.MEAN: {
        const axes = Array.from(g.constantValue(op.inputs[1]).values).map((a) => (a < 0 ? a + inShape.length : a));
        const keepDims = keepDimsOf(o);
        if (inShape.length === 4 && axes.length === 2 && axes.includes(1) && axes.includes(2)) {
          const y = this.node('GlobalAveragePool', [this.toNchw(op.inputs[0])], [], g.tensor(op.outputs[0]).name);
          if (keepDims) this.set(op, y, 'nchw');
          else this.set(op, this.node('Flatten', [y], [intAttr('axis', 1)]), 'plain');
          return;
        }
        const y = this.node('ReduceMean', [this.toPlain(op.inputs[0])], [intsAttr('axes', axes), intAttr('keepdims', keepDims ? 1 : 0)], g.tensor(op.outputs[0]).name);
        this.set(op, y, 'plain');
        return;
      }
      case BuiltinOp.RESHAPE:
      case BuiltinOp.SQUEEZE: {
        const outShape = g.tensor(op.outputs[0]).shape;
        let target: number[];
        if (outShape.length > 0 && inShape.length > 0 && outShape[0] === inShape[0]) {
          // The batch axis is kept: every other dimension comes from the file, the batch is inferred.
          target = [-1, ...outShape.slice(1)];
        } else if (code === BuiltinOp.RESHAPE && op.inputs.length > 1 && op.inputs[1] >= 0 && g.isConstant(op.inputs[1])) {
          target = Array.from(g.constantValue(op.inputs[1]).values);
        } else {
          throw this.unsupported(op, `a reshape from [${inShape}] to [${outShape}] that does not keep the batch axis`);
        }
        // [n, 1, 1, c] has the same memory order in NCHW and NHWC, so no transpose is needed.
        const x = this.isSpatialOne(op.inputs[0]) ? this.value(op.inputs[0]).name : this.toPlain(op.inputs[0]);
        this.set(op, this.node('Reshape', [x, this.int64Init('shape', target)], [], g.tensor(op.outputs[0]).name), 'plain');
        return;
      }
      case BuiltinOp.SOFTMAX: {
        const beta = softmaxBeta(o);
        let x = this.toPlain(op.inputs[0]);
        if (beta !== 1) x = this.node('Mul', [x, this.scalar(beta)]);
        this.set(op, this.node('Softmax', [x], [intAttr('axis', -1)], g.tensor(op.outputs[0]).name), 'plain');
        return;
      }
      case BuiltinOp.QUANTIZE:
      case BuiltinOp.DEQUANTIZE:
        // Activations are float throughout: (de)quantization is the identity on real values.
        this.values.set(op.outputs[0], this.value(op.inputs[0]));
        return;
      case BuiltinOp.RELU:
      case BuiltinOp.RELU6:
      case BuiltinOp.LOGISTIC:
      case BuiltinOp.TANH:
      case BuiltinOp.HARD_SWISH: {
        const ref = this.value(op.inputs[0]);
        const name = g.tensor(op.outputs[0]).name;
        let y: string;
        if (code === BuiltinOp.RELU) y = this.node('Relu', [ref.name], [], name);
        else if (code === BuiltinOp.RELU6) y = this.node('Clip', [ref.name, this.scalar(0), this.scalar(6)], [], name);
        else if (code === BuiltinOp.LOGISTIC) y = this.node('Sigmoid', [ref.name], [], name);
        else if (code === BuiltinOp.TANH) y = this.node('Tanh', [ref.name], [], name);
        else {
          // x * relu6(x + 3) / 6 = x * HardSigmoid(x; alpha 1/6, beta 0.5).
          const hs = this.node('HardSigmoid', [ref.name], [floatAttr('alpha', 1 / 6), floatAttr('beta', 0.5)]);
          y = this.node('Mul', [ref.name, hs], [], name);
        }
        this.values.set(op.outputs[0], { name: y, layout: ref.layout });
        return;
      }
      default:
        throw this.unsupported(op, 'no ONNX mapping');
    }
  }
}

// --- helpers ----------------------------------------------------------------------------------

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
