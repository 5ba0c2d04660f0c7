/**
 * PostgreSQL's schema bookkeeping: the marker and version are the comment of the
 * `schema_migrations` table (transactional, like the table itself), and migrations hold an
 * advisory lock for their transaction, so concurrent openers migrate once.
 */

import type { Dialect, SchemaState, SqlExecutor, SqlTransaction } from '../database';
import { APPLICATION_ID } from '../../migrations';

const MARKER = /^mlbench tracking store: application_id=(\d+) version=(\d+)$/;

export const postgresDialect: Dialect = {
  name: 'postgres',

  async readSchemaState(ex: SqlExecutor): Promise<SchemaState> {
    const row = await ex.get<{ marker: string | null; objects: number }>(
      `SELECT obj_description(to_regclass('schema_migrations'), 'pg_class') AS marker,
              (SELECT count(*) FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'm', 'i', 'S', 'f')) AS objects`,
    );
    const match = MARKER.exec(row?.marker ?? '');
    return {
      applicationId: match ? Number(match[1]) : 0,
      version: match ? Number(match[2]) : 0,
      objectCount: row?.objects ?? 0,
    };
  },

  async lockSchema(tx: SqlTransaction): Promise<void> {
    await tx.get('SELECT pg_advisory_xact_lock(?)', [APPLICATION_ID]);
  },

  async writeSchemaVersion(tx: SqlTransaction, version: number): Promise<void> {
    if (!Number.isSafeInteger(version)) throw new Error(`schema version must be an integer, got ${version}`);
    // COMMENT takes no bound parameters; both numbers are integers checked here.
    await tx.exec(`COMMENT ON TABLE schema_migrations IS 'mlbench tracking store: application_id=${APPLICATION_ID} version=${version}'`);
  },

  // PostgreSQL enforces foreign keys on every statement: nothing to check afterwards.
  checkForeignKeys: async () => undefined,

  // The server keeps its own consistency (WAL, checksums); a store that answers a query is sound
  // as far as this code can tell.
  async checkIntegrity(ex: SqlExecutor): Promise<string[]> {
    await ex.get('SELECT 1');
    return ['ok'];
  },
};
