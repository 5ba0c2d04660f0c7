/**
 * The walk both TFLite->ONNX exporters share: bind the graph input, lower every operator that
 * computes the requested outputs (in graph order), flatten the outputs. Each operator is
 * dispatched here by its builtin code, after the checks and the geometry both exporters need
 * (options present, an NHWC input, pool lowering, MEAN axes, reshape targets, whether an
 * elementwise op runs in NCHW); what it becomes is the exporter's: float nodes (export.ts) or
 * QDQ ones (quantized/export-int8.ts).
 */
import { ModelFormatError, UnsupportedOperatorError } from '../errors';
import { BuiltinOp } from '../tflite/builtin-ops';
import type { TfliteGraph } from '../tflite/graph';
import { keepDimsOf, softmaxBeta } from '../tflite/operator-options';
import type { Conv2DOptions, DepthwiseConv2DOptions, OperatorDef, Pool2DOptions } from '../tflite/schema';
import { floatAttr } from './builders';
import { meanAxes, OnnxGraphBuilder, poolLowering, reshapeTarget, type Refusal } from './graph-builder';
import type { OnnxAttribute, OnnxModel, OnnxValueInfo } from './proto';

/** Which tensors to export, each flattened to [batch, n], and their names (default `output0`, ...). */
export interface OnnxExportTarget {
  outputs: readonly number[];
  outputNames?: readonly string[];
}

/** A value in the ONNX graph and how its axes relate to the TFLite tensor it stands for. */
export interface LoweredValue {
  name: string;
  /** `nchw`: a rank-4 TFLite NHWC tensor stored transposed; `plain`: same layout as TFLite. */
  layout: 'nchw' | 'plain';
}

/** How an exporter names itself in refusals: the target ("int8 ONNX") and what to do instead. */
export interface ExportRefusal {
  target: string;
  advice: string;
}

export abstract class TfliteOnnxExporter<V extends LoweredValue> extends OnnxGraphBuilder {
  protected readonly values = new Map<number, V>();

  constructor(
    graph: TfliteGraph,
    private readonly target: OnnxExportTarget,
    private readonly refusal: ExportRefusal,
  ) {
    super(graph);
  }

  build(): OnnxModel {
    const input = this.bindInput();
    for (const op of this.graph.operatorsFor(this.target.outputs)) this.exportOp(op);
    const outputs: OnnxValueInfo[] = this.target.outputs.map((t, i) => {
      const name = this.target.outputNames?.[i] ?? `output${i}`;
      this.bindOutput(t, name);
      return this.outputInfo(name, t);
    });
    const { graphName, producerVersion, docString } = this.envelope();
    return this.model(graphName, producerVersion, docString, input, outputs);
  }

  // --- what each exporter defines -------------------------------------------------------------

  protected abstract envelope(): { graphName: string; producerVersion: string; docString: string };
  /** Declares the graph input and gives the TFLite input tensor its value. */
  protected abstract bindInput(): OnnxValueInfo;
  /** Writes TFLite tensor `t` to the graph output `name`, flattened to [batch, n]. */
  protected abstract bindOutput(t: number, name: string): void;
  /** A float scalar constant. */
  protected abstract floatScalar(value: number): string;

  protected abstract conv(op: OperatorDef, opt: Conv2DOptions | DepthwiseConv2DOptions, depthwise: boolean, inShape: readonly number[]): void;
  protected abstract fullyConnected(op: OperatorDef, inShape: readonly number[]): void;
  /** ADD or MUL; `nchw` when every non-constant operand is a rank-4 value held NCHW. */
  protected abstract elementwise(op: OperatorDef, opType: 'Add' | 'Mul', nchw: boolean): void;
  protected abstract pool(op: OperatorDef, opt: Pool2DOptions, pool: { opType: string; attributes: OnnxAttribute[] }): void;
  /** MEAN; `spatial` when it averages H and W of an NHWC map (a GlobalAveragePool). */
  protected abstract mean(op: OperatorDef, axes: number[], spatial: boolean, keepDims: boolean): void;
  /** RESHAPE or SQUEEZE to `target` (or the reason there is no batch-generic target). */
  protected abstract reshape(op: OperatorDef, inShape: readonly number[], target: number[] | Refusal): void;
  protected abstract softmax(op: OperatorDef, beta: number): void;
  protected abstract quantizeOp(op: OperatorDef): void;
  protected abstract dequantizeOp(op: OperatorDef): void;
  /** A standalone RELU, RELU6, LOGISTIC, TANH or HARD_SWISH (see activationNodes). */
  protected abstract activationOp(op: OperatorDef, code: number): void;

  // --- shared ---------------------------------------------------------------------------------

  protected value(t: number): V {
    const v = this.values.get(t);
    if (v) return v;
    throw new ModelFormatError(`${this.graph.file}: internal: tensor ${this.graph.tensor(t).name} has no value during export`, this.graph.file);
  }

  protected unsupported(op: OperatorDef, detail: string): UnsupportedOperatorError {
    return new UnsupportedOperatorError(
      `${this.graph.file}: ${this.graph.operatorLabel(op)} cannot be exported to ${this.refusal.target}: ${detail}. ${this.refusal.advice}`,
      this.graph.file,
      this.graph.operatorName(op),
    );
  }

  /** The float nodes of a standalone activation of `code` on float value `x`; the last node's name comes from `hint`. */
  protected activationNodes(code: number, x: string, hint?: string): string {
    if (code === BuiltinOp.RELU) return this.node('Relu', [x], [], hint);
    if (code === BuiltinOp.RELU6) return this.node('Clip', [x, this.floatScalar(0), this.floatScalar(6)], [], hint);
    if (code === BuiltinOp.LOGISTIC) return this.node('Sigmoid', [x], [], hint);
    if (code === BuiltinOp.TANH) return this.node('Tanh', [x], [], hint);
    // HARD_SWISH: x * relu6(x + 3) / 6 = x * HardSigmoid(x; alpha 1/6, beta 0.5).
    return this.node('Mul', [x, this.node('HardSigmoid', [x], [floatAttr('alpha', 1 / 6), floatAttr('beta', 0.5)])], [], hint);
  }

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
        return this.conv(op, opt, code === BuiltinOp.DEPTHWISE_CONV_2D, inShape);
      }
      case BuiltinOp.FULLY_CONNECTED:
        return this.fullyConnected(op, inShape);
      case BuiltinOp.ADD:
      case BuiltinOp.MUL: {
        const nchw = op.inputs.every((t) => g.isConstant(t) || (g.tensor(t).shape.length === 4 && this.value(t).layout === 'nchw'));
        return this.elementwise(op, code === BuiltinOp.ADD ? 'Add' : 'Mul', nchw);
      }
      case BuiltinOp.AVERAGE_POOL_2D:
      case BuiltinOp.MAX_POOL_2D: {
        const opt = o?.kind === 'pool2d' ? o : undefined;
        if (!opt || inShape.length !== 4) throw this.unsupported(op, 'expected an NHWC input and pool options');
        return this.pool(op, opt, poolLowering(opt, inShape, code === BuiltinOp.AVERAGE_POOL_2D));
      }
      case BuiltinOp.MEAN: {
        const { axes, spatial } = meanAxes(g, op, inShape);
        return this.mean(op, axes, spatial, keepDimsOf(o));
      }
      case BuiltinOp.RESHAPE:
      case BuiltinOp.SQUEEZE:
        return this.reshape(op, inShape, reshapeTarget(g, op, inShape));
      case BuiltinOp.SOFTMAX:
        return this.softmax(op, softmaxBeta(o));
      case BuiltinOp.QUANTIZE:
        return this.quantizeOp(op);
      case BuiltinOp.DEQUANTIZE:
        return this.dequantizeOp(op);
      case BuiltinOp.RELU:
      case BuiltinOp.RELU6:
      case BuiltinOp.LOGISTIC:
      case BuiltinOp.TANH:
      case BuiltinOp.HARD_SWISH:
        return this.activationOp(op, code);
      default:
        throw this.unsupported(op, `no ${this.refusal.target} mapping`);
    }
  }
}
