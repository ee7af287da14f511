/** The PromQL engine's public surface. */
export { PromqlEngine } from './engine.ts'
export type { EngineOptions, QueryData, VectorSample, MatrixSeries } from './engine.ts'
export { PromqlError, isPromqlError } from './errors.ts'
export type { PromqlErrorType } from './errors.ts'
export { parsePromql, typeOf } from './parse.ts'
export type { Expr, ValueType } from './ast.ts'
export { MemoryQuerier } from './memory-querier.ts'
export type { MemorySeriesInput } from './memory-querier.ts'
export type {
  Querier,
  LabelMatcher,
  Labels,
  RawSeries,
  SelectHints,
  SelectLimits,
  RollupRequest,
  StepSeries,
  MatchType,
} from './querier.ts'
