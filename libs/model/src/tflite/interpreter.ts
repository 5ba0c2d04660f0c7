/**
 * Executes the operators of a TfliteGraph with TensorFlow.js ops in float32. Quantized weights are
 * dequantized once when a plan is built; activations stay float, so QUANTIZE/DEQUANTIZE are
 * identities and the caller feeds real-valued input (e.g. pixel / 127.5 - 1).
 */
import * as tf from '@tensorflow/tfjs';
import { ModelError, ModelInputError } from '../errors';
import { BuiltinOp } from './builtin-ops';
import type { TfliteGraph } from './graph';
import { activationOf, biasOf, keepDimsOf, optionsOf, softmaxBeta, windowOf } from './operator-options';
import { ActivationFunction, Padding, type OperatorDef } from './schema';

/** A pruned, validated list of operators that computes the requested tensors. */
export interface ExecutionPlan {
  readonly outputs: readonly number[];
  readonly operators: readonly OperatorDef[];
  /** For each tensor index: position in `operators` of its last consumer. */
  readonly lastUse: ReadonlyMap<number, number>;
}

type FusedActivation = 'linear' | 'relu' | 'relu6';

export class TfliteInterpreter {
  private readonly weights = new Map<string, tf.Tensor>();

  constructor(readonly graph: TfliteGraph) {}

  /**
   * Builds the pruned operator list that computes `outputs` (tensor indices), checking every
   * operator is supported and preparing (dequantizing, re-laying-out) its weights.
   */
  plan(outputs: readonly number[]): ExecutionPlan {
    const operators = this.graph.operatorsFor(outputs);
    const lastUse = new Map<number, number>();
    operators.forEach((op, i) => {
      for (const t of op.inputs) lastUse.set(t, i);
    });
    for (const op of operators) this.prepare(op);
    return { outputs: [...outputs], operators, lastUse };
  }

  /**
   * Runs a plan on NHWC float input. Returns one tensor per plan output, which the caller must
   * dispose; every intermediate is freed as soon as its last consumer has run.
   */
  run(plan: ExecutionPlan, input: tf.Tensor4D): tf.Tensor[] {
    const { graph } = this;
    graph.assertAlive();
    const [h, w, c] = graph.inputShape;
    if (input.shape[1] !== h || input.shape[2] !== w || input.shape[3] !== c) {
      throw new ModelInputError(
        `${graph.file} expects input [n, ${h}, ${w}, ${c}], got [${input.shape}]. Resize the images to ${w}x${h} first.`,
        graph.file,
      );
    }
    const keep = new Set(plan.outputs);
    const values = new Map<number, tf.Tensor>();
    // A clone shares the data, so the uniform disposal below never frees the caller's tensor.
    values.set(graph.inputIndex, input.clone());
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
        const v = values.get(t) ?? (graph.isConstant(t) ? this.constantTensor(t).clone() : undefined);
        if (!v) throw new ModelError(`internal: tensor ${t} was not computed`, graph.file);
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
  }

  private constantTensor(index: number): tf.Tensor {
    const key = `c${index}`;
    let t = this.weights.get(key);
    if (!t) {
      const v = this.graph.constantValue(index);
      t = tf.tensor(v.values, v.shape, v.dtype);
      this.weights.set(key, t);
    }
    return t;
  }

  /** Creates the op's weight tensors in the layout tfjs wants. */
  private prepare(op: OperatorDef): void {
    const { graph } = this;
    const code = graph.opCode(op);
    const key = `w${op.index}`;
    if (this.weights.has(key)) return;
    if (code === BuiltinOp.CONV_2D) {
      // TFLite [out, h, w, in] -> tfjs [h, w, in, out].
      const v = graph.constantValue(op.inputs[1]);
      this.weights.set(key, tf.tidy(() => tf.transpose(tf.tensor4d(v.values, v.shape as [number, number, number, number], 'float32'), [1, 2, 3, 0])));
    } else if (code === BuiltinOp.DEPTHWISE_CONV_2D) {
      // TFLite [1, h, w, in * multiplier], output channel c * m + k -> tfjs [h, w, in, multiplier]:
      // the same memory order, so a reshape suffices.
      const v = graph.constantValue(op.inputs[1]);
      const inC = graph.tensor(op.inputs[0]).shape[3];
      const [, kh, kw, outC] = v.shape;
      if (!inC || outC % inC !== 0) throw graph.unsupported(op, `cannot infer the depth multiplier from [${v.shape}]`);
      this.weights.set(key, tf.tensor4d(v.values, [kh, kw, inC, outC / inC], 'float32'));
    } else if (code === BuiltinOp.FULLY_CONNECTED) {
      const v = graph.constantValue(op.inputs[1]);
      this.weights.set(key, tf.tensor2d(v.values, v.shape as [number, number], 'float32')); // [out, in]
    } else {
      return;
    }
    const bias = biasOf(op);
    if (bias !== undefined) {
      const v = graph.constantValue(bias);
      this.weights.set(`b${op.index}`, tf.tensor1d(Float32Array.from(v.values), 'float32'));
    }
  }

  private input(op: OperatorDef, values: Map<number, tf.Tensor>, i: number): tf.Tensor {
    const t = op.inputs[i];
    const v = values.get(t);
    if (v) return v;
    if (this.graph.isConstant(t)) return this.constantTensor(t);
    throw new ModelError(`internal: operator #${op.index} input ${t} has no value`, this.graph.file);
  }

  /** One operator; runs inside tf.tidy, so temporaries are freed. */
  private execute(op: OperatorDef, values: Map<number, tf.Tensor>, batch: number): tf.Tensor {
    const code = this.graph.opCode(op);
    const o = op.options;
    const x = this.input(op, values, 0);
    switch (code) {
      case BuiltinOp.CONV_2D:
      case BuiltinOp.DEPTHWISE_CONV_2D: {
        const opt = code === BuiltinOp.CONV_2D ? optionsOf(o, 'conv2d') : optionsOf(o, 'depthwise');
        const act = ACTIVATIONS[opt.activation];
        const { strides, dilations } = windowOf(opt);
        const conv = code === BuiltinOp.CONV_2D ? tf.fused.conv2d : tf.fused.depthwiseConv2d;
        const y = conv({
          x: x as tf.Tensor4D,
          filter: this.weights.get(`w${op.index}`) as tf.Tensor4D,
          strides,
          pad: padding(opt.padding),
          dilations,
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
        const y = pool(x as tf.Tensor4D, [opt.filterHeight, opt.filterWidth], windowOf(opt).strides, padding(opt.padding));
        return applyActivation(y, opt.activation);
      }
      case BuiltinOp.MEAN: {
        const axes = Array.from(this.graph.constantValue(op.inputs[1]).values);
        return tf.mean(x, axes, keepDimsOf(o));
      }
      case BuiltinOp.RESHAPE:
        return tf.reshape(x, this.reshapeTarget(op, batch));
      case BuiltinOp.SQUEEZE: {
        // Squeeze by the file's shapes, never the batch axis (it is 1 in the file, n here).
        const dims = o?.kind === 'squeeze' && o.squeezeDims.length ? o.squeezeDims : this.graph.tensor(op.inputs[0]).shape.flatMap((d, i) => (d === 1 && i > 0 ? [i] : []));
        return tf.squeeze(x, dims.filter((d) => d !== 0));
      }
      case BuiltinOp.SOFTMAX: {
        const beta = softmaxBeta(o);
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
        throw this.graph.unsupported(op);
    }
  }

  /** The target shape with the file's batch size (always 1) replaced by the running batch. */
  private reshapeTarget(op: OperatorDef, batch: number): number[] {
    const { graph } = this;
    let target: number[];
    if (op.inputs.length > 1 && op.inputs[1] >= 0 && graph.isConstant(op.inputs[1])) {
      target = Array.from(graph.constantValue(op.inputs[1]).values);
    } else if (op.options?.kind === 'reshape' && op.options.newShape) {
      target = [...op.options.newShape];
    } else {
      target = [...graph.tensor(op.outputs[0]).shape];
    }
    const fileBatch = graph.tensor(op.inputs[0]).shape[0];
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

function padding(p: Padding): 'same' | 'valid' {
  // TFLite and tfjs share TensorFlow's SAME rule (extra padding row/column at the end).
  return p === Padding.VALID ? 'valid' : 'same';
}
