/**
 * The declared shape of the CNN head (blocks of convolution + 2x2 max pooling, an optional hidden
 * dense layer, a softmax layer) and the checks and parameter shapes that follow from it. Pure:
 * no tensors, so configs can be checked without tfjs.
 */
import { HeadOptionsError } from '../errors';

export interface CnnBlockSpec {
  /** Output channels of the block's convolution. */
  filters: number;
  /** Square kernel size (odd); default 3. */
  kernel?: number;
}

export interface CnnArchitecture {
  /** [height, width, channels] of one input image. */
  inputShape: readonly [number, number, number];
  blocks: readonly CnnBlockSpec[];
  /** Units of the hidden dense layer after flattening; 0 = none. */
  dense: number;
  numClasses: number;
}

/** One weight tensor of the network, in creation order. */
export interface CnnParameterShape {
  name: string;
  shape: number[];
}

export const kernelOf = (block: CnnBlockSpec): number => block.kernel ?? 3;

/** Problems with an architecture, as readable lines (empty when it is valid). */
export function cnnArchitectureProblems(arch: CnnArchitecture): string[] {
  const problems: string[] = [];
  const [h, w, c] = arch.inputShape;
  if (![h, w, c].every((v) => Number.isInteger(v) && v > 0)) problems.push(`inputShape must be three positive integers, got [${arch.inputShape.join(', ')}]`);
  if (arch.blocks.length === 0) problems.push('at least one convolution block is needed');
  arch.blocks.forEach((b, i) => {
    if (!Number.isInteger(b.filters) || b.filters < 1) problems.push(`blocks[${i}].filters must be a positive integer, got ${b.filters}`);
    const k = kernelOf(b);
    if (!Number.isInteger(k) || k < 1 || k % 2 === 0) problems.push(`blocks[${i}].kernel must be an odd positive integer, got ${k}`);
  });
  const side = Math.min(h, w) / 2 ** arch.blocks.length;
  if (side < 1) problems.push(`${arch.blocks.length} blocks halve a ${h}x${w} input below 1 pixel; use fewer blocks or a larger preprocess.size`);
  if (!Number.isInteger(arch.dense) || arch.dense < 0) problems.push(`dense must be a non-negative integer, got ${arch.dense}`);
  if (!Number.isInteger(arch.numClasses) || arch.numClasses < 2) problems.push(`numClasses must be >= 2, got ${arch.numClasses}`);
  return problems;
}

/** Every weight tensor's shape, in creation order (pure: no tensors are made). */
export function cnnParameterShapes(arch: CnnArchitecture): CnnParameterShape[] {
  const problems = cnnArchitectureProblems(arch);
  HeadOptionsError.throwIfAny('CNN head', problems);
  let [h, w, channels] = arch.inputShape;
  const shapes: CnnParameterShape[] = [];
  arch.blocks.forEach((block, i) => {
    const k = kernelOf(block);
    shapes.push({ name: `conv${i + 1}/kernel`, shape: [k * k * channels, block.filters] }, { name: `conv${i + 1}/bias`, shape: [block.filters] });
    channels = block.filters;
    h = Math.floor(h / 2);
    w = Math.floor(w / 2);
  });
  let units = h * w * channels;
  if (arch.dense > 0) {
    shapes.push({ name: 'dense/kernel', shape: [units, arch.dense] }, { name: 'dense/bias', shape: [arch.dense] });
    units = arch.dense;
  }
  shapes.push({ name: 'logits/kernel', shape: [units, arch.numClasses] }, { name: 'logits/bias', shape: [arch.numClasses] });
  return shapes;
}

/** Trainable parameters of the whole network. */
export function cnnParameterCount(arch: CnnArchitecture): number {
  return cnnParameterShapes(arch).reduce((sum, p) => sum + p.shape.reduce((a, b) => a * b, 1), 0);
}
