export { trainSoftmaxHead, SoftmaxHead } from './softmax-head';
export type { SoftmaxHeadOptions } from './softmax-head';
export { checkEpochFinite, checkProbabilitiesFinite, evaluateHead } from './training';
export type { EpochMetrics, FeatureSet, TrainHeadHooks, TrainingSettings } from './training';
export { CnnHead, initCnnHead, trainCnnHead } from './cnn-head';
export type { CnnHeadOptions } from './cnn-head';
export { cnnArchitectureProblems, cnnParameterCount, cnnParameterShapes } from './cnn-architecture';
export type { CnnArchitecture, CnnBlockSpec, CnnParameterShape } from './cnn-architecture';
