import * as path from 'node:path';
import yargs from 'yargs';
import { terminalSafe } from '@mlbench/common';
import { defaultStoreLocation, openTrackingStore } from '@mlbench/tracking';
import { EXIT, reportFailure } from './exit-codes';
import { generateReport } from './generate';

// Everything printed goes through terminalSafe: names, paths and reasons come from the store.
const out = (text: string): void => void process.stdout.write(terminalSafe(text));
const err = (text: string): void => void process.stderr.write(terminalSafe(text));

/** CLI: `report [--db file] [--out dir] [--compare runA runB ...]`. Exit 0 ok, 1 failure, 2 bad input. */
async function main(argv: readonly string[]): Promise<number> {
  const args = await yargs(argv)
    .scriptName('report')
    .usage('$0 [--db results/runs.sqlite] [--out results/report] [--compare <runA> <runB> ...]')
    .option('db', { type: 'string', default: defaultStoreLocation(), describe: 'Tracking store to read: a SQLite file or a postgresql:// URL (default: $MLBENCH_DB, else results/runs.sqlite)' })
    .option('yes', { type: 'boolean', default: false, describe: 'Migrate an older PostgreSQL tracking schema (back it up with pg_dump first)' })
    .option('out', { type: 'string', default: 'results/report', describe: 'Output folder (index.html, runs/, sweeps/, compare/, thumbs/)' })
    .option('compare', { type: 'array', string: true, describe: 'Run ids or unique prefixes to compare; the first is the baseline' })
    .strict()
    .parseAsync();
  const started = Date.now();
  const store = await openTrackingStore(args.db, { readOnly: true, allowMigration: args.yes || undefined });
  try {
    const result = await generateReport({ store, outDir: args.out, compare: args.compare?.map(String) });
    const pages = result.runPages;
    const thumbs = result.thumbnails;
    out(
      `run pages   ${pages.written} written, ${pages.unchanged} unchanged, ${pages.upToDate} up to date\n` +
        `sweep pages ${result.sweepPages.written} written, ${result.sweepPages.unchanged} unchanged\n` +
        `study pages ${result.studyPages.written} written, ${result.studyPages.unchanged} unchanged\n` +
        `leaderboards ${result.leaderboardPages.written} written, ${result.leaderboardPages.unchanged} unchanged\n` +
        `thumbnails  ${thumbs.created} created, ${thumbs.reused} reused${thumbs.missing ? `, ${thumbs.missing} originals missing (placeholders)` : ''}` +
        `${thumbs.refused ? `, ${thumbs.refused} refused (outside the dataset root or not matching the recorded sha256)` : ''}\n` +
        (result.comparisonFile ? `comparison  ${path.resolve(result.comparisonFile)}\n` : '') +
        `index       ${path.resolve(result.indexFile)}\n` +
        `done in ${((Date.now() - started) / 1000).toFixed(2)}s\n`,
    );
    for (const entry of result.skipped) err(`warning: ${entry.kind} ${JSON.stringify(entry.id)} (${entry.name}) skipped: ${entry.reason}\n`);
    return EXIT.ok;
  } finally {
    await store.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.exitCode = reportFailure(error, err);
  },
);
