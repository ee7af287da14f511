/**
 * @governor/throttle: the library apps install. Live knobs declared in code and turned by ops
 * in Governor, feature flags with sticky percentage rollouts, dark launches; the slow-loop
 * controller algorithms; adaptive concurrency limiters, token buckets, resizable worker pools
 * and caller-side throttles whose bounds are knobs. The OpenFeature provider is in
 * `@governor/throttle/openfeature`, the fastify plugin in `@governor/throttle/fastify`.
 */
export { connect } from './connect.ts'
export { CONNECT_NUMBER_OPTIONS, type ConnectOptions } from './options.ts'
export {
  ThrottleClient,
  type ClientKnobChange,
  type FlagOptions,
  type KnobDescription,
  type LaunchOptions,
  type ReadySource,
} from './client.ts'
export { createMemoryClient, MemoryClient, type MemoryChange, type MemoryClientOptions } from './memory-client.ts'
export { Knob, type KnobChange, type KnobInfo, type KnobListener, type KnobSource } from './knob.ts'
export { Flag, Launch, LAUNCH_MODES, type LaunchMode } from './flag.ts'
export { BUCKETS, bucketOf, bucketsFor, fnv1a32, isInRollout } from './bucketing.ts'
export { backoffDelayMillis, type BackoffPolicy } from './backoff.ts'
export {
  KNOB_TYPES,
  normalizeDeclaration,
  readDefinition,
  sameDefinition,
  valueFit,
  valueProblem,
  type BoolKnobDeclaration,
  type EnumKnobDeclaration,
  type KnobDeclaration,
  type KnobDefinition,
  type KnobType,
  type KnobValue,
  type NumberKnobDeclaration,
  type StringKnobDeclaration,
} from './declaration.ts'
export type { KnobMode } from './remote-knob.ts'
export {
  KNOB_DETAIL_JSON_SCHEMA,
  KNOB_JSON_SCHEMA,
  KNOB_LIST_JSON_SCHEMA,
  KNOB_VERSION_JSON_SCHEMA,
  type KnobDetailJson,
  type KnobJson,
  type KnobListJson,
  type KnobVersionJson,
} from './wire.ts'
export type { ConnectionStatus } from './live-connection.ts'
export { isThrottleError, THROTTLE_ERROR_CODES, ThrottleError, type ThrottleErrorCode } from './errors.ts'
export { SseParser, type SseEvent } from './sse-parser.ts'
export { type Clock, COARSE_TICK_MILLIS, coarseClock, ManualClock, monotonicClock } from './clock.ts'
export { bindBounds, bindKnob, type Bounded, type NumberKnobLike } from './bind-knob.ts'
export type {
  AlgorithmName,
  Bounds,
  Controller,
  Decision,
  DecisionKind,
  GuardReading,
  Observation,
} from './control/types.ts'
export { CONTROLLER_ALGORITHMS, createController } from './control/create-controller.ts'
export type { ParamSpec, ParamSpecs } from './control/params.ts'
export { aimd, AIMD_PARAMS, type AimdParams, type AimdState } from './control/aimd.ts'
export { gradient, GRADIENT_PARAMS, type GradientParams, type GradientState } from './control/gradient.ts'
export { pid, PID_PARAMS, type PidParams, type PidState } from './control/pid.ts'
export {
  EFFECTS,
  GUARD_DEFAULTS,
  MIRROR_FLOOR,
  mirror,
  steered,
  type Effect,
  type GuardOptions,
  type SteerOptions,
  type SteeredState,
} from './control/steer.ts'
export { BoundedLimit, type Limit, type LimitBounds } from './limit/limit.ts'
export { SloGradientLimit, type SloGradientLimitOptions } from './limit/slo-gradient-limit.ts'
export { AimdLimit, type AimdLimitOptions } from './limit/aimd-limit.ts'
export { Gradient2Limit, type Gradient2LimitOptions } from './limit/gradient2-limit.ts'
export { VegasLimit, type VegasLimitOptions } from './limit/vegas-limit.ts'
export { FixedLimit } from './limit/fixed-limit.ts'
export { RecordingLimit, type LimitSample } from './limit/recording-limit.ts'
export {
  Limiter,
  type AcquireContext,
  type LimiterCounts,
  type LimiterListener,
  type LimiterOptions,
} from './limit/limiter.ts'
export { observeLimiter, type LimiterMetricsOptions } from './limit/limiter-metrics.ts'
export { TokenBucket, type TokenBucketOptions } from './rate/token-bucket.ts'
export { WorkerPool, type WorkerPoolOptions } from './pool/worker-pool.ts'
export { AdaptiveThrottle, type AdaptiveThrottleOptions } from './caller/adaptive-throttle.ts'
export { RetryBudget, type RetryBudgetOptions } from './caller/retry-budget.ts'
export {
  retryAfterMillis,
  throttledFetch,
  type FetchLike,
  type ThrottledFetchOptions,
} from './caller/throttled-fetch.ts'
