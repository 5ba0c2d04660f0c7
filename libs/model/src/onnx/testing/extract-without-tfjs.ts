/**
 * Child-process probe for onnx/no-tfjs.spec.ts: exports a TFLite model to ONNX, runs it on one
 * blank image and prints the feature size and every loaded @tensorflow module as JSON.
 * Usage: extract-without-tfjs.ts <model.tflite>
 */
import * as fs from 'node:fs';
import { createOnnxExtractor } from '../extractor';

async function main(): Promise<void> {
  const file = process.argv[2];
  const ex = await createOnnxExtractor(fs.readFileSync(file), { source: file, file, sha256: 'probe', threads: 1 });
  const [h, w, c] = ex.description.inputShape;
  const features = await ex.extract(new Float32Array(h * w * c), 1);
  ex.dispose();
  const tensorflow = Object.keys(require.cache).filter((m) => m.includes('@tensorflow'));
  process.stdout.write(JSON.stringify({ featureDim: features.length, tensorflow }));
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
