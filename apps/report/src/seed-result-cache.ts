/**
 * The leaderboards' checked seed results of finished runs, kept beside the report
 * (`.mlbench-cache/seed-results.json`) so that an incremental report does not read and verify
 * every run's split and predictions again. A result is reused only under the same key as the run's
 * page (`runInputKey`: run state, final metrics, generator), so an edited logged number is checked
 * again, as the run page is. Test paths are stored once per distinct list. A missing, damaged or
 * older file is ignored (everything is recomputed) and rewritten.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { SeedResult } from '@mlbench/experiment/results';
import type { Run } from '@mlbench/tracking';
import { writeFileAtomic } from '@mlbench/common';

const FORMAT = 'mlbench.seed-results.v1';

type StoredResult = Omit<SeedResult, 'test'> & { paths: string; trueLabels: number[]; predictedLabels: number[] };

interface CacheFile {
  format: typeof FORMAT;
  paths: Record<string, string[]>;
  runs: Record<string, { key: string; result: StoredResult }>;
}

export class SeedResultCache {
  private readonly fresh = new Map<string, { key: string; result: SeedResult }>();
  hits = 0;

  private constructor(
    private readonly file: string,
    private readonly stored: CacheFile,
    /** The page key of every finished run of this report. */
    private readonly keys: ReadonlyMap<string, string>,
  ) {}

  static async load(outDir: string, keys: ReadonlyMap<string, string>): Promise<SeedResultCache> {
    const file = path.join(outDir, '.mlbench-cache', 'seed-results.json');
    let stored: CacheFile = { format: FORMAT, paths: {}, runs: {} };
    try {
      const parsed = JSON.parse(await fs.readFile(file, 'utf8')) as Partial<CacheFile>;
      if (parsed.format === FORMAT && parsed.paths && parsed.runs) stored = parsed as CacheFile;
    } catch {
      // none yet, or unreadable: recompute
    }
    return new SeedResultCache(file, stored, keys);
  }

  get(run: Run): SeedResult | undefined {
    const key = this.keys.get(run.id);
    const entry = this.stored.runs[run.id];
    if (key === undefined || entry?.key !== key) return undefined;
    const { paths: pathsKey, trueLabels, predictedLabels, ...rest } = entry.result;
    const paths = this.stored.paths[pathsKey];
    if (!paths || paths.length !== trueLabels.length || paths.length !== predictedLabels.length) return undefined;
    const result: SeedResult = { ...rest, test: paths.map((p, i) => ({ path: p, trueLabel: trueLabels[i], predictedLabel: predictedLabels[i] })) };
    this.fresh.set(run.id, { key, result });
    this.hits++;
    return result;
  }

  set(run: Run, result: SeedResult): void {
    const key = this.keys.get(run.id);
    if (key !== undefined && run.status === 'completed') this.fresh.set(run.id, { key, result });
  }

  /** Writes the results of this report's runs (only these), when they changed. */
  async save(): Promise<void> {
    const out: CacheFile = { format: FORMAT, paths: {}, runs: {} };
    for (const [runId, { key, result }] of this.fresh) {
      const { test, ...rest } = result;
      const paths = test.map((t) => t.path);
      const pathsKey = createHash('sha256').update(paths.join('\n')).digest('hex').slice(0, 32);
      out.paths[pathsKey] ??= paths;
      out.runs[runId] = { key, result: { ...rest, paths: pathsKey, trueLabels: test.map((t) => t.trueLabel), predictedLabels: test.map((t) => t.predictedLabel) } };
    }
    const text = JSON.stringify(out);
    const current = await fs.readFile(this.file, 'utf8').catch(() => null);
    if (current === text) return;
    await fs.mkdir(path.dirname(this.file), { recursive: true });
    await writeFileAtomic(this.file, text);
  }
}
