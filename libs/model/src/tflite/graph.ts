/**
 * The engine-neutral view of a TFLite model's main subgraph: its image input, feature-layer
 * resolution, the validated operators that compute a tensor, and the decoded (dequantized)
 * constants. The tfjs interpreter (`interpreter.ts`) runs these operators; the ONNX exporter
 * walks the same list, so exporting needs no tfjs.
 */
import { FeatureLayerError, ModelError, ModelFormatError, UnsupportedOperatorError } from '../errors';
import { BuiltinOp, builtinOperatorName } from './builtin-ops';
import { decodeConstant, type ConstantValue } from './constants';
import { activationOf, SUPPORTED_ACTIVATIONS } from './operator-options';
import { ActivationFunction, parseTflite, type BuiltinOptions, type OperatorDef, type SubGraphDef, type TensorDef, type TfliteModel } from './schema';

/** Ops whose output is the global-pooled feature vector in CNN classifiers. */
const POOLING_OPS: ReadonlySet<number> = new Set([BuiltinOp.AVERAGE_POOL_2D, BuiltinOp.MEAN]);

/** Ops whose outputs make good feature-layer suggestions. */
const SUGGESTED_OPS: ReadonlySet<number> = new Set([BuiltinOp.AVERAGE_POOL_2D, BuiltinOp.MEAN, BuiltinOp.RESHAPE, BuiltinOp.SQUEEZE]);

const SUPPORTED: ReadonlySet<number> = new Set(Object.values(BuiltinOp).filter((c) => c !== BuiltinOp.CUSTOM));

/** Operators that cannot run without their builtin options table. */
const REQUIRED_OPTIONS: Partial<Record<number, BuiltinOptions['kind']>> = {
  [BuiltinOp.CONV_2D]: 'conv2d',
  [BuiltinOp.DEPTHWISE_CONV_2D]: 'depthwise',
  [BuiltinOp.AVERAGE_POOL_2D]: 'pool2d',
  [BuiltinOp.MAX_POOL_2D]: 'pool2d',
};

export class TfliteGraph {
  readonly model: TfliteModel;
  readonly subgraph: SubGraphDef;
  /** Index of the (single) image input tensor. */
  readonly inputIndex: number;
  private readonly producer = new Map<number, OperatorDef>();
  /** Tensors whose value is known at load time (weights, shapes, dequantized constants). */
  private readonly constantSource = new Map<number, number>();
  private readonly constants = new Map<number, ConstantValue>();
  private disposed = false;

  private constructor(
    model: TfliteModel,
    readonly file: string,
  ) {
    this.model = model;
    this.subgraph = model.subgraphs[0];
    if (this.subgraph.inputs.length !== 1) {
      throw new ModelFormatError(
        `${file}: expected a model with one image input, found ${this.subgraph.inputs.length} inputs.`,
        file,
      );
    }
    this.inputIndex = this.subgraph.inputs[0];
    const shape = this.tensor(this.inputIndex).shape;
    if (shape.length !== 4) {
      throw new ModelFormatError(`${file}: the input tensor has shape [${shape}]; an NHWC image input is expected.`, file);
    }
    for (const op of this.subgraph.operators) for (const o of op.outputs) this.producer.set(o, op);
    for (const t of this.subgraph.tensors) {
      if (t.buffer > 0 && this.model.buffers[t.buffer].length > 0) this.constantSource.set(t.index, t.index);
    }
    // A DEQUANTIZE of a constant (fp16 or int8 weights stored compactly) is itself a constant.
    for (const op of this.subgraph.operators) {
      if (this.opCode(op) === BuiltinOp.DEQUANTIZE && this.constantSource.has(op.inputs[0])) {
        this.constantSource.set(op.outputs[0], this.constantSource.get(op.inputs[0])!);
      }
    }
  }

  /** Parses the bytes of a .tflite file; `file` labels errors. */
  static fromBytes(bytes: Uint8Array, file: string): TfliteGraph {
    return new TfliteGraph(parseTflite(bytes, file), file);
  }

  /** [height, width, channels] of the image input. */
  get inputShape(): [number, number, number] {
    const s = this.tensor(this.inputIndex).shape;
    return [s[1], s[2], s[3]];
  }

  get outputIndices(): readonly number[] {
    return this.subgraph.outputs;
  }

  tensor(index: number): TensorDef {
    return this.subgraph.tensors[index];
  }

  operatorName(op: OperatorDef): string {
    const code = this.model.operatorCodes[op.opcodeIndex];
    if (code.builtinCode === BuiltinOp.CUSTOM) return `CUSTOM(${code.customCode ?? '?'})`;
    return builtinOperatorName(code.builtinCode);
  }

  /** `operator #4 RESHAPE (producing flat)`: how error messages name an operator. */
  operatorLabel(op: OperatorDef): string {
    const out = op.outputs.length ? ` (producing ${this.tensor(op.outputs[0]).name})` : '';
    return `operator #${op.index} ${this.operatorName(op)}${out}`;
  }

  /**
   * Resolves a feature layer: `auto` is the output of the last AVERAGE_POOL_2D or MEAN operator;
   * otherwise a tensor name, or one `;`-separated part of one (converters join fused names).
   */
  resolveFeatureTensor(featureLayer = 'auto'): number {
    if (featureLayer === 'auto') {
      const ops = this.subgraph.operators;
      for (let i = ops.length - 1; i >= 0; i--) {
        if (POOLING_OPS.has(this.opCode(ops[i]))) return ops[i].outputs[0];
      }
      const candidates = this.featureCandidates('');
      throw new FeatureLayerError(
        `${this.file}: featureLayer "auto" needs an AVERAGE_POOL_2D or MEAN operator and the model has none. ` +
          `Set featureLayer to one of the model's tensors, e.g. ${candidates.map((c) => JSON.stringify(c)).join(', ')}.`,
        this.file,
        featureLayer,
        candidates,
      );
    }
    const exact = this.subgraph.tensors.find((t) => t.name === featureLayer);
    if (exact) return exact.index;
    const partial = this.subgraph.tensors.filter((t) => t.name.split(';').includes(featureLayer));
    // Prefer an operator output: weights often share name parts with the activation they feed.
    const produced = partial.filter((t) => this.producer.has(t.index));
    if (produced.length >= 1) return produced[produced.length - 1].index;
    const candidates = this.featureCandidates(featureLayer);
    throw new FeatureLayerError(
      `${this.file}: no tensor named "${featureLayer}". Candidates: ${candidates.map((c) => JSON.stringify(c)).join(', ')} ` +
        `(or "auto" for the global pooling output).`,
      this.file,
      featureLayer,
      candidates,
    );
  }

  /** A few names worth suggesting: similar ones first, then pooling/reshape outputs, then the last outputs. */
  private featureCandidates(requested: string): string[] {
    const produced = this.subgraph.operators.flatMap((op) => op.outputs.map((o) => ({ op, name: this.tensor(o).name })));
    const needle = requested.toLowerCase();
    const similar = needle ? produced.filter((p) => p.name.toLowerCase().includes(needle)) : [];
    const pools = produced.filter((p) => SUGGESTED_OPS.has(this.opCode(p.op)));
    const names = [...similar, ...pools.reverse(), ...produced.slice(-4).reverse()].map((p) => p.name);
    return [...new Set(names)].slice(0, 8);
  }

  /**
   * The validated operators, in execution order, that compute `outputs` (tensor indices) from the
   * image input and constants. Engine-independent: the interpreter and the ONNX exporter walk it.
   */
  operatorsFor(outputs: readonly number[]): OperatorDef[] {
    this.assertAlive();
    const needed = new Set<number>();
    const stack = [...outputs];
    const seen = new Set<number>();
    while (stack.length) {
      const t = stack.pop()!;
      if (seen.has(t) || t < 0 || this.constantSource.has(t) || t === this.inputIndex) continue;
      seen.add(t);
      const op = this.producer.get(t);
      if (!op) {
        throw new ModelFormatError(`${this.file}: tensor ${this.tensor(t).name} is neither an input, a constant nor an operator output.`, this.file);
      }
      needed.add(op.index);
      stack.push(...op.inputs);
    }
    const operators = this.subgraph.operators.filter((op) => needed.has(op.index));
    for (const op of operators) this.validate(op);
    return operators;
  }

  /** True when the tensor's value is known at load time (a weight, a shape, a dequantized constant). */
  isConstant(index: number): boolean {
    return this.constantSource.has(index);
  }

  /** The decoded (dequantized) value of a constant tensor; decoded once, then kept. */
  constantValue(index: number): ConstantValue {
    const src = this.constantSource.get(index);
    if (src === undefined) throw new ModelError(`internal: tensor ${index} is not constant`, this.file);
    let v = this.constants.get(src);
    if (!v) {
      const t = this.tensor(src);
      v = decodeConstant(t, this.model.buffers[t.buffer], this.file);
      this.constants.set(src, v);
    }
    return v;
  }

  /** The builtin operator code of `op` (see BuiltinOp). */
  opCode(op: OperatorDef): number {
    return this.model.operatorCodes[op.opcodeIndex].builtinCode;
  }

  /** The error for an operator (or a use of it) the engines cannot run. */
  unsupported(op: OperatorDef, detail?: string): UnsupportedOperatorError {
    const name = this.operatorName(op);
    return new UnsupportedOperatorError(
      `${this.file}: ${this.operatorLabel(op)} is not supported by the TFLite-on-tfjs loader` +
        `${detail ? `: ${detail}` : ''}. Supported: ${[...SUPPORTED].map(builtinOperatorName).join(', ')}. ` +
        'Pick an earlier featureLayer, or convert the model to TensorFlow.js (tensorflowjs_converter) and load its model.json.',
      this.file,
      name,
    );
  }

  /** Frees the decoded constants; the graph cannot be used afterwards. */
  dispose(): void {
    this.constants.clear();
    this.disposed = true;
  }

  assertAlive(): void {
    if (this.disposed) throw new ModelError(`${this.file}: the model was disposed`, this.file);
  }

  private validate(op: OperatorDef): void {
    const code = this.opCode(op);
    if (!SUPPORTED.has(code)) throw this.unsupported(op);
    if (op.outputs.length !== 1) throw this.unsupported(op, `${op.outputs.length} outputs`);
    const act = activationOf(op.options);
    if (act !== undefined && !SUPPORTED_ACTIVATIONS.has(act)) {
      throw this.unsupported(op, `fused activation ${ActivationFunction[act] ?? act}`);
    }
    if (code === BuiltinOp.CONV_2D || code === BuiltinOp.DEPTHWISE_CONV_2D || code === BuiltinOp.FULLY_CONNECTED) {
      if (!this.constantSource.has(op.inputs[1])) throw this.unsupported(op, 'the weights are not constant');
      if (op.inputs[2] !== undefined && op.inputs[2] >= 0 && !this.constantSource.has(op.inputs[2])) {
        throw this.unsupported(op, 'the bias is not constant');
      }
    }
    const needs = REQUIRED_OPTIONS[code];
    if (needs && op.options?.kind !== needs) {
      throw new ModelFormatError(`${this.file}: operator #${op.index} ${this.operatorName(op)} lacks its ${needs} options; the file is corrupt.`, this.file);
    }
    if (code === BuiltinOp.MEAN && !this.constantSource.has(op.inputs[1])) throw this.unsupported(op, 'the axes are not constant');
    if (code === BuiltinOp.RESHAPE && op.inputs.length > 1 && !this.constantSource.has(op.inputs[1])) {
      if (!(op.options?.kind === 'reshape' && op.options.newShape)) throw this.unsupported(op, 'the target shape is not constant');
    }
  }
}
