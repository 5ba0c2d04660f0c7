/**
 * TensorFlow.js models (model.json + weight files) as feature extractors.
 *
 * tfjs's own `file://` handler lives in tfjs-node, which is optional here, so model.json and its
 * weight files are read with fs and handed to tfjs through `tf.io.getModelArtifactsForJSON`.
 *
 * Feature layer, `auto`:
 * - Layers models: the output of the last GlobalAveragePooling2D layer; failing that, the input
 *   of the last Dense layer (i.e. the output of the layer feeding the classifier).
 * - Graph models: the last node whose name says global average pooling (`global_average_pooling`,
 *   `avg_pool`, `GlobalAvgPool`...) and whose op is Mean/AvgPool/Squeeze/Reshape; failing that,
 *   the last Mean or AvgPool node; failing that, the data input of the last MatMul (dense).
 * Otherwise a layer name (Layers) or node name (Graph) chooses the layer.
 */
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { BackendInfo } from './backend';
import { FeatureLayerError, ModelFormatError, ModelNotFoundError } from './errors';
import type { ExtractorFormat, FeatureExtractor } from './extractor';
import { jsonDepth, readFileBounded, writeFileAtomic } from '@mlbench/common';
import { safeRelativePath, sha256Hex } from './files';
import { DEFAULT_MODEL_LIMITS, explainBounds } from './limits';
import { makeExtractor } from './forward-extractor';

export interface TfjsModelFiles {
  modelJson: tf.io.ModelJSON;
  format: Extract<ExtractorFormat, 'tfjs-layers' | 'tfjs-graph'>;
  artifacts: tf.io.ModelArtifacts;
  /** sha256 of model.json's bytes. */
  modelJsonSha256: string;
  /** sha256 of model.json followed by every weight file, in manifest order. */
  sha256: string;
}

/** Deepest nesting accepted in a model.json (real ones: about 10 for Layers, 8 for Graph models). */
export const MAX_MODEL_JSON_DEPTH = 256;

/**
 * Reads a local model.json and its weight files; together they may hold at most `maxBytes`
 * (default 2 GiB), and each must be a regular file.
 */
export async function readTfjsModelFiles(modelJsonPath: string, options: { maxBytes?: number } = {}): Promise<TfjsModelFiles> {
  const maxModelBytes = options.maxBytes ?? DEFAULT_MODEL_LIMITS.maxModelBytes;
  let budget = maxModelBytes;
  const read = async (file: string, what: string): Promise<Uint8Array> => {
    const bytes = await readOrExplain(file, what, budget, maxModelBytes);
    budget -= bytes.length;
    return bytes;
  };
  const jsonBytes = await read(modelJsonPath, 'model.json');
  let modelJson: tf.io.ModelJSON;
  const jsonText = new TextDecoder().decode(jsonBytes);
  // tfjs walks the topology recursively: a hostile depth would overflow its stack.
  if (jsonDepth(jsonText, MAX_MODEL_JSON_DEPTH) > MAX_MODEL_JSON_DEPTH) {
    throw new ModelFormatError(`${modelJsonPath} is nested deeper than ${MAX_MODEL_JSON_DEPTH} levels; a TensorFlow.js model.json nests a few dozen at most.`, modelJsonPath);
  }
  try {
    modelJson = JSON.parse(jsonText) as tf.io.ModelJSON;
  } catch (err) {
    throw new ModelFormatError(`${modelJsonPath} is not valid JSON (${(err as Error).message}); expected a TensorFlow.js model.json.`, modelJsonPath);
  }
  if (!modelJson || typeof modelJson !== 'object' || !modelJson.modelTopology) {
    throw new ModelFormatError(`${modelJsonPath} has no "modelTopology"; it is not a TensorFlow.js model.json.`, modelJsonPath);
  }
  const format = detectFormat(modelJson, modelJsonPath);
  const dir = path.dirname(modelJsonPath);
  const weightFiles: Uint8Array[] = [];
  const artifacts = await tf.io.getModelArtifactsForJSON(modelJson, async (manifest) => {
    for (const group of manifest) {
      for (const p of group.paths) {
        const rel = safeRelativePath(p);
        if (!rel) throw new ModelFormatError(`${modelJsonPath} lists a weight file ${JSON.stringify(p)} outside its folder or not a valid path.`, modelJsonPath);
        weightFiles.push(await read(path.join(dir, rel), `weight file listed in ${modelJsonPath}`));
      }
    }
    // Exact-size copies: tfjs reads the ArrayBuffers whole, and Node Buffers share a larger pool.
    const buffers = weightFiles.map((b) => new Uint8Array(b).buffer);
    return [tf.io.getWeightSpecs(manifest), buffers];
  });
  return {
    modelJson,
    format,
    artifacts,
    modelJsonSha256: sha256Hex(jsonBytes),
    sha256: sha256Hex(jsonBytes, ...weightFiles),
  };
}

function detectFormat(json: tf.io.ModelJSON, file: string): TfjsModelFiles['format'] {
  if (json.format === 'layers-model') return 'tfjs-layers';
  if (json.format === 'graph-model') return 'tfjs-graph';
  const topo = json.modelTopology as { node?: unknown; class_name?: unknown; model_config?: unknown };
  if (Array.isArray(topo.node)) return 'tfjs-graph';
  if (topo.class_name || topo.model_config) return 'tfjs-layers';
  throw new ModelFormatError(`${file}: cannot tell whether this is a Layers or a Graph model (format ${JSON.stringify(json.format)}).`, file);
}

/** `budget`: bytes left of the model limit `maxModelBytes` (model.json and weights count together). */
async function readOrExplain(file: string, what: string, budget: number, maxModelBytes: number): Promise<Uint8Array> {
  try {
    return await readFileBounded(file, budget, budget < maxModelBytes ? 'what is left of the model size limit' : 'the model size limit');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new ModelNotFoundError(
        `The ${what} ${file} does not exist. A TensorFlow.js model is a model.json plus the weight files ` +
          'it lists; keep them together in one folder.',
        file,
      );
    }
    throw explainBounds(err, file, { maxModelBytes });
  }
}

export interface TfjsExtractorOptions {
  source: string;
  featureLayer?: string;
  backend: BackendInfo;
}

/** Builds a FeatureExtractor from files read by `readTfjsModelFiles`. */
export async function createTfjsExtractor(files: TfjsModelFiles, options: TfjsExtractorOptions): Promise<FeatureExtractor> {
  const label = options.source;
  const handler = tf.io.fromMemory(files.artifacts);
  const base = {
    source: options.source,
    format: files.format,
    sha256: files.sha256,
    engine: options.backend.engine,
    backend: options.backend.backend,
    engineVersion: options.backend.engineVersion,
    threads: options.backend.threads,
  };
  if (files.format === 'tfjs-layers') {
    const model = await tf.loadLayersModel(handler);
    try {
      const inputShape = imageInputShape(model.inputs[0].shape, label);
      const { name, output } = resolveLayersFeature(model, options.featureLayer ?? 'auto', label);
      const featureModel = tf.model({ inputs: model.inputs, outputs: output });
      const featureDim = output.shape.slice(1).reduce<number>((a, b) => a * (b ?? NaN), 1);
      return makeExtractor({
        description: { ...base, featureLayer: name, featureDim: Number.isFinite(featureDim) ? featureDim : probe(featureModel, inputShape), inputShape },
        forward: (x) => featureModel.predict(x, { batchSize: x.shape[0] }) as tf.Tensor,
        release: () => model.dispose(),
      });
    } catch (err) {
      model.dispose();
      throw err;
    }
  }
  const model = await tf.loadGraphModel(handler);
  try {
    const inputShape = imageInputShape(model.inputs[0].shape ?? [], label);
    const nodes = graphNodes(files.modelJson);
    const name = resolveGraphFeature(nodes, options.featureLayer ?? 'auto', label);
    const forward = (x: tf.Tensor4D): tf.Tensor => model.execute(x, name) as tf.Tensor;
    return makeExtractor({
      description: { ...base, featureLayer: name, featureDim: probe({ predict: forward }, inputShape), inputShape },
      forward,
      release: () => model.dispose(),
    });
  } catch (err) {
    model.dispose();
    throw err;
  }
}

function imageInputShape(shape: (number | null)[], label: string): [number, number, number] {
  const [, h, w, c] = shape;
  if (shape.length !== 4 || !h || !w || !c) {
    throw new ModelFormatError(
      `${label}: the model input has shape [${shape.map((d) => d ?? 'null')}]; a fixed-size NHWC image input [n, h, w, c] is needed. ` +
        'Re-export the model with a fixed input size.',
      label,
    );
  }
  return [h, w, c];
}

/** Feature length by running one zero image: for graphs, whose node shapes are not stored. */
function probe(model: { predict(x: tf.Tensor4D): tf.Tensor | tf.Tensor[] }, [h, w, c]: [number, number, number]): number {
  return tf.tidy(() => {
    const y = model.predict(tf.zeros([1, h, w, c]));
    return (Array.isArray(y) ? y[0] : y).size;
  });
}

function resolveLayersFeature(model: tf.LayersModel, featureLayer: string, label: string): { name: string; output: tf.SymbolicTensor } {
  const layers = model.layers;
  if (featureLayer === 'auto') {
    const gap = [...layers].reverse().find((l) => l.getClassName() === 'GlobalAveragePooling2D');
    if (gap) return { name: gap.name, output: gap.output as tf.SymbolicTensor };
    const dense = [...layers].reverse().find((l) => l.getClassName() === 'Dense');
    if (dense) {
      const input = dense.input as tf.SymbolicTensor;
      return { name: input.sourceLayer.name, output: input };
    }
    const candidates = layerCandidates(layers, '');
    throw new FeatureLayerError(
      `${label}: featureLayer "auto" found no GlobalAveragePooling2D or Dense layer. Name a layer, e.g. ${candidates.join(', ')}.`,
      label,
      featureLayer,
      candidates,
    );
  }
  const layer = layers.find((l) => l.name === featureLayer);
  if (!layer) {
    const candidates = layerCandidates(layers, featureLayer);
    throw new FeatureLayerError(
      `${label}: no layer named "${featureLayer}". Candidates: ${candidates.join(', ')} (or "auto").`,
      label,
      featureLayer,
      candidates,
    );
  }
  if (Array.isArray(layer.output)) {
    throw new FeatureLayerError(`${label}: layer "${featureLayer}" has several outputs; pick a single-output layer.`, label, featureLayer, []);
  }
  return { name: layer.name, output: layer.output };
}

function layerCandidates(layers: tf.layers.Layer[], requested: string): string[] {
  const needle = requested.toLowerCase();
  const similar = needle ? layers.filter((l) => l.name.toLowerCase().includes(needle)) : [];
  const pools = layers.filter((l) => /Pooling|Flatten/.test(l.getClassName()));
  const names = [...similar, ...pools.reverse(), ...layers.slice(-4).reverse()].map((l) => l.name);
  return [...new Set(names)].slice(0, 8);
}

interface GraphNode {
  name: string;
  op: string;
  input: string[];
}

function graphNodes(json: tf.io.ModelJSON): GraphNode[] {
  const topo = json.modelTopology as { node?: { name?: string; op?: string; input?: string[] }[] };
  return (topo.node ?? []).map((n) => ({ name: n.name ?? '', op: n.op ?? '', input: n.input ?? [] }));
}

const GAP_NAME = /global_?average_?pool|global_?avg_?pool|avg_?pool|average_?pool/i;

function resolveGraphFeature(nodes: GraphNode[], featureLayer: string, label: string): string {
  const rev = [...nodes].reverse();
  if (featureLayer === 'auto') {
    const named = rev.find((n) => GAP_NAME.test(n.name) && ['Mean', 'AvgPool', 'Squeeze', 'Reshape'].includes(n.op));
    if (named) return named.name;
    const pool = rev.find((n) => n.op === 'Mean' || n.op === 'AvgPool');
    if (pool) return pool.name;
    const matmul = rev.find((n) => n.op === 'MatMul' || n.op === '_FusedMatMul');
    if (matmul?.input[0]) return matmul.input[0].replace(/^\^/, '').replace(/:0$/, '');
    const candidates = graphCandidates(nodes, '');
    throw new FeatureLayerError(
      `${label}: featureLayer "auto" found no pooling (Mean/AvgPool) or MatMul node. Name a node, e.g. ${candidates.join(', ')}.`,
      label,
      featureLayer,
      candidates,
    );
  }
  const bare = featureLayer.replace(/:0$/, '');
  if (nodes.some((n) => n.name === bare)) return bare;
  const candidates = graphCandidates(nodes, featureLayer);
  throw new FeatureLayerError(
    `${label}: no graph node named "${featureLayer}". Candidates: ${candidates.join(', ')} (or "auto").`,
    label,
    featureLayer,
    candidates,
  );
}

function graphCandidates(nodes: GraphNode[], requested: string): string[] {
  const compute = nodes.filter((n) => n.op !== 'Const' && n.op !== 'Placeholder');
  const needle = requested.toLowerCase();
  const similar = needle ? compute.filter((n) => n.name.toLowerCase().includes(needle)) : [];
  const pools = compute.filter((n) => ['Mean', 'AvgPool', 'Reshape', 'Squeeze'].includes(n.op));
  const names = [...similar, ...pools.reverse(), ...compute.slice(-4).reverse()].map((n) => n.name);
  return [...new Set(names)].slice(0, 8);
}

/**
 * A tfjs save handler that writes `model.json` and one `weights.bin` into `dir` (what tfjs-node's
 * `file://` scheme would do), e.g. `await model.save(tfjsFileSaveHandler('/tmp/m'))`.
 */
export function tfjsFileSaveHandler(dir: string): tf.io.IOHandler {
  return tf.io.withSaveHandler(async (artifacts) => {
    const weightsName = 'weights.bin';
    const weightData = artifacts.weightData === undefined ? undefined : tf.io.CompositeArrayBuffer.join(artifacts.weightData);
    const modelJson: tf.io.ModelJSON = {
      modelTopology: artifacts.modelTopology!,
      format: artifacts.format,
      generatedBy: artifacts.generatedBy,
      convertedBy: artifacts.convertedBy,
      weightsManifest: weightData ? [{ paths: [`./${weightsName}`], weights: artifacts.weightSpecs ?? [] }] : [],
    };
    if (artifacts.signature) modelJson.signature = artifacts.signature;
    if (artifacts.userDefinedMetadata) modelJson.userDefinedMetadata = artifacts.userDefinedMetadata;
    if (artifacts.trainingConfig) modelJson.trainingConfig = artifacts.trainingConfig;
    if (weightData) await writeFileAtomic(path.join(dir, weightsName), new Uint8Array(weightData));
    await writeFileAtomic(path.join(dir, 'model.json'), JSON.stringify(modelJson));
    return {
      modelArtifactsInfo: {
        dateSaved: new Date(),
        modelTopologyType: 'JSON',
        weightDataBytes: weightData?.byteLength ?? 0,
      },
    };
  });
}
