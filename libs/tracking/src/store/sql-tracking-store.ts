/**
 * The tracking store's aggregate methods, written once over the database seam: every engine's
 * store is this class over that engine's `Database` (opening, backups and error wording are the
 * driver's, see e.g. sqlite-store.ts).
 */

import { randomBytes } from 'node:crypto';
import { hostname as osHostname } from 'node:os';
import type {
  AuditFlag,
  AuditResult,
  DatasetInput,
  Metric,
  NewRun,
  NewStudy,
  NewSweep,
  Param,
  Prediction,
  Run,
  RunFilter,
  RunRecord,
  RunStatus,
  SkippedFile,
  SplitMember,
  SplitName,
  Study,
  StudyArm,
  StudyFilter,
  StudyStatus,
  Sweep,
  SweepFilter,
  SweepStatus,
} from '../entities';
import type { Database, SqlExecutor, SqlTransaction } from '../database/database';
import { ImportConflictError, InvalidArgumentError, InvalidRunStateError, PointAlreadyCompletedError, RunNotFoundError } from '../errors';
import { readSchemaState } from '../migrations';
import type { SharedFeatureCache } from '../shared-feature-cache';
import type { TrackingStore } from '../store';
import { RUN_EXPORT_FORMAT, RUN_EXPORT_VERSION, canonicalRunJson, decodeNumber, encodeNumber, toExportMetrics, type ImportResult, type RunExport } from '../transfer';
import { fromJson, toDatasetInput, toJson, toRun, toStudy, toSweep, type DatasetRow, type RunRow, type StudyRow, type SweepRow } from './rows';
import { readPredictions } from './run-predictions';
import { readAudit, readSplit } from './shared-records';
import { insertMetrics, insertParams, insertSkipped, validateAudit, validateMetrics, writeRunRecord } from './run-record-writer';

const DEFAULT_SEARCH_LIMIT = 1000;

export class SqlTrackingStore implements TrackingStore {
  constructor(
    protected readonly db: Database,
    readonly location: string,
    private readonly now: () => Date,
    readonly sharedFeatures?: SharedFeatureCache,
  ) {}

  async createRun(run: NewRun): Promise<Run> {
    if (!Number.isSafeInteger(run.seed)) throw new InvalidArgumentError(`seed must be a safe integer, got ${run.seed}`);
    const id = randomBytes(16).toString('hex');
    const startTime = this.now().toISOString();
    const resolvedConfig = toJson(run.resolvedConfig, 'resolvedConfig');
    const pid = run.pid ?? process.pid;
    const hostname = run.hostname ?? osHostname();
    if (!Number.isSafeInteger(pid) || pid <= 0) throw new InvalidArgumentError(`pid must be a positive integer, got ${pid}`);
    await this.db.run(
      `INSERT INTO runs (id, name, status, start_time, heartbeat_time, seed, config_hash, config_text, resolved_config, environment, pid, hostname, sweep_id, sweep_index)
       VALUES (?, ?, 'running', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        id, run.name, startTime, startTime, run.seed, run.configHash, run.configText, resolvedConfig, toJson(run.environment, 'environment'), pid, hostname,
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
    if (!record.dataset) throw new InvalidArgumentError('completeRun needs record.dataset');
    validateAudit(record.audit ?? []);
    const outcome = await this.db.transaction(async (tx) => {
      const run = await requireRunning(tx, runId, 'complete');
      const winner = await completedAttemptOfPoint(tx, run);
      if (winner) {
        const error = `abandoned: superseded: point ${Number(run.sweep_index) + 1} of the sweep was completed first by run ${winner} (another attempt of the same point); this attempt's results are not recorded`;
        return { superseded: winner, run: await this.finish(tx, run, 'abandoned', error) };
      }
      await writeRunRecord(tx, runId, record);
      return { superseded: null, run: await this.finish(tx, run, 'completed', null) };
    });
    if (outcome.superseded !== null) throw new PointAlreadyCompletedError(runId, outcome.superseded, outcome.run.sweepId ?? '', outcome.run.sweepIndex ?? 0);
    return outcome.run;
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

  async recordHeartbeat(runId: string): Promise<void> {
    await this.db.run(`UPDATE runs SET heartbeat_time = ? WHERE id = ? AND status = 'running'`, [this.now().toISOString(), runId]);
  }

  async getRun(runId: string): Promise<Run | null> {
    const row = await this.db.get<RunRow>('SELECT * FROM runs WHERE id = ?', [runId]);
    return row ? toRun(row) : null;
  }

  async searchRuns(filter: RunFilter = {}): Promise<Run[]> {
    if (filter.idPrefix !== undefined && !/^[0-9a-f]*$/.test(filter.idPrefix)) return [];
    const rows = await this.newestFirst<RunRow>('runs', { name: filter.name, status: filter.status, sweep_id: filter.sweepId }, filter.limit, filter.idPrefix, filter.heartbeatBefore);
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
    return row ? toDatasetInput(row) : null;
  }

  async getExtractor(runId: string): Promise<Record<string, string>> {
    const rows = await this.db.all<{ key: string; value: string }>('SELECT key, value FROM extractor WHERE run_id = ? ORDER BY rowid', [runId]);
    return Object.fromEntries(rows.map((r) => [r.key, r.value]));
  }

  async getSplit(runId: string): Promise<SplitMember[]> {
    return readSplit(this.db, runId);
  }

  async getPredictions(runId: string, split?: SplitName): Promise<Prediction[]> {
    return readPredictions(this.db, runId, split);
  }

  async getSkippedFiles(runId: string): Promise<SkippedFile[]> {
    return this.db.all<SkippedFile>('SELECT path, sha256, reason FROM skipped_files WHERE run_id = ? ORDER BY rowid', [runId]);
  }

  async getAuditResults(runId: string, flag?: AuditFlag): Promise<AuditResult[]> {
    return readAudit(this.db, runId, flag);
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
    // The same verdict for a run found up front and for one another process inserted between that
    // check and our transaction: identical content is already present, anything else a conflict.
    const presentOrConflict = async (): Promise<ImportResult> => {
      if (canonicalRunJson(await this.exportRun(run.id)) === canonicalRunJson(data)) return { runId: run.id, status: 'already-present' };
      throw new ImportConflictError(run.id, this.location);
    };
    if (await this.getRun(run.id)) return presentOrConflict();
    const inserted = await this.db.transaction(async (tx) => {
      const result = await tx.run(
        `INSERT INTO runs (id, name, status, start_time, end_time, duration_ms, seed, config_hash, config_text,
                           resolved_config, error, environment, pid, hostname)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT DO NOTHING`,
        [
          run.id, run.name, run.status, run.startTime, run.endTime, run.durationMs, run.seed, run.configHash, run.configText,
          toJson(run.resolvedConfig, 'resolvedConfig'), run.error, toJson(run.environment, 'environment'), run.pid, run.hostname,
        ],
      );
      if (result.changes === 0) return false;
      await writeRunRecord(tx, run.id, {
        ...data,
        metrics: data.metrics.map((m) => ({ key: m.key, value: decodeNumber(m.value), step: m.step })),
        predictions: data.predictions.map((p) => ({ ...p, probabilities: p.probabilities.map(decodeNumber) })),
        audit: (data.audit ?? []).map((a) => ({ ...a, probabilities: a.probabilities.map(decodeNumber) })),
      });
      return true;
    });
    // Lost the race: the other import committed whole (one transaction), so compare with it.
    return inserted ? { runId: run.id, status: 'imported' } : presentOrConflict();
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
    return this.updateGroupStatus('sweep', sweepId, status, () => this.getSweep(sweepId));
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
    return this.updateGroupStatus('study', studyId, status, () => this.getStudy(studyId));
  }

  /** Sets a sweep's or study's status (ended now unless `running`) and reads it back. */
  private async updateGroupStatus<T>(kind: 'sweep' | 'study', id: string, status: SweepStatus | StudyStatus, read: () => Promise<T | null>): Promise<T> {
    const endTime = status === 'running' ? null : this.now().toISOString();
    await this.db.run(`UPDATE ${kind === 'sweep' ? 'sweeps' : 'studies'} SET status = ?, end_time = ? WHERE id = ?`, [status, endTime, id]);
    const group = await read();
    if (!group) throw new InvalidArgumentError(`${kind} ${id} does not exist`);
    return group;
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
    idPrefix?: string,
    heartbeatBefore?: string,
  ): Promise<Row[]> {
    if (!Number.isSafeInteger(limit) || limit < 0) throw new InvalidArgumentError(`limit must be a non-negative integer, got ${limit}`);
    const filters = Object.entries(equals).filter((entry): entry is [string, string | number] => entry[1] !== undefined);
    const conditions = filters.map(([column]) => `${column} = ?`);
    const values: (string | number)[] = filters.map(([, v]) => v);
    // Hex digits only (checked by the caller), so the pattern holds no LIKE wildcards.
    if (idPrefix) {
      conditions.push('id LIKE ?');
      values.push(`${idPrefix}%`);
    }
    if (heartbeatBefore !== undefined) {
      conditions.push('heartbeat_time < ?');
      values.push(heartbeatBefore);
    }
    const where = conditions.length ? `WHERE ${conditions.join(' AND ')}` : '';
    return this.db.all<Row>(`SELECT * FROM ${table} ${where} ORDER BY start_time DESC, rowid DESC LIMIT ?`, [...values, limit]);
  }

  async checkIntegrity(): Promise<string[]> {
    return this.db.dialect.checkIntegrity(this.db);
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

async function requireRunning(tx: SqlExecutor, runId: string, operation: string): Promise<RunRow> {
  const run = await tx.get<RunRow>('SELECT * FROM runs WHERE id = ?', [runId]);
  if (!run) throw new RunNotFoundError(runId);
  if (run.status !== 'running') throw new InvalidRunStateError(runId, run.status, operation);
  return run;
}

/**
 * The completed run of `run`'s sweep point other than `run`, if any: a point is completed once,
 * whatever number of attempts ran it. Serialised per sweep: the no-op update takes the sweep row's
 * lock on PostgreSQL (held to COMMIT, so two concurrent completions of a point cannot both see
 * none; it does not block inserts of runs referencing the sweep), and SQLite's BEGIN IMMEDIATE
 * already holds the database's write lock.
 */
async function completedAttemptOfPoint(tx: SqlTransaction, run: RunRow): Promise<string | null> {
  if (run.sweep_id === null || run.sweep_index === null) return null;
  await tx.run('UPDATE sweeps SET status = status WHERE id = ?', [run.sweep_id]);
  const other = await tx.get<{ id: string }>(
    `SELECT id FROM runs WHERE sweep_id = ? AND sweep_index = ? AND status = 'completed' AND id <> ? LIMIT 1`,
    [run.sweep_id, run.sweep_index, run.id],
  );
  return other?.id ?? null;
}
