/** Public entry of @mlbench/tracking: entities, the abstract store, the SQLite store, typed errors. */

export type * from './entities';
export type { TrackingStore } from './store';
export { openSqliteStore, type SqliteStoreOptions } from './sqlite-store';
export { MIGRATIONS, SCHEMA_VERSION, APPLICATION_ID, type Migration } from './migrations';
export {
  TrackingStoreError,
  NotASqliteDatabaseError,
  ForeignDatabaseError,
  SchemaTooNewError,
  MigrationError,
  RunNotFoundError,
  InvalidRunStateError,
  ParamConflictError,
  InvalidArgumentError,
  StoreClosedError,
  SqliteError,
} from './errors';
