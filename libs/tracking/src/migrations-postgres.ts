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
  10: `
    CREATE TABLE run_predictions (
      run_id           TEXT PRIMARY KEY REFERENCES runs (id) ON DELETE CASCADE,
      size             INTEGER NOT NULL,
      list_id          BIGINT REFERENCES image_lists (id),
      positions        TEXT,
      paths            TEXT,
      splits           TEXT NOT NULL,
      true_labels      TEXT NOT NULL,
      predicted_labels TEXT NOT NULL,
      prob_stride      INTEGER NOT NULL,
      prob_counts      TEXT,
      probabilities    BYTEA
    );
    ALTER TABLE splits ADD COLUMN assignments TEXT;
    ALTER TABLE audit_sets
      ADD COLUMN list_id BIGINT REFERENCES image_lists (id),
      ADD COLUMN positions TEXT,
      ADD COLUMN paths TEXT,
      ADD COLUMN given_labels TEXT,
      ADD COLUMN suggested_labels TEXT,
      ADD COLUMN ranks TEXT,
      ADD COLUMN folds TEXT,
      ADD COLUMN flags TEXT,
      ADD COLUMN scores BYTEA,
      ADD COLUMN prob_stride INTEGER,
      ADD COLUMN prob_counts TEXT,
      ADD COLUMN probabilities BYTEA;
  `,
};

/** Migration 10's views over the packed columns (the SQLite text is in migrations.ts). */
const intAt = (col: string, k: string, type = 'INTEGER'): string =>
  `CAST(NULLIF(trim(substr(${col}, CAST(3 + (${k}) * CAST(substr(${col}, 1, 2) AS INTEGER) AS INTEGER), CAST(substr(${col}, 1, 2) AS INTEGER))), '') AS ${type})`;
const splitAt = (col: string, k: string): string => `CASE substr(${col}, CAST((${k}) + 1 AS INTEGER), 1) WHEN 'r' THEN 'train' WHEN 'v' THEN 'val' WHEN 't' THEN 'test' END`;
const vectorAt = (t: string, k: string): string =>
  `substring(${t}.probabilities FROM CAST(1 + 8 * (${k}) * ${t}.prob_stride AS INTEGER) FOR CAST(8 * COALESCE(${intAt(`${t}.prob_counts`, k)}, ${t}.prob_stride) AS INTEGER))`;
const imageJoin = (t: string, k: string): string =>
  `LEFT JOIN dataset_images i ON i.list_id = ${t}.list_id AND i.position = COALESCE(${intAt(`${t}.positions`, k)}, ${k})`;
const pathAt = (t: string, k: string): string => `COALESCE(${t}.paths::jsonb ->> CAST(${k} AS INTEGER), i.path)`;

export const POSTGRES_AFTER: Readonly<Record<number, string>> = {
  10: `
    DROP VIEW split_members;
    DROP VIEW audit_results;
    DROP TABLE split_assignments;
    DROP TABLE audit_verdicts;
    DROP TABLE predictions;
    -- The float64 at byte offset o of b, little-endian (what the store writes with writeDoubleLE).
    CREATE FUNCTION mlbench_float8le(b bytea, o integer) RETURNS double precision LANGUAGE sql IMMUTABLE STRICT AS $$
      SELECT CASE
          WHEN e = 2047 AND m = 0 THEN CASE WHEN s THEN '-Infinity'::float8 ELSE 'Infinity'::float8 END
          WHEN e = 2047 THEN 'NaN'::float8
          WHEN e = 0 THEN (CASE WHEN s THEN -1 ELSE 1 END) * (m::float8 * power(2::float8, -1074))
          ELSE (CASE WHEN s THEN -1 ELSE 1 END) * ((m + 4503599627370496)::float8 * power(2::float8, e - 1075))
        END
      FROM (SELECT get_byte(b, o + 7) >= 128 AS s,
                   (get_byte(b, o + 7) % 128) * 16 + get_byte(b, o + 6) / 16 AS e,
                   (get_byte(b, o + 6) % 16)::bigint * 281474976710656 + get_byte(b, o + 5)::bigint * 1099511627776
                     + get_byte(b, o + 4)::bigint * 4294967296 + get_byte(b, o + 3)::bigint * 16777216
                     + get_byte(b, o + 2) * 65536 + get_byte(b, o + 1) * 256 + get_byte(b, o) AS m) x
    $$;
    CREATE VIEW split_assignments AS
      SELECT s.id AS split_id, i.position, ${splitAt('s.assignments', 'i.position')} AS split
        FROM splits s JOIN dataset_images i ON i.list_id = s.list_id;
    CREATE VIEW split_members AS
      SELECT r.id AS run_id, i.path, i.sha256, i.label, ${splitAt('s.assignments', 'i.position')} AS split
        FROM runs r
        JOIN splits s ON s.id = r.split_id
        JOIN dataset_images i ON i.list_id = s.list_id;
    CREATE VIEW predictions AS
      SELECT p.run_id, ${pathAt('p', 'g.k')} AS path, ${splitAt('p.splits', 'g.k')} AS split,
             ${intAt('p.true_labels', 'g.k')} AS true_label, ${intAt('p.predicted_labels', 'g.k')} AS predicted_label, ${vectorAt('p', 'g.k')} AS probabilities
        FROM run_predictions p CROSS JOIN LATERAL generate_series(0, p.size - 1) AS g(k)
        ${imageJoin('p', 'g.k')};
    CREATE VIEW audit_verdicts AS
      SELECT a.id AS set_id, g.k AS position, ${pathAt('a', 'g.k')} AS path,
             ${intAt('a.given_labels', 'g.k')} AS given_label, ${intAt('a.suggested_labels', 'g.k')} AS suggested_label,
             mlbench_float8le(a.scores, CAST(16 * g.k AS INTEGER)) AS self_confidence, mlbench_float8le(a.scores, CAST(16 * g.k + 8 AS INTEGER)) AS score, ${intAt('a.ranks', 'g.k', 'BIGINT')} AS rank,
             CASE substr(a.flags, CAST(g.k + 1 AS INTEGER), 1) WHEN 'i' THEN 'label_issue' WHEN 'n' THEN 'no_confident_class' WHEN 'o' THEN 'ok' END AS flag,
             ${intAt('a.folds', 'g.k')} AS fold, ${vectorAt('a', 'g.k')} AS probabilities
        FROM audit_sets a CROSS JOIN LATERAL generate_series(0, a.size - 1) AS g(k)
        ${imageJoin('a', 'g.k')};
    CREATE VIEW audit_results AS
      SELECT r.id AS run_id, v.path, v.given_label, v.suggested_label, v.self_confidence, v.score, v.rank, v.flag, v.fold, v.probabilities
        FROM runs r
        JOIN audit_verdicts v ON v.set_id = r.audit_set_id;
  `,
};
