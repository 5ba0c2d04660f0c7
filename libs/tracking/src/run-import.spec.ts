/**
 * Importing runs from strangers (issue 12): the outcome of concurrent imports is what happened
 * (case 6), and a malformed export is refused, field named, before anything is written (cases 7
 * and 12).
 */
import { promises as fs } from 'node:fs';
import { ImportConflictError, InvalidRunExportError } from './errors';
import { importRunFile } from './transfer-files';
import { jsonDepth, RUN_EXPORT_LIMITS } from './run-export-checks';
import { openSqliteStore } from './sqlite-store';
import { parseRunExport, serializeRunExport, type RunExport } from './transfer';
import { newRun, runRecord, tempDir, type TempDir, withStore } from './testing/fixtures';

jest.setTimeout(30_000);

let dir: TempDir;
beforeEach(() => {
  dir = tempDir('tracking-import-');
});
afterEach(() => dir.remove());


async function exported(members = 60): Promise<RunExport> {
  return withStore(dir.file('source.sqlite'), async (store) => {
    const run = await store.createRun(newRun('shared'));
    await store.completeRun(run.id, runRecord(3, members));
    return store.exportRun(run.id);
  });
}

describe('concurrent imports of one id (case 6)', () => {
  it('two different exports with one id at once: one imported, the other refused as a conflict, not both "imported"', async () => {
    const a = await exported();
    const b: RunExport = { ...a, params: [...a.params, { key: 'extra', value: 'b' }] };
    const target = dir.file('target.sqlite');
    // Two connections, as two processes: both see no run, then race for the write lock.
    const stores = await Promise.all([openSqliteStore(target), openSqliteStore(target)]);
    try {
      const outcomes = await Promise.allSettled([stores[0].importRun(a), stores[1].importRun(b)]);
      const imported = outcomes.filter((o) => o.status === 'fulfilled');
      const refused = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
      expect(imported).toEqual([{ status: 'fulfilled', value: { runId: a.run.id, status: 'imported' } }]);
      expect(refused).toHaveLength(1);
      expect(refused[0].reason).toBeInstanceOf(ImportConflictError);
      // What is stored is the winner, whole.
      const winner = outcomes[0].status === 'fulfilled' ? a : b;
      expect(await stores[0].getParams(a.run.id)).toEqual(winner.params);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });

  it('the same export twice at once: one imported, one already present', async () => {
    const a = await exported();
    const target = dir.file('target.sqlite');
    const stores = await Promise.all([openSqliteStore(target), openSqliteStore(target)]);
    try {
      const outcomes = await Promise.all([stores[0].importRun(a), stores[1].importRun(a)]);
      expect(outcomes.map((o) => o.status).sort()).toEqual(['already-present', 'imported']);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });
});

describe('malformed exports are refused with the field named (cases 7, 12)', () => {
  // One export for every case (each test mutates a copy): opening stores is the slow part under load.
  let base: RunExport;
  beforeAll(async () => {
    const source = tempDir('tracking-import-base-');
    try {
      base = await withStore(source.file('base.sqlite'), async (store) => {
        const run = await store.createRun(newRun('shared'));
        await store.completeRun(run.id, runRecord(3, 40));
        return store.exportRun(run.id);
      });
    } finally {
      source.remove();
    }
  });
  const refusal = async (mutate: (data: RunExport) => void): Promise<string> => {
    const data = structuredClone(base);
    mutate(data);
    try {
      parseRunExport(serializeRunExport(data), 'run.json');
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidRunExportError);
      return (error as Error).message;
    }
    throw new Error('accepted');
  };

  it('labels outside the classes, probabilities not one per class, oversized arrays', async () => {
    expect(await refusal((d) => (d.predictions[0].trueLabel = -1))).toMatch(/predictions\.0\.trueLabel: label -1 is outside the run's 5 classes/);
    expect(await refusal((d) => (d.predictions[1].predictedLabel = 5))).toMatch(/predictions\.1\.predictedLabel: label 5 is outside/);
    expect(await refusal((d) => (d.split[2].label = 99))).toMatch(/split\.2\.label: label 99/);
    expect(await refusal((d) => (d.predictions[0].probabilities = new Array(200_000).fill(0)))).toMatch(/predictions\.0\.probabilities: 200000 values for 5 classes/);
    expect(
      await refusal((d) => {
        d.audit = [{ path: d.split[0].path, givenLabel: 0, suggestedLabel: 1, selfConfidence: 0.1, score: 0.5, rank: 1, flag: 'label_issue', fold: 0, probabilities: new Array(1000).fill(0.001) }];
      }),
    ).toMatch(/audit\.0\.probabilities: 1000 values for 5 classes/);
    expect(
      await refusal((d) => {
        d.dataset!.classes = Array.from({ length: RUN_EXPORT_LIMITS.classes + 1 }, (_, i) => `c${i}`);
      }),
    ).toMatch(/dataset\.classes: 2001 classes, more than the 2000/);
    expect(await refusal((d) => (d.predictions = [...d.predictions, ...d.predictions, ...d.predictions]))).toMatch(/predictions: \d+ predictions for 40 images/);
    expect(await refusal((d) => (d.split[0].path = '../../secret/private.png'))).toMatch(/split\.0\.path: expected a relative path inside the dataset/);
    expect(await refusal((d) => (d.split[0].sha256 = 'abc'))).toMatch(/split\.0\.sha256: expected 64 lowercase hex digits/);
  });

  it('names with terminal escapes: the run name follows the config rule, class names have no control characters', async () => {
    expect(await refusal((d) => (d.run.name = 'evil\u001b]0;pwned\u0007\u001b[2J'))).toMatch(/run\.name: expected a name of letters, digits/);
    expect(await refusal((d) => (d.dataset!.classes[1] = 'dan\u001b[31mdelion'))).toMatch(/dataset\.classes\.1: a class name must be .* without control characters/);
    expect(await refusal((d) => (d.dataset!.classes[1] = 'daisy'))).toMatch(/dataset\.classes\.1: class "daisy" is listed twice/);
  });

  it('a 200,000-deep resolvedConfig is refused before parsing, without a stack overflow', async () => {
    const data = await exported(20);
    const text = serializeRunExport(data).replace('"resolvedConfig": {', `"resolvedConfig": {"deep": ${'['.repeat(200_000)}${']'.repeat(200_000)},`);
    expect(() => parseRunExport(text, 'deep.json')).toThrow(/deep\.json is not a run export this code can import: nested deeper than 64 levels/);
    expect(jsonDepth('{"a": "[[[[", "b": [[1]]}', 10)).toBe(3);
    expect(jsonDepth('"\\"{"', 10)).toBe(0);
  });

  it('importRunFile refuses a non-regular file and writes nothing for a refused export', async () => {
    const target = dir.file('target.sqlite');
    await expect(importRunFile({ dbPath: target, file: '/dev/zero' })).rejects.toThrow(/\/dev\/zero is not a run export this code can import: not a regular file/);
    const data = await exported(20);
    data.predictions[0].trueLabel = -1;
    const file = dir.file('bad.json');
    await fs.writeFile(file, serializeRunExport(data));
    await expect(importRunFile({ dbPath: target, file })).rejects.toThrow(InvalidRunExportError);
    await expect(fs.access(target)).rejects.toThrow();
  });
});
