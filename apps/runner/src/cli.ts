import yargs, { type Argv } from 'yargs';
import { ConfigError } from '@mlbench/experiment';
import { MIGRATE_CONSENT_ENV, defaultStoreLocation } from '@mlbench/tracking';
import { gateCommand } from './commands/gate';
import { reproduceCommand } from './commands/reproduce';
import { runCommand } from './commands/run';
import { runsCommand } from './commands/runs';
import { EXIT, processIo, reportError, type CliIo } from './io';

export { EXIT } from './io';
export type { CliIo } from './io';

/** Options every command shares. */
const withStore = <T>(y: Argv<T>) =>
  y
    .option('db', { type: 'string', default: defaultStoreLocation(), describe: 'Tracking store: a SQLite file or a postgresql:// URL (default: $MLBENCH_DB, else results/runs.sqlite)' })
    .option('yes', { type: 'boolean', default: false, describe: 'Migrate an older PostgreSQL tracking schema (back it up with pg_dump first)' })
    .middleware((args) => {
      if (args.yes) process.env[MIGRATE_CONSENT_ENV] = 'yes';
    })
    .option('cache-dir', { type: 'string', default: 'results/cache', describe: 'Feature and model-download cache' });

/**
 * The runner CLI. Each command is a thin adapter in `commands/`: it parses arguments, calls
 * one core function and formats the result. Returns the exit code instead of exiting, so tests
 * run it in-process.
 */
export async function runCli(argv: string[], io: CliIo = processIo): Promise<number> {
  let exitCode: number = EXIT.ok;
  const parser = withStore(yargs(argv))
    .scriptName('runner')
    .command(
      ['run', '$0'],
      'Run an experiment config (the default command)',
      (y) =>
        y
          .option('config', { alias: 'c', type: 'string', demandOption: true, describe: 'Experiment config (YAML); a `sweep` section runs its grid' })
          .option('resume', { type: 'boolean', default: false, describe: 'Continue the unfinished sweep of this config, skipping completed runs' }),
      async (args) => {
        exitCode = await runCommand({ config: args.config, db: args.db, cacheDir: args['cache-dir'], resume: args.resume }, io);
      },
    )
    .command(
      'reproduce <runId>',
      'Run a recorded run again and compare split, metrics and predictions with the record',
      (y) =>
        y
          .positional('runId', { type: 'string', demandOption: true, describe: 'Run id or a unique prefix of it (see `runs list`)' })
          .option('tolerance', { type: 'number', default: 1e-6, describe: 'Largest allowed metric/probability difference' }),
      async (args) => {
        exitCode = await reproduceCommand({ runId: args.runId, db: args.db, cacheDir: args['cache-dir'], tolerance: args.tolerance }, io);
      },
    )
    .command(
      'gate [runId]',
      'Check a run (or a fresh run of --config) against thresholds or a baseline; non-zero on regression',
      (y) =>
        y
          .positional('runId', { type: 'string', describe: 'Recorded run to check (id or unique prefix)' })
          .option('config', { alias: 'c', type: 'string', describe: 'Run this config and check the new run' })
          .option('baseline', { type: 'string', describe: 'Baseline run id (or unique prefix) for --max-drop/--max-rise' })
          .option('min', { type: 'string', array: true, default: [] as string[], describe: 'metric=value lower bound, e.g. test.accuracy=0.87' })
          .option('max', { type: 'string', array: true, default: [] as string[], describe: 'metric=value upper bound, e.g. test.log_loss=0.4' })
          .option('max-drop', { type: 'string', array: true, default: [] as string[], describe: 'metric=value or metric=value% allowed drop vs. the baseline' })
          .option('max-rise', { type: 'string', array: true, default: [] as string[], describe: 'metric=value or metric=value% allowed rise vs. the baseline' }),
      async (args) => {
        exitCode = await gateCommand(
          {
            runId: args.runId, config: args.config, baseline: args.baseline,
            min: args.min, max: args.max, maxDrop: args['max-drop'], maxRise: args['max-rise'],
            db: args.db, cacheDir: args['cache-dir'],
          },
          io,
        );
      },
    )
    .command(runsCommand(io, (code) => (exitCode = code)))
    .strict()
    .help()
    .version(false)
    .exitProcess(false)
    .fail((message, error) => {
      throw error ?? new ConfigError(`${message}; see --help`, '(command line)');
    });
  try {
    await parser.parseAsync();
  } catch (error) {
    return reportError(error, io);
  }
  return exitCode;
}
