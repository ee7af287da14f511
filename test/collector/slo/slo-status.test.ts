import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../../collector/src/app.ts'
import { checkAnswers } from '../../helpers/answer-schemas.ts'
import { testSettings } from '../../helpers/settings.ts'
import { accumulate, api, counter, gauge, histogram, send } from './seed.ts'

// GET /api/v1/slos over points sent through /v1/metrics, every number computed by hand below.
// T is "now" when the data was sent; the test reads within seconds of it, and every point
// lies well inside or well outside each window, so the counts do not depend on that delay.

let app: FastifyInstance
const M = 60_000,
  H = 60 * M,
  D = 24 * H
const T = Math.floor(Date.now() / 1000) * 1000
const who = { actor: 'alice', reason: 'agreed with the team' }

type Burn = {
  long_window: string
  short_window: string
  threshold: number
  severity: string
  long: number | null
  short: number | null
  firing: boolean
}
const slo = async (service: string, name: string) => {
  const { body } = await api(app, 'GET', `/slos?service=${service}`)
  return (body.slos as Record<string, any>[]).find((s) => s.name === name)!
}

beforeAll(async () => {
  app = await buildApp(testSettings({ controllerTickMillis: 0, impactIntervalMillis: 0 }), {
    logger: false,
    instrument: checkAnswers(),
  })

  // Latency: one histogram, bounds 100..500 ms. Observations added per point (per bucket:
  // ≤100, ≤200, ≤300, ≤400, ≤500, +Inf); the threshold 250 ms lies inside (200, 300], so half
  // of that bucket counts as above it (linear interpolation), the buckets above all of it:
  //
  //   point    added                     total   above 250 ms
  //   T−40h    (the first point: zeros)      0    0
  //   T−20h    900  80  20  0  0  0       1000    20 × 0.5            = 10
  //   T−3h     400   0   0  0  0  0        400    0
  //   T−40m     90   6   2  2  0  0        100    2 × 0.5 + 2         = 3
  //   T−3m       0   0   0  0  0 10         10    10 (+Inf above 500) = 10
  const bounds = [100, 200, 300, 400, 500]
  const points = () => {
    const next = accumulate(bounds)
    const start = T - 41 * H
    return [
      next(T - 40 * H, start, [0, 0, 0, 0, 0, 0]),
      next(T - 20 * H, start, [900, 80, 20, 0, 0, 0]),
      next(T - 3 * H, start, [400, 0, 0, 0, 0, 0]),
      next(T - 40 * M, start, [90, 6, 2, 2, 0, 0]),
      next(T - 3 * M, start, [0, 0, 0, 0, 0, 10]),
    ]
  }
  await send(app, 'checkout', [histogram('http.server.request.duration', 'ms', bounds, points())])
  // The same observations in seconds, as the OTel HTTP conventions record them: threshold_ms
  // is converted to the histogram's unit.
  await send(app, 'checkout-s', [
    histogram(
      'http.server.request.duration',
      's',
      bounds.map((b) => b / 1000),
      points(),
    ),
  ])

  // Error ratio: a counter per status, both restarted at T−25m (their values drop and their
  // start time moves). Growth per point: the difference to the point before, or after a reset
  // the new value (the counter restarted from 0); the first point read has nothing before it.
  //
  //   point    2xx value  growth   5xx value  growth
  //   T−90m       1000       0         10        0
  //   T−50m       1500     500         10        0
  //   T−20m        200     200 reset    6        6 reset
  //   T−4m         700     500         30       24
  //   T−30s       1000     300         40       10
  const ok = { 'http.response.status_code': '200' },
    failed = { 'http.response.status_code': '500' }
  const early = T - 40 * D,
    restart = T - 25 * M
  await send(app, 'checkout', [
    counter('http.server.requests', [
      { ts: T - 90 * M, start: early, value: 1000, attrs: ok },
      { ts: T - 50 * M, start: early, value: 1500, attrs: ok },
      { ts: T - 20 * M, start: restart, value: 200, attrs: ok },
      { ts: T - 4 * M, start: restart, value: 700, attrs: ok },
      { ts: T - 30_000, start: restart, value: 1000, attrs: ok },
      { ts: T - 90 * M, start: early, value: 10, attrs: failed },
      { ts: T - 50 * M, start: early, value: 10, attrs: failed },
      { ts: T - 20 * M, start: restart, value: 6, attrs: failed },
      { ts: T - 4 * M, start: restart, value: 30, attrs: failed },
      { ts: T - 30_000, start: restart, value: 40, attrs: failed },
    ]),
  ])

  // A gauge sampled every minute for 200 minutes (T−199m … T): one sample above the max 100
  // (150 at T−150m); one exactly at it (100 at T−100m), which is not above.
  await send(app, 'checkout', [
    gauge(
      'queue.depth',
      Array.from({ length: 200 }, (_, i) => {
        const ts = T - i * M
        return { ts, value: i === 150 ? 150 : i === 100 ? 100 : 10 }
      }),
    ),
  ])

  const put = async (service: string, name: string, body: object) => {
    const res = await api(app, 'PUT', `/slos/${service}/${name}`, { ...body, ...who })
    expect(res.status, JSON.stringify(res.body)).toBe(201)
  }
  const latency = {
    sli: { type: 'latency', metric: 'http.server.request.duration', percentile: 99, threshold_ms: 250 },
    objective: 99,
    window: '30d',
  }
  await put('checkout', 'latency', latency)
  await put('checkout-s', 'latency', latency)
  const errors = { type: 'error_ratio', metric: 'http.server.requests', errors: { 'http.response.status_code': '5xx' } }
  await put('checkout', 'errors', { sli: errors, objective: 99.9, window: '30d' })
  await put('checkout', 'errors-7d', { sli: errors, objective: 99.9, window: '7d' })
  await put('checkout', 'queue', {
    sli: { type: 'gauge_max', metric: 'queue.depth', max: 100 },
    objective: 99,
    window: '30d',
  })
})
afterAll(async () => {
  await app?.close()
})

describe('a latency SLO from a histogram', () => {
  it('counts observations above the threshold per window, interpolating inside the bucket that holds it', async () => {
    const s = await slo('checkout', 'latency')
    // Over 30d: 10 + 0 + 3 + 10 = 23 above of 1000 + 400 + 100 + 10 = 1510.
    expect(s.events).toEqual({ bad: 23, total: 1510 })
    // SLI: 1 − 23/1510 = 98.4768 % good. Objective 99 % allows 1 %: the budget left is
    // 1 − (23/1510)/0.01 = 1 − 1.52318 = −0.52318 (spent).
    expect(s.current_sli).toBeCloseTo(98.4768, 3)
    expect(s.error_budget_remaining).toBeCloseTo(-0.52318, 4)
  })

  it('computes the burn rate of every window pair and raises a ticket when only the slow pairs fire', async () => {
    const s = await slo('checkout', 'latency')
    const burns = s.burn_rates as Burn[]
    expect(burns.map((b) => [b.long_window, b.short_window, b.threshold, b.severity])).toEqual([
      ['1h', '5m', 14.4, 'page'],
      ['6h', '30m', 6, 'page'],
      ['1d', '2h', 3, 'ticket'],
      ['3d', '6h', 1, 'ticket'],
    ])
    // burn = (bad / total) / 0.01:
    //   5m, 30m: 10/10 → 100        1h, 2h: 13/110 → 11.8182      6h: 13/510 → 2.54902
    //   1d, 3d: 23/1510 → 1.52318
    // 1h/5m: 11.8 ≤ 14.4; 6h/30m: 2.55 ≤ 6; 1d/2h: 1.52 ≤ 3; 3d/6h: 1.52 and 2.55 > 1 → fires.
    const expected = [
      [11.8182, 100, false],
      [2.54902, 100, false],
      [1.52318, 11.8182, false],
      [1.52318, 2.54902, true],
    ]
    burns.forEach((b, i) => {
      const [long, short, firing] = expected[i]!
      expect(b.long).toBeCloseTo(long as number, 3)
      expect(b.short).toBeCloseTo(short as number, 3)
      expect(b.firing).toBe(firing)
    })
    expect(s.alert).toBe('ticket')
  })

  it('converts threshold_ms into the unit of a histogram recorded in seconds', async () => {
    const s = await slo('checkout-s', 'latency')
    expect(s.events).toEqual({ bad: 23, total: 1510 })
    expect(s.alert).toBe('ticket')
  })
})

describe('an error-ratio SLO on a counter that was reset inside the window', () => {
  it('adds the value after a reset as growth, so the ratio is that of the requests actually served', async () => {
    const s = await slo('checkout', 'errors')
    // Over 30d: errors 0 + 0 + 6 + 24 + 10 = 40; all 2xx growth 0 + 500 + 200 + 500 + 300 = 1500, plus the 40.
    expect(s.events).toEqual({ bad: 40, total: 1540 })
    // Objective 99.9 % allows 0.1 %: 40/1540 = 2.5974 % → burn 25.974, budget 1 − 25.974 = −24.974.
    expect(s.current_sli).toBeCloseTo(97.4026, 3)
    expect(s.error_budget_remaining).toBeCloseTo(-24.974, 2)
  })

  it('pages when the fast pair fires over both of its windows', async () => {
    const s = await slo('checkout', 'errors')
    const [fast, slow] = s.burn_rates as Burn[]
    // 5m: T−4m and T−30s: errors 24 + 10 = 34 of 500 + 300 + 34 = 834 → 0.0407674 → 40.767.
    // 1h: adds T−50m and T−20m: errors 40 of 1540 → 25.974. Both above 14.4.
    expect(fast!.short).toBeCloseTo(40.767, 2)
    expect(fast!.long).toBeCloseTo(25.974, 2)
    expect(fast!.firing).toBe(true)
    // 30m: T−20m, T−4m, T−30s: 40 of 200 + 500 + 300 + 40 = 1040 → 38.462; 6h as 1h.
    expect(slow!.short).toBeCloseTo(38.462, 2)
    expect(slow!.long).toBeCloseTo(25.974, 2)
    expect(s.alert).toBe('page')
  })

  it('scales the window pairs of a 7-day SLO by 7/30 and keeps the thresholds, flooring the first to 1h/5m', async () => {
    const s = await slo('checkout', 'errors-7d')
    const burns = s.burn_rates as (Burn & { notes?: string[] })[]
    expect(burns.map((b) => [b.long_window, b.short_window, b.threshold])).toEqual([
      ['1h', '5m', 14.4],
      ['1h24m', '7m', 6],
      ['5h36m', '28m', 3],
      ['16h48m', '1h24m', 1],
    ])
    expect(burns[0]!.notes).toEqual([
      'windows floored to 1h/5m (scaled to this 7d SLO they would be 14m/1m10s, too short to hold data points: short windows are at least 5m, long ones 12 times their short one)',
    ])
    expect(burns[1]!.notes).toBeUndefined()
    // 5m: T−4m and T−30s: 34/834 → 40.767. 1h: 40/1540 → 25.974.
    expect(burns[0]!.short).toBeCloseTo(40.767, 2)
    expect(burns[0]!.long).toBeCloseTo(25.974, 2)
    // 7m: as 14m, 40.767; 1h24m: 40/1540 → 25.974. 28m: 40/1040 → 38.462; 5h36m: 25.974.
    expect(burns[1]!.short).toBeCloseTo(40.767, 2)
    expect(burns[1]!.long).toBeCloseTo(25.974, 2)
    expect(burns[2]!.short).toBeCloseTo(38.462, 2)
    expect(burns[2]!.long).toBeCloseTo(25.974, 2)
    expect(s.alert).toBe('page')
  })
})

describe('a gauge_max SLO', () => {
  it('counts the share of samples above the max, and is ok while the budget lasts', async () => {
    const s = await slo('checkout', 'queue')
    // 200 samples, 1 above 100 (the one at 100 is not above): 0.5 % bad against 1 % allowed.
    expect(s.events).toEqual({ bad: 1, total: 200 })
    expect(s.current_sli).toBeCloseTo(99.5, 6)
    expect(s.error_budget_remaining).toBeCloseTo(0.5, 6)
    // 6h, 1d and 3d hold all 200 samples: burn 0.005 / 0.01 = 0.5 ≤ 1; the short windows none bad.
    const slowest = (s.burn_rates as Burn[])[3]!
    expect(slowest.long).toBeCloseTo(0.5, 6)
    expect(slowest.short).toBeCloseTo(0.5, 6)
    expect(slowest.firing).toBe(false)
    expect(s.alert).toBe('ok')
  })

  it('reports an SLO whose metric has no points yet as untouched, and one of the wrong type with the reason', async () => {
    await api(app, 'PUT', '/slos/checkout/new', {
      sli: { type: 'gauge_max', metric: 'not.sent', max: 1 },
      objective: 99,
      window: '30d',
      ...who,
    })
    const fresh = await slo('checkout', 'new')
    expect(fresh).toMatchObject({
      current_sli: null,
      events: { bad: 0, total: 0 },
      error_budget_remaining: 1,
      alert: 'ok',
    })
    await api(app, 'PUT', '/slos/checkout/wrong', {
      sli: { type: 'latency', metric: 'queue.depth', percentile: 99, threshold_ms: 5 },
      objective: 99,
      window: '30d',
      ...who,
    })
    const wrong = await slo('checkout', 'wrong')
    expect(wrong.error).toBe('queue.depth of checkout is a gauge: a latency SLI reads an explicit-bucket histogram')
    expect(wrong.current_sli).toBeNull()
  })
})
