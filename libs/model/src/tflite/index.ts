export { TfliteGraph } from './graph';
export { TfliteInterpreter } from './interpreter';
export type { ExecutionPlan } from './interpreter';
export { createTfliteExtractor, runTfliteClassifier } from './extractor';
export type { TfliteExtractorOptions } from './extractor';
export { parseTflite, TFLITE_FILE_IDENTIFIER, TensorType, Padding, ActivationFunction } from './schema';
export type { TfliteModel, SubGraphDef, TensorDef, OperatorDef, OperatorCodeDef, QuantizationParameters, BuiltinOptions } from './schema';
export { builtinOperatorName } from './builtin-ops';
