/**
 * Child process for liveness tests: opens the store at argv[2], creates a running run that claims
 * host argv[3], beats every argv[4] ms, prints the run id and waits to be killed.
 */

import { openTrackingStore } from '../open-store';
import { startHeartbeat } from '../heartbeat';
import { newRun } from './fixtures';

async function main(): Promise<void> {
  const [location, hostname, interval] = process.argv.slice(2);
  const store = await openTrackingStore(location);
  const run = await store.createRun({ ...newRun('heartbeat'), hostname });
  startHeartbeat(store, run.id, Number(interval));
  process.stdout.write(`run ${run.id}\n`);
  setInterval(() => undefined, 60_000); // stays alive until killed
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
