/** int8 against float32 on the ONNX engine: speed under the same load, CPU time, feature agreement. */
import { int8KernelIsa, loadExtractor } from '@mlbench/model';
import { concatFloat32, featureAgreement } from '@mlbench/model/src/testing';
import { BATCH, MODEL, cpuMsPerImage, inferenceRate, median, round, wholeRate } from './common';

/**
 * int8 against float32 on the ONNX engine, timed alternately (float32 then int8, run by run) so
 * both see the same background load; speed-ups are ratios of the medians, and the median of the
 * per-run ratios.
 */
export async function int8VersusFloat(items: { absPath: string }[], prefetch: number, repeats: number, batches: number, threads: number, log: (line: string) => void): Promise<Record<string, unknown>> {
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
  const far = featureAgreement(concatFloat32(...int8Features), concatFloat32(...floatFeatures), float.description.featureDim);
  const agreement = { meanRelativeL2: round(far.meanRelativeL2, 4), worstRelativeL2: round(far.worstRelativeL2, 4), minCosine: round(far.minCosine, 4) };
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
