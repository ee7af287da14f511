import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../collector/src/app.ts'
import { burnPairs } from '../../collector/src/slo/burn-windows.ts'
import { testSettings } from '../helpers/settings.ts'
import { api, counter, send, type NumberPoint } from '../collector/slo/seed.ts'

// A 1h SLO scaled the workbook's burn windows by 1h/30d to 5 s/1 s: below any export interval,
// so the short window never held a point and a 50× burn never paged.

let app: FastifyInstance
const M = 60_000
const T = Math.floor(Date.now() / 1000) * 1000
const who = { actor: 'alice', reason: 'r' }

/** Requests per status, exported every `everyMin` minutes for the last hour (the last `lastMillis` ago): half of them fail from 20 minutes ago. */
function requests(everyMin: number, lastMillis: number): object {
  const points: NumberPoint[] = []
  let ok = 0,
    failed = 0
  for (let m = 60; m >= 0; m -= everyMin) {
    const ts = T - m * M - lastMillis
    if (m < 60) {
      if (m < 20) {
        ok += 50 * everyMin
        failed += 50 * everyMin
      } else ok += 100 * everyMin
    }
    points.push(
      { ts, start: T - 70 * M, value: ok, attrs: { code: '200' } },
      { ts, start: T - 70 * M, value: failed, attrs: { code: '500' } },
    )
  }
  return counter('requests_total', points)
}

beforeAll(async () => {
  app = await buildApp(testSettings({ controllerTickMillis: 0, impactIntervalMillis: 0 }), { logger: false })
  await send(app, 'every-minute', [requests(1, 5_000)])
  await send(app, 'every-15-minutes', [requests(15, 7 * M)])
  for (const service of ['every-minute', 'every-15-minutes']) {
    const res = await api(app, 'PUT', `/slos/${service}/availability`, {
      sli: { type: 'error_ratio', metric: 'requests_total', errors: { code: '5xx' } },
      objective: 99,
      window: '1h',
      ...who,
    })
    expect(res.status).toBe(201)
  }
})
afterAll(async () => {
  await app?.close()
})

type Burn = {
  long_window: string
  short_window: string
  long: number | null
  short: number | null
  firing: boolean
  notes?: string[]
}

describe('burn windows of a short SLO', () => {
  it('are never shorter than 5 minutes (short) and 12 times that (long)', () => {
    for (const p of burnPairs(3_600_000)) expect([p.shortMillis, p.longMillis]).toEqual([5 * M, 60 * M])
    expect(burnPairs(3_600_000)[0]!.floored).toEqual({ longMillis: 5_000, shortMillis: 1_000 })
  })

  it('page on a 50× burn of data exported every minute, and say the windows were floored', async () => {
    const s = (await api(app, 'GET', '/slos/every-minute/availability')).body
    const fast = (s.burn_rates as Burn[])[0]!
    expect([fast.long_window, fast.short_window]).toEqual(['1h', '5m'])
    // 5m: half of the requests failed, against 1 % allowed: 50. 1h: 20 of 60 minutes at half → 1/6 failed: 16.7.
    expect(fast.short).toBeCloseTo(50, 6)
    expect(fast.long).toBeCloseTo(50 / 3, 6)
    expect(fast.firing).toBe(true)
    expect(s.alert).toBe('page')
    expect(fast.notes).toEqual([
      'windows floored to 1h/5m (scaled to this 1h SLO they would be 5s/1s, too short to hold data points: short windows are at least 5m, long ones 12 times their short one)',
    ])
  })

  it('say when a short window holds no data point of data exported less often', async () => {
    const s = (await api(app, 'GET', '/slos/every-15-minutes/availability')).body
    const fast = (s.burn_rates as Burn[])[0]!
    expect(fast.short).toBeNull()
    expect(fast.notes).toContain(
      'no events in the 5m window while the 1h window has some: the data comes less often than every 5m, so this pair cannot fire (send points more often)',
    )
  })
})
