import { backoffDelayMillis, type BackoffPolicy } from '../backoff.ts'
import { numberOption } from '../check-option.ts'
import { ThrottleError } from '../errors.ts'
import { AdaptiveThrottle } from './adaptive-throttle.ts'
import { RetryBudget } from './retry-budget.ts'

/** A `fetch`: the global one, undici's, or any with its signature. */
export type FetchLike = (input: string | URL | Request, init?: RequestInit) => Promise<Response>

/** Options of `throttledFetch`. */
export interface ThrottledFetchOptions {
  /** The fetch to wrap (undici's `fetch`, a test's). Default `globalThis.fetch`. */
  fetch?: FetchLike
  /** Client-side throttling (see `AdaptiveThrottle`); `false` for none. Default `new AdaptiveThrottle()` (k = 2 over 2 min). */
  throttle?: AdaptiveThrottle | false
  /** The budget retries draw from (see `RetryBudget`); `false` for no retries. Default `new RetryBudget()` (10 % + 10/s). */
  retryBudget?: RetryBudget | false
  /** Most retries of one call, on top of the budget. Default 2. */
  maxRetries?: number
  /** Delays between attempts (equal jitter; see `backoffDelayMillis`). Default 100 ms doubling up to 2 s. */
  backoff?: BackoffPolicy
  /** A `Retry-After` longer than this is not waited for: the response is returned. Default 10 000 ms. */
  maxRetryAfterMillis?: number
  /**
   * Whether an attempt's outcome may be retried. Default: a 429, 502, 503 or 504 answer, or a
   * network error (not an abort), for a call whose method is idempotent (GET, HEAD, OPTIONS,
   * PUT, DELETE) or that carries an `Idempotency-Key` header.
   */
  retryable?: (outcome: { response: Response | undefined; error: unknown; method: string; headers: Headers }) => boolean
  /** Waits `millis` (rejects with the signal's reason when it aborts). Default: a timer. */
  sleep?: (millis: number, signal: AbortSignal | undefined) => Promise<void>
  /** Uniform randomness in [0, 1), for the backoff's jitter. Default Math.random. */
  random?: () => number
}

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE'])
const RETRY_STATUS = new Set([429, 502, 503, 504])
/** Answers that say the backend refused the request for overload: not an accept for the throttle. */
const REFUSED = new Set([429, 503])
const DEFAULT_BACKOFF: BackoffPolicy = { initialDelayMillis: 100, maxDelayMillis: 2000, multiplier: 2 }

function defaultRetryable({
  response,
  error,
  method,
  headers,
}: {
  response: Response | undefined
  error: unknown
  method: string
  headers: Headers
}): boolean {
  if (!IDEMPOTENT.has(method) && !headers.has('idempotency-key')) return false
  if (response !== undefined) return RETRY_STATUS.has(response.status)
  return !(error instanceof Error && (error.name === 'AbortError' || error.name === 'TimeoutError'))
}

function timerSleep(millis: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted === true) return reject(signal.reason)
    const onAbort = () => {
      clearTimeout(timer)
      reject(signal!.reason)
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, millis)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

/** `Retry-After` in ms: delay-seconds or an HTTP date (relative to `Date.now()`); undefined when absent or unreadable. */
export function retryAfterMillis(value: string | null, now = Date.now()): number | undefined {
  if (value === null) return undefined
  const v = value.trim()
  if (/^\d+$/.test(v)) return Number(v) * 1000
  const at = Date.parse(v)
  return Number.isNaN(at) ? undefined : Math.max(0, at - now)
}

/**
 * A `fetch` that protects the backend it calls: client-side adaptive throttling (SRE book) and
 * a retry budget by default, so that an overloaded backend sees less from its callers, not a
 * retry storm.
 *
 *   call ─► throttle.allow()? ──no──► THROTTLE_ERR_REJECTED_LOCALLY (thrown, nothing sent)
 *               │ yes
 *               ▼
 *            fetch ─► not 429/503: throttle.onAccepted()
 *               │
 *          retryable, retries < maxRetries, budget.tryRetry(), Retry-After ≤ max?
 *               │ yes: wait max(backoff, Retry-After), then allow()? again   │ no: the answer as it is
 *
 * A retry that the throttle rejects returns the last answer (or throws the last error). Bodies
 * of answers that are retried are cancelled, so their connections are released. The body of a
 * call must be replayable to be retried (a string, bytes, `URLSearchParams`, `FormData`, a
 * `Blob`; a `Request` is cloned): a stream body is sent once.
 *
 * ```ts
 * const call = throttledFetch()                      // or throttledFetch({ fetch: undici.fetch })
 * const res = await call('http://inventory/items/42') // may throw THROTTLE_ERR_REJECTED_LOCALLY
 * ```
 */
export function throttledFetch(options: ThrottledFetchOptions = {}): FetchLike {
  const owner = 'throttledFetch'
  const send: FetchLike = options.fetch ?? ((input, init) => globalThis.fetch(input, init))
  const throttle = options.throttle === false ? undefined : (options.throttle ?? new AdaptiveThrottle())
  const budget = options.retryBudget === false ? undefined : (options.retryBudget ?? new RetryBudget())
  const maxRetries = numberOption(owner, 'maxRetries', options.maxRetries, 2, 'nonNegativeInteger')
  const maxRetryAfter = numberOption(owner, 'maxRetryAfterMillis', options.maxRetryAfterMillis, 10_000, 'nonNegative')
  const backoff = options.backoff ?? DEFAULT_BACKOFF
  const retryable = options.retryable ?? defaultRetryable
  const sleep = options.sleep ?? timerSleep
  const random = options.random ?? Math.random

  return async (input, init) => {
    const method = (init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase()
    const headers = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined))
    const signal = init?.signal ?? (input instanceof Request ? input.signal : undefined) ?? undefined
    const replayable = !(init?.body instanceof ReadableStream) && !(input instanceof Request && input.bodyUsed)
    if (throttle !== undefined && !throttle.allow()) {
      const { requests, accepts } = throttle.counts()
      throw new ThrottleError(
        'THROTTLE_ERR_REJECTED_LOCALLY',
        `rejected locally, not sent: the backend accepted ${accepts} of the last ${requests} requests (reject probability ${throttle.rejectProbability().toFixed(2)})`,
      )
    }
    budget?.onRequest()
    for (let attempt = 0; ; attempt++) {
      let response: Response | undefined
      let error: unknown
      try {
        response = await send(input instanceof Request ? input.clone() : input, init)
        if (!REFUSED.has(response.status)) throttle?.onAccepted()
      } catch (err) {
        error = err
      }
      const last = () => {
        if (response !== undefined) return response
        throw error
      }
      if (attempt >= maxRetries || !replayable || !retryable({ response, error, method, headers })) return last()
      const asked = response === undefined ? undefined : retryAfterMillis(response.headers.get('retry-after'))
      if (asked !== undefined && asked > maxRetryAfter) return last()
      if (budget === undefined || !budget.tryRetry()) return last()
      await sleep(Math.max(asked ?? 0, backoffDelayMillis(attempt, backoff, random)), signal)
      if (throttle !== undefined && !throttle.allow()) return last()
      await response?.body?.cancel().catch(() => {})
    }
  }
}
