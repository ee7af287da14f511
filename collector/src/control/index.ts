/** Controllers: bindings of a knob to an SLO, and the runner that turns the knob at each interval. */
export { ControllerService, CONTROLLER_KIND, type ControllerBinding, type ParamsCheck } from './controller-service.ts'
export {
  ControllerRunner,
  STALE_INTERVALS,
  type ControllerFactory,
  type ControllerRunnerOptions,
  type ControllerView,
  type HoldKind,
  type RunnerLog,
  type RunnerTick,
} from './controller-runner.ts'
export { ControllerMetrics, type FailureStage } from './controller-metrics.ts'
export { SliObserver, type SliReading } from './sli-observer.ts'
export { UsageObserver, LIMITER_METRICS, USAGE_LOOKBACK_MILLIS, type UsageReading } from './usage-observer.ts'
export {
  parseController,
  observationWindowMillis,
  withDefaults,
  ALGORITHMS,
  CONTROLLER_MODES,
  DEFAULT_INTERVAL_MILLIS,
  type ControllerDefinition,
  type ControllerGuard,
  type ControllerMode,
} from './definition.ts'
export { observeBinding, type BindingObservation } from './binding-observation.ts'
export { createAlgorithm, checkAlgorithmParams } from './algorithms.ts'
