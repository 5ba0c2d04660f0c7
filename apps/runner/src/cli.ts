import { SingleBar } from 'cli-progress';
import yargs from 'yargs';
import { DatasetError } from '@mlbench/data';
import { ConfigError, InterruptedError, runExperimentFromFile, type PipelineEvent } from '@mlbench/experiment';
import { ModelError } from '@mlbench/model';
import { TrackingStoreError } from '@mlbench/tracking';
import { formatEvent, formatSummary } from './format';

/** Exit codes: 0 ok, 1 the run failed, 2 bad input (config, data, model), 130 interrupted. */
export const EXIT = { ok: 0, failed: 1, badInput: 2, interrupted: 130 } as const;

export interface CliIo {
  out: (line: string) => void;
  err: (line: string) => void;
  /** Progress bars only on a terminal; elsewhere a line every 10%. */
  isTty: boolean;
}

const defaultIo: CliIo = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  isTty: Boolean(process.stderr.isTTY) || process.env.FORCE_PROGRESS === '1',
};

/** Thin adapter: parse arguments, call one core function, format its events and result. */
export async function runCli(argv: string[], io: CliIo = defaultIo): Promise<number> {
  const args = await yargs(argv)
    .scriptName('runner')
    .usage('$0 --config experiments/<name>.yaml [--db results/runs.sqlite]')
    .option('config', { alias: 'c', type: 'string', demandOption: true, describe: 'Experiment config (YAML)' })
    .option('db', { type: 'string', default: 'results/runs.sqlite', describe: 'SQLite tracking store' })
    .option('cache-dir', { type: 'string', default: 'results/cache', describe: 'Feature and model-download cache' })
    .strict()
    .help()
    .exitProcess(false)
    .fail((message, error) => {
      throw error ?? new ConfigError(message, '(command line)');
    })
    .parseAsync();

  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals): void => {
    if (controller.signal.aborted) process.exit(EXIT.interrupted);
    io.err(`\n${signal}: stopping after the current batch (again to quit at once)`);
    controller.abort(signal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const progress = new ProgressView(io);
  try {
    const summary = await runExperimentFromFile(args.config, {
      dbPath: args.db,
      cacheDir: args['cache-dir'],
      signal: controller.signal,
      onEvent: (event) => progress.handle(event),
    });
    progress.stop();
    io.out(formatSummary(summary));
    return EXIT.ok;
  } catch (error) {
    progress.stop();
    return reportError(error, io);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

function reportError(error: unknown, io: CliIo): number {
  if (error instanceof InterruptedError) {
    io.err(`interrupted: ${error.message}; the run is recorded as interrupted and cached features are kept`);
    return EXIT.interrupted;
  }
  if (error instanceof ConfigError || error instanceof DatasetError || error instanceof ModelError) {
    io.err(`error: ${error.message}`);
    return EXIT.badInput;
  }
  if (error instanceof TrackingStoreError) {
    io.err(`tracking store error: ${error.message}`);
    return EXIT.failed;
  }
  io.err(`run failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  return EXIT.failed;
}

/** Renders events: lines as they come, progress bars for scanning and extraction. */
class ProgressView {
  private bar: SingleBar | null = null;
  private lastLoggedDecile = -1;

  constructor(private readonly io: CliIo) {}

  handle(event: PipelineEvent): void {
    if (event.type === 'scan-progress' || event.type === 'extract-progress') {
      this.progress(event.type === 'scan-progress' ? 'hashing ' : 'features', event.done, event.total);
      return;
    }
    this.stop();
    const line = formatEvent(event);
    if (line !== null) this.io.out(line);
  }

  private progress(label: string, done: number, total: number): void {
    if (!this.io.isTty) {
      const decile = Math.floor((10 * done) / total);
      if (decile !== this.lastLoggedDecile && (decile > this.lastLoggedDecile || done === total)) {
        this.lastLoggedDecile = decile;
        if (label === 'features') this.io.out(`${label}   ${done}/${total} (${Math.round((100 * done) / total)}%)`);
      }
      return;
    }
    if (!this.bar) {
      this.bar = new SingleBar({
        format: `${label}   [{bar}] {value}/{total} | {percentage}% | {rate} img/s | ETA {eta_formatted}`,
        barCompleteChar: '█',
        barIncompleteChar: '░',
        hideCursor: true,
        etaBuffer: 50,
        stream: process.stderr,
      });
      this.bar.start(total, 0, { rate: '-' });
      this.startedAt = Date.now();
    }
    const seconds = (Date.now() - this.startedAt) / 1000;
    this.bar.update(done, { rate: seconds > 0 ? (done / seconds).toFixed(1) : '-' });
  }

  private startedAt = 0;

  stop(): void {
    if (this.bar) {
      this.bar.stop();
      this.bar = null;
    }
    this.lastLoggedDecile = -1;
  }
}
