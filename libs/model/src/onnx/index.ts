export { buildOnnxModel, exportTfliteToOnnx, tfPads, ONNX_EXPORTER_VERSION, ONNX_INPUT_NAME, ONNX_IR_VERSION, ONNX_OPSET } from './export';
export type { OnnxExportOptions } from './export';
export { createOnnxExtractor, defaultThreads, loadOnnxRuntime, onnxExportKey, onnxRuntimeAvailable, onnxRuntimeVersion } from './extractor';
export type { OnnxExtractorOptions } from './extractor';
export { decodeOnnxModel, encodeOnnxModel } from './proto';
export type { OnnxModel, OnnxGraph, OnnxNode, OnnxTensor } from './proto';
export { buildOnnxModelInt8, exportTfliteToOnnxInt8, isQuantizedGraph, ONNX_INT8_EXPORTER_VERSION } from './quantized/export-int8';
export type { Int8ExportOptions } from './quantized/export-int8';
export { cpuFlags, hasVnni, int8KernelIsa, int8WeightEncoding } from './quantized/cpu-features';
