import type { Random } from './clock.ts'
import type { DeliveryStatus } from './outbox.ts'

/** How deliveries are retried; from the GOVERNOR_WEBHOOK_* settings. */
export interface RetryPolicy {
  /** Bound of the first retry delay; doubles with each attempt. */
  backoffBaseMillis: number
  /** Largest bound of a retry delay. */
  backoffMaxMillis: number
  /** Retries stop this long after the event was recorded. */
  maxRetryMillis: number
}

/** What one attempt came to. */
export type AttemptOutcome =
  | { result: 'delivered'; statusCode: number }
  | { result: 'gone'; statusCode: number; error: string }
  | { result: 'retry'; statusCode: number; error: string; retryAfterMillis?: number | undefined }

/**
 * Exponential backoff with full jitter: a delay drawn uniformly from
 * [0, min(max, base · 2^(attempts-1))), so that many deliveries failing together do not
 * come back together. `attempts` counts the attempts made so far (1 after the first).
 */
export function backoffDelayMillis(
  attempts: number,
  policy: Pick<RetryPolicy, 'backoffBaseMillis' | 'backoffMaxMillis'>,
  random: Random,
): number {
  // 2^(attempts-1) overflows to Infinity past ~1000 attempts; min() keeps it at the cap.
  const bound = Math.min(policy.backoffMaxMillis, policy.backoffBaseMillis * 2 ** Math.max(0, attempts - 1))
  return Math.floor(random() * bound)
}

/**
 * A `Retry-After` header as a delay from `now`: delay-seconds or an HTTP date (RFC 9110
 * §10.2.3). Undefined when absent or unreadable; a date in the past is no delay.
 */
export function parseRetryAfter(value: string | null | undefined, now: number): number | undefined {
  if (value === null || value === undefined) return undefined
  const v = value.trim()
  if (/^\d+$/.test(v)) return Number(v) * 1000
  const date = Date.parse(v)
  if (!Number.isFinite(date) || !/[A-Za-z]/.test(v)) return undefined
  return Math.max(0, date - now)
}

/**
 * What an HTTP answer means for a delivery, as Standard Webhooks suggests: 2xx delivered;
 * 410 Gone disables the sink; 3xx (redirects are not followed) and every other status
 * retry, after `Retry-After` when a 429 or 503 carries one.
 */
export function classifyResponse(
  statusCode: number,
  retryAfter: string | null,
  now: number,
  detail = '',
): AttemptOutcome {
  if (statusCode >= 200 && statusCode < 300) return { result: 'delivered', statusCode }
  const error = `HTTP ${statusCode}${statusCode >= 300 && statusCode < 400 ? ' (redirects are not followed: point the sink at the final URL)' : ''}${detail !== '' ? `: ${detail}` : ''}`
  if (statusCode === 410) return { result: 'gone', statusCode, error }
  const retryAfterMillis = statusCode === 429 || statusCode === 503 ? parseRetryAfter(retryAfter, now) : undefined
  return { result: 'retry', statusCode, error, retryAfterMillis }
}

/** The state a delivery moves to after an attempt. */
export interface NextState {
  attempts: number
  status: DeliveryStatus
  /** When to try again; 0 when final or disabled. */
  nextAttemptAt: number
  lastStatusCode: number
  lastError: string
  deliveredAt: number
}

/**
 * Decides what follows an attempt: pure, so that the schedule is tested without a network.
 * A retry that would fall after `eventRecordedAt + maxRetryMillis` gives up instead.
 */
export function nextState(
  attemptsBefore: number,
  eventRecordedAt: number,
  outcome: AttemptOutcome,
  policy: RetryPolicy,
  now: number,
  random: Random,
): NextState {
  const attempts = attemptsBefore + 1
  switch (outcome.result) {
    case 'delivered':
      return {
        attempts,
        status: 'delivered',
        nextAttemptAt: 0,
        lastStatusCode: outcome.statusCode,
        lastError: '',
        deliveredAt: now,
      }
    case 'gone':
      return {
        attempts,
        status: 'disabled',
        nextAttemptAt: 0,
        lastStatusCode: outcome.statusCode,
        lastError: `${outcome.error}: sink disabled until Governor restarts`,
        deliveredAt: 0,
      }
    case 'retry': {
      const delay = outcome.retryAfterMillis ?? backoffDelayMillis(attempts, policy, random)
      const next = now + delay
      if (next > eventRecordedAt + policy.maxRetryMillis) {
        return {
          attempts,
          status: 'failed',
          nextAttemptAt: 0,
          lastStatusCode: outcome.statusCode,
          lastError: `${outcome.error}; gave up after ${attempts} attempt${attempts === 1 ? '' : 's'} (GOVERNOR_WEBHOOK_MAX_RETRY_MILLIS)`,
          deliveredAt: 0,
        }
      }
      return {
        attempts,
        status: 'pending',
        nextAttemptAt: next,
        lastStatusCode: outcome.statusCode,
        lastError: outcome.error,
        deliveredAt: 0,
      }
    }
  }
}
