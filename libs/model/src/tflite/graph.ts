/**
 * Executes a TFLite model's main subgraph with TensorFlow.js ops in float32. Quantized weights are
 * dequantized once when a plan is built; activations stay float, so QUANTIZE/DEQUANTIZE are
 * identities and the caller feeds real-valued input (e.g. pixel / 127.5 - 1).
 */
import * as tf from '@tensorflow/tfjs';
import { FeatureLayerError, ModelError, ModelFormatError, ModelInputError, UnsupportedOperatorError } from '../errors';
import { BuiltinOp, builtinOperatorName } from './builtin-ops';
import { decodeConstant, type ConstantValue } from './constants';
import {
  ActivationFunction,
  Padding,
  parseTflite,
  type BuiltinOptions,
  type OperatorDef,
  type SubGraphDef,
  type TensorDef,
  type TfliteModel,
} from './schema';

/** Ops whose output is the global-pooled feature vector in CNN classifiers. */
const POOLING_OPS: ReadonlySet<number> = new Set([BuiltinOp.AVERAGE_POOL_2D, BuiltinOp.MEAN]);

/** Ops whose outputs make good feature-layer suggestions. */
const SUGGESTED_OPS: ReadonlySet<number> = new Set([BuiltinOp.AVERAGE_POOL_2D, BuiltinOp.MEAN, BuiltinOp.RESHAPE, BuiltinOp.SQUEEZE]);

const SUPPORTED: ReadonlySet<number> = new Set(Object.values(BuiltinOp).filter((c) => c !== BuiltinOp.CUSTOM));

/** A pruned, validated list of operators that computes the requested tensors. */
export interface ExecutionPlan {
  readonly outputs: readonly number[];
  readonly operators: readonly OperatorDef[];
  /** For each tensor index: position in `operators` of its last consumer. */
  readonly lastUse: ReadonlyMap<number, number>;
}

/** Operators that cannot run without their builtin options table. */
const REQUIRED_OPTIONS: Partial<Record<number, BuiltinOptions['kind']>> = {
  [BuiltinOp.CONV_2D]: 'conv2d',
  [BuiltinOp.DEPTHWISE_CONV_2D]: 'depthwise',
  [BuiltinOp.AVERAGE_POOL_2D]: 'pool2d',
  [BuiltinOp.MAX_POOL_2D]: 'pool2d',
};

type FusedActivation = 'linear' | 'relu' | 'relu6';

export class TfliteGraph {
  readonly model: TfliteModel;
  readonly subgraph: SubGraphDef;
  /** Index of the (single) image input tensor. */
  readonly inputIndex: number;
  private readonly producer = new Map<number, OperatorDef>();
  /** Tensors whose value is known at load time (weights, shapes, dequantized constants). */
  private readonly constantSource = new Map<number, number>();
  private readonly constants = new Map<number, ConstantValue>();
  private readonly weights = new Map<string, tf.Tensor>();
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
      if (this.code(op) === BuiltinOp.DEQUANTIZE && this.constantSource.has(op.inputs[0])) {
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

  /**
   * Resolves a feature layer: `auto` is the output of the last AVERAGE_POOL_2D or MEAN operator;
   * otherwise a tensor name, or one `;`-separated part of one (converters join fused names).
   */
  resolveFeatureTensor(featureLayer = 'auto'): number {
    if (featureLayer === 'auto') {
      const ops = this.subgraph.operators;
      for (let i = ops.length - 1; i >= 0; i--) {
        if (POOLING_OPS.has(this.code(ops[i]))) return ops[i].outputs[0];
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
    const pools = produced.filter((p) => SUGGESTED_OPS.has(this.code(p.op)));
    const names = [...similar, ...pools.reverse(), ...produced.slice(-4).reverse()].map((p) => p.name);
    return [...new Set(names)].slice(0, 8);
  }

  /**
   * Builds the pruned operator list that computes `outputs` (tensor indices), checking every
   * operator is supported and preparing (dequantizing, re-laying-out) its weights.
   */
  plan(outputs: readonly number[]): ExecutionPlan {
    const operators = this.operatorsFor(outputs);
    const lastUse = new Map<number, number>();
    operators.forEach((op, i) => {
      for (const t of op.inputs) lastUse.set(t, i);
    });
    for (const op of operators) this.prepare(op);
    return { outputs: [...outputs], operators, lastUse };
  }

  /**
   * The validated operators, in execution order, that compute `outputs` (tensor indices) from the
   * image input and constants. Engine-independent: the ONNX exporter walks the same list.
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

  /** The decoded (dequantized) value of a constant tensor. */
  constantValue(index: number): ConstantValue {
    return this.constant(index);
  }

  /** The builtin operator code of `op` (see BuiltinOp). */
  opCode(op: OperatorDef): number {
    return this.code(op);
  }

  /**
   * Runs a plan on NHWC float input. Returns one tensor per plan output, which the caller must
   * dispose; every intermediate is freed as soon as its last consumer has run.
   */
  run(plan: ExecutionPlan, input: tf.Tensor4D): tf.Tensor[] {
    this.assertAlive();
    const [h, w, c] = this.inputShape;
    if (input.shape[1] !== h || input.shape[2] !== w || input.shape[3] !== c) {
      throw new ModelInputError(
        `${this.file} expects input [n, ${h}, ${w}, ${c}], got [${input.shape}]. Resize the images to ${w}x${h} first.`,
        this.file,
      );
    }
    const keep = new Set(plan.outputs);
    const values = new Map<number, tf.Tensor>();
    // A clone shares the data, so the uniform disposal below never frees the caller's tensor.
    values.set(this.inputIndex, input.clone());
    try {
      plan.operators.forEach((op, i) => {
        const out = tf.tidy(() => this.execute(op, values, input.shape[0]));
        values.set(op.outputs[0], out);
        for (const t of op.inputs) {
          if (plan.lastUse.get(t) === i && !keep.has(t)) {
            values.get(t)?.dispose();
            values.delete(t);
          }
        }
      });
      const results = plan.outputs.map((t) => {
        const v = values.get(t) ?? (this.constantSource.has(t) ? this.constantTensor(t).clone() : undefined);
        if (!v) throw new ModelError(`internal: tensor ${t} was not computed`, this.file);
        return v;
      });
      for (const [t, v] of values) if (!keep.has(t)) v.dispose();
      values.clear();
      return results;
    } catch (err) {
      for (const v of values.values()) v.dispose();
      throw err;
    }
  }

  /** Frees the prepared weight tensors. */
  dispose(): void {
    for (const t of this.weights.values()) t.dispose();
    this.weights.clear();
    this.disposed = true;
  }

  private assertAlive(): void {
    if (this.disposed) throw new ModelError(`${this.file}: the model was disposed`, this.file);
  }

  private code(op: OperatorDef): number {
    return this.model.operatorCodes[op.opcodeIndex].builtinCode;
  }

  private unsupported(op: OperatorDef, detail?: string): UnsupportedOperatorError {
    const name = this.operatorName(op);
    const out = op.outputs.length ? ` (producing ${this.tensor(op.outputs[0]).name})` : '';
    return new UnsupportedOperatorError(
      `${this.file}: operator #${op.index} ${name}${out} is not supported by the TFLite-on-tfjs loader` +
        `${detail ? `: ${detail}` : ''}. Supported: ${[...SUPPORTED].map(builtinOperatorName).join(', ')}. ` +
        'Pick an earlier featureLayer, or convert the model to TensorFlow.js (tensorflowjs_converter) and load its model.json.',
      this.file,
      name,
    );
  }

  private validate(op: OperatorDef): void {
    const code = this.code(op);
    if (!SUPPORTED.has(code)) throw this.unsupported(op);
    if (op.outputs.length !== 1) throw this.unsupported(op, `${op.outputs.length} outputs`);
    const act = activationOf(op.options);
    if (act !== undefined && !(act in ACTIVATIONS)) {
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

  private constant(index: number): ConstantValue {
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

  private constantTensor(index: number): tf.Tensor {
    const key = `c${index}`;
    let t = this.weights.get(key);
    if (!t) {
      const v = this.constant(index);
      t = tf.tensor(v.values, v.shape, v.dtype);
      this.weights.set(key, t);
    }
    return t;
  }

  /** Creates the op's weight tensors in the layout tfjs wants. */
  private prepare(op: OperatorDef): void {
    const code = this.code(op);
    const key = `w${op.index}`;
    if (this.weights.has(key)) return;
    if (code === BuiltinOp.CONV_2D) {
      // TFLite [out, h, w, in] -> tfjs [h, w, in, out].
      const v = this.constant(op.inputs[1]);
      this.weights.set(key, tf.tidy(() => tf.transpose(tf.tensor4d(v.values, v.shape as [number, number, number, number], 'float32'), [1, 2, 3, 0])));
    } else if (code === BuiltinOp.DEPTHWISE_CONV_2D) {
      // TFLite [1, h, w, in * multiplier], output channel c * m + k -> tfjs [h, w, in, multiplier]:
      // the same memory order, so a reshape suffices.
      const v = this.constant(op.inputs[1]);
      const inC = this.tensor(op.inputs[0]).shape[3];
      const [, kh, kw, outC] = v.shape;
      if (!inC || outC % inC !== 0) throw this.unsupported(op, `cannot infer the depth multiplier from [${v.shape}]`);
      this.weights.set(key, tf.tensor4d(v.values, [kh, kw, inC, outC / inC], 'float32'));
    } else if (code === BuiltinOp.FULLY_CONNECTED) {
      const v = this.constant(op.inputs[1]);
      this.weights.set(key, tf.tensor2d(v.values, v.shape as [number, number], 'float32')); // [out, in]
    } else {
      return;
    }
    const bias = op.inputs[2];
    if (bias !== undefined && bias >= 0) {
      const v = this.constant(bias);
      this.weights.set(`b${op.index}`, tf.tensor1d(Float32Array.from(v.values), 'float32'));
    }
  }

  private input(op: OperatorDef, values: Map<number, tf.Tensor>, i: number): tf.Tensor {
    const t = op.inputs[i];
    const v = values.get(t);
    if (v) return v;
    if (this.constantSource.has(t)) return this.constantTensor(t);
    throw new ModelError(`internal: operator #${op.index} input ${t} has no value`, this.file);
  }

  /** One operator; runs inside tf.tidy, so temporaries are freed. */
  private execute(op: OperatorDef, values: Map<number, tf.Tensor>, batch: number): tf.Tensor {
    const code = this.code(op);
    const o = op.options;
    const x = this.input(op, values, 0);
    switch (code) {
      case BuiltinOp.CONV_2D: {
        const opt = optionsOf(o, 'conv2d');
        const act = ACTIVATIONS[opt.activation];
        const y = tf.fused.conv2d({
          x: x as tf.Tensor4D,
          filter: this.weights.get(`w${op.index}`) as tf.Tensor4D,
          strides: [opt.strideH || 1, opt.strideW || 1],
          pad: padding(opt.padding),
          dilations: [opt.dilationH || 1, opt.dilationW || 1],
          bias: this.weights.get(`b${op.index}`),
          activation: act.fused,
        });
        return act.after ? act.after(y) : y;
      }
      case BuiltinOp.DEPTHWISE_CONV_2D: {
        const opt = optionsOf(o, 'depthwise');
        const act = ACTIVATIONS[opt.activation];
        const y = tf.fused.depthwiseConv2d({
          x: x as tf.Tensor4D,
          filter: this.weights.get(`w${op.index}`) as tf.Tensor4D,
          strides: [opt.strideH || 1, opt.strideW || 1],
          pad: padding(opt.padding),
          dilations: [opt.dilationH || 1, opt.dilationW || 1],
          bias: this.weights.get(`b${op.index}`),
          activation: act.fused,
        });
        return act.after ? act.after(y) : y;
      }
      case BuiltinOp.FULLY_CONNECTED: {
        const w = this.weights.get(`w${op.index}`) as tf.Tensor2D;
        // No fused bias: tfjs-backend-wasm 4.22 adds a fused matMul bias wrongly on rows after
        // the first (batch > 1); a separate broadcast add is correct on every backend.
        const bias = this.weights.get(`b${op.index}`);
        const y = tf.matMul(tf.reshape(x, [-1, w.shape[1]]), w, false, true);
        return applyActivation(bias ? tf.add(y, bias) : y, activationOf(o) ?? ActivationFunction.NONE);
      }
      case BuiltinOp.ADD:
      case BuiltinOp.MUL: {
        const b = this.input(op, values, 1);
        const y = code === BuiltinOp.ADD ? tf.add(x, b) : tf.mul(x, b);
        return applyActivation(y, o?.kind === 'activation' ? o.activation : ActivationFunction.NONE);
      }
      case BuiltinOp.AVERAGE_POOL_2D:
      case BuiltinOp.MAX_POOL_2D: {
        const opt = optionsOf(o, 'pool2d');
        const pool = code === BuiltinOp.AVERAGE_POOL_2D ? tf.avgPool : tf.maxPool;
        const y = pool(x as tf.Tensor4D, [opt.filterHeight, opt.filterWidth], [opt.strideH || 1, opt.strideW || 1], padding(opt.padding));
        return applyActivation(y, opt.activation);
      }
      case BuiltinOp.MEAN: {
        const axes = Array.from(this.constant(op.inputs[1]).values);
        return tf.mean(x, axes, o?.kind === 'reducer' ? o.keepDims : false);
      }
      case BuiltinOp.RESHAPE:
        return tf.reshape(x, this.reshapeTarget(op, batch));
      case BuiltinOp.SQUEEZE: {
        // Squeeze by the file's shapes, never the batch axis (it is 1 in the file, n here).
        const dims = o?.kind === 'squeeze' && o.squeezeDims.length ? o.squeezeDims : this.tensor(op.inputs[0]).shape.flatMap((d, i) => (d === 1 && i > 0 ? [i] : []));
        return tf.squeeze(x, dims.filter((d) => d !== 0));
      }
      case BuiltinOp.SOFTMAX: {
        const beta = o?.kind === 'softmax' ? o.beta : 1;
        return tf.softmax(beta === 1 ? x : tf.mul(x, beta));
      }
      case BuiltinOp.QUANTIZE:
      case BuiltinOp.DEQUANTIZE:
        // Activations are float throughout; (de)quantization is the identity on real values.
        return tf.clone(x);
      case BuiltinOp.RELU:
        return tf.relu(x);
      case BuiltinOp.RELU6:
        return tf.relu6(x);
      case BuiltinOp.LOGISTIC:
        return tf.sigmoid(x);
      case BuiltinOp.TANH:
        return tf.tanh(x);
      case BuiltinOp.HARD_SWISH:
        return tf.mul(x, tf.div(tf.relu6(tf.add(x, 3)), 6));
      default:
        throw this.unsupported(op);
    }
  }

  /** The target shape with the file's batch size (always 1) replaced by the running batch. */
  private reshapeTarget(op: OperatorDef, batch: number): number[] {
    let target: number[];
    if (op.inputs.length > 1 && op.inputs[1] >= 0 && this.constantSource.has(op.inputs[1])) {
      target = Array.from(this.constant(op.inputs[1]).values);
    } else if (op.options?.kind === 'reshape' && op.options.newShape) {
      target = [...op.options.newShape];
    } else {
      target = [...this.tensor(op.outputs[0]).shape];
    }
    const fileBatch = this.tensor(op.inputs[0]).shape[0];
    if (target.length > 0 && !target.includes(-1) && target[0] === fileBatch) target[0] = batch;
    return target;
  }
}

const ACTIVATIONS: Record<number, { fused: FusedActivation; after?: (t: tf.Tensor) => tf.Tensor }> = {
  [ActivationFunction.NONE]: { fused: 'linear' },
  [ActivationFunction.RELU]: { fused: 'relu' },
  [ActivationFunction.RELU6]: { fused: 'relu6' },
  [ActivationFunction.RELU_N1_TO_1]: { fused: 'linear', after: (t) => tf.clipByValue(t, -1, 1) },
  [ActivationFunction.TANH]: { fused: 'linear', after: (t) => tf.tanh(t) },
};

function applyActivation(t: tf.Tensor, act: ActivationFunction): tf.Tensor {
  const a = ACTIVATIONS[act];
  if (a.fused === 'relu') return tf.relu(t);
  if (a.fused === 'relu6') return tf.relu6(t);
  return a.after ? a.after(t) : t;
}

function activationOf(o: BuiltinOptions | undefined): ActivationFunction | undefined {
  if (!o) return undefined;
  return 'activation' in o ? o.activation : undefined;
}

function padding(p: Padding): 'same' | 'valid' {
  // TFLite and tfjs share TensorFlow's SAME rule (extra padding row/column at the end).
  return p === Padding.VALID ? 'valid' : 'same';
}

function optionsOf<K extends BuiltinOptions['kind']>(o: BuiltinOptions | undefined, kind: K): Extract<BuiltinOptions, { kind: K }> {
  if (!o || o.kind !== kind) throw new ModelFormatError(`operator options missing or of the wrong type (expected ${kind})`);
  return o as Extract<BuiltinOptions, { kind: K }>;
}
