import { SingleBar } from 'cli-progress';
import { METRIC_KEYS, runConfigFile, type PipelineEvent, type StudyEvent, type StudyResult } from '@mlbench/experiment';
import { displayLocation } from '@mlbench/tracking';
import { formatEvent, formatSummary, formatSweepEvent, formatSweepSummary } from '../format';
import { EXIT, reportError, type CliIo } from '../io';

export interface RunArgs {
  config: string;
  db: string;
  cacheDir: string;
  /** Continue an interrupted sweep of the same config. */
  resume?: boolean;
}

/** `runner --config X`: run one experiment, streaming its events. */
export async function runCommand(args: RunArgs, io: CliIo): Promise<number> {
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
    const outcome = await runConfigFile(args.config, {
      dbPath: args.db,
      cacheDir: args.cacheDir,
      signal: controller.signal,
      resume: args.resume,
      onEvent: (event) => progress.handle(event),
      onSweepEvent: (event) => {
        progress.stop();
        io.out(formatSweepEvent(event));
      },
      onStudyEvent: (event) => {
        progress.stop();
        io.out(formatStudyEvent(event));
      },
    });
    progress.stop();
    if (outcome.kind === 'study') {
      io.out(formatStudySummary(outcome.result, displayLocation(args.db)));
      if (outcome.result.arms.some((a) => a.result?.outcomes.some((o) => o.status === 'failed'))) return EXIT.failed;
    } else if (outcome.kind === 'run') {
      io.out(formatSummary(outcome.summary));
    } else {
      io.out(formatSweepSummary(outcome.result));
      if (outcome.result.outcomes.some((o) => o.status === 'failed')) return EXIT.failed;
    }
    return EXIT.ok;
  } catch (error) {
    progress.stop();
    return reportError(error, io);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

function formatStudyEvent(event: StudyEvent): string {
  switch (event.type) {
    case 'study-start':
      return `study      ${event.study.name} ${event.study.id.slice(0, 8)}${event.resumed ? ' (resumed)' : ''}: ${event.arms} arms\n  ${event.study.question}`;
    case 'study-arm-start':
      return `\narm ${event.index + 1}/${event.total}  ${event.label}  (${event.config}, ${event.runs} runs)`;
    case 'study-arm-skip':
      return `arm ${event.index + 1}/${event.total}  ${event.label}: completed earlier (sweep ${event.sweepId.slice(0, 8)}), skipped`;
    case 'study-arm-end':
      return `arm ${event.index + 1}/${event.total}  ${event.label} done in ${event.seconds.toFixed(0)}s${event.failed ? `, ${event.failed} runs FAILED` : ''}`;
  }
}

function formatStudySummary(result: StudyResult, db: string): string {
  const lines = [`\nstudy ${result.study.name} ${result.study.id.slice(0, 8)} ${result.study.status} in ${(result.seconds / 60).toFixed(1)} min`];
  for (const arm of result.arms) {
    const accuracy = arm.result?.groups[0]?.metrics[METRIC_KEYS.testAccuracy];
    const text = accuracy ? `test accuracy ${(100 * accuracy.mean).toFixed(2)}% ± ${(100 * accuracy.std).toFixed(2)} (n=${accuracy.n})` : 'completed earlier';
    lines.push(`  ${arm.label.padEnd(40)} ${text}  sweep ${arm.sweepId.slice(0, 8)}`);
  }
  // The report is another app: apps do not import apps, so the command is printed (npm run study runs both).
  lines.push(`report: npx nx run report -- --db ${db}   (study page: results/report/studies/${result.study.id}.html)`);
  return lines.join('\n');
}

/** Renders events: lines as they come, a progress bar with ETA for extraction. */
class ProgressView {
  private bar: SingleBar | null = null;
  private startedAt = 0;
  private lastLoggedDecile = -1;

  constructor(private readonly io: CliIo) {}

  handle(event: PipelineEvent): void {
    if (event.type === 'scan-progress') return; // hashing is quick; a bar would only flicker
    if (event.type === 'extract-progress') {
      this.progress('features', event.done, event.total);
      return;
    }
    this.stop();
    const line = formatEvent(event);
    if (line !== null) this.io.out(line);
  }

  private progress(label: string, done: number, total: number): void {
    if (!this.io.isTty) {
      const decile = Math.floor((10 * done) / total);
      if (decile > this.lastLoggedDecile) {
        this.lastLoggedDecile = decile;
        this.io.out(`${label}   ${done}/${total} (${Math.round((100 * done) / total)}%)`);
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

  stop(): void {
    if (this.bar) {
      this.bar.stop();
      this.bar = null;
    }
    this.lastLoggedDecile = -1;
  }
}
