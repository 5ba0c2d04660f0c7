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
import { activationOf, biasOf, keepDimsOf, softmaxBeta } from '../tflite/operator-options';
import { ActivationFunction, type OperatorDef } from '../tflite/schema';
import { bytesOf, floatAttr, intAttr, intsAttr, toFloat, transpose4 } from './builders';
import {
  convAttributes,
  convWeightLayout,
  isSpatialOne,
  meanAxes,
  ONNX_INPUT_NAME,
  OnnxGraphBuilder,
  poolLowering,
  reshapeTarget,
} from './graph-builder';
import { encodeOnnxModel, OnnxDataType, type OnnxModel, type OnnxValueInfo } from './proto';

export { ONNX_INPUT_NAME, ONNX_IR_VERSION, ONNX_OPSET, tfPads } from './graph-builder';

/** Bump when the exported graph changes for the same input, so cached `.onnx` files are rebuilt. */
export const ONNX_EXPORTER_VERSION = 1;

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

class Exporter extends OnnxGraphBuilder {
  private readonly initializerNames = new Set<string>();
  private readonly values = new Map<number, Ref>();

  constructor(
    graph: TfliteGraph,
    private readonly options: OnnxExportOptions,
  ) {
    super(graph);
  }

  build(): OnnxModel {
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

    for (const op of graph.operatorsFor(this.options.outputs)) this.exportOp(op);

    const outputs: OnnxValueInfo[] = this.options.outputs.map((t, i) => {
      const name = this.options.outputNames?.[i] ?? `output${i}`;
      const ref = this.value(t);
      const plain = isSpatialOne(graph.tensor(t).shape) ? ref.name : this.toPlain(t, ref);
      this.node('Flatten', [plain], [intAttr('axis', 1)], undefined, name);
      return this.outputInfo(name, t);
    });

    return this.model('tflite_export', String(ONNX_EXPORTER_VERSION), `Exported from ${graph.file} (TFLite); weights dequantized to float32.`, inputInfo, outputs);
  }

  // --- values ---------------------------------------------------------------------------------

  private floatInit(hint: string, dims: number[], values: Float32Array): string {
    return this.init(hint, dims, OnnxDataType.FLOAT, bytesOf(values));
  }

  private int64Init(hint: string, values: readonly number[]): string {
    return this.init(hint, [values.length], OnnxDataType.INT64, bytesOf(BigInt64Array.from(values.map((v) => BigInt(v)))));
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
        const [, kh, kw] = wv.shape;
        const layout = convWeightLayout(code === BuiltinOp.DEPTHWISE_CONV_2D, wv.shape, inShape[3]);
        if ('problem' in layout) throw this.unsupported(op, layout.problem);
        const weight = this.floatInit(`${g.tensor(op.inputs[1]).name}`, layout.dims, transpose4(toFloat(wv), wv.shape, layout.perm));
        const inputs = [this.toNchw(op.inputs[0]), weight];
        const bias = biasOf(op);
        if (bias !== undefined) {
          const bv = g.constantValue(bias);
          inputs.push(this.floatInit(g.tensor(bias).name, [bv.values.length], toFloat(bv)));
        }
        const y = this.node('Conv', inputs, convAttributes(opt, inShape, [kh, kw], layout.group), g.tensor(op.outputs[0]).name);
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
        const pool = poolLowering(opt, inShape, code === BuiltinOp.AVERAGE_POOL_2D);
        const y = this.node(pool.opType, [x], pool.attributes, g.tensor(op.outputs[0]).name);
        this.set(op, this.activation(y, opt.activation, op), 'nchw');
        return;
      }
      case BuiltinOp.MEAN: {
        const { axes, spatial } = meanAxes(g, op, inShape);
        const keepDims = keepDimsOf(o);
        if (spatial) {
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
        const target = reshapeTarget(g, op, inShape);
        if ('problem' in target) throw this.unsupported(op, target.problem);
        // [n, 1, 1, c] has the same memory order in NCHW and NHWC, so no transpose is needed.
        const x = isSpatialOne(inShape) ? this.value(op.inputs[0]).name : this.toPlain(op.inputs[0]);
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
