import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { GateInputError } from './gate-input-error';
import { buildSeedReference, readSeedBaselineFile, seedResultOfRun, serializeSeedReference } from './seed-results';
import type { VerifiableRun } from './verify';
import { fakeSeedResult } from './testing/fake-seed-result';

let dir: string;
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'seed-ref-'));
});
afterAll(() => fs.rm(dir, { recursive: true, force: true }));

const results = [fakeSeedResult({ seed: 2, correct: 150 }), fakeSeedResult({ seed: 1, correct: 160, config: { name: 'fake', train: { learningRate: 0.001 }, dataset: { path: '/somewhere/on/this/machine/flowers' } } })];

describe('seed reference files', () => {
  it('round-trip a seed group with its per-image predictions, without machine paths', async () => {
    const reference = buildSeedReference(results, { createdAt: '2026-01-01T00:00:00Z' });
    expect(reference.seeds.map((s) => s.seed)).toEqual([1, 2]);
    const text = serializeSeedReference(reference);
    expect(text).toContain('\n    ["img-0.png",0,0],\n');
    const file = path.join(dir, 'ref.json');
    await fs.writeFile(file, text);
    const back = await readSeedBaselineFile(file);
    expect(back.results.map((r) => [r.seed, r.metrics['test.accuracy']])).toEqual([[1, 0.8], [2, 0.75]]);
    expect(back.results[0].task.key).toBe(results[0].task.key);
    expect(JSON.stringify(reference)).not.toContain('/somewhere/on/this/machine');
  });

  it('refuses a file whose numbers do not match its predictions', async () => {
    const reference = buildSeedReference(results);
    reference.seeds[0].metrics['test.accuracy'] = 0.9;
    const file = path.join(dir, 'edited.json');
    await fs.writeFile(file, serializeSeedReference(reference));
    await expect(readSeedBaselineFile(file)).rejects.toThrow(/edited\.json, seed 1: test\.accuracy is given as 0\.9 but its 200 test predictions give 0\.8; the file was edited or is damaged/);
  });

  it('names what is wrong with a file that is not a reference', async () => {
    const file = path.join(dir, 'wrong.json');
    await fs.writeFile(file, JSON.stringify({ format: 'mlbench.seed-results', version: 1 }));
    await expect(readSeedBaselineFile(file)).rejects.toThrow(/wrong\.json: not a seed reference \(mlbench\.seed-results version 1\): createdAt/);
    await fs.writeFile(file, '{ nope');
    await expect(readSeedBaselineFile(file)).rejects.toThrow(/wrong\.json: not valid JSON/);
    await expect(readSeedBaselineFile(path.join(dir, 'missing.json'))).rejects.toThrow(/cannot read the reference file .*missing\.json \(ENOENT\)/);
  });
});

describe('seedResultOfRun', () => {
  // The seed checks come before any evidence is read: an empty record is enough.
  const evidence: VerifiableRun = { runId: 'r', seed: 3, recorded: {}, dataset: null, split: [], predictions: [], audit: [] };
  const run = (seed: number, config: Record<string, unknown>) => ({ id: 'ab12cd34'.repeat(4), name: 'fake', status: 'completed' as const, seed, resolvedConfig: config });

  it('refuses a run that does not record exactly one seed, naming both seeds', () => {
    expect(() => seedResultOfRun(run(3, { name: 'fake', seed: 4 }), evidence, 'h')).toThrow(GateInputError);
    expect(() => seedResultOfRun(run(3, { name: 'fake', seed: 4 }), evidence, 'h')).toThrow(
      'run ab12cd34 does not record exactly one seed: run seed 3, config seed 4; a run is one seed',
    );
    expect(() => seedResultOfRun(run(3, { name: 'fake', seed: [3, 4] }), evidence, 'h')).toThrow(/run seed 3, config seed \[3,4\]; a run is one seed/);
    expect(() => seedResultOfRun(run(3, { name: 'fake' }), evidence, 'h')).toThrow(/run seed 3, config seed undefined; a run is one seed/);
  });

  it('goes on to the dataset check when the seeds agree', () => {
    expect(() => seedResultOfRun(run(3, { name: 'fake', seed: 3 }), evidence, null)).toThrow(/run ab12cd34 has no recorded dataset/);
  });
});
