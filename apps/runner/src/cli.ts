import yargs, { type Argv } from 'yargs';
import { ConfigError } from '@mlbench/experiment';
import { MIGRATE_CONSENT_ENV, defaultStoreLocation } from '@mlbench/tracking';
import { gateCommand } from './commands/gate';
import { referenceCommand } from './commands/reference';
import { verifyCommand } from './commands/verify';
import { reproduceCommand } from './commands/reproduce';
import { runCommand } from './commands/run';
import { runsCommand } from './commands/runs';
import { EXIT, processIo, reportError, terminalSafeIo, type CliIo } from './io';

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
      'Check a run against thresholds or a baseline run, or a seed group (--config over seeds, --candidate-sweep) against a reference (--reference, --baseline-sweep) with a non-inferiority test; 1 on regression, 2 on bad input',
      (y) =>
        y
          .positional('runId', { type: 'string', describe: 'Recorded run to check (id or unique prefix)' })
          .option('config', { alias: 'c', type: 'string', describe: 'Run this config and check the new run' })
          .option('baseline', { type: 'string', describe: 'Baseline run id (or unique prefix) for --max-drop/--max-rise' })
          .option('min', { type: 'string', array: true, default: [] as string[], describe: 'metric=value lower bound, e.g. test.accuracy=0.87' })
          .option('max', { type: 'string', array: true, default: [] as string[], describe: 'metric=value upper bound, e.g. test.log_loss=0.4' })
          .option('max-drop', { type: 'string', array: true, default: [] as string[], describe: 'metric=value or metric=value% allowed drop vs. the baseline' })
          .option('max-rise', { type: 'string', array: true, default: [] as string[], describe: 'metric=value or metric=value% allowed rise vs. the baseline' })
          .option('reference', { type: 'string', describe: 'Seed-group gate: baseline reference file (runner reference, or an array of runs export documents)' })
          .option('baseline-sweep', { type: 'string', describe: 'Seed-group gate: baseline = a recorded sweep (id or prefix)' })
          .option('candidate-sweep', { type: 'string', describe: 'Seed-group gate: candidate = a recorded sweep instead of running --config' })
          .option('seeds', { type: 'string', describe: 'Seeds to run --config over, e.g. 1,2,3 (default: its sweep seeds, else the baseline seeds)' })
          .option('margin', { type: 'string', describe: 'Largest tolerated loss: 0.01 or 1pt (default 1 point)' })
          .option('alpha', { type: 'number', describe: 'One-sided significance level (default 0.05)' })
          .option('min-seeds', { type: 'number', describe: 'Seeds required per group (default 3)' })
          .option('metric', { type: 'string', describe: 'test.accuracy (default) or test.macro_f1, recomputed from predictions' })
          .option('decide-by', { type: 'string', describe: 'seeds (paired t / Welch, default) or images (pooled paired bootstrap)' })
          .option('format', { choices: ['text', 'markdown', 'json'] as const, default: 'text' as const, describe: 'Verdict output of the seed-group gate' }),
      async (args) => {
        exitCode = await gateCommand(
          {
            runId: args.runId, config: args.config, baseline: args.baseline,
            min: args.min, max: args.max, maxDrop: args['max-drop'], maxRise: args['max-rise'],
            db: args.db, cacheDir: args['cache-dir'],
            reference: args.reference, baselineSweep: args['baseline-sweep'], candidateSweep: args['candidate-sweep'], seeds: args.seeds,
            margin: args.margin, alpha: args.alpha, minSeeds: args['min-seeds'], metric: args.metric, decideBy: args['decide-by'], format: args.format,
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
        // The cluster commands load BullMQ and ioredis (about half a second) only when they run.
        const { submitCommand } = await import('./commands/submit');
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
        const { workerCommand } = await import('./commands/worker');
        exitCode = await workerCommand(
          {
            queue: args.queue, queueName: args['queue-name'], db: args.db, cacheDir: args['cache-dir'], concurrency: args.concurrency,
            untilEmpty: args['until-empty'], dataRoot: args['data-root'], stallSeconds: args['stall-seconds'], verbose: args.verbose,
          },
          io,
        );
      },
    )
    .command(
      'verify <runId>',
      'Recompute every final metric of a run from its stored predictions and report mismatches',
      (y) => y.positional('runId', { type: 'string', demandOption: true, describe: 'Run id (see `runs list`)' }),
      async (args) => {
        exitCode = await verifyCommand({ runId: args.runId, db: args.db }, io);
      },
    )
    .command(
      'reference <sweepId>',
      'Write a recorded sweep (one configuration over seeds) as a reference file for gate --reference',
      (y) =>
        y
          .positional('sweepId', { type: 'string', demandOption: true, describe: 'Sweep id or prefix (see `runs sweeps`)' })
          .option('out', { alias: 'o', type: 'string', demandOption: true, describe: 'Reference file to write (JSON)' })
          .option('description', { type: 'string', describe: 'What the reference is, stored in the file' }),
      async (args) => {
        exitCode = await referenceCommand({ sweepId: args.sweepId, out: args.out, description: args.description, db: args.db }, io);
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
