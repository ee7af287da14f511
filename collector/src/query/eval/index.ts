/**
 * Pure evaluation behind `GET /api/v1/query`: raw points of one group of series in, one
 * `[bucketStart, value]` per step bucket out. No I/O; time comes in as arguments.
 */
export { parseAgg, assertAggApplies } from './parse-agg.ts'
export { stepWindows, alignDown } from './steps.ts'
export type { StepRun, StepWindow } from './steps.ts'
export { evaluateNumbers } from './evaluate-numbers.ts'
export { evaluateHistograms } from './evaluate-histograms.ts'
export { evaluateExpHistograms } from './evaluate-exp-histograms.ts'
export { evaluateSummaries } from './evaluate-summaries.ts'
export { extrapolatedRate, isStartTimestampReset } from './extrapolated-rate.ts'
export type { RateInput } from './extrapolated-rate.ts'
export { bucketQuantile } from './bucket-quantile.ts'
export type { LeBucket } from './bucket-quantile.ts'
export type {
  Agg,
  EvalOptions,
  ExpBuckets,
  ExpHistogramSeries,
  HistogramSeries,
  NumberSeries,
  SimpleAggName,
  StepPoint,
  SummarySeries,
} from './types.ts'
