/** Test helper: a deterministic sample of the shared flower photos, decoded as the MobileNets expect. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { sharedDir } from './shared-data';

/** The first `perClass` photos (by name) of each class, classes in name order. */
export function flowerPhotos(perClass: number): string[] {
  const root = path.join(sharedDir(), 'datasets', 'flower_photos');
  const classes = fs.readdirSync(root).filter((d) => fs.statSync(path.join(root, d)).isDirectory()).sort();
  return classes.flatMap((c) =>
    fs.readdirSync(path.join(root, c)).filter((f) => f.endsWith('.jpg')).sort().slice(0, perClass).map((f) => path.join(root, c, f)),
  );
}

/** NHWC float pixels of the photos at 224x224 (bilinear, stretched), scaled to [-1, 1] (p/127.5 - 1). */
export async function flowerPixels(files: readonly string[]): Promise<Float32Array> {
  const pixels = new Float32Array(files.length * 150528);
  await Promise.all(
    files.map(async (f, i) => {
      const rgb = await sharp(f).rotate().resize(224, 224, { fit: 'fill', kernel: 'linear' }).toColourspace('srgb').removeAlpha().raw().toBuffer();
      for (let k = 0; k < rgb.length; k++) pixels[i * 150528 + k] = rgb[k] / 127.5 - 1;
    }),
  );
  return pixels;
}

/** The arrays one after another. */
export function concatFloat32(...parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * How far feature vectors `a` are from `b`, image by image (`dim` values each): ||a - b|| / ||b||
 * (mean and worst over the images) and the smallest cosine of a and b.
 */
export function featureAgreement(a: Float32Array, b: Float32Array, dim: number): { meanRelativeL2: number; worstRelativeL2: number; minCosine: number } {
  let sum = 0;
  let worst = 0;
  let minCosine = 1;
  const n = b.length / dim;
  for (let i = 0; i < n; i++) {
    let d2 = 0;
    let b2 = 0;
    let a2 = 0;
    let dot = 0;
    for (let k = i * dim; k < (i + 1) * dim; k++) {
      d2 += (a[k] - b[k]) ** 2;
      b2 += b[k] ** 2;
      a2 += a[k] ** 2;
      dot += a[k] * b[k];
    }
    const rel = Math.sqrt(d2 / b2);
    sum += rel;
    worst = Math.max(worst, rel);
    minCosine = Math.min(minCosine, dot / Math.sqrt(b2 * a2));
  }
  return { meanRelativeL2: sum / n, worstRelativeL2: worst, minCosine };
}
