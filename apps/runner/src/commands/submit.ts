import { redactedUrl, submitFile, type SubmitEvent, type SubmitResult } from '@mlbench/cluster';
import { ConfigError } from '@mlbench/experiment';
import { openTrackingStore } from '@mlbench/tracking';
import { EXIT, reportError, type CliIo } from '../io';

export interface SubmitArgs {
  config: string;
  queue: string;
  queueName?: string;
  db: string;
  cacheDir: string;
  /** Record a new sweep even when this config was submitted before. */
  fresh: boolean;
  attempts: number;
  backoffSeconds: number;
  dataRoot?: string;
}

/** `runner submit --config <sweep or study> --queue redis://…`: check every point, record, queue. */
export async function submitCommand(args: SubmitArgs, io: CliIo): Promise<number> {
  try {
    if (!Number.isInteger(args.attempts) || args.attempts < 1) throw new ConfigError(`--attempts: expected a positive integer, got ${args.attempts}`, '(command line)');
    if (!(args.backoffSeconds >= 0)) throw new ConfigError(`--backoff: expected seconds >= 0, got ${args.backoffSeconds}`, '(command line)');
    const store = await openTrackingStore(args.db);
    try {
      const result = await submitFile(args.config, {
        store,
        queueUrl: args.queue,
        queueName: args.queueName,
        cacheDir: args.cacheDir,
        fresh: args.fresh,
        attempts: args.attempts,
        backoffMs: Math.round(args.backoffSeconds * 1000),
        dataRoot: args.dataRoot,
        onEvent: (event) => io.out(formatSubmitEvent(event)),
      });
      io.out(formatSubmitResult(result, args));
    } finally {
      await store.close();
    }
    return EXIT.ok;
  } catch (error) {
    return reportError(error, io);
  }
}

function formatSubmitEvent(event: SubmitEvent): string {
  switch (event.type) {
    case 'checking':
      return `checking   ${event.arm ? `arm "${event.arm}": ` : ''}${event.points} points (${event.distinctInputs} distinct dataset/model inputs), as a local run would`;
    case 'checked':
      return `checked    ${event.inputs.datasetRoot}: ${event.inputs.images} images, fingerprint ${event.inputs.datasetFingerprint.slice(0, 12)}; model ${event.inputs.modelSource} (sha256 ${event.inputs.modelSha256.slice(0, 12)})`;
    case 'recorded':
      return `${event.kind.padEnd(10)} ${event.name} ${event.id}${event.reused ? ' (submitted before: attaching to it)' : ' (recorded)'}`;
  }
}

function formatSubmitResult(result: SubmitResult, args: SubmitArgs): string {
  const lines: string[] = [];
  for (const s of result.sweeps) {
    const what = s.label ? `arm "${s.label}" sweep ${s.sweep.id.slice(0, 8)}` : `sweep ${s.sweep.id.slice(0, 8)}`;
    lines.push(`queued     ${what}: ${s.queued} points added, ${s.alreadyQueued} already queued, ${s.completed} completed before (of ${s.sweep.size})`);
  }
  const total = result.sweeps.reduce((n, s) => n + s.queued + s.alreadyQueued, 0);
  if (total === 0) lines.push(`nothing to do: every point is completed; pass --new to record and run it again`);
  lines.push(`data root  ${result.dataRoot} (a worker whose data lives elsewhere: --data-root <its folder>)`);
  lines.push(`workers:   npx nx run runner -- worker --queue ${redactedUrl(args.queue)} --db ${args.db}`);
  lines.push(`progress:  npx nx run runner -- runs sweeps --db ${args.db}`);
  return lines.join('\n');
}
