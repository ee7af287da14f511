import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { gaugeRequest } from '../helpers/otlp.ts'
import { startServer } from '../helpers/server.ts'

// A label with unbounded values must not flood the store: past the limit, points of new
// series are rejected with partial success and counted, and known series keep flowing.

let app: FastifyInstance
let url: string
const now = Date.now()

beforeAll(async () => {
  ;({ app, url } = await startServer({ maxNewSeriesPerMetricPerHour: 3 }))
})
afterAll(async () => {
  await app?.close()
})

const send = async (points: { ts: number; value: number; attrs: Record<string, string> }[]) => {
  const res = await fetch(`${url}/v1/metrics`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(gaugeRequest('auth', { 'logins.by_user': points })),
  })
  expect(res.status).toBe(200)
  return res.json() as Promise<{ partialSuccess?: { rejectedDataPoints: string; errorMessage: string } }>
}

describe('series limit', () => {
  it('rejects points of new series past the limit, keeps the rest, and counts them', async () => {
    const first = await send([0, 1, 2, 3, 4].map((i) => ({ ts: now, value: i, attrs: { user: `u${i}` } })))
    expect(first.partialSuccess?.rejectedDataPoints).toBe('2')
    expect(first.partialSuccess?.errorMessage).toMatch(/metric "logins.by_user" already gained 3 new series this hour/)
    const again = await send([
      { ts: now + 1000, value: 9, attrs: { user: 'u1' } },
      { ts: now + 1000, value: 9, attrs: { user: 'u7' } },
    ])
    expect(again.partialSuccess?.rejectedDataPoints).toBe('1')
    const q = (await (await fetch(`${url}/api/v1/series?metric=logins.by_user`)).json()) as {
      series: { labels: Record<string, string> }[]
    }
    expect(q.series.map((s) => s.labels.user).sort()).toEqual(['u0', 'u1', 'u2'])
    const metrics = await (await fetch(`${url}/metrics`)).text()
    expect(metrics).toMatch(/governor_series_limit_rejected_points_total\{limit="metric"\} 3/)
  })
})
