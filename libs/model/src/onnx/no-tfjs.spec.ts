import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { MODELS, sharedModelFile } from '../testing/shared-data';

describe('the ONNX engine without tfjs', () => {
  it('exports and runs a TFLite model without loading any @tensorflow module', async () => {
    const probe = path.join(__dirname, 'testing', 'extract-without-tfjs.ts');
    const { stdout } = await promisify(execFile)(process.execPath, ['--require', require.resolve('tsx/cjs'), probe, sharedModelFile(MODELS.v2)]);
    const result = JSON.parse(stdout) as { featureDim: number; tensorflow: string[] };
    expect(result.featureDim).toBe(1280);
    expect(result.tensorflow).toEqual([]);
  }, 60_000);
});
