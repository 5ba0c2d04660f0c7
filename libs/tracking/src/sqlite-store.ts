/**
 * The SQLite implementation of `TrackingStore`.
 *
 * Storage notes (round trips are exact):
 * - metric values are REAL (IEEE double). NaN is stored as NULL (SQLite cannot hold NaN) and read
 *   back as NaN; ±Infinity are kept. SQLite normalises -0 to 0.
 * - prediction probabilities are a BLOB of little-endian float64s: exact, including NaN and -0,
 *   and about half the size of the JSON text.
 * - JSON columns (resolved config, environment, dataset counts) round-trip JSON values; a
 *   property whose value is `undefined` disappears, as with JSON.stringify.
 */

import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, open as openFile, stat } from 'node:fs/promises';
import { hostname as osHostname } from 'node:os';
import { dirname, resolve as resolvePath } from 'node:path';
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
  SkippedFile,
  SplitMember,
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
import {
  ImportConflictError,
  InvalidArgumentError,
  InvalidRunStateError,
  NotASqliteDatabaseError,
  ParamConflictError,
  RunNotFoundError,
  SqliteError,
  StoreWriteError,
  TrackingStoreError,
} from './errors';
import { MIGRATIONS, checkSchemaState, migrate, readSchemaState } from './migrations';
import { SqliteDb, type SqlExecutor, type SqlParams, type SqlTransaction } from './sqlite';
import type { TrackingStore } from './store';
import { RUN_EXPORT_FORMAT, RUN_EXPORT_VERSION, canonicalRunJson, decodeNumber, encodeNumber, toExportMetrics, type ImportResult, type RunExport } from './transfer';

export interface SqliteStoreOptions {
  /** How long a writer waits for another connection's write lock. Default 10 000 ms. */
  busyTimeoutMs?: number;
  /** Clock for start/end times (tests). Default `() => new Date()`. */
  now?: () => Date;
}

const SQLITE_HEADER = Buffer.from('SQLite format 3\0', 'latin1');
const DEFAULT_SEARCH_LIMIT = 1000;

/**
 * Opens (creating if needed) the tracking database at `path` and brings its schema up to date.
 * Refuses, without modifying the file: a non-SQLite file (`NotASqliteDatabaseError`), a SQLite
 * database of another application (`ForeignDatabaseError`), and one written by newer code
 * (`SchemaTooNewError`).
 */
export async function openSqliteStore(path: string, options: SqliteStoreOptions = {}): Promise<TrackingStore> {
  return SqliteTrackingStore.open(path, options);
}

interface RunRow {
  id: string;
  name: string;
  status: RunStatus;
  start_time: string;
  end_time: string | null;
  duration_ms: number | null;
  seed: number;
  config_hash: string;
  config_text: string;
  resolved_config: string;
  error: string | null;
  environment: string;
  pid: number | null;
  hostname: string | null;
  sweep_id: string | null;
  sweep_index: number | null;
}

interface SweepRow {
  id: string;
  name: string;
  status: SweepStatus;
  start_time: string;
  end_time: string | null;
  config_hash: string;
  config_text: string;
  definition: string;
  size: number;
}

interface StudyRow {
  id: string;
  name: string;
  question: string;
  status: StudyStatus;
  start_time: string;
  end_time: string | null;
  config_hash: string;
  config_text: string;
}

interface DatasetRow {
  path: string;
  fingerprint: string;
  classes: string;
  class_counts: string;
  split_counts: string;
  split_hash: string;
}

interface AuditRow {
  path: string;
  given_label: number;
  suggested_label: number | null;
  self_confidence: number;
  score: number;
  rank: number | null;
  flag: AuditFlag;
  fold: number;
  probabilities: Buffer | null;
}

interface PredictionRow {
  path: string;
  split: SplitName;
  true_label: number;
  predicted_label: number;
  probabilities: Buffer | null;
}

/** What opening did to an older database: the versions, and the backup taken first. */
export interface MigrationInfo {
  from: number;
  to: number;
  /** Copy of the database as it was before migrating. */
  backup: string;
}

export class SqliteTrackingStore implements TrackingStore {
  private constructor(
    private readonly db: SqliteDb,
    readonly location: string,
    private readonly now: () => Date,
    /** Set when opening migrated an older database forward. */
    readonly migration: MigrationInfo | null,
  ) {}

  static async open(path: string, options: SqliteStoreOptions = {}): Promise<SqliteTrackingStore> {
    const location = resolvePath(path);
    const now = options.now ?? (() => new Date());
    const busyTimeoutMs = options.busyTimeoutMs ?? 10_000;
    if (!Number.isInteger(busyTimeoutMs) || busyTimeoutMs < 0) throw new InvalidArgumentError('busyTimeoutMs must be a non-negative integer');

    await mkdir(dirname(location), { recursive: true }).catch((err: unknown) => {
      throw new StoreWriteError('OPEN_FAILED', location, `cannot create its folder ${dirname(location)} (${fsProblem(err)}); pass --db <writable file>`, { cause: err });
    });
    await assertSqliteFileOrAbsent(location);
    const db = await SqliteDb.open(location).catch((err: unknown) => {
      throw new TrackingStoreError('OPEN_FAILED', `cannot open tracking store ${location}: ${errorMessage(err)}; check the path and its permissions`, { cause: err });
    });
    let migration: MigrationInfo | null = null;
    try {
      await db.exec(`PRAGMA busy_timeout = ${busyTimeoutMs}`);
      // Read-only verdict before any write: WAL mode rewrites the header, and a foreign or
      // too-new database must stay byte-for-byte untouched.
      const from = checkSchemaState(await readSchemaState(db), location, MIGRATIONS.length);
      // WAL: readers never block the writer nor each other; the setting persists in the file.
      await db.exec('PRAGMA journal_mode = WAL');
      // An older database of ours: a consistent copy first, so a migration can never cost data.
      const backup = from > 0 && from < MIGRATIONS.length ? await backupDatabase(db, location, from, now()) : null;
      const result = await migrate(db, location, MIGRATIONS);
      if (backup) migration = { from, to: result.to, backup };
      // Per connection and a no-op inside a transaction, hence here and after migrating.
      await db.exec('PRAGMA foreign_keys = ON');
    } catch (err) {
      await db.close().catch(() => undefined);
      if (err instanceof SqliteError && err.code === 'SQLITE_NOTADB') {
        throw new NotASqliteDatabaseError(location, err.message, { cause: err });
      }
      if (err instanceof SqliteError && WRITE_FAILURES.has(err.code)) {
        throw new StoreWriteError(err.code, location, `${err.message.replace(/ \[in: .*\]$/, '')}; free disk space or pass --db <writable file>`, { cause: err });
      }
      throw err;
    }
    return new SqliteTrackingStore(db, location, now, migration);
  }

  async createRun(run: NewRun): Promise<Run> {
    if (!Number.isSafeInteger(run.seed)) throw new InvalidArgumentError(`seed must be a safe integer, got ${run.seed}`);
    const id = randomBytes(16).toString('hex');
    const startTime = this.now().toISOString();
    const resolvedConfig = toJson(run.resolvedConfig, 'resolvedConfig');
    const pid = run.pid ?? process.pid;
    const hostname = run.hostname ?? osHostname();
    if (!Number.isSafeInteger(pid) || pid <= 0) throw new InvalidArgumentError(`pid must be a positive integer, got ${pid}`);
    await this.db.run(
      `INSERT INTO runs (id, name, status, start_time, seed, config_hash, config_text, resolved_config, environment, pid, hostname, sweep_id, sweep_index)
       VALUES (?, ?, 'running', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        id, run.name, startTime, run.seed, run.configHash, run.configText, resolvedConfig, toJson(run.environment, 'environment'), pid, hostname,
        run.sweepId ?? null, run.sweepIndex ?? null,
      ],
    );
    return {
      id,
      name: run.name,
      status: 'running',
      startTime,
      endTime: null,
      durationMs: null,
      seed: run.seed,
      configHash: run.configHash,
      configText: run.configText,
      // What a later getRun returns, not the caller's object (which they may mutate).
      resolvedConfig: fromJson(resolvedConfig),
      error: null,
      environment: { ...run.environment },
      pid,
      hostname,
      sweepId: run.sweepId ?? null,
      sweepIndex: run.sweepIndex ?? null,
    };
  }

  async logBatch(runId: string, batch: { params?: Param[]; metrics?: Metric[]; skippedFiles?: SkippedFile[] }): Promise<void> {
    const params = batch.params ?? [];
    const metrics = batch.metrics ?? [];
    validateMetrics(metrics);
    await this.db.transaction(async (tx) => {
      await requireRunning(tx, runId, 'log to');
      await insertParams(tx, runId, params);
      await insertMetrics(tx, runId, metrics);
      await insertSkipped(tx, runId, batch.skippedFiles ?? []);
    });
  }

  async completeRun(runId: string, record: RunRecord): Promise<Run> {
    validateMetrics(record.metrics);
    validateDataset(record.dataset);
    validateAudit(record.audit ?? []);
    return this.db.transaction(async (tx) => {
      const run = await requireRunning(tx, runId, 'complete');
      await insertParams(tx, runId, record.params);
      await insertMetrics(tx, runId, record.metrics);
      const d = record.dataset;
      await tx.run(
        `INSERT INTO dataset_inputs (run_id, path, fingerprint, classes, class_counts, split_counts, split_hash)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
        [runId, d.path, d.fingerprint, JSON.stringify(d.classes), JSON.stringify(d.classCounts), JSON.stringify(d.splitCounts), d.splitHash],
      );
      await tx.runMany(
        'INSERT INTO extractor (run_id, key, value) VALUES (?, ?, ?)',
        Object.entries(record.extractor).map(([key, value]): SqlParams => [runId, key, value]),
      );
      await tx.runMany(
        'INSERT INTO split_members (run_id, path, sha256, label, split) VALUES (?, ?, ?, ?, ?)',
        record.split.map((m): SqlParams => [runId, m.path, m.sha256, m.label, m.split]),
      );
      await tx.runMany(
        `INSERT INTO predictions (run_id, path, split, true_label, predicted_label, probabilities)
         VALUES (?, ?, ?, ?, ?, ?)`,
        record.predictions.map((p): SqlParams => [runId, p.path, p.split, p.trueLabel, p.predictedLabel, encodeFloat64(p.probabilities)]),
      );
      await insertAudit(tx, runId, record.audit ?? []);
      return this.finish(tx, run, 'completed', null);
    });
  }

  async failRun(runId: string, error: string, status: Extract<RunStatus, 'failed' | 'interrupted' | 'abandoned'> = 'failed'): Promise<Run> {
    if (status !== 'failed' && status !== 'interrupted' && status !== 'abandoned') {
      throw new InvalidArgumentError(`failRun status must be failed, interrupted or abandoned, got ${String(status)}`);
    }
    return this.db.transaction(async (tx) => {
      const run = await requireRunning(tx, runId, 'fail');
      return this.finish(tx, run, status, error);
    });
  }

  async getRun(runId: string): Promise<Run | null> {
    const row = await this.db.get<RunRow>('SELECT * FROM runs WHERE id = ?', [runId]);
    return row ? toRun(row) : null;
  }

  async searchRuns(filter: RunFilter = {}): Promise<Run[]> {
    const rows = await this.newestFirst<RunRow>('runs', { name: filter.name, status: filter.status, sweep_id: filter.sweepId }, filter.limit);
    return rows.map(toRun);
  }

  async getParams(runId: string): Promise<Param[]> {
    return this.db.all<Param>('SELECT key, value FROM params WHERE run_id = ? ORDER BY rowid', [runId]);
  }

  async getMetrics(runId: string): Promise<Metric[]> {
    const rows = await this.db.all<{ key: string; value: number | null; step: number | null }>(
      'SELECT key, value, step FROM metrics WHERE run_id = ? ORDER BY rowid',
      [runId],
    );
    return rows.map((r) => ({ key: r.key, value: r.value ?? NaN, step: r.step }));
  }

  async getDatasetInput(runId: string): Promise<DatasetInput | null> {
    const row = await this.db.get<DatasetRow>('SELECT * FROM dataset_inputs WHERE run_id = ?', [runId]);
    if (!row) return null;
    return {
      path: row.path,
      fingerprint: row.fingerprint,
      classes: JSON.parse(row.classes) as string[],
      classCounts: JSON.parse(row.class_counts) as Record<string, number>,
      splitCounts: JSON.parse(row.split_counts) as Record<SplitName, Record<string, number>>,
      splitHash: row.split_hash,
    };
  }

  async getExtractor(runId: string): Promise<Record<string, string>> {
    const rows = await this.db.all<{ key: string; value: string }>('SELECT key, value FROM extractor WHERE run_id = ? ORDER BY rowid', [runId]);
    return Object.fromEntries(rows.map((r) => [r.key, r.value]));
  }

  async getSplit(runId: string): Promise<SplitMember[]> {
    return this.db.all<SplitMember>('SELECT path, sha256, label, split FROM split_members WHERE run_id = ? ORDER BY rowid', [runId]);
  }

  async getPredictions(runId: string, split?: SplitName): Promise<Prediction[]> {
    const rows =
      split === undefined
        ? await this.db.all<PredictionRow>('SELECT * FROM predictions WHERE run_id = ? ORDER BY rowid', [runId])
        : await this.db.all<PredictionRow>('SELECT * FROM predictions WHERE run_id = ? AND split = ? ORDER BY rowid', [runId, split]);
    return rows.map((r) => ({
      path: r.path,
      split: r.split,
      trueLabel: r.true_label,
      predictedLabel: r.predicted_label,
      probabilities: decodeFloat64(r.probabilities),
    }));
  }

  async getSkippedFiles(runId: string): Promise<SkippedFile[]> {
    return this.db.all<SkippedFile>('SELECT path, sha256, reason FROM skipped_files WHERE run_id = ? ORDER BY rowid', [runId]);
  }

  async getAuditResults(runId: string, flag?: AuditFlag): Promise<AuditResult[]> {
    const rows =
      flag === undefined
        ? await this.db.all<AuditRow>('SELECT * FROM audit_results WHERE run_id = ? ORDER BY rowid', [runId])
        : await this.db.all<AuditRow>('SELECT * FROM audit_results WHERE run_id = ? AND flag = ? ORDER BY rank, rowid', [runId, flag]);
    return rows.map((r) => ({
      path: r.path,
      givenLabel: r.given_label,
      suggestedLabel: r.suggested_label,
      selfConfidence: r.self_confidence,
      score: r.score,
      rank: r.rank,
      flag: r.flag,
      fold: r.fold,
      probabilities: decodeFloat64(r.probabilities),
    }));
  }

  async exportRun(runId: string): Promise<RunExport> {
    const found = await this.getRun(runId);
    if (!found) throw new RunNotFoundError(runId);
    if (found.status === 'running') throw new InvalidRunStateError(runId, found.status, 'export (wait until it has finished)');
    const { sweepId: _sweepId, sweepIndex: _sweepIndex, ...run } = found;
    const [params, metrics, dataset, extractor, split, predictions, skippedFiles, audit, version] = await Promise.all([
      this.getParams(runId),
      this.getMetrics(runId),
      this.getDatasetInput(runId),
      this.getExtractor(runId),
      this.getSplit(runId),
      this.getPredictions(runId),
      this.getSkippedFiles(runId),
      this.getAuditResults(runId),
      readSchemaState(this.db).then((s) => s.version),
    ]);
    return {
      format: RUN_EXPORT_FORMAT,
      version: RUN_EXPORT_VERSION,
      schemaVersion: version,
      exportedAt: this.now().toISOString(),
      run,
      params,
      metrics: toExportMetrics(metrics),
      dataset,
      extractor,
      split,
      predictions: predictions.map((p) => ({ ...p, probabilities: p.probabilities.map(encodeNumber) })),
      skippedFiles,
      // Only present for audited runs, so exports of other runs are unchanged.
      ...(audit.length > 0 ? { audit: audit.map((a) => ({ ...a, probabilities: a.probabilities.map(encodeNumber) })) } : {}),
    };
  }

  async importRun(data: RunExport): Promise<ImportResult> {
    const { run } = data;
    if (run.status === 'running') throw new InvalidRunStateError(run.id, run.status, 'import');
    const existing = await this.getRun(run.id);
    if (existing) {
      if (canonicalRunJson(await this.exportRun(run.id)) === canonicalRunJson(data)) return { runId: run.id, status: 'already-present' };
      throw new ImportConflictError(run.id, this.location);
    }
    await this.db.transaction(async (tx) => {
      const result = await tx.run(
        `INSERT OR IGNORE INTO runs (id, name, status, start_time, end_time, duration_ms, seed, config_hash, config_text,
                                     resolved_config, error, environment, pid, hostname)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [
          run.id, run.name, run.status, run.startTime, run.endTime, run.durationMs, run.seed, run.configHash, run.configText,
          toJson(run.resolvedConfig, 'resolvedConfig'), run.error, toJson(run.environment, 'environment'), run.pid, run.hostname,
        ],
      );
      // Imported concurrently by another process between the check above and this transaction.
      if (result.changes === 0) return;
      await insertParams(tx, run.id, data.params);
      await insertMetrics(tx, run.id, data.metrics.map((m) => ({ key: m.key, value: decodeNumber(m.value), step: m.step })));
      const d = data.dataset;
      if (d) {
        await tx.run(
          `INSERT INTO dataset_inputs (run_id, path, fingerprint, classes, class_counts, split_counts, split_hash) VALUES (?, ?, ?, ?, ?, ?, ?)`,
          [run.id, d.path, d.fingerprint, JSON.stringify(d.classes), JSON.stringify(d.classCounts), JSON.stringify(d.splitCounts), d.splitHash],
        );
      }
      await tx.runMany('INSERT INTO extractor (run_id, key, value) VALUES (?, ?, ?)', Object.entries(data.extractor).map(([k, v]): SqlParams => [run.id, k, v]));
      await tx.runMany(
        'INSERT INTO split_members (run_id, path, sha256, label, split) VALUES (?, ?, ?, ?, ?)',
        data.split.map((m): SqlParams => [run.id, m.path, m.sha256, m.label, m.split]),
      );
      await tx.runMany(
        'INSERT INTO predictions (run_id, path, split, true_label, predicted_label, probabilities) VALUES (?, ?, ?, ?, ?, ?)',
        data.predictions.map((p): SqlParams => [run.id, p.path, p.split, p.trueLabel, p.predictedLabel, encodeFloat64(p.probabilities.map(decodeNumber))]),
      );
      await insertSkipped(tx, run.id, data.skippedFiles);
      await insertAudit(tx, run.id, (data.audit ?? []).map((a) => ({ ...a, probabilities: a.probabilities.map(decodeNumber) })));
    });
    return { runId: run.id, status: 'imported' };
  }

  async createSweep(sweep: NewSweep): Promise<Sweep> {
    if (!Number.isSafeInteger(sweep.size) || sweep.size < 1) throw new InvalidArgumentError(`sweep size must be a positive integer, got ${sweep.size}`);
    const id = randomBytes(16).toString('hex');
    await this.db.run(
      `INSERT INTO sweeps (id, name, status, start_time, config_hash, config_text, definition, size) VALUES (?, ?, 'running', ?, ?, ?, ?, ?)`,
      [id, sweep.name, this.now().toISOString(), sweep.configHash, sweep.configText, toJson(sweep.definition, 'sweep definition'), sweep.size],
    );
    return (await this.getSweep(id)) as Sweep;
  }

  async updateSweepStatus(sweepId: string, status: SweepStatus): Promise<Sweep> {
    const endTime = status === 'running' ? null : this.now().toISOString();
    await this.db.run('UPDATE sweeps SET status = ?, end_time = ? WHERE id = ?', [status, endTime, sweepId]);
    const sweep = await this.getSweep(sweepId);
    if (!sweep) throw new InvalidArgumentError(`sweep ${sweepId} does not exist`);
    return sweep;
  }

  async getSweep(sweepId: string): Promise<Sweep | null> {
    const row = await this.db.get<SweepRow>('SELECT * FROM sweeps WHERE id = ?', [sweepId]);
    return row ? toSweep(row) : null;
  }

  async createStudy(study: NewStudy): Promise<Study> {
    const id = randomBytes(16).toString('hex');
    await this.db.run(
      `INSERT INTO studies (id, name, question, status, start_time, config_hash, config_text) VALUES (?, ?, ?, 'running', ?, ?, ?)`,
      [id, study.name, study.question, this.now().toISOString(), study.configHash, study.configText],
    );
    return (await this.getStudy(id)) as Study;
  }

  async updateStudyStatus(studyId: string, status: StudyStatus): Promise<Study> {
    const endTime = status === 'running' ? null : this.now().toISOString();
    await this.db.run('UPDATE studies SET status = ?, end_time = ? WHERE id = ?', [status, endTime, studyId]);
    const study = await this.getStudy(studyId);
    if (!study) throw new InvalidArgumentError(`study ${studyId} does not exist`);
    return study;
  }

  async setStudyArm(arm: StudyArm): Promise<void> {
    if (!Number.isSafeInteger(arm.position) || arm.position < 0) throw new InvalidArgumentError(`study arm position must be a non-negative integer, got ${arm.position}`);
    await this.db.run(
      `INSERT INTO study_arms (study_id, position, label, config, sweep_id) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (study_id, position) DO UPDATE SET label = excluded.label, config = excluded.config, sweep_id = excluded.sweep_id`,
      [arm.studyId, arm.position, arm.label, arm.config, arm.sweepId],
    );
  }

  async getStudy(studyId: string): Promise<Study | null> {
    const row = await this.db.get<StudyRow>('SELECT * FROM studies WHERE id = ?', [studyId]);
    return row ? toStudy(row) : null;
  }

  async getStudyArms(studyId: string): Promise<StudyArm[]> {
    const rows = await this.db.all<{ study_id: string; position: number; label: string; config: string; sweep_id: string }>(
      'SELECT * FROM study_arms WHERE study_id = ? ORDER BY position',
      [studyId],
    );
    return rows.map((r) => ({ studyId: r.study_id, position: r.position, label: r.label, config: r.config, sweepId: r.sweep_id }));
  }

  async searchStudies(filter: StudyFilter = {}): Promise<Study[]> {
    const rows = await this.newestFirst<StudyRow>('studies', { name: filter.name, config_hash: filter.configHash }, filter.limit);
    return rows.map(toStudy);
  }

  async searchSweeps(filter: SweepFilter = {}): Promise<Sweep[]> {
    const rows = await this.newestFirst<SweepRow>('sweeps', { name: filter.name, config_hash: filter.configHash }, filter.limit);
    return rows.map(toSweep);
  }

  /**
   * Rows of `table` matching every given column (undefined = no filter), newest first. rowid
   * breaks ties between rows started in the same millisecond: later insert = newer.
   */
  private async newestFirst<Row>(
    table: 'runs' | 'sweeps' | 'studies',
    equals: Record<string, string | number | undefined>,
    limit = DEFAULT_SEARCH_LIMIT,
  ): Promise<Row[]> {
    if (!Number.isSafeInteger(limit) || limit < 0) throw new InvalidArgumentError(`limit must be a non-negative integer, got ${limit}`);
    const filters = Object.entries(equals).filter((entry): entry is [string, string | number] => entry[1] !== undefined);
    const where = filters.length ? `WHERE ${filters.map(([column]) => `${column} = ?`).join(' AND ')}` : '';
    return this.db.all<Row>(`SELECT * FROM ${table} ${where} ORDER BY start_time DESC, rowid DESC LIMIT ?`, [...filters.map(([, v]) => v), limit]);
  }

  async checkIntegrity(): Promise<string[]> {
    const rows = await this.db.all<{ integrity_check: string }>('PRAGMA integrity_check');
    return rows.map((r) => r.integrity_check);
  }

  close(): Promise<void> {
    return this.db.close();
  }

  /** Sets the terminal status; the caller has checked the run is running, inside the same transaction. */
  private async finish(tx: SqlTransaction, run: RunRow, status: RunStatus, error: string | null): Promise<Run> {
    const end = this.now();
    const durationMs = Math.max(0, end.getTime() - Date.parse(run.start_time));
    await tx.run(`UPDATE runs SET status = ?, end_time = ?, duration_ms = ?, error = ? WHERE id = ? AND status = 'running'`, [
      status,
      end.toISOString(),
      durationMs,
      error,
      run.id,
    ]);
    const row = await tx.get<RunRow>('SELECT * FROM runs WHERE id = ?', [run.id]);
    if (!row) throw new RunNotFoundError(run.id);
    return toRun(row);
  }
}

/** Throws unless a SQLite file or nothing (or an empty file, which SQLite treats as a new database) is at `path`. */
async function assertSqliteFileOrAbsent(path: string): Promise<void> {
  let size: number;
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new NotASqliteDatabaseError(path, 'not a regular file');
    size = info.size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  if (size === 0) return;
  const handle = await openFile(path, 'r');
  try {
    const header = Buffer.alloc(SQLITE_HEADER.length);
    const { bytesRead } = await handle.read(header, 0, header.length, 0);
    if (bytesRead < header.length || !header.equals(SQLITE_HEADER)) throw new NotASqliteDatabaseError(path, 'no SQLite header');
  } finally {
    await handle.close();
  }
}

/** SQLite result codes that mean the disk or file cannot take the write. */
const WRITE_FAILURES = new Set(['SQLITE_FULL', 'SQLITE_READONLY', 'SQLITE_IOERR', 'SQLITE_CANTOPEN', 'SQLITE_PERM']);

function fsProblem(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  const words: Record<string, string> = {
    EACCES: 'permission denied',
    EPERM: 'permission denied',
    EROFS: 'read-only file system',
    ENOSPC: 'no space left on device',
    ENOTDIR: 'a part of the path is a file, not a folder',
    EEXIST: 'a part of the path is a file, not a folder',
  };
  return code ? `${words[code] ?? 'error'}, ${code}` : errorMessage(err);
}

/**
 * `VACUUM INTO` a sibling file `<db>.bak-v<version>-<UTC timestamp>`: a consistent snapshot even
 * while other connections write. Migrating only starts once the copy is complete.
 */
async function backupDatabase(db: SqliteDb, location: string, version: number, at: Date): Promise<string> {
  const stamp = at.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  const base = `${location}.bak-v${version}-${stamp}`;
  // Several processes may open the same old database at the same moment: each keeps its own copy.
  let backup = existsSync(base) ? `${base}-${process.pid}-${randomBytes(3).toString('hex')}` : base;
  for (let attempt = 0; ; attempt++) {
    try {
      await db.exec(`VACUUM INTO '${backup.replace(/'/g, "''")}'`);
      break;
    } catch (err) {
      if (attempt < 3 && /already exists/.test(errorMessage(err))) {
        backup = `${base}-${process.pid}-${randomBytes(3).toString('hex')}`;
        continue;
      }
      throw new StoreWriteError(
        'BACKUP_FAILED',
        location,
        `the database has schema version ${version} and needs migrating, but the backup copy ${backup} could not be written ` +
          `(${errorMessage(err)}); the database was not migrated. Free disk space or make its folder writable`,
        { cause: err },
      );
    }
  }
  return backup;
}

async function insertSkipped(tx: SqlTransaction, runId: string, files: readonly SkippedFile[]): Promise<void> {
  if (files.length === 0) return;
  await tx.runMany(
    'INSERT OR IGNORE INTO skipped_files (run_id, path, sha256, reason) VALUES (?, ?, ?, ?)',
    files.map((f): SqlParams => [runId, f.path, f.sha256, f.reason]),
  );
}

async function insertAudit(tx: SqlTransaction, runId: string, results: readonly AuditResult[]): Promise<void> {
  if (results.length === 0) return;
  await tx.runMany(
    `INSERT INTO audit_results (run_id, path, given_label, suggested_label, self_confidence, score, rank, flag, fold, probabilities)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    results.map((a): SqlParams => [runId, a.path, a.givenLabel, a.suggestedLabel, a.selfConfidence, a.score, a.rank, a.flag, a.fold, encodeFloat64(a.probabilities)]),
  );
}

function validateAudit(results: readonly AuditResult[]): void {
  for (const a of results) {
    if (!Number.isFinite(a.selfConfidence) || !Number.isFinite(a.score)) {
      throw new InvalidArgumentError(`audit result ${a.path}: selfConfidence and score must be finite numbers, got ${a.selfConfidence} and ${a.score}`);
    }
    if (a.flag !== 'label_issue' && a.flag !== 'no_confident_class' && a.flag !== 'ok') throw new InvalidArgumentError(`audit result ${a.path}: unknown flag ${String(a.flag)}`);
    if ((a.flag === 'label_issue') !== (a.suggestedLabel !== null)) {
      throw new InvalidArgumentError(`audit result ${a.path}: a suggested label is given exactly for label issues (flag ${a.flag}, suggested ${a.suggestedLabel})`);
    }
  }
}

async function requireRunning(tx: SqlExecutor, runId: string, operation: string): Promise<RunRow> {
  const run = await tx.get<RunRow>('SELECT * FROM runs WHERE id = ?', [runId]);
  if (!run) throw new RunNotFoundError(runId);
  if (run.status !== 'running') throw new InvalidRunStateError(runId, run.status, operation);
  return run;
}

/** MLflow semantics: params are write-once; the same value again is accepted (and not duplicated). */
async function insertParams(tx: SqlTransaction, runId: string, params: readonly Param[]): Promise<void> {
  if (params.length === 0) return;
  const rows = await tx.all<Param>('SELECT key, value FROM params WHERE run_id = ?', [runId]);
  const known = new Map(rows.map((r) => [r.key, r.value]));
  const fresh: SqlParams[] = [];
  for (const { key, value } of params) {
    if (typeof value !== 'string') throw new InvalidArgumentError(`param ${key} must be a string`);
    const existing = known.get(key);
    if (existing === undefined) {
      known.set(key, value);
      fresh.push([runId, key, value]);
    } else if (existing !== value) {
      throw new ParamConflictError(runId, key, existing, value);
    }
  }
  await tx.runMany('INSERT INTO params (run_id, key, value) VALUES (?, ?, ?)', fresh);
}

async function insertMetrics(tx: SqlTransaction, runId: string, metrics: readonly Metric[]): Promise<void> {
  if (metrics.length === 0) return;
  await tx.runMany(
    'INSERT INTO metrics (run_id, key, value, step) VALUES (?, ?, ?, ?)',
    metrics.map((m): SqlParams => [runId, m.key, Number.isNaN(m.value) ? null : m.value, m.step]),
  );
}

function validateMetrics(metrics: readonly Metric[]): void {
  for (const m of metrics) {
    if (typeof m.value !== 'number') throw new InvalidArgumentError(`metric ${m.key}: value must be a number`);
    if (m.step !== null && !Number.isSafeInteger(m.step)) throw new InvalidArgumentError(`metric ${m.key}: step must be an integer or null, got ${m.step}`);
  }
}

function validateDataset(d: DatasetInput | undefined): void {
  if (!d) throw new InvalidArgumentError('completeRun needs record.dataset');
}

function toRun(row: RunRow): Run {
  return {
    id: row.id,
    name: row.name,
    status: row.status,
    startTime: row.start_time,
    endTime: row.end_time,
    durationMs: row.duration_ms,
    seed: row.seed,
    configHash: row.config_hash,
    configText: row.config_text,
    resolvedConfig: fromJson(row.resolved_config),
    error: row.error,
    environment: JSON.parse(row.environment) as Record<string, string>,
    pid: row.pid ?? null,
    hostname: row.hostname ?? null,
    sweepId: row.sweep_id ?? null,
    sweepIndex: row.sweep_index ?? null,
  };
}

function toStudy(row: StudyRow): Study {
  return {
    id: row.id,
    name: row.name,
    question: row.question,
    status: row.status,
    startTime: row.start_time,
    endTime: row.end_time,
    configHash: row.config_hash,
    configText: row.config_text,
  };
}

function toSweep(row: SweepRow): Sweep {
  return {
    id: row.id,
    name: row.name,
    status: row.status,
    startTime: row.start_time,
    endTime: row.end_time,
    configHash: row.config_hash,
    configText: row.config_text,
    definition: JSON.parse(row.definition) as Record<string, unknown[]>,
    size: row.size,
  };
}

function toJson(value: unknown, what: string): string {
  const text = JSON.stringify(value);
  if (text === undefined) throw new InvalidArgumentError(`${what} is not JSON-serialisable`);
  return text;
}

function fromJson(text: string): unknown {
  return JSON.parse(text) as unknown;
}

/** Little-endian explicitly, so files move between machines. */
export function encodeFloat64(values: readonly number[]): Buffer {
  const buf = Buffer.alloc(values.length * 8);
  values.forEach((v, i) => buf.writeDoubleLE(v, i * 8));
  return buf;
}

export function decodeFloat64(buf: Buffer | null): number[] {
  if (!buf) return []; // some drivers hand back a zero-length BLOB as null
  if (buf.length % 8 !== 0) throw new TrackingStoreError('CORRUPT_VALUE', `probabilities BLOB of ${buf.length} bytes is not a float64 array`);
  const out = new Array<number>(buf.length / 8);
  for (let i = 0; i < out.length; i++) out[i] = buf.readDoubleLE(i * 8);
  return out;
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
