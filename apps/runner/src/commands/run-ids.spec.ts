import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { openSqliteStore, parseRunExport, type Run } from '@mlbench/tracking';
import { newRun, runRecord, tempDir, type TempDir } from '@mlbench/tracking/src/testing';
import { runCli } from '../cli';
import { EXIT } from '../io';
import { captureIo } from '../test-support';

let dir: TempDir;
let db: string;
let runs: Run[];

beforeAll(async () => {
  dir = tempDir('runner-ids-');
  db = dir.file('runs.sqlite');
  const store = await openSqliteStore(db);
  try {
    runs = [];
    for (const seed of [1, 2]) {
      const run = await store.createRun(newRun('ids', seed));
      const record = runRecord(seed, 30);
      // The gate recomputes test.accuracy from the predictions and refuses a run that logs another value.
      const test = record.predictions.filter((p) => p.split === 'test');
      record.metrics.push({ key: 'test.accuracy', value: test.filter((p) => p.predictedLabel === p.trueLabel).length / test.length, step: null });
      runs.push(await store.completeRun(run.id, record));
      testAccuracy.set(run.id, record.metrics[record.metrics.length - 1].value);
    }
  } finally {
    await store.close();
  }
});
afterAll(() => dir.remove());

/** Logged test accuracy by run id. */
const testAccuracy = new Map<string, number>();

const cli = async (...args: string[]): Promise<{ code: number; out: string; err: string }> => {
  const io = captureIo();
  const code = await runCli([...args, '--db', db], io);
  return { code, out: io.stdout.join('\n'), err: io.stderr.join('\n') };
};

describe('run ids on the command line', () => {
  it('runs show, runs export and gate (run and baseline) accept a unique prefix', async () => {
    const [a, b] = runs;
    const shown = await cli('runs', 'show', a.id.slice(0, 8));
    expect(shown.code).toBe(EXIT.ok);
    expect(shown.out.split('\n')[0]).toBe(`run ${a.id}  ids  completed`);
    expect(shown.out).toMatch(new RegExp(` {2}test\\.accuracy +${String(testAccuracy.get(a.id)).slice(0, 6)}`));

    const file = path.join(dir.path, 'a.json');
    expect((await cli('runs', 'export', a.id.slice(0, 6).toUpperCase(), '--out', file)).code).toBe(EXIT.ok);
    expect(parseRunExport(await fs.readFile(file, 'utf8'), file).run.id).toBe(a.id);

    const gate = await cli('gate', b.id.slice(0, 5), '--baseline', a.id.slice(0, 5), '--max-drop', 'test.accuracy=1');
    expect(gate.out.split('\n')[0]).toBe(`gate for run ${b.id} against baseline ${a.id}`);
    expect(gate.code).toBe(EXIT.ok);
  });

  it('an unknown id or prefix is bad input (exit 2) that names the store and how to list runs', async () => {
    for (const args of [['runs', 'show', 'beef'], ['runs', 'export', 'beef'], ['gate', 'beef', '--min', 'test.accuracy=0.1'], ['reproduce', 'beef']]) {
      const result = await cli(...args);
      expect([args[0], result.code]).toEqual([args[0], EXIT.badInput]);
      expect(result.err).toContain(`error: run beef is not in ${db}; list runs with: npx nx run runner -- runs list --db ${db}`);
    }
  });
});
