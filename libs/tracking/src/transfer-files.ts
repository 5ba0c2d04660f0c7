/** File-level run transfer behind `runs export` and `runs import`. */

import { promises as fs } from 'node:fs';
import { writeFileAtomic } from '@mlbench/common';
import { InvalidRunExportError } from './errors';
import { RUN_EXPORT_LIMITS } from './run-export-checks';
import { openTrackingStore } from './open-store';
import { resolveRun } from './read/resolve-run';
import { parseRunExport, serializeRunExport, type ImportResult, type RunExport } from './transfer';

/**
 * `runs export`: the run (id or unique prefix) as export JSON text; also written (atomically) to
 * `outFile` when given.
 */
export async function exportRunFile(options: { dbPath: string; runId: string; outFile?: string }): Promise<{ text: string; data: RunExport }> {
  const store = await openTrackingStore(options.dbPath, { readOnly: true });
  try {
    const data = await store.exportRun((await resolveRun(store, options.runId)).id);
    const text = serializeRunExport(data);
    if (options.outFile) await writeFileAtomic(options.outFile, text);
    return { text, data };
  } finally {
    await store.close();
  }
}

/** `runs import`: reads, validates and imports one export file. Idempotent. */
export async function importRunFile(options: { dbPath: string; file: string }): Promise<ImportResult & { name: string }> {
  let text: string;
  try {
    // A regular file of bounded size: never /dev/zero or a FIFO, never gigabytes into memory.
    const info = await fs.stat(options.file);
    if (!info.isFile()) throw new InvalidRunExportError(options.file, 'not a regular file');
    if (info.size > RUN_EXPORT_LIMITS.fileBytes) {
      throw new InvalidRunExportError(options.file, `${info.size} bytes, more than the ${RUN_EXPORT_LIMITS.fileBytes} bytes an export may have`);
    }
    text = await fs.readFile(options.file, 'utf8');
  } catch (error) {
    if (error instanceof InvalidRunExportError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new InvalidRunExportError(options.file, code === 'ENOENT' ? 'the file does not exist' : `cannot read it (${code})`);
  }
  const data = parseRunExport(text, options.file);
  const store = await openTrackingStore(options.dbPath);
  try {
    return { ...(await store.importRun(data)), name: data.run.name };
  } finally {
    await store.close();
  }
}
