import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { currentBackend, initBackend, type BackendInfo } from './backend';
import { downloadModel } from './download';
import { ChecksumMismatchError, ModelFormatError, ModelNotFoundError, ModelOptionsError, UnsupportedOperatorError } from './errors';
import type { FeatureExtractor, LoadExtractorOptions } from './extractor';
import { describeFileKind, isHttpUrl, readFileBounded } from '@mlbench/common';
import { sha256Hex, statOrUndefined } from './files';
import { explainBounds, modelLimitsFromEnv, type ModelLimits } from './limits';
import { createTfjsExtractor, readTfjsModelFiles } from './tfjs-model';
import { createOnnxExtractor, defaultThreads, onnxRuntimeAvailable } from './onnx/extractor';
import { createWorkerPoolExtractor } from './pool/tfjs-pool';
import { TFLITE_FILE_IDENTIFIER } from './tflite/schema';
import { createTfliteExtractor } from './tflite/extractor';

/**
 * Loads a frozen network as a feature extractor: a `.tflite` file or a TensorFlow.js `model.json`,
 * from a local path or an http(s) URL (downloaded once into `downloadCacheDir`). `engine` picks
 * what runs it: `onnx` (ONNX Runtime on a graph exported from the TFLite model), `tfjs`, or `auto`
 * (onnx for .tflite models when onnxruntime-node loads, else tfjs). Initialises the `auto` tfjs
 * backend unless `initBackend` was called first (the softmax head trains on tfjs either way).
 * @throws ModelError subclasses with a message saying what to fix.
 */
export async function loadExtractor(options: LoadExtractorOptions): Promise<FeatureExtractor> {
  const opts = validateOptions(options);
  const { source } = opts;
  const limits: ModelLimits = { ...modelLimitsFromEnv(), ...opts.limits };

  let file: string;
  let remote = false;
  if (isHttpUrl(source)) {
    if (!opts.downloadCacheDir) {
      throw new ModelOptionsError(
        `"${source}" is a URL, so downloadCacheDir is required: the folder where the model is downloaded ` +
          'once and reused offline afterwards.',
        source,
      );
    }
    const dl = await downloadModel(source, { cacheDir: opts.downloadCacheDir, sha256: opts.sha256, limits });
    if (!opts.sha256) throw unpinnedDownload(source, dl.manifest.files.length > 1 ? dl.manifest.combinedSha256 : dl.manifest.sha256);
    file = dl.file;
    remote = true;
  } else {
    file = await resolveLocal(source);
  }

  const backend = currentBackend() ?? (await initBackend('auto'));
  const kind = await detectKind(file);
  return checkedInputShape(await openKind(kind, file, source, remote, opts, limits, backend));
}

async function openKind(
  kind: 'tflite' | 'tfjs',
  file: string,
  source: string,
  remote: boolean,
  opts: LoadExtractorOptions,
  limits: ModelLimits,
  backend: BackendInfo,
): Promise<FeatureExtractor> {
  if (kind === 'tflite') {
    const bytes = await readModelFile(file, limits);
    const sha256 = sha256Hex(bytes);
    if (opts.sha256 && !remote && opts.sha256 !== sha256) throw localMismatch(file, opts.sha256, sha256);
    const engine = opts.engine ?? 'auto';
    const int8 = opts.precision === 'int8';
    // int8 runs on ONNX Runtime only: auto then means onnx, and a refusal is not hidden by a tfjs fallback.
    if (engine === 'onnx' || (engine === 'auto' && (int8 || onnxRuntimeAvailable()))) {
      try {
        return await createOnnxExtractor(bytes, { source, file, featureLayer: opts.featureLayer, sha256, threads: opts.threads, cacheDir: opts.onnxCacheDir, precision: opts.precision });
      } catch (err) {
        // auto falls back to tfjs when the network has an operator the exporter cannot map.
        if (engine === 'onnx' || int8 || !(err instanceof UnsupportedOperatorError)) throw err;
      }
    }
    return withWorkerPool(createTfliteExtractor(bytes, { source, file, featureLayer: opts.featureLayer, sha256, backend }), file, backend, opts.workers);
  }
  if (opts.engine === 'onnx') {
    throw new ModelOptionsError(
      `${file}: engine "onnx" runs .tflite models (exported to ONNX on load); this is a TensorFlow.js model.json. ` +
        'Use engine: tfjs (or auto) for it.',
      source,
    );
  }
  const files = await readTfjsModelFiles(file, { maxBytes: limits.maxModelBytes });
  if (opts.sha256 && !remote && opts.sha256 !== files.modelJsonSha256 && opts.sha256 !== files.sha256) {
    throw localMismatch(file, opts.sha256, files.modelJsonSha256);
  }
  return withWorkerPool(await createTfjsExtractor(files, { source, featureLayer: opts.featureLayer, backend }), file, backend, opts.workers);
}

/**
 * Every engine must report a fixed, positive input size: a model whose input is dynamic (-1),
 * zero or missing cannot be matched against preprocess.size, so it is refused on load.
 */
function checkedInputShape(extractor: FeatureExtractor): FeatureExtractor {
  const shape = extractor.description.inputShape;
  if (shape.length === 3 && shape.every((d) => Number.isInteger(d) && d > 0)) return extractor;
  extractor.dispose();
  const { source } = extractor.description;
  throw new ModelFormatError(
    `${source}: the model input is [${shape.join(', ')}] (height, width, channels); a fixed positive image size is needed. ` +
      'Re-export the model with a fixed input size.',
    source,
  );
}

/** A .tflite file read whole, only if it is a regular file within the model size limit. */
async function readModelFile(file: string, limits: ModelLimits): Promise<Buffer> {
  try {
    return await readFileBounded(file, limits.maxModelBytes, 'the model size limit');
  } catch (err) {
    throw explainBounds(err, file, limits);
  }
}

function unpinnedDownload(url: string, sha256: string): ModelOptionsError {
  return new ModelOptionsError(
    `${url} was downloaded, but no sha256 pins it: a download is only used once its hash is given, so that a changed or ` +
      `tampered file on the server cannot change results unnoticed. The downloaded bytes have sha256 ${sha256}; if you trust ` +
      `them, add "sha256: ${sha256}" under model.extractor (the download is cached, the next run does not fetch it again).`,
    url,
  );
}

/**
 * Number of tfjs pool workers for `backend`: only the WebAssembly backend gains from them (tfjs-node
 * is multi-threaded natively, the cpu backend is too slow to matter); `auto` = one per core.
 */
export function resolveTfjsWorkers(workers: number | 'auto' | undefined, backend: BackendInfo): number {
  if (backend.backend !== 'wasm') return 1;
  return workers === undefined || workers === 'auto' ? defaultThreads() : workers;
}

/**
 * Moves a tfjs extractor loaded on the calling thread to a worker pool when that applies. The
 * calling thread's copy is loaded first on purpose: it reports a bad file or feature layer with the
 * usual typed errors, and its description (resolved feature layer) is what every worker must match.
 */
async function withWorkerPool(single: FeatureExtractor, file: string, backend: BackendInfo, workers: number | 'auto' | undefined): Promise<FeatureExtractor> {
  const n = resolveTfjsWorkers(workers, backend);
  if (n <= 1) return single;
  try {
    return await createWorkerPoolExtractor({ file, description: single.description, workers: n });
  } finally {
    single.dispose();
  }
}

function validateOptions(options: LoadExtractorOptions): LoadExtractorOptions {
  if (!options || typeof options.source !== 'string' || options.source.trim() === '') {
    throw new ModelOptionsError('loadExtractor needs `source`: the path or http(s) URL of a .tflite file or a tfjs model.json.');
  }
  const out: LoadExtractorOptions = { ...options, source: options.source.trim() };
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(out.source) && !isHttpUrl(out.source) && !out.source.startsWith('file://')) {
    throw new ModelOptionsError(`Unsupported source scheme in "${out.source}": use a local path or an http(s) URL.`, out.source);
  }
  if (isHttpUrl(out.source) || out.source.startsWith('file://')) {
    let url: URL;
    try {
      url = new URL(out.source);
      decodeURIComponent(url.pathname);
    } catch {
      throw new ModelOptionsError(
        `"${out.source}" is not a valid URL (malformed host, port or %-encoding); check the model source.`,
        out.source,
      );
    }
    if (out.source.startsWith('file://')) out.source = decodeURIComponent(url.pathname);
  }
  if (out.featureLayer !== undefined && (typeof out.featureLayer !== 'string' || out.featureLayer.trim() === '')) {
    throw new ModelOptionsError('featureLayer must be "auto" or a non-empty tensor/layer name.', out.source);
  }
  if (out.engine !== undefined && !['auto', 'tfjs', 'onnx'].includes(out.engine)) {
    throw new ModelOptionsError(`engine must be "auto", "tfjs" or "onnx", got ${JSON.stringify(out.engine)}.`, out.source);
  }
  if (out.precision !== undefined && !['float32', 'int8'].includes(out.precision)) {
    throw new ModelOptionsError(`precision must be "float32" or "int8", got ${JSON.stringify(out.precision)}.`, out.source);
  }
  if (out.precision === 'int8' && out.engine === 'tfjs') {
    throw new ModelOptionsError(
      'precision "int8" runs the quantized graph on ONNX Runtime; the tfjs engine runs float32 only. Use engine: onnx (or auto) with int8, or precision: float32 with tfjs.',
      out.source,
    );
  }
  if (out.workers !== undefined && out.workers !== 'auto' && !(Number.isInteger(out.workers) && out.workers > 0)) {
    throw new ModelOptionsError(`workers must be "auto" or a positive integer, got ${JSON.stringify(out.workers)}.`, out.source);
  }
  if (out.threads !== undefined && !(Number.isInteger(out.threads) && out.threads > 0)) {
    throw new ModelOptionsError(`threads must be a positive integer, got ${JSON.stringify(out.threads)}.`, out.source);
  }
  if (out.sha256 !== undefined) {
    if (typeof out.sha256 !== 'string' || !/^[0-9a-f]{64}$/i.test(out.sha256.trim())) {
      throw new ModelOptionsError(`sha256 must be 64 hex digits, got ${JSON.stringify(out.sha256)}.`, out.source);
    }
    out.sha256 = out.sha256.trim().toLowerCase();
  }
  return out;
}

async function resolveLocal(source: string): Promise<string> {
  const abs = path.resolve(source);
  const st = await statOrUndefined(abs);
  if (!st) {
    throw new ModelNotFoundError(
      `Model file not found: ${abs}${abs !== source ? ` (source "${source}", relative to ${process.cwd()})` : ''}. ` +
        'Check the path, or give an http(s) URL with downloadCacheDir to download the model.',
      source,
    );
  }
  if (st.isDirectory()) {
    // A folder holding one model is accepted: model.json first, else a single .tflite.
    const entries = await fsp.readdir(abs);
    if (entries.includes('model.json')) return path.join(abs, 'model.json');
    const tflites = entries.filter((e) => e.endsWith('.tflite'));
    if (tflites.length === 1) return path.join(abs, tflites[0]);
    throw new ModelNotFoundError(
      `${abs} is a folder with ${tflites.length ? `several .tflite files (${tflites.join(', ')})` : 'no model.json or .tflite file'}; ` +
        'point source at the model file itself.',
      source,
    );
  }
  if (!st.isFile()) {
    throw new ModelFormatError(`${abs} is ${describeFileKind(st)}, not a regular file; a model source must be a .tflite file or a model.json.`, source);
  }
  return abs;
}

/** By extension, else by content: the TFLite identifier at bytes 4..8, or JSON. */
async function detectKind(file: string): Promise<'tflite' | 'tfjs'> {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.tflite') return 'tflite';
  if (ext === '.json') return 'tfjs';
  const handle = await fsp.open(file, 'r');
  try {
    const head = Buffer.alloc(8);
    const { bytesRead } = await handle.read(head, 0, 8, 0);
    if (bytesRead >= 8 && head.toString('latin1', 4, 8) === TFLITE_FILE_IDENTIFIER) return 'tflite';
    if (bytesRead > 0 && head.toString('utf8', 0, bytesRead).trimStart().startsWith('{')) return 'tfjs';
  } finally {
    await handle.close();
  }
  throw new ModelFormatError(
    `${file} is neither a TFLite flatbuffer (no "${TFLITE_FILE_IDENTIFIER}" identifier) nor a TensorFlow.js model.json.`,
    file,
  );
}

function localMismatch(file: string, expected: string, actual: string): ChecksumMismatchError {
  return new ChecksumMismatchError(
    `sha256 mismatch for ${file}: expected ${expected}, the file has ${actual}. It is a different version ` +
      'of the model than the one recorded; fetch the right file or update the expected sha256.',
    file,
    expected,
    actual,
  );
}
