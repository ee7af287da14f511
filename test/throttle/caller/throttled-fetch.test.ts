import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { AdaptiveThrottle } from '../../../throttle/src/caller/adaptive-throttle.ts'
import { RetryBudget } from '../../../throttle/src/caller/retry-budget.ts'
import { retryAfterMillis, throttledFetch } from '../../../throttle/src/caller/throttled-fetch.ts'
import { ManualClock } from '../../../throttle/src/clock.ts'
import { isThrottleError } from '../../../throttle/src/errors.ts'

// A real HTTP backend on a port; the caller's clock, randomness and waits are injected, so no
// test waits on a timer: `sleep` records the delay asked and returns.

let server: Server | undefined
afterEach(async () => {
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined))
  server = undefined
})

/** A backend that answers each request with `answer(n)` (n from 1): a status and headers. */
async function backend(
  answer: (n: number, method: string) => { status: number; headers?: Record<string, string> },
): Promise<{ url: string; seen: () => number }> {
  let n = 0
  server = createServer((req, res) => {
    req.resume()
    const a = answer(++n, req.method ?? 'GET')
    res.writeHead(a.status, { 'content-type': 'text/plain', ...a.headers }).end(`answer ${n}`)
  })
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, seen: () => n }
}

/** A caller on a manual clock; `draw` is the throttle's random draw (a request is rejected locally when it is under p). */
function caller(
  o: { clock?: ManualClock; ratio?: number; minPerSecond?: number; maxRetries?: number; draw?: number } = {},
) {
  const clock = o.clock ?? new ManualClock()
  const waits: number[] = []
  const call = throttledFetch({
    throttle: new AdaptiveThrottle({ clock: clock.now, random: () => o.draw ?? 0.999 }),
    retryBudget: new RetryBudget({ clock: clock.now, ratio: o.ratio ?? 0.1, minPerSecond: o.minPerSecond ?? 10 }),
    ...(o.maxRetries !== undefined ? { maxRetries: o.maxRetries } : {}),
    random: () => 0,
    sleep: async (ms) => {
      waits.push(ms)
    },
  })
  return { call, waits, clock }
}

describe('throttledFetch', () => {
  it("retries an overloaded answer after the backend's Retry-After, and returns the answer that got through", async () => {
    const b = await backend((n) => (n <= 2 ? { status: 503, headers: { 'retry-after': '1' } } : { status: 200 }))
    const { call, waits } = caller()
    const res = await call(b.url)
    expect(res.status).toBe(200)
    expect(await res.text()).toBe('answer 3')
    expect(b.seen()).toBe(3)
    expect(waits).toEqual([1000, 1000]) // Retry-After over the backoff (50 ms, then 100 ms, with the jitter's 0)
  })

  it('backs off exponentially when the backend gives no Retry-After, and retries at most maxRetries times', async () => {
    const b = await backend(() => ({ status: 502 }))
    const { call, waits } = caller({ maxRetries: 3 })
    const res = await call(b.url)
    expect(res.status).toBe(502)
    expect(await res.text()).toBe('answer 4') // the last answer, its body intact
    expect(waits).toEqual([50, 100, 200])
  })

  it('keeps retries within the budget: a backend failing everything sees at most 1.1 × the calls', async () => {
    const b = await backend(() => ({ status: 503 }))
    // No throttle here: the budget alone (10 % of the calls, no per-second floor).
    const clock = new ManualClock()
    const call = throttledFetch({
      throttle: false,
      retryBudget: new RetryBudget({ clock: clock.now, ratio: 0.1, minPerSecond: 0 }),
      sleep: async () => {},
    })
    for (let i = 0; i < 100; i++) expect((await call(b.url)).status).toBe(503)
    expect(b.seen()).toBe(110)
  })

  it('rejects locally, sending nothing, once the backend refuses most of what it gets', async () => {
    const b = await backend(() => ({ status: 503 }))
    const { call } = caller({ ratio: 0, minPerSecond: 0, draw: 0.5 }) // no retries: the throttle alone
    let rejected = 0
    for (let i = 0; i < 100; i++) {
      try {
        await call(b.url)
      } catch (err) {
        expect(isThrottleError(err) && err.code).toBe('THROTTLE_ERR_REJECTED_LOCALLY')
        expect((err as Error).message).toMatch(
          /^rejected locally, not sent: the backend accepted 0 of the last \d+ requests/,
        )
        rejected++
      }
    }
    expect(rejected + b.seen()).toBe(100)
    expect(b.seen()).toBeLessThan(10) // the random draw is 0.5: rejected once p > 0.5, after a couple of refusals
  })

  it('counts every answer but 429 and 503 as accepted: a backend that answers stays fully reachable', async () => {
    const b = await backend((n) => ({ status: n % 2 === 0 ? 404 : 200 }))
    const { call } = caller()
    for (let i = 0; i < 50; i++) await call(b.url)
    expect(b.seen()).toBe(50)
  })

  it('retries only idempotent calls, or those with an Idempotency-Key', async () => {
    const b = await backend(() => ({ status: 503 }))
    const { call } = caller()
    await call(b.url, { method: 'POST', body: 'order' })
    expect(b.seen()).toBe(1)
    await call(b.url, { method: 'POST', body: 'order', headers: { 'Idempotency-Key': 'o-1' } })
    expect(b.seen()).toBe(4)
  })

  it('returns at once when the backend asks to wait longer than maxRetryAfterMillis', async () => {
    const b = await backend(() => ({ status: 429, headers: { 'retry-after': '60' } }))
    const { call, waits } = caller()
    expect((await call(b.url)).status).toBe(429)
    expect(waits).toEqual([])
    expect(b.seen()).toBe(1)
  })

  it('retries a network error, then throws it', async () => {
    const b = await backend(() => ({ status: 200 }))
    await new Promise((resolve) => server!.close(resolve))
    server = undefined
    const { call, waits } = caller()
    await expect(call(b.url)).rejects.toThrow(/fetch failed/)
    expect(waits).toHaveLength(2)
  })

  it('refuses a bad option with the value received', () => {
    expect(() => throttledFetch({ maxRetries: -1 })).toThrow(
      /throttledFetch: maxRetries must be a whole number of at least 0; got -1/,
    )
  })

  it('reads Retry-After as seconds or as an HTTP date', () => {
    expect(retryAfterMillis('3')).toBe(3000)
    expect(retryAfterMillis('Wed, 02 Dec 2026 14:00:05 GMT', Date.parse('Wed, 02 Dec 2026 14:00:00 GMT'))).toBe(5000)
    expect(retryAfterMillis('soon')).toBeUndefined()
    expect(retryAfterMillis(null)).toBeUndefined()
  })
})
