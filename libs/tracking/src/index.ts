/** Public entry of @mlbench/tracking: entities, the abstract store, the SQLite store, the read layer, typed errors. */

export type * from './entities';
export type { TrackingStore } from './store';
export type { FeatureEntry, SharedFeatureCache } from './shared-feature-cache';
export { openSqliteStore, SqliteTrackingStore, type MigrationInfo, type SqliteStoreOptions } from './sqlite-store';
export {
  RUN_EXPORT_FORMAT,
  RUN_EXPORT_VERSION,
  parseRunExport,
  serializeRunExport,
  type ImportResult,
  type JsonNumber,
  type RunExport,
} from './transfer';
export { exportRunFile, importRunFile } from './transfer-files';
export { RUN_EXPORT_LIMITS } from './run-export-checks';
export { MIGRATE_CONSENT_ENV, borrowStore, defaultStoreLocation, displayLocation, openTrackingStore, type BorrowedStore, type OpenStoreOptions } from './open-store';
export { isPostgresUrl, openPostgresStore, type PostgresStoreOptions } from './postgres-store';
export { finalMetrics, loadRunDetails, loadRunView, metricCurves, type CurvePoint, type RunDetails, type RunView } from './read/run-view';
export { MIN_RUN_ID_PREFIX, findRun, resolveRun } from './read/resolve-run';
export { loadStudyArms, loadSweepRuns, type StudyArmRuns } from './read/sweep-runs';
export { isBadInputStoreError } from './bad-input';
export { HEARTBEAT_GRACE_MS, HEARTBEAT_INTERVAL_MS, heartbeatSettings, startHeartbeat, type Heartbeat } from './heartbeat';
export { MIGRATIONS, SCHEMA_VERSION, APPLICATION_ID, type Migration } from './migrations';
export {
  TrackingStoreError,
  NotASqliteDatabaseError,
  ForeignDatabaseError,
  SchemaTooNewError,
  MigrationError,
  RunNotFoundError,
  AmbiguousRunIdError,
  InvalidRunStateError,
  PointAlreadyCompletedError,
  ParamConflictError,
  InvalidArgumentError,
  StoreClosedError,
  SqliteError,
  PostgresError,
  StoreConnectError,
  MigrationConsentError,
  InvalidRunExportError,
  ImportConflictError,
  StoreWriteError,
  NoDatabaseError,
  SchemaNeedsMigrationError,
} from './errors';
