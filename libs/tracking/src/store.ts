import type {
  DatasetInput,
  Metric,
  NewRun,
  Param,
  Prediction,
  Run,
  RunFilter,
  RunRecord,
  RunStatus,
  SplitMember,
  SplitName,
} from './entities';

/**
 * The one abstract tracking store. Implementations: SQLite (`openSqliteStore`).
 * Runs are created `running` (committed at once, so a crash leaves a visible row), may log
 * metrics while they run (learning curves), and end with `completeRun` (the whole record and
 * the status in one transaction) or `failRun`.
 */
export interface TrackingStore {
  /** Where the store lives, e.g. the SQLite file path. */
  readonly location: string;
  createRun(run: NewRun): Promise<Run>;
  /** Params and/or metrics, in one transaction. */
  logBatch(runId: string, batch: { params?: Param[]; metrics?: Metric[] }): Promise<void>;
  /** Writes the full record and marks the run completed, atomically. */
  completeRun(runId: string, record: RunRecord): Promise<Run>;
  /** Marks the run failed (or interrupted) with its error; what it logged so far stays. */
  failRun(runId: string, error: string, status?: Extract<RunStatus, 'failed' | 'interrupted'>): Promise<Run>;
  getRun(runId: string): Promise<Run | null>;
  searchRuns(filter?: RunFilter): Promise<Run[]>;
  getParams(runId: string): Promise<Param[]>;
  getMetrics(runId: string): Promise<Metric[]>;
  getDatasetInput(runId: string): Promise<DatasetInput | null>;
  getExtractor(runId: string): Promise<Record<string, string>>;
  getSplit(runId: string): Promise<SplitMember[]>;
  getPredictions(runId: string, split?: SplitName): Promise<Prediction[]>;
  close(): Promise<void>;
}
