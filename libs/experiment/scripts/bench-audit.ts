/**
 * `npm run bench:audit`: how well the label audit recovers injected label noise on real features.
 *
 * Reads the cached features of the canonical flowers run (run it once first:
 * `npx nx run runner -- --config experiments/flowers-mobilenetv2-frozen.yaml`), flips a seeded
 * random 5% and 10% of the labels to another class (in memory only; nothing on disk changes), runs
 * the audit with the config's head and training settings, and prints precision and recall of the
 * flagged label issues against the injected flips, next to random flagging of as many images.
 * Recall counts only injected flips; images that were already mislabelled count against precision.
 *
 * Options: --config <yaml> (default the canonical one), --cache <dir> (default results/cache),
 * --rates 0.05,0.1, --seed <n> (default 1), --folds <k> (default the config's audit.folds or 5).
 */

import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import seedrandom from 'seedrandom';
import { scanDataset } from '@mlbench/data';
import { recoveryScores } from '@mlbench/metrics';
import { initBackend } from '@mlbench/model';
import { auditLabels } from '../src/audit';
import { loadConfig } from '../src/config';
import { FeatureCache } from '../src/feature-cache';

const REPO = path.resolve(__dirname, '../../..');

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : fallback;
}

class BenchError extends Error {
  override name = 'BenchError';
}

/** The feature-cache folder of this model and preprocessing that holds every image (any engine). */
async function findFeatureCache(cacheRoot: string, modelSha256: string, preprocess: unknown, shas: readonly string[]): Promise<FeatureCache> {
  const root = path.join(cacheRoot, 'features');
  const keys = await fs.readdir(root).catch(() => [] as string[]);
  for (const key of keys.sort()) {
    let parts: { modelSha256?: string; preprocess?: unknown; dim?: number };
    try {
      parts = JSON.parse(await fs.readFile(path.join(root, key, 'key.json'), 'utf8')) as typeof parts;
    } catch {
      continue;
    }
    if (parts.modelSha256 !== modelSha256 || JSON.stringify(parts.preprocess) !== JSON.stringify(preprocess) || !parts.dim) continue;
    const cache = new FeatureCache(cacheRoot, key, parts.dim);
    let complete = true;
    for (const sha of shas) if (!(await cache.has(sha))) complete = false;
    if (complete) return cache;
  }
  throw new BenchError(
    `no complete feature cache for model ${modelSha256.slice(0, 12)} under ${root}; run the experiment once first: ` +
      'npx nx run runner -- --config experiments/flowers-mobilenetv2-frozen.yaml',
  );
}

/** `count` distinct indices of 0..n-1, seeded. */
function sample(n: number, count: number, rng: () => number): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < count; i++) {
    const j = i + Math.floor(rng() * (n - i));
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order.slice(0, count);
}

const pct = (x: number): string => `${(100 * x).toFixed(1)}%`.padStart(6);

async function main(): Promise<void> {
  const configFile = path.resolve(REPO, option('config', 'experiments/flowers-mobilenetv2-frozen.yaml'));
  const cacheRoot = path.resolve(REPO, option('cache', 'results/cache'));
  const rates = option('rates', '0.05,0.1').split(',').map(Number);
  const seed = Number(option('seed', '1'));
  const { config, resolved } = await loadConfig(configFile);
  const folds = Number(option('folds', String(config.audit?.folds ?? 5)));
  const head = config.model.head;
  const extractor = resolved.model.extractor;
  if (typeof extractor === 'string' || head.type !== 'softmax') throw new BenchError(`${configFile}: the audit bench needs a frozen extractor and a softmax head`);

  await initBackend('auto');
  const scan = await scanDataset(resolved.dataset.path);
  const modelSha256 = createHash('sha256').update(await fs.readFile(extractor.source)).digest('hex');
  const cache = await findFeatureCache(cacheRoot, modelSha256, resolved.preprocess, scan.images.map((i) => i.sha256));
  const n = scan.images.length;
  const dim = cache.dim;
  const features = new Float32Array(n * dim);
  for (const [i, image] of scan.images.entries()) features.set((await cache.get(image.sha256)) as Float32Array, i * dim);
  const truth = scan.images.map((i) => i.label);
  const k = scan.classes.length;
  const options = {
    folds,
    seed: config.seed,
    head: { numClasses: k, dropout: head.dropout, l2: head.l2, optimizer: config.train.optimizer, learningRate: config.train.learningRate, epochs: config.train.epochs, batchSize: config.train.batchSize },
  };
  console.log(`bench:audit  ${n} images, ${k} classes, ${dim}-d features from ${path.relative(REPO, cache.dir)}; ${folds}-fold audit, flip seed ${seed}`);

  const clean = await auditLabels(features, dim, truth, options);
  console.log(`clean labels: ${clean.verdicts.labelIssues.length} label issues, ${clean.verdicts.noConfidentClass.length} with no confident class (${clean.seconds.toFixed(1)}s)\n`);

  const suspectOnClean = new Set(clean.verdicts.labelIssues);
  console.log('noise  flips  flagged  audit precision  recall  precision*  suggested=original   random precision  recall   seconds');
  for (const rate of rates) {
    const rng = seedrandom(`bench-audit:${rate}:${seed}`);
    const flipped = sample(n, Math.round(rate * n), rng);
    const given = [...truth];
    for (const i of flipped) given[i] = (truth[i] + 1 + Math.floor(rng() * (k - 1))) % k;
    const audit = await auditLabels(features, dim, given, options);
    const flagged = audit.verdicts.labelIssues;
    const found = recoveryScores(flagged, flipped);
    const flippedSet = new Set(flipped);
    const recovered = flagged.filter((i) => flippedSet.has(i));
    const suggestedRight = recovered.filter((i) => audit.verdicts.verdicts[i].suggestedLabel === truth[i]).length;
    // precision*: leaving out images the audit already flags on the clean labels (likely real label errors).
    const fresh = flagged.filter((i) => flippedSet.has(i) || !suspectOnClean.has(i));
    const adjusted = recoveryScores(fresh, flipped);
    const random = recoveryScores(sample(n, flagged.length, seedrandom(`bench-audit:random:${rate}:${seed}`)), flipped);
    console.log(
      `${pct(rate)} ${String(flipped.length).padStart(6)} ${String(flagged.length).padStart(8)}  ${pct(found.precision).padStart(15)} ${pct(found.recall)}  ${pct(adjusted.precision).padStart(10)}  ${`${suggestedRight}/${recovered.length}`.padStart(18)}   ${pct(random.precision).padStart(16)} ${pct(random.recall)}   ${audit.seconds.toFixed(1).padStart(7)}`,
    );
  }
  console.log(
    '\nprecision = injected flips among flagged label issues; recall = flagged among injected flips;\n' +
      'precision* = the same without the images already flagged on the clean labels (suspected real label errors);\n' +
      'suggested=original: recovered flips whose suggested label is the label before the flip; random = as many images drawn at random (seeded).',
  );
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? `${error.name}: ${error.message}` : String(error));
  process.exit(1);
});
