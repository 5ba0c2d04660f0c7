import type { SqlTransaction } from './database/database';

/** One numbered schema migration, its SQLite text and, where it differs, its PostgreSQL text. */
export interface Migration {
  version: number;
  name: string;
  /** SQLite text. */
  sql: string;
  /** PostgreSQL text of the same migration (see migrations-postgres.ts). */
  postgres?: string;
  /** Moves existing rows, after `sql` and inside the same transaction (both engines). */
  data?: (tx: SqlTransaction) => Promise<void>;
  /** Runs after `data` (both engines: the SQL common to them, unless `postgresAfter` is given). */
  after?: string;
  /** PostgreSQL text of `after`, where it differs (see migrations-postgres.ts). */
  postgresAfter?: string;
}
