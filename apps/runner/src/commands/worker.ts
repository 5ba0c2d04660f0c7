import { redactedUrl, runWorker, type PointRef, type WorkerEvent } from '@mlbench/cluster';
import { ConfigError, type PipelineEvent } from '@mlbench/experiment';
import { openTrackingStore } from '@mlbench/tracking';
import { formatEvent } from '../format';
import { EXIT, reportError, type CliIo } from '../io';

export interface WorkerArgs {
  queue: string;
  queueName?: string;
  db: string;
  cacheDir: string;
  concurrency: number;
  untilEmpty: boolean;
  dataRoot?: string;
  stallSeconds: number;
  /** Print every pipeline line (epochs, extraction) of the points, not only their start and end. */
  verbose: boolean;
}

/** `runner worker --queue redis://…`: run queued points until drained (SIGTERM/SIGINT) or, with --until-empty, until the queue is empty. */
export async function workerCommand(args: WorkerArgs, io: CliIo): Promise<number> {
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals): void => {
    if (controller.signal.aborted) process.exit(EXIT.interrupted);
    io.err(`\n${signal}: draining: the current point is interrupted and goes back to the queue (again to quit at once)`);
    controller.abort(signal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    if (!Number.isInteger(args.concurrency) || args.concurrency < 1) throw new ConfigError(`--concurrency: expected a positive integer, got ${args.concurrency}`, '(command line)');
    if (!(args.stallSeconds >= 1)) throw new ConfigError(`--stall-seconds: expected at least 1, got ${args.stallSeconds}`, '(command line)');
    // Each point holding a feature lock pins a PostgreSQL connection for its extraction: two more than the points, so queries never starve.
    const store = await openTrackingStore(args.db, { maxConnections: workerStoreConnections(args.concurrency) });
    try {
      const summary = await runWorker({
        store,
        queueUrl: args.queue,
        queueName: args.queueName,
        cacheDir: args.cacheDir,
        concurrency: args.concurrency,
        untilEmpty: args.untilEmpty,
        dataRoot: args.dataRoot,
        stallMs: Math.round(args.stallSeconds * 1000),
        signal: controller.signal,
        onEvent: (event) => {
          const line = formatWorkerEvent(event, args.queue);
          if (line !== null) io.out(line);
        },
        onPipelineEvent: (event, point) => {
          const line = formatPointEvent(event, point, args.verbose);
          if (line !== null) io.out(line);
        },
      });
      const completed = summary.points.filter((p) => p.status === 'completed').length;
      const failed = summary.points.filter((p) => p.status === 'failed').length;
      io.out(`worker ${summary.worker} stopped: ${completed} points completed, ${failed} attempts failed, ${summary.points.length - completed - failed} handed back`);
    } finally {
      await store.close();
    }
    return controller.signal.aborted ? EXIT.interrupted : EXIT.ok;
  } catch (error) {
    return reportError(error, io);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

const pointName = (p: PointRef): string => `point ${p.index + 1}/${p.size} of sweep ${p.sweepId.slice(0, 8)} (${p.label})`;

function formatWorkerEvent(event: WorkerEvent, url: string): string | null {
  switch (event.type) {
    case 'ready':
      return `worker ${event.worker} ready: queue ${event.queueName} at ${redactedUrl(url)}, concurrency ${event.concurrency}, stall check ${event.stallMs / 1000}s`;
    case 'point-start':
      return `${pointName(event.point)} attempt ${event.point.attempt}/${event.point.attempts}: started (queued ${(event.waitedMs / 1000).toFixed(1)}s, claim to start ${event.claimToStartMs} ms${event.sincePreviousMs === null ? '' : `, ${event.sincePreviousMs} ms after the previous point`})`;
    case 'abandoned-attempt':
      return `note       ${pointName(event.point)}: run ${event.runId} of ${event.hostname ?? '?'} pid ${event.pid ?? '?'} lost its lock; marked abandoned`;
    case 'waiting-for-features':
      return `${pointName(event.point)}: another worker is extracting features ${event.cacheKey.slice(0, 12)}; waiting for it`;
    case 'point-completed':
      return `${pointName(event.point)}: completed, run ${event.runId}, test accuracy ${(100 * event.testAccuracy).toFixed(2)}% in ${event.seconds.toFixed(1)}s`;
    case 'point-failed':
      return `${pointName(event.point)}: attempt ${event.point.attempt}/${event.point.attempts} FAILED${event.willRetry ? ' (will be retried)' : ', recorded failed'}: ${event.error}`;
    case 'point-requeued':
      return `${pointName(event.point)}: back to the queue: ${event.reason}`;
    case 'point-superseded':
      return `${pointName(event.point)}: another attempt completed it first (run ${event.completedRunId}); this attempt's run ${event.runId} is recorded abandoned (superseded)`;
    case 'point-lost':
      return `${pointName(event.point)}: this worker lost the point's queue lock; stopped here${event.runId ? ` (run ${event.runId} recorded abandoned)` : ''}, another worker runs it`;
    case 'sweep-completed':
      return `sweep ${event.sweepId} settled: every point completed or failed`;
    case 'queue-error':
      return `queue error: ${event.message}`;
    case 'stopping':
      return event.reason === 'until-empty' ? 'queue empty: stopping' : 'stopping after the current points';
  }
}

function formatPointEvent(event: PipelineEvent, point: PointRef, verbose: boolean): string | null {
  if (event.type === 'scan-progress' || event.type === 'extract-progress') return null;
  if (!verbose && event.type !== 'run-created' && event.type !== 'extract-end' && event.type !== 'abandoned') return null;
  const line = formatEvent(event);
  return line === null ? null : `  [${point.index + 1}/${point.size}] ${line}`;
}

/** The PostgreSQL pool of a worker running `concurrency` points: the store's default 4, or one pinned by each point's feature lock plus two. */
export function workerStoreConnections(concurrency: number): number {
  return Math.max(4, concurrency + 2);
}
