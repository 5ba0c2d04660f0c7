import type {
  AuditFlag,
  AuditResult,
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
  SkippedFile,
  SplitName,
  NewSweep,
  Sweep,
  SweepFilter,
  SweepStatus,
  NewStudy,
  Study,
  StudyArm,
  StudyFilter,
  StudyStatus,
} from './entities';
import type { SharedFeatureCache } from './shared-feature-cache';
import type { ImportResult, RunExport } from './transfer';

/**
 * The one abstract tracking store. Implementations: SQLite (`openSqliteStore`).
 * Runs are created `running` (committed at once, so a crash leaves a visible row), may log
 * metrics while they run (learning curves), and end with `completeRun` (the whole record and
 * the status in one transaction) or `failRun`.
 */
export interface TrackingStore {
  /** Where the store lives, e.g. the SQLite file path. */
  readonly location: string;
  /** PostgreSQL: the feature cache shared by every machine using this store (cluster workers); absent on SQLite. */
  readonly sharedFeatures?: SharedFeatureCache;
  createRun(run: NewRun): Promise<Run>;
  /** Params, metrics and/or skipped files, in one transaction. */
  logBatch(runId: string, batch: { params?: Param[]; metrics?: Metric[]; skippedFiles?: SkippedFile[] }): Promise<void>;
  /** Writes the full record and marks the run completed, atomically. */
  completeRun(runId: string, record: RunRecord): Promise<Run>;
  /**
   * Marks the run failed, interrupted or abandoned (its process died without a word) with its
   * error; what it logged so far stays. Throws InvalidRunStateError unless it is running.
   */
  failRun(runId: string, error: string, status?: Extract<RunStatus, 'failed' | 'interrupted' | 'abandoned'>): Promise<Run>;
  /** A running run's process says it is alive (see heartbeat.ts); a no-op once the run has finished. */
  recordHeartbeat(runId: string): Promise<void>;
  getRun(runId: string): Promise<Run | null>;
  searchRuns(filter?: RunFilter): Promise<Run[]>;
  getParams(runId: string): Promise<Param[]>;
  getMetrics(runId: string): Promise<Metric[]>;
  getDatasetInput(runId: string): Promise<DatasetInput | null>;
  getExtractor(runId: string): Promise<Record<string, string>>;
  getSplit(runId: string): Promise<SplitMember[]>;
  getPredictions(runId: string, split?: SplitName): Promise<Prediction[]>;
  getSkippedFiles(runId: string): Promise<SkippedFile[]>;
  /**
   * Label-audit verdicts of a run (empty when it ran without `audit`): every image in dataset
   * order, or with `flag` only those, by rank.
   */
  getAuditResults(runId: string, flag?: AuditFlag): Promise<AuditResult[]>;
  /** Everything recorded about a finished run, as schema-versioned JSON (see transfer.ts). */
  exportRun(runId: string): Promise<RunExport>;
  /**
   * Adds an exported run, keeping its id, in one transaction. Idempotent: the same run again is
   * `already-present`; a different run under the same id is refused (ImportConflictError).
   */
  importRun(data: RunExport): Promise<ImportResult>;
  /** `PRAGMA integrity_check`: `['ok']` for a sound database, else SQLite's list of problems. */
  checkIntegrity(): Promise<string[]>;
  createSweep(sweep: NewSweep): Promise<Sweep>;
  /** Sets a sweep's status; completed and interrupted also set its end time. */
  updateSweepStatus(sweepId: string, status: SweepStatus): Promise<Sweep>;
  getSweep(sweepId: string): Promise<Sweep | null>;
  searchSweeps(filter?: SweepFilter): Promise<Sweep[]>;
  createStudy(study: NewStudy): Promise<Study>;
  /** Sets a study's status; completed and interrupted also set its end time. */
  updateStudyStatus(studyId: string, status: StudyStatus): Promise<Study>;
  /** Records the sweep of an arm (position in the study's order; re-adding a position replaces it). */
  setStudyArm(arm: StudyArm): Promise<void>;
  getStudy(studyId: string): Promise<Study | null>;
  /** Arms of a study by position. */
  getStudyArms(studyId: string): Promise<StudyArm[]>;
  searchStudies(filter?: StudyFilter): Promise<Study[]>;
  close(): Promise<void>;
}
