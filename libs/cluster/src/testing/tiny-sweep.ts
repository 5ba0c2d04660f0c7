import * as path from 'node:path';
import { writeSyntheticDataset } from '@mlbench/data';

/** The cluster tests' workload: 3 synthetic classes of 10 images each, written to `<dir>/data`. */
export async function writeTinySweepData(dir: string, seed = 'cluster'): Promise<void> {
  await writeSyntheticDataset(path.join(dir, 'data'), { classes: ['amber', 'cobalt', 'jade'], imagesPerClass: 10, seed });
}

export interface TinySweepOptions {
  name: string;
  epochs: number;
  /** The sweep's axes, one YAML line each (e.g. `seed: [1, 2, 3]`). */
  sweep: string[];
}

/** A sweep config over the tiny workload (8x8 pixels, no extractor): each point trains in well under a second. */
export function tinySweepConfig({ name, epochs, sweep }: TinySweepOptions): string {
  return `
name: ${name}
seed: 1
dataset:
  path: data
  split: { train: 0.5, val: 0.2, test: 0.3 }
preprocess:
  size: [8, 8]
model:
  extractor: none
train:
  learningRate: 0.01
  epochs: ${epochs}
  batchSize: 8
sweep:
${sweep.map((line) => `  ${line}`).join('\n')}
`;
}
