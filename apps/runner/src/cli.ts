import yargs, { type Argv } from 'yargs';
import { ConfigError } from '@mlbench/experiment';
import { gateCommand } from './commands/gate';
import { reproduceCommand } from './commands/reproduce';
import { runCommand } from './commands/run';
import { runsCommand } from './commands/runs';
import { submitCommand } from './commands/submit';
import { workerCommand } from './commands/worker';
import { EXIT, processIo, reportError, terminalSafeIo, type CliIo } from './io';

export { EXIT } from './io';
export type { CliIo } from './io';

/** Options every command shares. */
const withStore = <T>(y: Argv<T>) =>
  y
    .option('db', { type: 'string', default: 'results/runs.sqlite', describe: 'SQLite tracking store' })
    .option('cache-dir', { type: 'string', default: 'results/cache', describe: 'Feature and model-download cache' });

/**
 * The runner CLI. Each command is a thin adapter in `commands/`: it parses arguments, calls
 * one core function and formats the result. Returns the exit code instead of exiting, so tests
 * run it in-process.
 */
export async function runCli(argv: string[], rawIo: CliIo = processIo): Promise<number> {
  const io = terminalSafeIo(rawIo);
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
    .command(
      'submit',
      'Check a sweep or study, record it and queue one job per point on Redis (BullMQ) for workers',
      (y) =>
        y
          .option('config', { alias: 'c', type: 'string', demandOption: true, describe: 'Sweep config or study file' })
          .option('queue', { type: 'string', demandOption: true, describe: 'Redis URL, e.g. redis://host:6379' })
          .option('queue-name', { type: 'string', describe: 'BullMQ queue name (default mlbench-points)' })
          .option('resume', { type: 'boolean', default: false, describe: 'Continue the sweep submitted before (also the default)' })
          .option('new', { type: 'boolean', default: false, describe: 'Record a new sweep even if this config was submitted before' })
          .option('attempts', { type: 'number', default: 3, describe: 'Attempts per point before it is recorded failed' })
          .option('backoff', { type: 'number', default: 5, describe: 'Seconds before the first retry (doubled for each further one)' })
          .option('data-root', { type: 'string', describe: 'Folder workers remap with their --data-root (default: deepest folder of the data and models)' }),
      async (args) => {
        exitCode = await submitCommand(
          {
            config: args.config, queue: args.queue, queueName: args['queue-name'], db: args.db, cacheDir: args['cache-dir'],
            fresh: args.new, attempts: args.attempts, backoffSeconds: args.backoff, dataRoot: args['data-root'],
          },
          io,
        );
      },
    )
    .command(
      'worker',
      'Run queued points (recorded like local runs) until drained with SIGTERM/SIGINT, or --until-empty',
      (y) =>
        y
          .option('queue', { type: 'string', demandOption: true, describe: 'Redis URL, e.g. redis://host:6379' })
          .option('queue-name', { type: 'string', describe: 'BullMQ queue name (default mlbench-points)' })
          .option('concurrency', { type: 'number', default: 1, describe: 'Points run at once in this process' })
          .option('until-empty', { type: 'boolean', default: false, describe: 'Exit when nothing is queued or running' })
          .option('data-root', { type: 'string', describe: "This machine's folder for the submitter's data root" })
          .option('stall-seconds', { type: 'number', default: 30, describe: 'Queue lock duration and stalled-check interval' })
          .option('verbose', { type: 'boolean', default: false, describe: 'Print every line of each point (epochs, extraction)' }),
      async (args) => {
        exitCode = await workerCommand(
          {
            queue: args.queue, queueName: args['queue-name'], db: args.db, cacheDir: args['cache-dir'], concurrency: args.concurrency,
            untilEmpty: args['until-empty'], dataRoot: args['data-root'], stallSeconds: args['stall-seconds'], verbose: args.verbose,
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
