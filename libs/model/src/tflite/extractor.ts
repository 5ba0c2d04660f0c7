import * as tf from '@tensorflow/tfjs';
import type { BackendInfo } from '../backend';
import { ModelInputError } from '../errors';
import type { FeatureExtractor } from '../extractor';
import { makeExtractor } from '../forward-extractor';
import { TfliteGraph } from './graph';
import { TfliteInterpreter } from './interpreter';

export interface TfliteExtractorOptions {
  /** Source as given by the user (path or URL), recorded in the description. */
  source: string;
  /** Local file the bytes came from; labels errors. */
  file: string;
  featureLayer?: string;
  /** sha256 of `bytes`, hex. */
  sha256: string;
  backend: BackendInfo;
}

/** Builds a FeatureExtractor over a parsed TFLite graph that outputs the feature tensor. */
export function createTfliteExtractor(bytes: Uint8Array, options: TfliteExtractorOptions): FeatureExtractor {
  const graph = TfliteGraph.fromBytes(bytes, options.file);
  const interpreter = new TfliteInterpreter(graph);
  const release = (): void => {
    interpreter.dispose();
    graph.dispose();
  };
  try {
    const feature = graph.resolveFeatureTensor(options.featureLayer ?? 'auto');
    const plan = interpreter.plan([feature]);
    // Shape inference from the file: every dimension after the batch one.
    const featureDim = graph.tensor(feature).shape.slice(1).reduce((a, b) => a * b, 1);
    return makeExtractor({
      description: {
        source: options.source,
        format: 'tflite',
        sha256: options.sha256,
        featureLayer: graph.tensor(feature).name,
        featureDim,
        inputShape: graph.inputShape,
        engine: options.backend.engine,
        backend: options.backend.backend,
        engineVersion: options.backend.engineVersion,
        threads: options.backend.threads,
      },
      forward: (x) => interpreter.run(plan, x)[0],
      release,
    });
  } catch (err) {
    release();
    throw err;
  }
}

/**
 * Runs the whole TFLite network (e.g. a classifier's softmax) on `count` NHWC images.
 * @returns `count * outputSize` values of the model's first output, row-major.
 */
export async function runTfliteClassifier(graph: TfliteGraph, pixels: Float32Array, count: number): Promise<Float32Array> {
  const [h, w, c] = graph.inputShape;
  if (pixels.length !== count * h * w * c) {
    throw new ModelInputError(`${graph.file} expects ${count * h * w * c} values for ${count} images, got ${pixels.length}.`, graph.file);
  }
  const interpreter = new TfliteInterpreter(graph);
  try {
    const plan = interpreter.plan([graph.outputIndices[0]]);
    const out = tf.tidy(() => tf.reshape(interpreter.run(plan, tf.tensor4d(pixels, [count, h, w, c], 'float32'))[0], [count, -1]));
    try {
      return Float32Array.from(await out.data());
    } finally {
      out.dispose();
    }
  } finally {
    interpreter.dispose();
  }
}
