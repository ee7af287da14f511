import { describe, expect, it } from 'vitest'
import {
  backoffDelayMillis,
  classifyResponse,
  nextState,
  parseRetryAfter,
  type RetryPolicy,
} from '../../../collector/src/sinks/retry-policy.ts'

const policy: RetryPolicy = { backoffBaseMillis: 1000, backoffMaxMillis: 60_000, maxRetryMillis: 86_400_000 }
const almostOne = () => 0.999_999

describe('backoff with full jitter', () => {
  it('draws each delay in [0, min(max, base · 2^(n-1)))', () => {
    const bounds = [1000, 2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000]
    bounds.forEach((bound, i) => {
      expect(backoffDelayMillis(i + 1, policy, () => 0)).toBe(0)
      expect(backoffDelayMillis(i + 1, policy, () => 0.5)).toBe(bound / 2)
      const top = backoffDelayMillis(i + 1, policy, almostOne)
      expect(top).toBeLessThan(bound)
      expect(top).toBeGreaterThanOrEqual(bound - 1)
    })
  })

  it('stays at the cap for very many attempts', () => {
    expect(backoffDelayMillis(5000, policy, () => 0.5)).toBe(30_000)
  })
})

describe('Retry-After', () => {
  const now = Date.parse('2025-01-01T00:00:00Z')
  it('reads seconds and HTTP dates', () => {
    expect(parseRetryAfter('120', now)).toBe(120_000)
    expect(parseRetryAfter('Wed, 01 Jan 2025 00:00:30 GMT', now)).toBe(30_000)
    expect(parseRetryAfter('Tue, 31 Dec 2024 23:00:00 GMT', now)).toBe(0)
    expect(parseRetryAfter('soon', now)).toBeUndefined()
    expect(parseRetryAfter(null, now)).toBeUndefined()
  })

  it('is honoured on 429 and 503 only', () => {
    expect(classifyResponse(429, '7', now)).toMatchObject({ result: 'retry', retryAfterMillis: 7000 })
    expect(classifyResponse(503, '7', now)).toMatchObject({ result: 'retry', retryAfterMillis: 7000 })
    expect(classifyResponse(500, '7', now)).toMatchObject({ result: 'retry', retryAfterMillis: undefined })
  })
})

describe('what an answer means', () => {
  it('2xx delivered, 410 gone, 3xx and the rest retried', () => {
    expect(classifyResponse(204, null, 0).result).toBe('delivered')
    expect(classifyResponse(410, null, 0).result).toBe('gone')
    expect(classifyResponse(302, null, 0)).toMatchObject({
      result: 'retry',
      error: expect.stringContaining('redirects are not followed'),
    })
    expect(classifyResponse(404, null, 0, 'no_service')).toMatchObject({
      result: 'retry',
      error: 'HTTP 404: no_service',
    })
  })
})

describe('next state', () => {
  const recorded = 1_000_000
  it('schedules a retry with the jittered backoff, or at Retry-After', () => {
    const s = nextState(
      0,
      recorded,
      { result: 'retry', statusCode: 500, error: 'HTTP 500' },
      policy,
      recorded + 10,
      () => 0.5,
    )
    expect(s).toMatchObject({ attempts: 1, status: 'pending', nextAttemptAt: recorded + 10 + 500, lastStatusCode: 500 })
    const r = nextState(
      3,
      recorded,
      { result: 'retry', statusCode: 429, error: 'HTTP 429', retryAfterMillis: 45_000 },
      policy,
      recorded + 10,
      () => 0.5,
    )
    expect(r).toMatchObject({ attempts: 4, status: 'pending', nextAttemptAt: recorded + 10 + 45_000 })
  })

  it('gives up when the next attempt would fall after the retry time', () => {
    const p = { ...policy, maxRetryMillis: 10_000 }
    const last = nextState(
      5,
      recorded,
      { result: 'retry', statusCode: 0, error: 'refused' },
      p,
      recorded + 9_000,
      () => 0.5,
    )
    expect(last).toMatchObject({ attempts: 6, status: 'failed', nextAttemptAt: 0 })
    expect(last.lastError).toMatch(/refused; gave up after 6 attempts/)
    const inTime = nextState(
      5,
      recorded,
      { result: 'retry', statusCode: 0, error: 'refused' },
      p,
      recorded + 9_000,
      () => 0,
    )
    expect(inTime.status).toBe('pending')
  })

  it('marks a 410 disabled, a 2xx delivered', () => {
    expect(
      nextState(0, recorded, { result: 'gone', statusCode: 410, error: 'HTTP 410' }, policy, 5, Math.random),
    ).toMatchObject({ status: 'disabled', attempts: 1 })
    expect(nextState(2, recorded, { result: 'delivered', statusCode: 200 }, policy, 5, Math.random)).toMatchObject({
      status: 'delivered',
      attempts: 3,
      deliveredAt: 5,
    })
  })
})
