/** Testing entry of @mlbench/model (`@mlbench/model/src/testing`): build small TFLite models and find the shared data, for tests of any project. */
export { BuiltinOp } from '../tflite/builtin-ops';
export { BuiltinOptionsType, TensorType } from '../tflite/schema';
export { buildTflite, type ModelSpec, type OpSpec, type TensorSpec } from '../tflite/testing/build-tflite';
export { poolModelSpec } from '../tflite/testing/model-specs';
export { MODELS, REPO_ROOT, sharedDir, sharedModelFile } from './shared-data';
export { concatFloat32, featureAgreement, flowerPhotos, flowerPixels } from './flower-photos';
export { startTestHttpServer, streamEndlessly, type TestHttpServer } from './http-server';
export { useOnnxTestbed, type OnnxTestbed } from './onnx-testbed';
