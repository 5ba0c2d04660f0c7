/** Test helper: the README's screenshots of report pages, written by the browser specs on request. */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import type { TrackingStore } from '@mlbench/tracking';
import { withStore } from '@mlbench/tracking/src/testing';
import { generateReport } from '../generate';

const README_SCREENSHOTS = path.resolve(__dirname, '../../../../docs/screenshots');

/** Writes `png` as docs/screenshots/`name`, palette-compressed to keep the repository small. */
export async function saveReadmeScreenshot(png: Buffer, name: string): Promise<void> {
  await fs.mkdir(README_SCREENSHOTS, { recursive: true });
  await sharp(png).png({ palette: true, quality: 90, compressionLevel: 9 }).toFile(path.join(README_SCREENSHOTS, name));
}

/** Generates the report of the README database `db` into `outDir`; returns the id `pick` chooses in it (the newest sweep, study, ...). */
export function readmeReport(db: string, outDir: string, pick: (store: TrackingStore) => Promise<string>): Promise<string> {
  return withStore(db, async (store) => {
    const id = await pick(store);
    await generateReport({ store, outDir });
    return id;
  });
}
