/**
 * Run liveness across hosts: a running run's process records a heartbeat every few seconds; a
 * run whose heartbeat is older than a grace period has lost its process (killed, crashed, its
 * machine gone), wherever it ran. Both are configurable (tests shorten them).
 */

import type { TrackingStore } from './store';

export const HEARTBEAT_INTERVAL_MS = 10_000;
export const HEARTBEAT_GRACE_MS = 60_000;

const fromEnv = (value: string | undefined, fallback: number): number => {
  const n = Number(value);
  return value !== undefined && value !== '' && Number.isFinite(n) && n > 0 ? n : fallback;
};

/** The interval and grace in force: MLBENCH_HEARTBEAT_MS and MLBENCH_HEARTBEAT_GRACE_MS, else 10 s and 60 s. */
export function heartbeatSettings(env: NodeJS.ProcessEnv = process.env): { intervalMs: number; graceMs: number } {
  return { intervalMs: fromEnv(env.MLBENCH_HEARTBEAT_MS, HEARTBEAT_INTERVAL_MS), graceMs: fromEnv(env.MLBENCH_HEARTBEAT_GRACE_MS, HEARTBEAT_GRACE_MS) };
}

export interface Heartbeat {
  /** Stops beating and waits for a beat in flight. */
  stop(): Promise<void>;
}

/**
 * Beats for `runId` every `intervalMs` until stopped. A failed beat is let go (the next one may
 * succeed; the run's own writes report store failures). The timer does not keep the process alive.
 */
export function startHeartbeat(store: TrackingStore, runId: string, intervalMs = heartbeatSettings().intervalMs): Heartbeat {
  let inFlight: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    inFlight = inFlight.then(() => store.recordHeartbeat(runId)).catch(() => undefined);
  }, intervalMs);
  timer.unref();
  return {
    async stop(): Promise<void> {
      clearInterval(timer);
      await inFlight;
    },
  };
}
