/**
 * Feature-extraction benchmark on this machine (a script, not a test):
 *
 *   npm run bench [-- --repeats 3 --images 640 --engines onnx,onnx-int8,tfjs --prefetch 1 --no-canonical --canonical-repeats 1 --no-torch]
 *
 * Prints medians over `--repeats` runs of: images/s of decode+resize alone, of inference alone and
 * of the whole extraction (decode + resize + inference, the pipeline's `imageBatches` feeding
 * `extract`) per engine (for tfjs on WebAssembly: its worker pool, and inference on one thread for
 * comparison); the cold (empty feature cache) and warm wall time and peak RSS of the
 * canonical experiment run as a child process; and the fraction of the machine's arithmetic peak
 * that inference reaches. The peak is measured, not assumed: a 1024x1024x1024 float32 MatMul in
 * ONNX Runtime (MLAS) with one thread per core, 2*n^3 FLOP per product; MobileNetV2 at 224x224 is
 * counted as 0.6 GFLOP per image (300 M multiply-adds). With Debian's python3-torch and
 * python3-torchvision installed it also times torchvision's MobileNetV2 (same architecture,
 * random weights: speed does not depend on them) and reports the ratio. Writes everything as
 * JSON to results/bench/bench-<timestamp>.json and results/bench/latest.json.
 *
 * `onnx-int8` is the ONNX engine with `precision: int8` (the quantized graph on ORT's integer
 * kernels). With both `onnx` and `onnx-int8`, int8 and float32 inference and whole extraction are
 * also timed alternately, run by run, so their speed-ups compare figures taken under the same load,
 * and their CPU time per image is measured on one thread (inference counts the warm-up batch too),
 * which background load on a shared machine distorts much less than wall time. It also prints how
 * far int8 features are from float32 ones on the sampled photos.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { DEFAULT_PREFETCH, imageBatches, scanDataset } from '@mlbench/data';
import { FeatureCache } from '@mlbench/experiment/src/feature-cache';
import { finalMetrics, openSqliteStore } from '@mlbench/tracking';
import {
  defaultThreads,
  encodeOnnxModel,
  int8KernelIsa,
  initBackend,
  loadExtractor,
  loadOnnxRuntime,
  type FeatureExtractor,
} from '@mlbench/model';

const ROOT = path.resolve(__dirname, '..');
const SHARED = path.resolve(process.env['MLBENCH_SHARED_DIR'] ?? path.join(ROOT, '..', 'shared'));
const MODEL = path.join(SHARED, 'models/mobilenet_v2_1.0_224_quant/mobilenet_v2_1.0_224_quant.tflite');
const PHOTOS = path.join(SHARED, 'datasets/flower_photos');
const CONFIG = path.join(ROOT, 'experiments/flowers-mobilenetv2-frozen.yaml');
const GFLOP_PER_IMAGE = 0.6;
const BATCH = 32;
const PREPROCESS = { width: 224, height: 224, resize: 'bilinear', fit: 'fill', scaling: 'minus_one_to_one' } as const;

type Engine = 'onnx' | 'onnx-int8' | 'tfjs';

/** What loadExtractor is given for a bench engine name. */
function engineOptions(engine: Engine): { engine: 'onnx' | 'tfjs'; precision?: 'int8' } {
  return engine === 'onnx-int8' ? { engine: 'onnx', precision: 'int8' } : { engine };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const round = (x: number, d = 1): number => Math.round(x * 10 ** d) / 10 ** d;

async function timeRepeated(repeats: number, run: () => Promise<number>): Promise<{ median: number; runs: number[] }> {
  const runs: number[] = [];
  for (let i = 0; i < repeats; i++) runs.push(await run());
  return { median: median(runs), runs: runs.map((r) => round(r)) };
}

/** A deterministic sample: the first n/5 photos (by name) of each class. */
function samplePhotos(n: number): { absPath: string }[] {
  const classes = fs.readdirSync(PHOTOS).filter((d) => fs.statSync(path.join(PHOTOS, d)).isDirectory()).sort();
  const per = Math.ceil(n / classes.length);
  return classes
    .flatMap((c) => fs.readdirSync(path.join(PHOTOS, c)).filter((f) => f.endsWith('.jpg')).sort().slice(0, per).map((f) => ({ absPath: path.join(PHOTOS, c, f) })))
    .slice(0, n);
}

async function decodeRate(items: { absPath: string }[], prefetch: number): Promise<number> {
  const start = performance.now();
  for await (const batch of imageBatches(items, PREPROCESS, BATCH, prefetch)) void batch;
  return items.length / ((performance.now() - start) / 1000);
}

async function inferenceRate(ex: FeatureExtractor, batches: number): Promise<number> {
  const pixels = Float32Array.from({ length: BATCH * 224 * 224 * 3 }, (_, i) => ((i * 7919) % 255) / 127.5 - 1);
  await ex.extract(pixels, BATCH); // warm-up
  const start = performance.now();
  for (let i = 0; i < batches; i++) await ex.extract(pixels, BATCH);
  return (batches * BATCH) / ((performance.now() - start) / 1000);
}

async function wholeRate(ex: FeatureExtractor, items: { absPath: string }[], prefetch: number, keep?: Float32Array[]): Promise<number> {
  const start = performance.now();
  for await (const batch of imageBatches(items, PREPROCESS, BATCH, prefetch)) {
    const features = await ex.extract(batch.pixels, batch.items.length);
    keep?.push(features);
  }
  return items.length / ((performance.now() - start) / 1000);
}

/** FLOP/s of a float32 n x n x n MatMul in ONNX Runtime, the best of a few runs. */
async function gemmPeak(threads: number): Promise<number> {
  const ort = loadOnnxRuntime();
  const n = 1024;
  const dims = [{ dim_value: n }, { dim_value: n }];
  const info = (name: string) => ({ name, type: { tensor_type: { elem_type: 1, shape: { dim: dims } } } });
  const bytes = encodeOnnxModel({
    ir_version: 7,
    opset_import: [{ domain: '', version: 13 }],
    producer_name: 'mlbench-bench',
    producer_version: '1',
    graph: { name: 'gemm', node: [{ name: 'mm', op_type: 'MatMul', input: ['a', 'b'], output: ['c'] }], initializer: [], input: [info('a'), info('b')], output: [info('c')] },
  });
  const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: threads, interOpNumThreads: 1 });
  const a = new ort.Tensor('float32', Float32Array.from({ length: n * n }, (_, i) => (i % 13) / 13), [n, n]);
  const b = new ort.Tensor('float32', Float32Array.from({ length: n * n }, (_, i) => (i % 7) / 7), [n, n]);
  let best = Infinity;
  for (let i = 0; i < 12; i++) {
    const t = performance.now();
    await session.run({ a, b });
    best = Math.min(best, performance.now() - t);
  }
  await session.release();
  return (2 * n ** 3) / (best / 1000);
}

interface CanonicalRun {
  seconds: number;
  peakRssMb: number | null;
  extractPerSecond: number | null;
  testAccuracy: number | null;
  /** Recorded timings of the run (seconds): extraction, head training, label audit. */
  timings: { extraction: number | null; train: number | null; audit: number | null };
}

/**
 * Runs the canonical experiment as a child process: wall seconds and peak RSS (GNU time when
 * present). `via: 'node'` starts what the runner's nx target runs (`node --import tsx main.ts`);
 * `via: 'nx'` the README's command (`npx nx run runner -- --config ...`).
 */
async function canonicalRun(dbFile: string, cacheDir: string, engine: Engine | 'auto', via: 'node' | 'nx' = 'node'): Promise<CanonicalRun> {
  let config = CONFIG;
  if (engine !== 'auto') {
    // A temporary copy with the engine set; the shared paths made absolute so it can live in tmp.
    config = path.join(path.dirname(dbFile), `canonical-${engine}.yaml`);
    const text = fs.readFileSync(CONFIG, 'utf8').replaceAll('../../shared/', `${SHARED}/`);
    const { engine: name, precision } = engineOptions(engine);
    fs.writeFileSync(config, text.replace(/\n    batchSize: 32/, `$&\n    engine: ${name}${precision ? `\n    precision: ${precision}` : ''}`));
  }
  try {
    const hasTime = fs.existsSync('/usr/bin/time');
    const runnerArgs = ['--config', config, '--db', dbFile, '--cache-dir', cacheDir];
    const [command, ...args] =
      via === 'nx'
        ? ['npx', 'nx', 'run', 'runner', '--', ...runnerArgs]
        : [process.execPath, '--import', 'tsx', path.join(ROOT, 'apps/runner/src/main.ts'), ...runnerArgs];
    const start = performance.now();
    const r = hasTime
      ? spawnSync('/usr/bin/time', ['-f', 'maxrss_kb=%M', command, ...args], { cwd: ROOT, encoding: 'utf8' })
      : spawnSync(command, args, { cwd: ROOT, encoding: 'utf8' });
    const seconds = (performance.now() - start) / 1000;
    if (r.status !== 0) throw new Error(`canonical run failed (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
    const rss = /maxrss_kb=(\d+)/.exec(r.stderr ?? '');
    const rate = /\(([\d.]+) images\/s\)/.exec(r.stdout);
    // "test accuracy 88.84%  (653/735)": the exact fraction when printed.
    const acc = /test accuracy ([\d.]+)%(?:\s+\((\d+)\/(\d+)\))?/.exec(r.stdout);
    const testAccuracy = acc ? (acc[2] ? Number(acc[2]) / Number(acc[3]) : Number(acc[1]) / 100) : null;
    return { seconds, peakRssMb: rss ? Number(rss[1]) / 1024 : null, extractPerSecond: rate ? Number(rate[1]) : null, testAccuracy, timings: await recordedTimings(dbFile) };
  } finally {
    if (config !== CONFIG) fs.rmSync(config, { force: true });
  }
}

/** time.extraction_seconds, time.train_seconds and audit.seconds of the newest run in `dbFile`. */
async function recordedTimings(dbFile: string): Promise<CanonicalRun['timings']> {
  const store = await openSqliteStore(dbFile);
  try {
    const [newest] = await store.searchRuns();
    const m = finalMetrics(await store.getMetrics(newest.id));
    return { extraction: m['time.extraction_seconds'] ?? null, train: m['time.train_seconds'] ?? null, audit: m['audit.seconds'] ?? null };
  } finally {
    await store.close();
  }
}

/** Wall seconds of a child process (its output discarded). */
function wallSeconds(command: string, args: string[]): number {
  const start = performance.now();
  const r = spawnSync(command, args, { cwd: ROOT, stdio: 'ignore' });
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (exit ${r.status})`);
  return (performance.now() - start) / 1000;
}

/**
 * Where the warm canonical command's seconds go, each part measured in this run: process start
 * (`node -e 0`), nx (the nx command minus the same run started directly), module loading and
 * transpilation (`main.ts --help` minus process start), scanning and hashing the photos and reading
 * every cached feature vector (timed here, in-process, on the same cache), the audit's folds and the
 * head training (recorded by the run), and the rest (split, evaluation, bootstrap, the store).
 */
async function warmBreakdown(direct: CanonicalRun, nx: CanonicalRun, cacheDir: string): Promise<Record<string, number>> {
  const processStart = median([0, 1, 2].map(() => wallSeconds(process.execPath, ['-e', '0'])));
  const startup = median([0, 1, 2].map(() => wallSeconds(process.execPath, ['--import', 'tsx', path.join(ROOT, 'apps/runner/src/main.ts'), '--help'])));
  let t = performance.now();
  const scan = await scanDataset(PHOTOS);
  const scanSeconds = (performance.now() - t) / 1000;
  const [key] = fs.readdirSync(path.join(cacheDir, 'features'));
  const dim = JSON.parse(fs.readFileSync(path.join(cacheDir, 'features', key, 'key.json'), 'utf8')).dim as number;
  t = performance.now();
  const read = await new FeatureCache(cacheDir, key, dim).getMany(scan.images.map((i) => i.sha256));
  const readSeconds = (performance.now() - t) / 1000;
  if (read.some((v) => v === null)) throw new Error(`warm breakdown: ${cacheDir} does not hold every feature vector`);
  const parts = {
    total: nx.seconds,
    processStart,
    nx: Math.max(0, nx.seconds - direct.seconds),
    modules: Math.max(0, startup - processStart),
    scan: scanSeconds,
    cacheRead: readSeconds,
    audit: direct.timings.audit ?? 0,
    train: direct.timings.train ?? 0,
  };
  const rest = direct.seconds - parts.processStart - parts.modules - parts.scan - parts.cacheRead - parts.audit - parts.train;
  return Object.fromEntries(Object.entries({ ...parts, rest }).map(([k, v]) => [k, round(v, 2)]));
}

const TORCH_SCRIPT = `
import sys, time, torch, torchvision
torch.set_num_threads(int(sys.argv[1])); batch = int(sys.argv[2]); repeats = int(sys.argv[3])
m = torchvision.models.mobilenet_v2(weights=None).eval()
x = torch.rand(batch, 3, 224, 224)
rates = []
with torch.inference_mode():
    m(x)
    for _ in range(repeats):
        t = time.perf_counter(); m(x); m(x); rates.append(2 * batch / (time.perf_counter() - t))
rates.sort(); print(torch.__version__, rates[len(rates) // 2])
`;

function torchBaseline(threads: number, repeats: number): { version: string; imagesPerSecond: number } | { skipped: string } {
  const python = fs.existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
  const probe = spawnSync(python, ['-c', 'import torch, torchvision'], { encoding: 'utf8' });
  if (probe.status !== 0) return { skipped: `python3-torch/python3-torchvision not importable by ${python} (apt-get install -y python3-torch python3-torchvision)` };
  const out = execFileSync(python, ['-c', TORCH_SCRIPT, String(threads), String(BATCH), String(Math.max(3, repeats))], { encoding: 'utf8' }).trim().split(/\s+/);
  return { version: out[0], imagesPerSecond: Number(out[1]) };
}

function cpuInfo(): { model: string; cores: number; mhz: number | null; flags: string[] } {
  const text = fs.existsSync('/proc/cpuinfo') ? fs.readFileSync('/proc/cpuinfo', 'utf8') : '';
  const flags = (/^flags\s*:\s*(.*)$/m.exec(text)?.[1] ?? '').split(' ').filter((f) => ['avx2', 'fma', 'avx512f', 'avx512_vnni', 'avx_vnni'].includes(f));
  const mhz = /^cpu MHz\s*:\s*([\d.]+)/m.exec(text);
  return { model: os.cpus()[0]?.model ?? 'unknown', cores: defaultThreads(), mhz: mhz ? Number(mhz[1]) : null, flags };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      repeats: { type: 'string', default: '3' },
      images: { type: 'string', default: '640' },
      batches: { type: 'string', default: '10' },
      engines: { type: 'string', default: 'onnx,onnx-int8,tfjs' },
      'no-canonical': { type: 'boolean', default: false },
      'canonical-repeats': { type: 'string' },
      'no-torch': { type: 'boolean', default: false },
      prefetch: { type: 'string', default: String(DEFAULT_PREFETCH) },
      out: { type: 'string', default: path.join(ROOT, 'results/bench') },
    },
  });
  const repeats = Number(values.repeats);
  const prefetch = Number(values.prefetch);
  const engines = values.engines.split(',') as Engine[];
  const threads = defaultThreads();
  const cpu = cpuInfo();
  const items = samplePhotos(Number(values.images));
  const log = (line: string): void => console.log(line);
  log(`machine    ${cpu.model}, ${cpu.cores} cores${cpu.mhz ? ` @ ${cpu.mhz} MHz` : ''}, ${cpu.flags.join(' ')}; node ${process.version}`);
  const loadBefore = os.loadavg()[0];
  // Figures are only meaningful on an otherwise idle machine: say so when it is not.
  if (loadBefore > cpu.cores * 0.5) log(`warning    load average ${round(loadBefore, 2)} on ${cpu.cores} cores: other processes are competing; figures will be low`);
  log(`workload   MobileNetV2 1.0/224 (${GFLOP_PER_IMAGE} GFLOP/image), batch ${BATCH}, ${items.length} flower photos, medians of ${repeats} runs`);

  await initBackend('auto');
  const decode = await timeRepeated(repeats, () => decodeRate(items, prefetch));
  log(
    `decode     ${round(decode.median)} images/s  (sharp decode + resize + scale, ${os.availableParallelism()} cores, ` +
      `UV_THREADPOOL_SIZE ${process.env['UV_THREADPOOL_SIZE'] ?? 4}, sharp.concurrency ${sharp.concurrency()}, ${prefetch} batch(es) decoded ahead)`,
  );

  const perEngine: Record<string, unknown> = {};
  let onnxInference: number | null = null;
  for (const engine of engines) {
    const ex = await loadExtractor({ source: MODEL, ...engineOptions(engine), threads });
    const d = ex.description;
    const inference = await timeRepeated(repeats, () => inferenceRate(ex, Number(values.batches)));
    const whole = await timeRepeated(repeats, () => wholeRate(ex, items, prefetch));
    if (engine === 'onnx') onnxInference = inference.median;
    const entry: Record<string, unknown> = { engine: d.engine, precision: d.precision ?? 'float32', backend: d.backend, version: d.engineVersion, threads: d.threads ?? null, inference, whole };
    const pool = d.engine === 'tfjs' && d.backend === 'wasm' && (d.threads ?? 1) > 1 ? ` (${d.threads} worker threads)` : '';
    log(`${engine.padEnd(10)} ${d.engine} ${d.engineVersion} ${d.backend}${d.precision === 'int8' ? ' int8' : ''}, threads ${d.threads ?? '?'}${pool}: inference ${round(inference.median)} images/s, whole extraction ${round(whole.median)} images/s`);
    // Decoding and inference share the cores: the best a pipeline can do is both rates combined.
    const limit = 1 / (1 / decode.median + 1 / inference.median);
    entry['combinedLimit'] = round(limit);
    entry['wholeOverLimit'] = round(whole.median / limit, 3);
    log(`${''.padEnd(10)} whole extraction / combined limit 1/(1/${round(decode.median)} + 1/${round(inference.median)}) = ${round(whole.median)} / ${round(limit)} = ${round((100 * whole.median) / limit)}% (target >= 90%)`);
    ex.dispose();
    if (pool) {
      // The same WebAssembly engine on the main thread alone, to show what the worker pool buys.
      const one = await loadExtractor({ source: MODEL, ...engineOptions(engine), workers: 1 });
      const oneInference = await timeRepeated(repeats, () => inferenceRate(one, Number(values.batches)));
      one.dispose();
      entry['singleThreadInference'] = oneInference;
      log(`${''.padEnd(10)} same engine on 1 thread (workers: 1): inference ${round(oneInference.median)} images/s; pool speed-up ${round(inference.median / oneInference.median, 2)}x`);
    }
    perEngine[engine] = entry;
  }

  const int8 = engines.includes('onnx') && engines.includes('onnx-int8') ? await int8VersusFloat(items, prefetch, repeats, Number(values.batches), threads, log) : null;

  const peakFlops = engines.includes('onnx') ? await gemmPeak(threads) : null;
  const fraction = peakFlops && onnxInference ? (onnxInference * GFLOP_PER_IMAGE * 1e9) / peakFlops : null;
  if (peakFlops) {
    log(`peak       ${round(peakFlops / 1e9)} GFLOP/s measured (1024^3 float32 MatMul, ORT, ${threads} threads) = ${round(peakFlops / 1e9 / GFLOP_PER_IMAGE)} images/s arithmetic limit`);
    if (fraction !== null) log(`           onnx inference reaches ${round(fraction * 100)}% of it (${round((onnxInference! * GFLOP_PER_IMAGE))} GFLOP/s)`);
  }

  let torch: ReturnType<typeof torchBaseline> | null = null;
  if (!values['no-torch']) {
    torch = torchBaseline(threads, repeats);
    if ('skipped' in torch) log(`pytorch    skipped: ${torch.skipped}`);
    else log(`pytorch    ${torch.version}, ${threads} threads: ${round(torch.imagesPerSecond)} images/s inference; onnx/pytorch ${onnxInference ? round(onnxInference / torch.imagesPerSecond, 2) : '?'}x`);
  }

  let canonical: Record<string, unknown> | null = null;
  if (!values['no-canonical']) {
    canonical = {};
    for (const engine of engines) {
      const cold: CanonicalRun[] = [];
      const warm: CanonicalRun[] = [];
      const warmNx: CanonicalRun[] = [];
      let breakdown: Record<string, number> | null = null;
      for (let i = 0; i < Number(values['canonical-repeats'] ?? repeats); i++) {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-canonical-'));
        try {
          const db = path.join(dir, 'runs.sqlite');
          const cache = path.join(dir, 'cache');
          cold.push(await canonicalRun(db, cache, engine));
          warm.push(await canonicalRun(db, cache, engine));
          warmNx.push(await canonicalRun(db, cache, engine, 'nx'));
          if (i === 0) breakdown = await warmBreakdown(warm[0], warmNx[0], cache);
        } finally {
          fs.rmSync(dir, { recursive: true, force: true });
        }
      }
      // The cold run against its own extraction, training and audit (recorded by that run).
      const coldRatios = cold.map((r) => r.seconds / ((r.timings.extraction ?? 0) + (r.timings.train ?? 0) + (r.timings.audit ?? 0)));
      const summary = {
        coldSeconds: round(median(cold.map((r) => r.seconds))),
        coldOverWork: round(median(coldRatios), 3),
        warmSeconds: round(median(warm.map((r) => r.seconds))),
        warmNxSeconds: round(median(warmNx.map((r) => r.seconds))),
        warmBreakdown: breakdown,
        coldExtractImagesPerSecond: round(median(cold.map((r) => r.extractPerSecond ?? 0))),
        peakRssMb: round(Math.max(...[...cold, ...warm].map((r) => r.peakRssMb ?? 0))),
        testAccuracy: cold[0].testAccuracy,
        runs: { cold, warm, warmNx },
      };
      canonical[engine] = summary;
      log(
        `canonical  ${engine}: cold ${summary.coldSeconds} s (extraction ${summary.coldExtractImagesPerSecond} images/s), warm ${summary.warmSeconds} s, ` +
          `peak RSS ${summary.peakRssMb} MB, test accuracy ${summary.testAccuracy === null ? "-" : `${(100 * summary.testAccuracy).toFixed(2)}% (${summary.testAccuracy})`}`,
      );
      const c = cold[0].timings;
      log(
        `           cold run / (its extraction + training + audit) = ${summary.coldOverWork}x (target <= 1.2x; first run: ${round(cold[0].seconds)} s / ` +
          `(${round(c.extraction ?? 0)} + ${round(c.train ?? 0)} + ${round(c.audit ?? 0)}) s)`,
      );
      if (breakdown) {
        const b = breakdown;
        log(
          `           warm \`npx nx run runner -- --config ...\` ${summary.warmNxSeconds} s (target < 6 s idle); first: ${b.total} s = process start ${b.processStart} + nx ${b.nx} + ` +
            `modules/transpile ${b.modules} + scan/hash ${b.scan} + cache read ${b.cacheRead} + audit ${b.audit} + training ${b.train} + rest ${b.rest}`,
        );
      }
    }
  }
  const benchRssMb = process.resourceUsage().maxRSS / 1024;
  log(`bench      peak RSS of this process ${round(benchRssMb)} MB`);

  const report = {
    date: new Date().toISOString(),
    machine: { ...cpu, node: process.version, uvThreadpoolSize: Number(process.env['UV_THREADPOOL_SIZE'] ?? 4), sharpConcurrency: sharp.concurrency(), decodePrefetch: prefetch, loadAverageBefore: round(loadBefore, 2), loadAverageAfter: round(os.loadavg()[0], 2) },
    workload: { model: path.relative(ROOT, MODEL), gflopPerImage: GFLOP_PER_IMAGE, batch: BATCH, images: items.length, repeats },
    decode,
    engines: perEngine,
    int8,
    peak: peakFlops ? { method: 'float32 1024^3 MatMul in ONNX Runtime (MLAS), best of 12, one thread per core', gflops: round(peakFlops / 1e9), imagesPerSecondLimit: round(peakFlops / 1e9 / GFLOP_PER_IMAGE), onnxInferenceFraction: fraction === null ? null : round(fraction, 3) } : null,
    pytorch: torch,
    canonical,
    benchPeakRssMb: round(benchRssMb),
  };
  fs.mkdirSync(values.out, { recursive: true });
  const json = `${JSON.stringify(report, null, 2)}\n`;
  const file = path.join(values.out, `bench-${report.date.replace(/[:.]/g, '-')}.json`);
  fs.writeFileSync(file, json);
  fs.writeFileSync(path.join(values.out, 'latest.json'), json);
  log(`wrote      ${path.relative(ROOT, file)}`);
}

/**
 * int8 against float32 on the ONNX engine, timed alternately (float32 then int8, run by run) so
 * both see the same background load; speed-ups are ratios of the medians, and the median of the
 * per-run ratios.
 */
async function int8VersusFloat(items: { absPath: string }[], prefetch: number, repeats: number, batches: number, threads: number, log: (line: string) => void): Promise<Record<string, unknown>> {
  const float = await loadExtractor({ source: MODEL, engine: 'onnx', threads });
  const int8 = await loadExtractor({ source: MODEL, engine: 'onnx', precision: 'int8', threads });
  const runs = { floatInference: [] as number[], int8Inference: [] as number[], floatWhole: [] as number[], int8Whole: [] as number[] };
  const floatFeatures: Float32Array[] = [];
  const int8Features: Float32Array[] = [];
  try {
    for (let i = 0; i < repeats; i++) {
      runs.floatInference.push(await inferenceRate(float, batches));
      runs.int8Inference.push(await inferenceRate(int8, batches));
      runs.floatWhole.push(await wholeRate(float, items, prefetch, i === 0 ? floatFeatures : undefined));
      runs.int8Whole.push(await wholeRate(int8, items, prefetch, i === 0 ? int8Features : undefined));
    }
  } finally {
    float.dispose();
    int8.dispose();
  }
  // CPU time per image on one intra-op thread (no spin-waiting siblings): the work itself, which
  // other processes on a shared machine slow down far less than they slow down wall time.
  const cpu = { floatInference: [] as number[], int8Inference: [] as number[], floatWhole: [] as number[], int8Whole: [] as number[] };
  const float1 = await loadExtractor({ source: MODEL, engine: 'onnx', threads: 1 });
  const int81 = await loadExtractor({ source: MODEL, engine: 'onnx', precision: 'int8', threads: 1 });
  try {
    for (let i = 0; i < repeats; i++) {
      cpu.floatInference.push(await cpuMsPerImage((batches + 1) * BATCH, () => inferenceRate(float1, batches)));
      cpu.int8Inference.push(await cpuMsPerImage((batches + 1) * BATCH, () => inferenceRate(int81, batches)));
      cpu.floatWhole.push(await cpuMsPerImage(items.length, () => wholeRate(float1, items, prefetch)));
      cpu.int8Whole.push(await cpuMsPerImage(items.length, () => wholeRate(int81, items, prefetch)));
    }
  } finally {
    float1.dispose();
    int81.dispose();
  }
  const ratio = (a: number[], b: number[]): number => median(a.map((x, i) => x / b[i]));
  const agreement = featureAgreement(concat(int8Features), concat(floatFeatures), float.description.featureDim);
  const summary = {
    precision: int8.description.precision,
    isa: int8KernelIsa(),
    inference: { float32: round(median(runs.floatInference)), int8: round(median(runs.int8Inference)) },
    whole: { float32: round(median(runs.floatWhole)), int8: round(median(runs.int8Whole)) },
    inferenceSpeedup: round(median(runs.int8Inference) / median(runs.floatInference), 2),
    wholeSpeedup: round(median(runs.int8Whole) / median(runs.floatWhole), 2),
    perRunSpeedup: { inference: round(ratio(runs.int8Inference, runs.floatInference), 2), whole: round(ratio(runs.int8Whole, runs.floatWhole), 2) },
    cpuMsPerImage: {
      inference: { float32: round(median(cpu.floatInference), 2), int8: round(median(cpu.int8Inference), 2) },
      whole: { float32: round(median(cpu.floatWhole), 2), int8: round(median(cpu.int8Whole), 2) },
      inferenceSaving: round(median(cpu.floatInference) / median(cpu.int8Inference), 2),
      wholeSaving: round(median(cpu.floatWhole) / median(cpu.int8Whole), 2),
    },
    featureAgreement: agreement,
    runs: Object.fromEntries(Object.entries(runs).map(([k, v]) => [k, v.map((x) => round(x))])),
  };
  log(
    `int8       onnx int8 vs float32, alternating, medians of ${repeats}: inference ${summary.inference.int8} vs ${summary.inference.float32} images/s = ${summary.inferenceSpeedup}x; ` +
      `whole extraction ${summary.whole.int8} vs ${summary.whole.float32} images/s = ${summary.wholeSpeedup}x (per-run ratios ${summary.perRunSpeedup.inference}x, ${summary.perRunSpeedup.whole}x)`,
  );
  const c = summary.cpuMsPerImage;
  log(
    `           CPU time per image, 1 thread: inference ${c.inference.int8} vs ${c.inference.float32} ms = ${c.inferenceSaving}x less; ` +
      `whole extraction (incl. decoding) ${c.whole.int8} vs ${c.whole.float32} ms = ${c.wholeSaving}x less`,
  );
  log(
    `           int8 features vs float32 on the ${items.length} photos: relative L2 difference mean ${agreement.meanRelativeL2}, worst ${agreement.worstRelativeL2}; ` +
      `cosine >= ${agreement.minCosine}`,
  );
  log(`           int8 kernels: ${summary.isa}, judged from the CPU flags (ORT does not report which MLAS kernels it picked)`);
  return summary;
}

/** Milliseconds of this process's CPU time (all threads, incl. sharp's) per image while `run` runs. */
async function cpuMsPerImage(images: number, run: () => Promise<unknown>): Promise<number> {
  const before = process.cpuUsage();
  await run();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000 / images;
}

function concat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Per image: ||a - b|| / ||b|| and the cosine of a and b; mean and worst over the images. */
function featureAgreement(a: Float32Array, b: Float32Array, dim: number): { meanRelativeL2: number; worstRelativeL2: number; minCosine: number } {
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
    minCosine = Math.min(minCosine, dot / Math.sqrt(a2 * b2));
  }
  return { meanRelativeL2: round(sum / n, 4), worstRelativeL2: round(worst, 4), minCosine: round(minCosine, 4) };
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
