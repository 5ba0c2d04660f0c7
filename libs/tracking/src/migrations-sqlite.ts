/**
 * The SQLite text of each numbered migration (the PostgreSQL text of the same versions is in
 * migrations-postgres.ts; migrations.ts pairs them and applies them). Never edit a released
 * migration: append a new one.
 */

import type { SqlTransaction } from './database/database';
import type { AuditRow } from './store/rows';
import type { SplitMember } from './entities';
import type { Migration } from './migration';
import { toAuditResult } from './store/shared-records';
import { storeAuditV8, storeSplitV8 } from './store/shared-records-v8';
import { packPerImageRows } from './pack-per-image-rows';

/** The verdict columns of audit_results (migration 5) and of audit_verdicts (migration 8). */
const AUDIT_VERDICT_COLUMNS = `
        given_label     INTEGER NOT NULL CHECK (typeof(given_label) = 'integer'),
        suggested_label INTEGER CHECK (suggested_label IS NULL OR typeof(suggested_label) = 'integer'),
        self_confidence REAL NOT NULL,
        score           REAL NOT NULL,          -- higher = more suspicious
        rank            INTEGER CHECK (rank IS NULL OR typeof(rank) = 'integer'),
        flag            TEXT NOT NULL CHECK (flag IN ('label_issue', 'no_confident_class', 'ok')),
        fold            INTEGER NOT NULL CHECK (typeof(fold) = 'integer'),
        probabilities   BLOB NOT NULL,`.slice(1);

/**
 * Migration 8: the per-run tables split_members and audit_results become shared records (see
 * store/shared-records.ts) and views of the same names and columns over them.
 */
const SHARED_RECORD_VIEWS = `
  DROP TABLE split_members;
  DROP TABLE audit_results;
  CREATE VIEW split_members AS
    SELECT r.id AS run_id, i.path, i.sha256, i.label, a.split
      FROM runs r
      JOIN splits s ON s.id = r.split_id
      JOIN split_assignments a ON a.split_id = s.id
      JOIN dataset_images i ON i.list_id = s.list_id AND i.position = a.position;
  CREATE VIEW audit_results AS
    SELECT r.id AS run_id, v.path, v.given_label, v.suggested_label, v.self_confidence, v.score, v.rank, v.flag, v.fold, v.probabilities
      FROM runs r
      JOIN audit_verdicts v ON v.set_id = r.audit_set_id;
`;

/** Migration 8's data step: each run's split and audit rows, in their order, into shared records. */
async function shareSplitsAndAudits(tx: SqlTransaction): Promise<void> {
  const runs = await tx.all<{ id: string; fingerprint: string | null; split_hash: string | null }>(
    'SELECT r.id, d.fingerprint, d.split_hash FROM runs r LEFT JOIN dataset_inputs d ON d.run_id = r.id ORDER BY r.rowid',
  );
  for (const run of runs) {
    const split = await tx.all<SplitMember>('SELECT path, sha256, label, split FROM split_members WHERE run_id = ? ORDER BY rowid', [run.id]);
    const audit = await tx.all<AuditRow>('SELECT * FROM audit_results WHERE run_id = ? ORDER BY rowid', [run.id]);
    const dataset = run.fingerprint === null || run.split_hash === null ? null : { fingerprint: run.fingerprint, splitHash: run.split_hash };
    const splitId = await storeSplitV8(tx, split, dataset);
    const auditSetId = await storeAuditV8(tx, audit.map(toAuditResult));
    if (splitId !== null || auditSetId !== null) await tx.run('UPDATE runs SET split_id = ?, audit_set_id = ? WHERE id = ?', [splitId, auditSetId, run.id]);
  }
}

/**
 * Migration 10's views: per-image rows again from the packed columns (see store/packed-columns.ts),
 * with substr, hex and instr; the audit doubles (float64OfHex) also need SQLite's built-in math
 * functions (pow), present in the bundled sqlite3 build but not in every SQLite shell. `seq`
 * numbers the entries of a packed row.
 */
const intAt = (col: string, k: string): string =>
  `CAST(NULLIF(trim(substr(${col}, 3 + (${k}) * CAST(substr(${col}, 1, 2) AS INTEGER), CAST(substr(${col}, 1, 2) AS INTEGER))), '') AS INTEGER)`;
const splitAt = (col: string, k: string): string => `CASE substr(${col}, (${k}) + 1, 1) WHEN 'r' THEN 'train' WHEN 'v' THEN 'val' WHEN 't' THEN 'test' END`;
const vectorAt = (t: string, k: string): string =>
  `substr(${t}.probabilities, 1 + 8 * (${k}) * ${t}.prob_stride, 8 * COALESCE(${intAt(`${t}.prob_counts`, k)}, ${t}.prob_stride))`;
const imageJoin = (t: string, k: string): string =>
  `LEFT JOIN dataset_images i ON i.list_id = ${t}.list_id AND i.position = COALESCE(${intAt(`${t}.positions`, k)}, ${k})`;
const pathAt = (t: string, k: string): string => `COALESCE(json_extract(${t}.paths, '$[' || (${k}) || ']'), i.path)`;
const seq = (table: string): string => `WITH RECURSIVE seq(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM seq WHERE k + 1 < (SELECT max(size) FROM ${table}))`;
/** The float64 of a 16-digit hex string of its little-endian bytes (SQLite has no such function). */
function float64OfHex(h: string): string {
  const nibble = (n: number) => `(instr('0123456789ABCDEF', substr(${h}, ${n}, 1)) - 1)`;
  const byte = (j: number) => `(${nibble(2 * j + 1)} * 16 + ${nibble(2 * j + 2)})`;
  const exponent = `((${byte(7)} % 128) * 16 + ${byte(6)} / 16)`;
  const mantissa = `((${byte(6)} % 16) * 281474976710656 + ${byte(5)} * 1099511627776 + ${byte(4)} * 4294967296 + ${byte(3)} * 16777216 + ${byte(2)} * 65536 + ${byte(1)} * 256 + ${byte(0)})`;
  return `(CASE WHEN ${byte(7)} >= 128 THEN -1.0 ELSE 1.0 END) * (CASE ${exponent} WHEN 0 THEN ${mantissa} * pow(2, -1074) WHEN 2047 THEN (CASE WHEN ${mantissa} = 0 THEN 9e999 END) ELSE (${mantissa} + 4503599627370496) * pow(2, ${exponent} - 1075) END)`;
}

const PACKED_VIEWS = `
  DROP VIEW split_members;
  DROP VIEW audit_results;
  DROP TABLE split_assignments;
  DROP TABLE audit_verdicts;
  DROP TABLE predictions;
  CREATE VIEW split_assignments AS
    SELECT s.id AS split_id, i.position, ${splitAt('s.assignments', 'i.position')} AS split
      FROM splits s JOIN dataset_images i ON i.list_id = s.list_id;
  CREATE VIEW split_members AS
    SELECT r.id AS run_id, i.path, i.sha256, i.label, ${splitAt('s.assignments', 'i.position')} AS split
      FROM runs r
      JOIN splits s ON s.id = r.split_id
      JOIN dataset_images i ON i.list_id = s.list_id;
  CREATE VIEW predictions AS
    ${seq('run_predictions')}
    SELECT p.run_id, ${pathAt('p', 'seq.k')} AS path, ${splitAt('p.splits', 'seq.k')} AS split,
           ${intAt('p.true_labels', 'seq.k')} AS true_label, ${intAt('p.predicted_labels', 'seq.k')} AS predicted_label, ${vectorAt('p', 'seq.k')} AS probabilities
      FROM run_predictions p JOIN seq ON seq.k < p.size
      ${imageJoin('p', 'seq.k')};
  CREATE VIEW audit_verdicts AS
    ${seq('audit_sets')}
    SELECT set_id, position, path, given_label, suggested_label, ${float64OfHex('h1')} AS self_confidence, ${float64OfHex('h2')} AS score, rank, flag, fold, probabilities
      FROM (SELECT a.id AS set_id, seq.k AS position, ${pathAt('a', 'seq.k')} AS path,
                   ${intAt('a.given_labels', 'seq.k')} AS given_label, ${intAt('a.suggested_labels', 'seq.k')} AS suggested_label,
                   hex(substr(a.scores, 1 + 16 * seq.k, 8)) AS h1, hex(substr(a.scores, 9 + 16 * seq.k, 8)) AS h2, ${intAt('a.ranks', 'seq.k')} AS rank,
                   CASE substr(a.flags, seq.k + 1, 1) WHEN 'i' THEN 'label_issue' WHEN 'n' THEN 'no_confident_class' WHEN 'o' THEN 'ok' END AS flag,
                   ${intAt('a.folds', 'seq.k')} AS fold, ${vectorAt('a', 'seq.k')} AS probabilities
              FROM audit_sets a JOIN seq ON seq.k < a.size
              ${imageJoin('a', 'seq.k')});
  CREATE VIEW audit_results AS
    SELECT r.id AS run_id, v.path, v.given_label, v.suggested_label, v.self_confidence, v.score, v.rank, v.flag, v.fold, v.probabilities
      FROM runs r
      JOIN audit_verdicts v ON v.set_id = r.audit_set_id;
`;

export const SQLITE_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'initial schema',
    sql: `
      CREATE TABLE runs (
        id              TEXT PRIMARY KEY,
        name            TEXT NOT NULL,
        status          TEXT NOT NULL
                        CHECK (status IN ('running', 'completed', 'failed', 'interrupted', 'abandoned')),
        start_time      TEXT NOT NULL,          -- ISO-8601 UTC, so text order is time order
        end_time        TEXT,
        duration_ms     INTEGER,
        seed            INTEGER NOT NULL CHECK (typeof(seed) = 'integer'),
        config_hash     TEXT NOT NULL,
        config_text     TEXT NOT NULL,
        resolved_config TEXT NOT NULL,          -- JSON
        error           TEXT,
        environment     TEXT NOT NULL           -- JSON object of strings
      );
      CREATE INDEX runs_by_start ON runs (start_time);
      CREATE INDEX runs_by_name ON runs (name, start_time);
      CREATE INDEX runs_by_status ON runs (status, start_time);

      CREATE TABLE params (
        run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        key    TEXT NOT NULL,
        value  TEXT NOT NULL,
        PRIMARY KEY (run_id, key)
      );

      -- Append-only, like MLflow's metric history; rowid keeps logging order.
      -- value NULL encodes NaN (SQLite turns a bound NaN into NULL anyway).
      CREATE TABLE metrics (
        run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        key    TEXT NOT NULL,
        value  REAL,
        step   INTEGER CHECK (step IS NULL OR typeof(step) = 'integer')
      );
      CREATE INDEX metrics_by_run_key ON metrics (run_id, key, step);

      CREATE TABLE dataset_inputs (
        run_id       TEXT PRIMARY KEY REFERENCES runs (id) ON DELETE CASCADE,
        path         TEXT NOT NULL,
        fingerprint  TEXT NOT NULL,
        classes      TEXT NOT NULL,             -- JSON array
        class_counts TEXT NOT NULL,             -- JSON object
        split_counts TEXT NOT NULL,             -- JSON object
        split_hash   TEXT NOT NULL
      );

      CREATE TABLE extractor (
        run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        key    TEXT NOT NULL,
        value  TEXT NOT NULL,
        PRIMARY KEY (run_id, key)
      );

      CREATE TABLE split_members (
        run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        path   TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        label  INTEGER NOT NULL CHECK (typeof(label) = 'integer'),
        split  TEXT NOT NULL CHECK (split IN ('train', 'val', 'test')),
        PRIMARY KEY (run_id, path)
      );

      -- probabilities: little-endian float64 BLOB (8 bytes per class, exact round trip).
      CREATE TABLE predictions (
        run_id          TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        path            TEXT NOT NULL,
        split           TEXT NOT NULL CHECK (split IN ('train', 'val', 'test')),
        true_label      INTEGER NOT NULL CHECK (typeof(true_label) = 'integer'),
        predicted_label INTEGER NOT NULL CHECK (typeof(predicted_label) = 'integer'),
        probabilities   BLOB NOT NULL,
        PRIMARY KEY (run_id, split, path)
      );
    `,
  },
  {
    version: 2,
    name: 'skipped files',
    sql: `
      -- Files a run left out (dataset.onBadImage: skip), with the reason, e.g. "truncated file (...)".
      CREATE TABLE skipped_files (
        run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        path   TEXT NOT NULL,                   -- relative to the dataset root, '/' separated
        sha256 TEXT,                            -- NULL when the file could not be read at all
        reason TEXT NOT NULL,
        PRIMARY KEY (run_id, path)
      );
    `,
  },
  {
    version: 3,
    name: 'run owner process',
    sql: `
      -- The process that runs the run: a later start can tell a crashed run (process gone) from
      -- a live one and mark it abandoned. NULL for runs recorded before this migration.
      ALTER TABLE runs ADD COLUMN pid INTEGER CHECK (pid IS NULL OR typeof(pid) = 'integer');
      ALTER TABLE runs ADD COLUMN hostname TEXT;
    `,
  },
  {
    version: 4,
    name: 'sweeps',
    sql: `
      -- A sweep groups the runs of one config's grid; --resume finds it again by config hash.
      CREATE TABLE sweeps (
        id          TEXT PRIMARY KEY,
        name        TEXT NOT NULL,
        status      TEXT NOT NULL CHECK (status IN ('running', 'completed', 'interrupted')),
        start_time  TEXT NOT NULL,
        end_time    TEXT,
        config_hash TEXT NOT NULL,
        config_text TEXT NOT NULL,
        definition  TEXT NOT NULL,              -- JSON: dotted key -> list of values
        size        INTEGER NOT NULL CHECK (typeof(size) = 'integer' AND size > 0)
      );
      CREATE INDEX sweeps_by_config ON sweeps (config_hash, start_time);
      ALTER TABLE runs ADD COLUMN sweep_id TEXT REFERENCES sweeps (id);
      ALTER TABLE runs ADD COLUMN sweep_index INTEGER CHECK (sweep_index IS NULL OR typeof(sweep_index) = 'integer');
      CREATE INDEX runs_by_sweep ON runs (sweep_id, sweep_index);
    `,
  },
  {
    version: 5,
    name: 'label audit results',
    sql: `
      -- Label audit (config audit.enabled): one row per image of the run, flagged or not.
      -- probabilities: out-of-fold, little-endian float64 BLOB like predictions.probabilities.
      CREATE TABLE audit_results (
        run_id          TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        path            TEXT NOT NULL,          -- relative to the dataset root, '/' separated
${AUDIT_VERDICT_COLUMNS}
        PRIMARY KEY (run_id, path)
      );
      CREATE INDEX audit_results_by_flag ON audit_results (run_id, flag, rank);
    `,
  },
  {
    version: 6,
    name: 'studies',
    sql: `
      -- A study answers one question with several arms; each arm is one config's sweep (same seeds).
      CREATE TABLE studies (
        id          TEXT PRIMARY KEY,
        name        TEXT NOT NULL,
        question    TEXT NOT NULL,
        status      TEXT NOT NULL CHECK (status IN ('running', 'completed', 'interrupted')),
        start_time  TEXT NOT NULL,
        end_time    TEXT,
        config_hash TEXT NOT NULL,
        config_text TEXT NOT NULL
      );
      CREATE INDEX studies_by_name ON studies (name, start_time);
      CREATE TABLE study_arms (
        study_id  TEXT NOT NULL REFERENCES studies (id) ON DELETE CASCADE,
        position  INTEGER NOT NULL CHECK (typeof(position) = 'integer'),
        label     TEXT NOT NULL,
        config    TEXT NOT NULL,                -- the arm's config file, as listed in the study
        sweep_id  TEXT NOT NULL REFERENCES sweeps (id),
        PRIMARY KEY (study_id, position)
      );
    `,
  },
  {
    version: 7,
    name: 'run heartbeat',
    sql: `
      -- A running run's process writes the time here every few seconds; a run whose heartbeat is
      -- older than the grace period is abandoned, whatever host it ran on. NULL before this migration.
      ALTER TABLE runs ADD COLUMN heartbeat_time TEXT;
      CREATE INDEX runs_by_heartbeat ON runs (status, heartbeat_time);
    `,
  },
  {
    version: 8,
    name: 'shared image lists, splits and audits',
    sql: `
      -- A dataset's image list, stored once per content (in practice once per fingerprint).
      CREATE TABLE image_lists (
        id           INTEGER PRIMARY KEY,
        content_hash TEXT NOT NULL UNIQUE,      -- sha256 over (path, sha256, label) in order
        fingerprint  TEXT,                      -- dataset fingerprint of the run that stored it first
        size         INTEGER NOT NULL CHECK (typeof(size) = 'integer')
      );
      CREATE INDEX image_lists_by_fingerprint ON image_lists (fingerprint);
      CREATE TABLE dataset_images (
        list_id  INTEGER NOT NULL REFERENCES image_lists (id),
        position INTEGER NOT NULL CHECK (typeof(position) = 'integer'),
        path     TEXT NOT NULL,
        sha256   TEXT NOT NULL,
        label    INTEGER NOT NULL CHECK (typeof(label) = 'integer'),
        PRIMARY KEY (list_id, position),
        UNIQUE (list_id, path)
      ) WITHOUT ROWID;
      -- A split of one image list, stored once per content (in practice once per split hash).
      CREATE TABLE splits (
        id           INTEGER PRIMARY KEY,
        content_hash TEXT NOT NULL UNIQUE,      -- sha256 over the list's hash and each image's split
        list_id      INTEGER NOT NULL REFERENCES image_lists (id),
        split_hash   TEXT                       -- the run's dataset split hash, when it had a dataset
      );
      CREATE INDEX splits_by_hash ON splits (split_hash);
      CREATE TABLE split_assignments (
        split_id INTEGER NOT NULL REFERENCES splits (id),
        position INTEGER NOT NULL CHECK (typeof(position) = 'integer'),
        split    TEXT NOT NULL CHECK (split IN ('train', 'val', 'test')),
        PRIMARY KEY (split_id, position)
      ) WITHOUT ROWID;
      -- A label audit's verdicts, stored once per content (a re-run of the same config adds none).
      CREATE TABLE audit_sets (
        id           INTEGER PRIMARY KEY,
        content_hash TEXT NOT NULL UNIQUE,
        size         INTEGER NOT NULL CHECK (typeof(size) = 'integer')
      );
      CREATE TABLE audit_verdicts (
        set_id          INTEGER NOT NULL REFERENCES audit_sets (id),
        position        INTEGER NOT NULL CHECK (typeof(position) = 'integer'),
        path            TEXT NOT NULL,
${AUDIT_VERDICT_COLUMNS}
        PRIMARY KEY (set_id, position),
        UNIQUE (set_id, path)
      ) WITHOUT ROWID;
      CREATE INDEX audit_verdicts_by_flag ON audit_verdicts (set_id, flag, rank);
      ALTER TABLE runs ADD COLUMN split_id INTEGER REFERENCES splits (id);
      ALTER TABLE runs ADD COLUMN audit_set_id INTEGER REFERENCES audit_sets (id);
    `,
    data: shareSplitsAndAudits,
    after: SHARED_RECORD_VIEWS,
  },
  {
    version: 9,
    name: 'shared feature cache',
    // PostgreSQL only (see migrations-postgres.ts): on SQLite, one machine, the feature cache is the
    // local folder as before. The version is kept on both engines so the numbers stay one list.
    sql: `
      -- No change on SQLite.
    `,
  },
  {
    version: 10,
    name: 'packed per-image columns',
    sql: `
      -- A run's predictions, one row per run (store/run-predictions.ts, store/packed-columns.ts):
      -- images by position in list_id (positions NULL: entry k is image k; paths: a JSON array,
      -- only for images that are not in the list), one split letter each (r, v, t), labels as
      -- fixed-width integers, probabilities as little-endian float64s, prob_stride per entry.
      CREATE TABLE run_predictions (
        run_id           TEXT PRIMARY KEY REFERENCES runs (id) ON DELETE CASCADE,
        size             INTEGER NOT NULL CHECK (typeof(size) = 'integer'),
        list_id          INTEGER REFERENCES image_lists (id),
        positions        TEXT,
        paths            TEXT,
        splits           TEXT NOT NULL,
        true_labels      TEXT NOT NULL,
        predicted_labels TEXT NOT NULL,
        prob_stride      INTEGER NOT NULL CHECK (typeof(prob_stride) = 'integer'),
        prob_counts      TEXT,                  -- per entry, only when entries differ in length
        probabilities    BLOB
      );
      -- A split: one letter per image of its list (r train, v val, t test).
      ALTER TABLE splits ADD COLUMN assignments TEXT;
      -- An audit's verdicts packed like run_predictions; scores: (self_confidence, score) float64 pairs;
      -- flags: one letter each (i label_issue, n no_confident_class, o ok).
      ALTER TABLE audit_sets ADD COLUMN list_id INTEGER REFERENCES image_lists (id);
      ALTER TABLE audit_sets ADD COLUMN positions TEXT;
      ALTER TABLE audit_sets ADD COLUMN paths TEXT;
      ALTER TABLE audit_sets ADD COLUMN given_labels TEXT;
      ALTER TABLE audit_sets ADD COLUMN suggested_labels TEXT;
      ALTER TABLE audit_sets ADD COLUMN ranks TEXT;
      ALTER TABLE audit_sets ADD COLUMN folds TEXT;
      ALTER TABLE audit_sets ADD COLUMN flags TEXT;
      ALTER TABLE audit_sets ADD COLUMN scores BLOB;
      ALTER TABLE audit_sets ADD COLUMN prob_stride INTEGER;
      ALTER TABLE audit_sets ADD COLUMN prob_counts TEXT;
      ALTER TABLE audit_sets ADD COLUMN probabilities BLOB;
    `,
    data: packPerImageRows,
    after: PACKED_VIEWS,
  },
];
