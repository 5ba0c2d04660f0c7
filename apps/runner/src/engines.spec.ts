import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { openSqliteStore } from '@mlbench/tracking';
import { EXIT, runCli } from './cli';
import { REPO_ROOT, SHARED, captureIo, finalMetrics, useTempDir } from './test-support';

/**
 * Engine parity on the canonical experiment: the same config run with `engine: onnx` and with
 * `engine: tfjs` reaches test accuracies within 0.3 points. Both use the repository's feature
 * cache (the key includes the engine), so only a fresh clone pays for the extraction: about
 * 40 s on onnx and 80 s on tfjs WebAssembly for the 3670 photos.
 */
jest.setTimeout(30 * 60_000);

const CONFIG = path.join(REPO_ROOT, 'experiments/flowers-mobilenetv2-frozen.yaml');
const temp = useTempDir('engines-');

/** The canonical config with the engine set; relative shared paths made absolute so the copy can live in a temp folder. */
async function configFor(engine: 'onnx' | 'tfjs'): Promise<string> {
  const text = (await fs.readFile(CONFIG, 'utf8')).replaceAll('../../shared/', `${SHARED}/`);
  const withEngine = text.replace(/\n    batchSize: 32/, `$&\n    engine: ${engine}`);
  expect(withEngine).toContain(`engine: ${engine}`);
  const file = path.join(temp.path, `canonical-${engine}.yaml`);
  await fs.writeFile(file, withEngine);
  return file;
}

describe('canonical experiment on both engines', () => {
  it('reaches the same test accuracy (within 0.3 points) with onnx and with tfjs', async () => {
    const db = path.join(temp.path, 'runs.sqlite');
    const accuracy: Record<string, number> = {};
    for (const engine of ['onnx', 'tfjs'] as const) {
      const io = captureIo();
      expect(await runCli(['--config', await configFor(engine), '--db', db, '--cache-dir', path.join(REPO_ROOT, 'results/cache')], io)).toBe(EXIT.ok);
      const store = await openSqliteStore(db);
      try {
        const [latest] = await store.searchRuns({ name: 'flowers-mobilenetv2-frozen' });
        const extractor = await store.getExtractor(latest.id);
        expect(extractor?.engine).toBe(engine);
        accuracy[engine] = finalMetrics(await store.getMetrics(latest.id))['test.accuracy'];
      } finally {
        await store.close();
      }
    }
    console.log(`canonical test accuracy: onnx ${accuracy['onnx']}, tfjs ${accuracy['tfjs']}`);
    expect(accuracy['onnx']).toBeGreaterThanOrEqual(0.87);
    expect(Math.abs(accuracy['onnx'] - accuracy['tfjs'])).toBeLessThanOrEqual(0.003);
  });
});
