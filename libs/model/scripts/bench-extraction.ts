/**
 * Feature-extraction throughput of a model on this machine.
 *
 *   npx tsx libs/model/scripts/bench-extraction.ts [--model PATH] [--backend wasm|cpu|tfjs-node|auto]
 *       [--batches 16,32] [--seconds 10]
 *
 * Defaults to shared/models' MobileNetV2 on wasm. Input content does not affect speed, so the
 * batch is random pixels; one warm-up batch per size is excluded from the timing.
 */
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { initBackend, loadExtractor, type BackendPreference } from '../src';

const REPO_ROOT = path.resolve(__dirname, '../../..');

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      model: { type: 'string', default: path.join(REPO_ROOT, '..', 'shared/models/mobilenet_v2_1.0_224_quant/mobilenet_v2_1.0_224_quant.tflite') },
      backend: { type: 'string', default: 'wasm' },
      batches: { type: 'string', default: '16,32' },
      seconds: { type: 'string', default: '10' },
    },
  });
  const backend = await initBackend(values.backend as BackendPreference);
  const extractor = await loadExtractor({ source: values.model });
  const [h, w, c] = extractor.description.inputShape;
  console.log(`${path.basename(values.model)} on ${backend.backend} (tfjs ${backend.engineVersion}, threads ${backend.threads ?? '?'}), ${h}x${w}x${c} -> ${extractor.description.featureDim}`);
  const budgetMs = Number(values.seconds) * 1000;
  for (const batch of values.batches.split(',').map(Number)) {
    const pixels = Float32Array.from({ length: batch * h * w * c }, () => Math.random() * 2 - 1);
    await extractor.extract(pixels, batch); // warm-up: weights uploaded, kernels compiled
    let images = 0;
    const start = performance.now();
    while (performance.now() - start < budgetMs) {
      await extractor.extract(pixels, batch);
      images += batch;
    }
    const seconds = (performance.now() - start) / 1000;
    console.log(`batch ${batch}: ${(images / seconds).toFixed(1)} images/s (${images} images in ${seconds.toFixed(1)} s)`);
  }
  extractor.dispose();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
