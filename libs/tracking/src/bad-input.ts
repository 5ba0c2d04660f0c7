import {
  AmbiguousRunIdError,
  ForeignDatabaseError,
  ImportConflictError,
  InvalidRunExportError,
  InvalidRunStateError,
  NoDatabaseError,
  NotASqliteDatabaseError,
  RunNotFoundError,
  SchemaNeedsMigrationError,
  SchemaTooNewError,
} from './errors';

/**
 * Store errors caused by what the user gave (a run id, an export file, a database that is not a
 * tracking store of this version), as opposed to failures of the store itself (disk full, a broken
 * file). Both apps map the first to exit 2 (bad input) and the rest to exit 1, through this.
 */
export function isBadInputStoreError(error: unknown): boolean {
  return (
    error instanceof RunNotFoundError ||
    error instanceof AmbiguousRunIdError ||
    error instanceof InvalidRunExportError ||
    error instanceof ImportConflictError ||
    error instanceof InvalidRunStateError ||
    error instanceof NotASqliteDatabaseError ||
    error instanceof ForeignDatabaseError ||
    error instanceof SchemaTooNewError ||
    error instanceof SchemaNeedsMigrationError ||
    error instanceof NoDatabaseError
  );
}
