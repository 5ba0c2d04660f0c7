/** What every part of the benchmark shares: paths, the workload, medians and the timed loops. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { imageBatches } from '@mlbench/data';
import { defaultThreads, type FeatureExtractor } from '@mlbench/model';

export const ROOT = path.resolve(__dirname, '..', '..');
export const SHARED = path.resolve(process.env['MLBENCH_SHARED_DIR'] ?? path.join(ROOT, '..', 'shared'));
export const MODEL = path.join(SHARED, 'models/mobilenet_v2_1.0_224_quant/mobilenet_v2_1.0_224_quant.tflite');
export const PHOTOS = path.join(SHARED, 'datasets/flower_photos');
export const CONFIG = path.join(ROOT, 'experiments/flowers-mobilenetv2-frozen.yaml');
export const GFLOP_PER_IMAGE = 0.6;
export const BATCH = 32;
export const PREPROCESS = { width: 224, height: 224, resize: 'bilinear', fit: 'fill', scaling: 'minus_one_to_one' } as const;

export type Engine = 'onnx' | 'onnx-int8' | 'tfjs';

/** What loadExtractor is given for a bench engine name. */
export function engineOptions(engine: Engine): { engine: 'onnx' | 'tfjs'; precision?: 'int8' } {
  return engine === 'onnx-int8' ? { engine: 'onnx', precision: 'int8' } : { engine };
}

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
export const round = (x: number, d = 1): number => Math.round(x * 10 ** d) / 10 ** d;

export async function timeRepeated(repeats: number, run: () => Promise<number>): Promise<{ median: number; runs: number[] }> {
  const runs: number[] = [];
  for (let i = 0; i < repeats; i++) runs.push(await run());
  return { median: median(runs), runs: runs.map((r) => round(r)) };
}

/** A deterministic sample: the first n/5 photos (by name) of each class. */
export function samplePhotos(n: number): { absPath: string }[] {
  const classes = fs.readdirSync(PHOTOS).filter((d) => fs.statSync(path.join(PHOTOS, d)).isDirectory()).sort();
  const per = Math.ceil(n / classes.length);
  return classes
    .flatMap((c) => fs.readdirSync(path.join(PHOTOS, c)).filter((f) => f.endsWith('.jpg')).sort().slice(0, per).map((f) => ({ absPath: path.join(PHOTOS, c, f) })))
    .slice(0, n);
}

export async function decodeRate(items: { absPath: string }[], prefetch: number): Promise<number> {
  const start = performance.now();
  for await (const batch of imageBatches(items, PREPROCESS, BATCH, prefetch)) void batch;
  return items.length / ((performance.now() - start) / 1000);
}

export async function inferenceRate(ex: FeatureExtractor, batches: number): Promise<number> {
  const pixels = Float32Array.from({ length: BATCH * 224 * 224 * 3 }, (_, i) => ((i * 7919) % 255) / 127.5 - 1);
  await ex.extract(pixels, BATCH); // warm-up
  const start = performance.now();
  for (let i = 0; i < batches; i++) await ex.extract(pixels, BATCH);
  return (batches * BATCH) / ((performance.now() - start) / 1000);
}

export async function wholeRate(ex: FeatureExtractor, items: { absPath: string }[], prefetch: number, keep?: Float32Array[]): Promise<number> {
  const start = performance.now();
  for await (const batch of imageBatches(items, PREPROCESS, BATCH, prefetch)) {
    const features = await ex.extract(batch.pixels, batch.items.length);
    keep?.push(features);
  }
  return items.length / ((performance.now() - start) / 1000);
}

/** Milliseconds of this process's CPU time (all threads, incl. sharp's) per image while `run` runs. */
export async function cpuMsPerImage(images: number, run: () => Promise<unknown>): Promise<number> {
  const before = process.cpuUsage();
  await run();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000 / images;
}

export function cpuInfo(): { model: string; cores: number; mhz: number | null; flags: string[] } {
  const text = fs.existsSync('/proc/cpuinfo') ? fs.readFileSync('/proc/cpuinfo', 'utf8') : '';
  const flags = (/^flags\s*:\s*(.*)$/m.exec(text)?.[1] ?? '').split(' ').filter((f) => ['avx2', 'fma', 'avx512f', 'avx512_vnni', 'avx_vnni'].includes(f));
  const mhz = /^cpu MHz\s*:\s*([\d.]+)/m.exec(text);
  return { model: os.cpus()[0]?.model ?? 'unknown', cores: defaultThreads(), mhz: mhz ? Number(mhz[1]) : null, flags };
}
