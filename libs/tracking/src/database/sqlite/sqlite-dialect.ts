/**
 * SQLite's schema bookkeeping lives in the file header: `PRAGMA user_version` is the schema
 * version and `PRAGMA application_id` marks the file as ours (SQLite's own mechanism for exactly
 * this, also shown by the `file` command). Both are written inside each migration's transaction.
 */

import type { Dialect, SchemaState, SqlExecutor, SqlTransaction } from '../database';
import { APPLICATION_ID } from '../../migrations';

export const sqliteDialect: Dialect = {
  name: 'sqlite',

  async readSchemaState(ex: SqlExecutor): Promise<SchemaState> {
    const row = await ex.get<SchemaState>(
      `SELECT (SELECT application_id FROM pragma_application_id) AS applicationId,
              (SELECT user_version FROM pragma_user_version) AS version,
              (SELECT count(*) FROM sqlite_master WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\') AS objectCount`,
    );
    return row ?? { applicationId: 0, version: 0, objectCount: 0 };
  },

  // BEGIN IMMEDIATE took the database's write lock: no other connection migrates meanwhile.
  lockSchema: async () => undefined,

  async writeSchemaVersion(tx: SqlTransaction, version: number, creating: boolean): Promise<void> {
    if (!Number.isSafeInteger(version)) throw new Error(`schema version must be an integer, got ${version}`);
    // PRAGMA takes no bound parameters; both values are integers checked here.
    if (creating) await tx.exec(`PRAGMA application_id = ${APPLICATION_ID}`);
    await tx.exec(`PRAGMA user_version = ${version}`);
  },

  async checkForeignKeys(tx: SqlTransaction): Promise<void> {
    const violations = await tx.all<Record<string, unknown>>('PRAGMA foreign_key_check');
    if (violations.length > 0) throw new Error(`foreign key violations after migration: ${JSON.stringify(violations.slice(0, 5))}`);
  },

  async checkIntegrity(ex: SqlExecutor): Promise<string[]> {
    const rows = await ex.all<{ integrity_check: string }>('PRAGMA integrity_check');
    return rows.map((r) => r.integrity_check);
  },
};
