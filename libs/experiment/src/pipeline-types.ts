/** The types of one run through the pipeline: what it reports, what it returns, and its working state. */
import type { DatasetScan, SplitName } from '@mlbench/data';
import type { BackendInfo, EpochMetrics, ExtractorDescription } from '@mlbench/model';
import type { Run, SkippedFile } from '@mlbench/tracking';
import type { AuditSummary } from './audit';
import type { LoadedConfig } from './config';
import type { SplitSummary } from './evaluation';

/** What the pipeline reports while it works; the CLI turns these into lines and progress bars. */
export type PipelineEvent =
  | { type: 'config'; file: string; name: string; hash: string }
  | { type: 'backend'; backend: BackendInfo }
  | { type: 'scan-progress'; done: number; total: number }
  | { type: 'images-checked'; checked: number; cached: number; bad: SkippedFile[]; policy: 'fail' | 'skip' }
  | { type: 'dataset'; root: string; classes: string[]; images: number; skipped: number; fingerprint: string; splitSizes: Record<SplitName, number>; splitHash: string }
  | { type: 'abandoned'; runId: string; pid: number | null; hostname: string | null }
  | { type: 'extractor'; description: ExtractorDescription }
  | { type: 'run-created'; runId: string; store: string }
  | { type: 'extract-start'; total: number; cached: number; toExtract: number; cacheDir: string }
  | { type: 'extract-progress'; done: number; total: number }
  | { type: 'extract-end'; extracted: number; cached: number; seconds: number; imagesPerSecond: number | null }
  | { type: 'epoch'; epochs: number; metrics: EpochMetrics }
  | { type: 'run-failed'; runId: string; status: 'failed' | 'interrupted' | 'abandoned'; error: string };

export type { SplitSummary } from './evaluation';

export interface RunSummary {
  run: Run;
  store: string;
  classes: string[];
  splitSizes: Record<SplitName, number>;
  splitHash: string;
  datasetFingerprint: string;
  extraction: { total: number; cached: number; extracted: number; seconds: number; imagesPerSecond: number | null };
  history: EpochMetrics[];
  val: SplitSummary | null;
  test: SplitSummary;
  backend: BackendInfo;
  extractor: ExtractorDescription;
  /** Label audit (config `audit.enabled`), absent otherwise. */
  audit?: AuditSummary;
}

/** A run's split: its assignment, hash and sizes. */
export interface PreparedSplit {
  assignment: SplitName[];
  hashOfSplit: string;
  splitSizes: Record<SplitName, number>;
}

/** How far a run got, for the record of an interrupted run. */
export interface RunProgress {
  stage: 'setup' | 'extraction' | 'training' | 'evaluation';
  extracted: number;
  toExtract: number;
  cached: number;
  epochs: number;
  totalEpochs: number;
}

/** What executeRun needs of a run whose features are all extracted. */
export interface RunContext extends PreparedSplit {
  loaded: LoadedConfig;
  scan: DatasetScan;
  /** One row per image of `scan`, from the extraction pass. */
  features: Float32Array;
  extraction: RunSummary['extraction'];
  progress: RunProgress;
  description: ExtractorDescription;
  backend: BackendInfo;
  emit: (event: PipelineEvent) => void;
  checkAborted: () => void;
  /** Feature cache root; the label audit's cache lives beside the features. */
  cacheDir: string;
  /** Whether the label audit reads and writes its cache (off in `reproduce`: it recomputes). */
  auditCache: boolean;
}
