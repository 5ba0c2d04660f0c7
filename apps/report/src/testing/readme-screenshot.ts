/** Test helper: the README's screenshots of report pages, written by the browser specs on request. */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';

const README_SCREENSHOTS = path.resolve(__dirname, '../../../../docs/screenshots');

/** Writes `png` as docs/screenshots/`name`, palette-compressed to keep the repository small. */
export async function saveReadmeScreenshot(png: Buffer, name: string): Promise<void> {
  await fs.mkdir(README_SCREENSHOTS, { recursive: true });
  await sharp(png).png({ palette: true, quality: 90, compressionLevel: 9 }).toFile(path.join(README_SCREENSHOTS, name));
}
