/**
 * Feature-extraction benchmark on this machine (a script, not a test):
 *
 *   npm run bench [-- --repeats 3 --images 640 --engines onnx,onnx-int8,tfjs --prefetch 1 --no-canonical --canonical-repeats 1 --no-torch]
 *   npm run bench -- --warm-only [--repeats 3]
 *
 * `--warm-only` times only the warm canonical command on the repository's own caches (run the
 * canonical experiment once first), started directly and through nx, with its breakdown.
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
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { DEFAULT_PREFETCH } from '@mlbench/data';
import { defaultThreads, initBackend, loadExtractor } from '@mlbench/model';
import { gemmPeak, torchBaseline } from './bench/baselines';
import { canonicalRuns, warmRuns } from './bench/canonical';
import { BATCH, GFLOP_PER_IMAGE, MODEL, ROOT, cpuInfo, decodeRate, engineOptions, inferenceRate, round, samplePhotos, timeRepeated, wholeRate, type Engine } from './bench/common';
import { int8VersusFloat } from './bench/int8';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      repeats: { type: 'string', default: '3' },
      images: { type: 'string', default: '640' },
      batches: { type: 'string', default: '10' },
      engines: { type: 'string', default: 'onnx,onnx-int8,tfjs' },
      'no-canonical': { type: 'boolean', default: false },
      'warm-only': { type: 'boolean', default: false },
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
  if (values['warm-only']) {
    const warm = await warmRuns(repeats, log);
    writeReport(values.out, { date: new Date().toISOString(), machine: { ...cpu, node: process.version, loadAverageBefore: round(loadBefore, 2), loadAverageAfter: round(os.loadavg()[0], 2) }, warm });
    return;
  }
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

  const canonical = values['no-canonical'] ? null : await canonicalRuns(engines, Number(values['canonical-repeats'] ?? repeats), log);
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
  writeReport(values.out, report);
}

/** Writes the report as results/bench/bench-<date>.json and latest.json. */
function writeReport(out: string, report: { date: string } & Record<string, unknown>): void {
  fs.mkdirSync(out, { recursive: true });
  const json = `${JSON.stringify(report, null, 2)}\n`;
  const file = path.join(out, `bench-${report.date.replace(/[:.]/g, '-')}.json`);
  fs.writeFileSync(file, json);
  fs.writeFileSync(path.join(out, 'latest.json'), json);
  console.log(`wrote      ${path.relative(ROOT, file)}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
