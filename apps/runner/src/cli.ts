import yargs, { type Argv } from 'yargs';
import { ConfigError } from '@mlbench/experiment';
import { runCommand } from './commands/run';
import { EXIT, processIo, reportError, type CliIo } from './io';

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
export async function runCli(argv: string[], io: CliIo = processIo): Promise<number> {
  let exitCode: number = EXIT.ok;
  const parser = withStore(yargs(argv))
    .scriptName('runner')
    .command(
      ['run', '$0'],
      'Run an experiment config (the default command)',
      (y) => y.option('config', { alias: 'c', type: 'string', demandOption: true, describe: 'Experiment config (YAML)' }),
      async (args) => {
        exitCode = await runCommand({ config: args.config, db: args.db, cacheDir: args['cache-dir'] }, io);
      },
    )
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
