/**
 * The report's names for the tracking read layer's two views of a run: a summary (index rows,
 * sweep and study tables) and the full data (run and comparison pages).
 */
export type { RunView as RunSummaryData, RunDetails as RunData } from '@mlbench/tracking';
export { loadRunView as loadRunSummary, loadRunDetails as loadRunData } from '@mlbench/tracking';
