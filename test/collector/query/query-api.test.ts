import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../../collector/src/app.ts'
import { checkAnswers } from '../../helpers/answer-schemas.ts'
import { nanos } from '../../helpers/otlp.ts'
import { testSettings } from '../../helpers/settings.ts'

// Query semantics through GET /api/v1/query, over points ingested through /v1/metrics.
// Every expected value is worked out by hand in the comments.

let app: FastifyInstance
const STEP = 60_000
// A bucket-aligned origin an hour ago, so every point falls where the comments say.
const T0 = Math.floor((Date.now() - 3_600_000) / STEP) * STEP

const attrs = (o: Record<string, string>) => Object.entries(o).map(([key, v]) => ({ key, value: { stringValue: v } }))

async function ingest(metrics: object[]): Promise<void> {
  const res = await app.inject({
    method: 'POST',
    url: '/v1/metrics',
    headers: { 'content-type': 'application/json' },
    payload: {
      resourceMetrics: [{ resource: { attributes: attrs({ 'service.name': 'shop' }) }, scopeMetrics: [{ metrics }] }],
    },
  })
  expect(res.statusCode, res.body).toBe(200)
}

async function query(q: Record<string, string>) {
  const res = await app.inject({
    method: 'GET',
    url: `/api/v1/query?${new URLSearchParams({ from: String(T0), to: String(T0 + 10 * STEP), ...q })}`,
  })
  return {
    status: res.statusCode,
    body: res.json() as {
      series: { labels: Record<string, string>; points: number[][] }[]
      error?: { code: string; message: string }
    },
  }
}

beforeAll(async () => {
  app = await buildApp(testSettings(), { logger: false, instrument: checkAnswers() })
  // A cumulative counter scraped every 15 s that restarts (resets to 0) inside the second minute.
  //   minute 0: 0, 15, 30, 45 at t = 0, 15, 30, 45 s
  //   minute 1: 60, 5 (reset), 20, 35 at t = 60, 75, 90, 105 s
  const counter = [0, 15, 30, 45, 60, 5, 20, 35]
  const start = (i: number) => (i < 5 ? T0 - 1000 : T0 + 70_000)
  await ingest([
    {
      name: 'orders',
      sum: {
        aggregationTemporality: 2,
        isMonotonic: true,
        dataPoints: counter.map((v, i) => ({
          timeUnixNano: nanos(T0 + i * 15_000),
          startTimeUnixNano: nanos(start(i)),
          asDouble: v,
          attributes: attrs({ region: 'eu' }),
        })),
      },
    },
  ])
  // Two gauges in two regions, for grouping.
  await ingest([
    {
      name: 'queue',
      gauge: {
        dataPoints: [
          { timeUnixNano: nanos(T0), asDouble: 2, attributes: attrs({ region: 'eu', host: 'a' }) },
          { timeUnixNano: nanos(T0 + 30_000), asDouble: 4, attributes: attrs({ region: 'eu', host: 'a' }) },
          { timeUnixNano: nanos(T0), asDouble: 10, attributes: attrs({ region: 'eu', host: 'b' }) },
          { timeUnixNano: nanos(T0), asDouble: 7, attributes: attrs({ region: 'us', host: 'c' }) },
        ],
      },
    },
  ])
  // A cumulative histogram with bounds [100, 200, 400] ms: 10 observations in the first
  // minute, then 10 more in the second, all in the (200, 400] bucket.
  const hist = (t: number, counts: number[], sum: number) => ({
    timeUnixNano: nanos(t),
    startTimeUnixNano: nanos(T0 - 1000),
    count: String(counts.reduce((a, b) => a + b, 0)),
    sum,
    bucketCounts: counts.map(String),
    explicitBounds: [100, 200, 400],
  })
  await ingest([
    {
      name: 'latency',
      unit: 'ms',
      histogram: {
        aggregationTemporality: 2,
        dataPoints: [
          hist(T0, [0, 0, 0, 0], 0),
          hist(T0 + 59_000, [4, 4, 2, 0], 1500),
          hist(T0 + 60_000, [4, 4, 2, 0], 1500),
          hist(T0 + 119_000, [4, 4, 12, 0], 4500),
        ],
      },
    },
  ])
})
afterAll(async () => {
  await app?.close()
})

describe('GET /api/v1/query', () => {
  it('returns raw points without a step', async () => {
    const { body } = await query({ metric: 'orders' })
    expect(body.series[0]!.points.map((p) => p[1])).toEqual([0, 15, 30, 45, 60, 5, 20, 35])
  })

  it('computes increase across a counter reset as Prometheus does', async () => {
    // Minute 0: samples 0..45 over 45 s, 15 s apart; extrapolated by up to 1.1 × 15 s on
    // each side, limited by the window: 45 over 45 s → 45 × (59.999/45)... Prometheus
    // extrapolates to the window edges (here at most 14.999 s after the last sample and
    // 0 before the first, which sits on the window start) → 45 / 45 × 59.999 = 59.999.
    // Minute 1: 60, 5, 20, 35: the drop 60 → 5 is a reset, so the increase is 35 - 60 + 60
    // = 35 over 45 s, extrapolated the same way to 35 / 45 × 59.999 = 46.666.
    const { body } = await query({ metric: 'orders', step: '60', agg: 'increase' })
    const [m0, m1] = body.series[0]!.points
    expect(m0![0]).toBe(T0)
    expect(m0![1]).toBeCloseTo(59.999, 2)
    expect(m1![1]).toBeCloseTo((35 / 45) * 59.999, 2)
  })

  it('rate is the increase per second', async () => {
    const inc = (await query({ metric: 'orders', step: '60', agg: 'increase' })).body.series[0]!.points
    const rate = (await query({ metric: 'orders', step: '60', agg: 'rate' })).body.series[0]!.points
    expect(rate.map((p) => p[1])).toEqual(inc.map((p) => p[1]! / 60))
  })

  it('aggregates gauges per step, per series and grouped by an attribute', async () => {
    const per = await query({ metric: 'queue', step: '60', agg: 'max' })
    expect(per.body.series.map((s) => [s.labels.host, s.points[0]![1]]).sort()).toEqual([
      ['a', 4],
      ['b', 10],
      ['c', 7],
    ])
    const grouped = await query({ metric: 'queue', step: '60', agg: 'avg', by: 'region' })
    // eu pools 2, 4 and 10 → 16 / 3; us has 7.
    const byRegion = Object.fromEntries(grouped.body.series.map((s) => [s.labels.region, s.points[0]![1]]))
    expect(byRegion.eu).toBeCloseTo(16 / 3, 10)
    expect(byRegion.us).toBe(7)
    expect(grouped.body.series[0]!.labels).toEqual({ region: expect.any(String) })
    const last = await query({ metric: 'queue', step: '60', agg: 'last', by: 'region', match: 'region=eu' })
    // eu's last values: a → 4, b → 10, summed.
    expect(last.body.series).toEqual([{ labels: { region: 'eu' }, points: [[T0, 14]] }])
  })

  it("computes histogram quantiles over each step's increase", async () => {
    const { body } = await query({ metric: 'latency', step: '60', agg: 'p50' })
    // Minute 0: the increase is 4, 4, 2, 0 (10 observations); the 5th falls in (100, 200]
    // as its 1st of 4 → 100 + 100 × (5 - 4) / 4 = 125 (no extrapolation: the points sit on
    // the window edges, ignoring the 1 ms gap which the test tolerates).
    // Minute 1: only the (200, 400] bucket grew, by 10 → p50 = 200 + 200 × 5 / 10 = 300;
    // a quantile of the cumulative totals (4, 4, 12) would give 200 + 200 × 2 / 12 ≈ 233.
    const [m0, m1] = body.series[0]!.points
    expect(m0![1]).toBeCloseTo(125, 0)
    expect(m1![1]).toBeCloseTo(300, 0)
  })

  it('refuses an aggregation that does not fit the type, naming it', async () => {
    const { status, body } = await query({ metric: 'queue', step: '60', agg: 'rate' })
    expect(status).toBe(400)
    expect(body.error!.code).toBe('GOV_ERR_QUERY_AGG_TYPE')
    const bad = await query({ metric: 'queue', step: '60', agg: 'median' })
    expect(bad.status).toBe(400)
    expect(bad.body.error!.message).toMatch(/median/)
  })

  it('validates its parameters with messages that name them', async () => {
    expect((await query({ metric: '' })).body.error!.message).toMatch(/metric is required/)
    expect((await query({ metric: 'queue', step: 'soon' })).body.error!.message).toMatch(/step="soon"/)
    expect((await query({ metric: 'queue', agg: 'avg' })).body.error!.message).toMatch(/needs a step/)
    expect((await query({ metric: 'queue', from: 'yesterday' })).body.error!.message).toMatch(/from="yesterday"/)
    expect((await query({ metric: 'queue', step: '0.001' })).status).toBe(400)
  })
})
