/**
 * @governor/throttle: the library apps install. Live knobs declared in code and turned by ops
 * in Governor, feature flags with sticky percentage rollouts, dark launches. The OpenFeature
 * provider is in `@governor/throttle/openfeature`.
 */
export { connect } from './connect.ts'
export { CONNECT_NUMBER_OPTIONS, type ConnectOptions } from './options.ts'
export { ThrottleClient, type ClientKnobChange, type FlagOptions, type KnobDescription, type LaunchOptions, type ReadySource } from './client.ts'
export { createMemoryClient, MemoryClient, type MemoryChange, type MemoryClientOptions } from './memory-client.ts'
export { Knob, type KnobChange, type KnobInfo, type KnobListener, type KnobSource } from './knob.ts'
export { Flag, Launch, LAUNCH_MODES, type LaunchMode } from './flag.ts'
export { BUCKETS, bucketOf, bucketsFor, fnv1a32, isInRollout } from './bucketing.ts'
export { backoffDelayMillis, type BackoffPolicy } from './backoff.ts'
export {
  KNOB_TYPES, normalizeDeclaration, valueProblem,
  type BoolKnobDeclaration, type EnumKnobDeclaration, type KnobDeclaration, type KnobDefinition, type KnobType, type KnobValue,
  type NumberKnobDeclaration, type StringKnobDeclaration,
} from './declaration.ts'
export type { KnobMode } from './remote-knob.ts'
export type { ConnectionStatus } from './live-connection.ts'
export { isThrottleError, THROTTLE_ERROR_CODES, ThrottleError, type ThrottleErrorCode } from './errors.ts'
export { SseParser, type SseEvent } from './sse-parser.ts'
