/**
 * The PostgreSQL text of each numbered migration in migrations.ts (same versions, same tables,
 * same columns): BIGINT for SQLite's checked INTEGERs, DOUBLE PRECISION for REAL, BYTEA for BLOB,
 * and an identity column `rowid` where SQLite's implicit rowid keeps insertion order.
 */

const ROWID = 'rowid BIGINT GENERATED ALWAYS AS IDENTITY';

/** The verdict columns of audit_results (migration 5) and of audit_verdicts (migration 8). */
const AUDIT_VERDICT_COLUMNS = `
      given_label     INTEGER NOT NULL,
      suggested_label INTEGER,
      self_confidence DOUBLE PRECISION NOT NULL,
      score           DOUBLE PRECISION NOT NULL,
      rank            BIGINT,
      flag            TEXT NOT NULL CHECK (flag IN ('label_issue', 'no_confident_class', 'ok')),
      fold            INTEGER NOT NULL,
      probabilities   BYTEA NOT NULL,`.slice(1);

export const POSTGRES_MIGRATIONS: Readonly<Record<number, string>> = {
  1: `
    CREATE TABLE runs (
      id              TEXT PRIMARY KEY,
      name            TEXT NOT NULL,
      status          TEXT NOT NULL CHECK (status IN ('running', 'completed', 'failed', 'interrupted', 'abandoned')),
      start_time      TEXT NOT NULL,
      end_time        TEXT,
      duration_ms     BIGINT,
      seed            BIGINT NOT NULL,
      config_hash     TEXT NOT NULL,
      config_text     TEXT NOT NULL,
      resolved_config TEXT NOT NULL,
      error           TEXT,
      environment     TEXT NOT NULL,
      ${ROWID}
    );
    CREATE INDEX runs_by_start ON runs (start_time);
    CREATE INDEX runs_by_name ON runs (name, start_time);
    CREATE INDEX runs_by_status ON runs (status, start_time);
    CREATE TABLE params (
      run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
      key    TEXT NOT NULL,
      value  TEXT NOT NULL,
      ${ROWID},
      PRIMARY KEY (run_id, key)
    );
    CREATE TABLE metrics (
      run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
      key    TEXT NOT NULL,
      value  DOUBLE PRECISION,
      step   BIGINT,
      ${ROWID}
    );
    CREATE INDEX metrics_by_run_key ON metrics (run_id, key, step);
    CREATE TABLE dataset_inputs (
      run_id       TEXT PRIMARY KEY REFERENCES runs (id) ON DELETE CASCADE,
      path         TEXT NOT NULL,
      fingerprint  TEXT NOT NULL,
      classes      TEXT NOT NULL,
      class_counts TEXT NOT NULL,
      split_counts TEXT NOT NULL,
      split_hash   TEXT NOT NULL
    );
    CREATE TABLE extractor (
      run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
      key    TEXT NOT NULL,
      value  TEXT NOT NULL,
      ${ROWID},
      PRIMARY KEY (run_id, key)
    );
    CREATE TABLE split_members (
      run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
      path   TEXT NOT NULL,
      sha256 TEXT NOT NULL,
      label  INTEGER NOT NULL,
      split  TEXT NOT NULL CHECK (split IN ('train', 'val', 'test')),
      ${ROWID},
      PRIMARY KEY (run_id, path)
    );
    CREATE TABLE predictions (
      run_id          TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
      path            TEXT NOT NULL,
      split           TEXT NOT NULL CHECK (split IN ('train', 'val', 'test')),
      true_label      INTEGER NOT NULL,
      predicted_label INTEGER NOT NULL,
      probabilities   BYTEA NOT NULL,
      ${ROWID},
      PRIMARY KEY (run_id, split, path)
    );
  `,
  2: `
    CREATE TABLE skipped_files (
      run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
      path   TEXT NOT NULL,
      sha256 TEXT,
      reason TEXT NOT NULL,
      ${ROWID},
      PRIMARY KEY (run_id, path)
    );
  `,
  3: `
    ALTER TABLE runs ADD COLUMN pid BIGINT;
    ALTER TABLE runs ADD COLUMN hostname TEXT;
  `,
  4: `
    CREATE TABLE sweeps (
      id          TEXT PRIMARY KEY,
      name        TEXT NOT NULL,
      status      TEXT NOT NULL CHECK (status IN ('running', 'completed', 'interrupted')),
      start_time  TEXT NOT NULL,
      end_time    TEXT,
      config_hash TEXT NOT NULL,
      config_text TEXT NOT NULL,
      definition  TEXT NOT NULL,
      size        BIGINT NOT NULL CHECK (size > 0),
      ${ROWID}
    );
    CREATE INDEX sweeps_by_config ON sweeps (config_hash, start_time);
    ALTER TABLE runs ADD COLUMN sweep_id TEXT REFERENCES sweeps (id);
    ALTER TABLE runs ADD COLUMN sweep_index BIGINT;
    CREATE INDEX runs_by_sweep ON runs (sweep_id, sweep_index);
  `,
  5: `
    CREATE TABLE audit_results (
      run_id          TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
      path            TEXT NOT NULL,
${AUDIT_VERDICT_COLUMNS}
      ${ROWID},
      PRIMARY KEY (run_id, path)
    );
    CREATE INDEX audit_results_by_flag ON audit_results (run_id, flag, rank);
  `,
  6: `
    CREATE TABLE studies (
      id          TEXT PRIMARY KEY,
      name        TEXT NOT NULL,
      question    TEXT NOT NULL,
      status      TEXT NOT NULL CHECK (status IN ('running', 'completed', 'interrupted')),
      start_time  TEXT NOT NULL,
      end_time    TEXT,
      config_hash TEXT NOT NULL,
      config_text TEXT NOT NULL,
      ${ROWID}
    );
    CREATE INDEX studies_by_name ON studies (name, start_time);
    CREATE TABLE study_arms (
      study_id  TEXT NOT NULL REFERENCES studies (id) ON DELETE CASCADE,
      position  INTEGER NOT NULL,
      label     TEXT NOT NULL,
      config    TEXT NOT NULL,
      sweep_id  TEXT NOT NULL REFERENCES sweeps (id),
      PRIMARY KEY (study_id, position)
    );
  `,
  7: `
    ALTER TABLE runs ADD COLUMN heartbeat_time TEXT;
    CREATE INDEX runs_by_heartbeat ON runs (status, heartbeat_time);
  `,
  8: `
    CREATE TABLE image_lists (
      id           BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
      content_hash TEXT NOT NULL UNIQUE,
      fingerprint  TEXT,
      size         BIGINT NOT NULL
    );
    CREATE INDEX image_lists_by_fingerprint ON image_lists (fingerprint);
    CREATE TABLE dataset_images (
      list_id  BIGINT NOT NULL REFERENCES image_lists (id),
      position INTEGER NOT NULL,
      path     TEXT NOT NULL,
      sha256   TEXT NOT NULL,
      label    INTEGER NOT NULL,
      PRIMARY KEY (list_id, position),
      UNIQUE (list_id, path)
    );
    CREATE TABLE splits (
      id           BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
      content_hash TEXT NOT NULL UNIQUE,
      list_id      BIGINT NOT NULL REFERENCES image_lists (id),
      split_hash   TEXT
    );
    CREATE INDEX splits_by_hash ON splits (split_hash);
    CREATE TABLE split_assignments (
      split_id BIGINT NOT NULL REFERENCES splits (id),
      position INTEGER NOT NULL,
      split    TEXT NOT NULL CHECK (split IN ('train', 'val', 'test')),
      PRIMARY KEY (split_id, position)
    );
    CREATE TABLE audit_sets (
      id           BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
      content_hash TEXT NOT NULL UNIQUE,
      size         BIGINT NOT NULL
    );
    CREATE TABLE audit_verdicts (
      set_id          BIGINT NOT NULL REFERENCES audit_sets (id),
      position        INTEGER NOT NULL,
      path            TEXT NOT NULL,
${AUDIT_VERDICT_COLUMNS}
      PRIMARY KEY (set_id, position),
      UNIQUE (set_id, path)
    );
    CREATE INDEX audit_verdicts_by_flag ON audit_verdicts (set_id, flag, rank);
    ALTER TABLE runs ADD COLUMN split_id BIGINT REFERENCES splits (id);
    ALTER TABLE runs ADD COLUMN audit_set_id BIGINT REFERENCES audit_sets (id);
  `,
  // The feature cache of workers on many machines (see postgres-feature-cache.ts): one row per
  // image and cache key, the key and image hash exactly as the local folder's path names them.
  9: `
    CREATE TABLE feature_vectors (
      cache_key    TEXT NOT NULL,
      image_sha256 TEXT NOT NULL,
      vector       BYTEA NOT NULL,
      PRIMARY KEY (cache_key, image_sha256)
    );
  `,
};
