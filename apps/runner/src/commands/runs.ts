import { existsSync } from 'node:fs';
import type { Argv, CommandModule } from 'yargs';
import { displayLocation, exportRunFile, importRunFile, isPostgresUrl, loadRunView, loadSweepRuns, openTrackingStore, resolveRun, type RunStatus, type TrackingStore } from '@mlbench/tracking';
import { sweepProgress, sweepSeedGroups } from '@mlbench/experiment';
import { formatRunDetails, formatRunList, formatSweepList } from '../format';
import { EXIT, reportError, type CliIo } from '../io';

interface StoreArgs {
  db: string;
}

const STATUSES: readonly RunStatus[] = ['running', 'completed', 'failed', 'interrupted', 'abandoned'];

/**
 * `runs list | export <runId> | import <file>`: move runs between databases as JSON (see
 * RunExport in @mlbench/tracking). Each sub-command calls one library function and prints.
 */
/** Runs `read` on the store opened read-only, closed afterwards whatever happens. */
async function readStore(db: string, read: (store: TrackingStore) => Promise<void>): Promise<number> {
  const store = await openTrackingStore(db, { readOnly: true });
  try {
    await read(store);
  } finally {
    await store.close();
  }
  return EXIT.ok;
}

export function runsCommand<T extends StoreArgs>(io: CliIo, setExitCode: (code: number) => void): CommandModule<T, T> {
  const attempt = async (fn: () => Promise<number>): Promise<void> => {
    try {
      setExitCode(await fn());
    } catch (error) {
      setExitCode(reportError(error, io));
    }
  };
  /** False (saying so) when `db` is a SQLite file that does not exist yet: nothing recorded, nothing to list. */
  const storeExists = (db: string, what: string): boolean => {
    if (isPostgresUrl(db) || existsSync(db)) return true;
    io.out(`no ${what}: ${db} does not exist yet`);
    return false;
  };
  return {
    command: 'runs <command>',
    describe: 'List, show, export and import recorded runs and sweeps',
    builder: (y: Argv<T>) =>
      y
        .command(
          'list',
          'List recorded runs, newest first',
          (b) =>
            b
              .option('name', { type: 'string', describe: 'Only runs of this experiment' })
              .option('status', { choices: STATUSES, describe: 'Only runs with this status' })
              .option('sweep', { type: 'string', describe: 'Only runs of this sweep (see `runs sweeps`)' })
              .option('limit', { type: 'number', default: 50 }),
          (args) =>
            attempt(async () => {
              if (!storeExists(args.db, 'runs')) return EXIT.ok;
              return readStore(args.db, async (store) =>
                io.out(formatRunList(await store.searchRuns({ name: args.name, status: args.status, sweepId: args.sweep, limit: args.limit }))),
              );
            }),
        )
        .command(
          'sweeps',
          'List recorded sweeps, newest first, with their seed-group summaries',
          (b) => b.option('name', { type: 'string', describe: 'Only sweeps of this experiment' }).option('limit', { type: 'number', default: 20 }),
          (args) =>
            attempt(async () => {
              if (!storeExists(args.db, 'sweeps')) return EXIT.ok;
              return readStore(args.db, async (store) => {
                const sweeps = await store.searchSweeps({ name: args.name, limit: args.limit });
                const entries = await Promise.all(
                  sweeps.map(async (sweep) => {
                    const runs = await loadSweepRuns(store, sweep.id);
                    return { sweep, runs, groups: await sweepSeedGroups(store, sweep.id), progress: sweepProgress(sweep.size, runs) };
                  }),
                );
                io.out(formatSweepList(entries));
              });
            }),
        )
        .command(
          'show <runId>',
          'Print one run: config, environment, dataset, metrics',
          (b) => b.positional('runId', { type: 'string', demandOption: true, describe: 'Run id or a unique prefix of it (see `runs list`)' }),
          (args) =>
            attempt(() =>
              readStore(args.db, async (store) => {
                const run = await resolveRun(store, args.runId);
                const [view, skipped] = await Promise.all([loadRunView(store, run), store.getSkippedFiles(run.id)]);
                io.out(formatRunDetails(view, skipped));
              }),
            ),
        )
        .command(
          'export <runId>',
          'Write one finished run as JSON (to --out, or stdout)',
          (b) =>
            b
              .positional('runId', { type: 'string', demandOption: true, describe: 'Run id or a unique prefix of it (see `runs list`)' })
              .option('out', { alias: 'o', type: 'string', describe: 'Output file (written atomically)' }),
          (args) =>
            attempt(async () => {
              const { text, data } = await exportRunFile({ dbPath: args.db, runId: args.runId, outFile: args.out });
              if (args.out) io.err(`exported run ${data.run.id} (${data.run.name}, ${data.run.status}) to ${args.out}`);
              else io.out(text.trimEnd());
              return EXIT.ok;
            }),
        )
        .command(
          'import <file>',
          'Add a run exported with `runs export`; importing it again changes nothing',
          (b) => b.positional('file', { type: 'string', demandOption: true, describe: 'Export file (JSON)' }),
          (args) =>
            attempt(async () => {
              const result = await importRunFile({ dbPath: args.db, file: args.file });
              io.out(
                result.status === 'imported'
                  ? `imported run ${result.runId} (${result.name}) into ${displayLocation(args.db)}`
                  : `run ${result.runId} (${result.name}) is already in ${displayLocation(args.db)}; nothing changed`,
              );
              return EXIT.ok;
            }),
        )
        .demandCommand(1, 'name a sub-command: list, export <runId> or import <file>'),
    handler: () => undefined,
  };
}
