/**
 * Errors of the throttle library. Each has a stable code; each is branded with a
 * `Symbol.for` key so that `isThrottleError` recognises it even when an app ends up with two
 * copies of the library (two versions in node_modules), where `instanceof` would not.
 */

/** Every error code, with what it means. A retired code is never reused. */
export const THROTTLE_ERROR_CODES = {
  THROTTLE_ERR_OPTION_INVALID: 'an option of connect() is missing or outside its type or bounds',
  THROTTLE_ERR_DECLARATION_INVALID: 'a knob or flag declaration is malformed (type, default, bounds, name)',
  THROTTLE_ERR_DECLARATION_CONFLICT: 'the same knob was declared twice in this process with different definitions',
  THROTTLE_ERR_DECLARATION_REFUSED: 'the collector refused a declaration (4xx); it is not retried',
  THROTTLE_ERR_VALUE_REFUSED: 'a value from the collector does not fit the declared knob; the old value is kept',
  THROTTLE_ERR_PROTOCOL: 'the collector sent something that is not a knob event or list',
  THROTTLE_ERR_CONNECTION: 'the collector could not be reached, or the live stream broke; the client retries',
  THROTTLE_ERR_STATE_FILE_CORRUPT: 'the state file could not be read; it is ignored and rewritten',
  THROTTLE_ERR_STATE_FILE_WRITE: 'the state file could not be written',
  THROTTLE_ERR_LISTENER: 'a change listener threw; the other listeners still ran',
  THROTTLE_ERR_CLOSED: 'the client is closed',
  THROTTLE_ERR_CONTROLLER_INVALID:
    'createController() was given an unknown algorithm, an unknown parameter, or a parameter outside its bounds',
  THROTTLE_ERR_LIMIT_INVALID:
    'a limit, limiter, token bucket, worker pool or caller throttle was given an option or bounds outside its type or range',
  THROTTLE_ERR_QUEUE_FULL: "the worker pool's queue is full: the task was rejected, not queued",
  THROTTLE_ERR_SHED:
    'the fastify plugin shed the request: the concurrency limit is reached (the 503 body, with Retry-After; not thrown)',
  THROTTLE_ERR_REJECTED_LOCALLY:
    'throttledFetch rejected a call before sending it: the backend has been refusing (client-side adaptive throttling)',
} as const

export type ThrottleErrorCode = keyof typeof THROTTLE_ERROR_CODES

const BRAND = Symbol.for('governor.throttle.error')

/** An error of the throttle library: a stable `code`, and the knob it is about when there is one. */
export class ThrottleError extends Error {
  readonly code: ThrottleErrorCode
  /** The knob the error is about, when it is about one. */
  readonly knob: string | undefined

  constructor(code: ThrottleErrorCode, message: string, options: { cause?: unknown; knob?: string } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'ThrottleError'
    this.code = code
    this.knob = options.knob
  }

  /** Marks instances of every copy of the library: see `isThrottleError`. */
  get [BRAND](): true {
    return true
  }
}

/** True for errors of any copy of the throttle library, whatever copy the caller imported. */
export function isThrottleError(err: unknown): err is ThrottleError {
  return typeof err === 'object' && err !== null && (err as Record<symbol, unknown>)[BRAND] === true
}
