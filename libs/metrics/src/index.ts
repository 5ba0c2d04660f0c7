export {
  MetricsInputError,
  accuracy,
  argmax,
  classificationReport,
  confusionMatrix,
  logLoss,
  macroF1,
  perClassMetrics,
} from './classification';
export type { ClassMetrics, ClassificationReport } from './classification';
