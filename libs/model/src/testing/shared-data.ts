/**
 * Test helper: locates the read-only `shared/` folder that sits beside the repository root
 * (`MLBENCH_SHARED_DIR` overrides it). Tests that need it fail loudly when it is missing instead
 * of skipping, so a CI run without the data cannot pass by accident.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export const REPO_ROOT = path.resolve(__dirname, '../../../..');

export function sharedDir(): string {
  return path.resolve(process.env['MLBENCH_SHARED_DIR'] ?? path.join(REPO_ROOT, '..', 'shared'));
}

/** Absolute path of `rel` inside shared/models; throws a clear error if it is not there. */
export function sharedModelFile(rel: string): string {
  const file = path.join(sharedDir(), 'models', rel);
  if (!fs.existsSync(file)) {
    throw new Error(
      `Test data missing: ${file}. The model tests need the read-only shared/ folder beside the ` +
        `repository root (${path.join(REPO_ROOT, '..', 'shared')}), or MLBENCH_SHARED_DIR pointing at it.`,
    );
  }
  return file;
}

export const MODELS = {
  v2: 'mobilenet_v2_1.0_224_quant/mobilenet_v2_1.0_224_quant.tflite',
  v1Embedding: 'mobilenet_v1_1.0_224_quant_embedding_extractor/mobilenet_v1_1.0_224_quant_embedding_extractor.tflite',
  v1Half160: 'mobilenet_v1_0.5_160_quant/mobilenet_v1_0.5_160_quant.tflite',
  labels: 'imagenet_labels.txt',
  bird: 'testdata/bird.rgb',
  sunflower: 'testdata/sunflower.rgb',
} as const;

/** Raw 224x224 RGB bytes scaled to [-1, 1] as the MobileNets expect (pixel / 127.5 - 1). */
export function scaledRgb(rel: string): Float32Array {
  const raw = fs.readFileSync(sharedModelFile(rel));
  return Float32Array.from(raw, (v) => v / 127.5 - 1);
}

export function argmax(values: ArrayLike<number>, offset = 0, length = values.length - offset): number {
  let best = 0;
  for (let i = 1; i < length; i++) if (values[offset + i] > values[offset + best]) best = i;
  return best;
}
