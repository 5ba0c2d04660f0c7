/** The YAML of a small experiment over a `data` folder beside the config, as end-to-end tests write it. */
export interface TinyConfigOptions {
  name: string;
  seed: number;
  /** train, val, test fractions. */
  split: readonly [number, number, number];
  /** model.extractor.source. */
  source: string;
  /** model.extractor.engine; omitted when undefined. */
  engine?: 'tfjs' | 'onnx';
  /** model.extractor.precision; omitted when undefined. */
  precision?: 'float32' | 'int8';
  /** model.extractor.batchSize; omitted when undefined. */
  extractorBatchSize?: number;
  /** preprocess.size; default [160, 160]. */
  size?: readonly [number, number];
  train: { learningRate: number; epochs: number; batchSize: number };
  /** YAML appended after the train section (an audit or sweep section). */
  extra?: string;
}

export function tinyConfig(o: TinyConfigOptions): string {
  const [train, val, test] = o.split;
  const [height, width] = o.size ?? [160, 160];
  return `
name: ${o.name}
seed: ${o.seed}
dataset:
  path: data
  split: { train: ${train}, val: ${val}, test: ${test} }
preprocess:
  size: [${height}, ${width}]
model:
  extractor:
    source: ${o.source}
${o.engine ? `    engine: ${o.engine}\n` : ''}${o.precision ? `    precision: ${o.precision}\n` : ''}${o.extractorBatchSize ? `    batchSize: ${o.extractorBatchSize}\n` : ''}train:
  learningRate: ${o.train.learningRate}
  epochs: ${o.train.epochs}
  batchSize: ${o.train.batchSize}
${o.extra ?? ''}`;
}
