import type { ClickHouseClient } from '@clickhouse/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildSqlDashboards } from '../../dashboards/src/build.ts'
import { api } from '../collector/slo/seed.ts'
import type { MacroContext } from './grafana-macros.ts'
import { context, panel, panelQueries, runSql, type Result } from './run-panel.ts'
import { seedStack, timeline, type SeededStack } from './seed-stack.ts'

// Every panel's SQL, with Grafana's macros expanded, on the real engine over data sent
// through the real receivers and API; the numbers are checked against hand computations
// and against Governor's own query and SLO APIs over the same data.

const dashboards = buildSqlDashboards()
const service = dashboards['service.json']!

let stack: SeededStack
let client: ClickHouseClient
const { t0: T0 } = timeline()
const MINUTE_5 = T0 + 5 * 60_000

const ctx = (over: Partial<MacroContext> = {}, vars: Record<string, string[]> = {}) => context(T0, over, vars)
const run = (sql: string, c: MacroContext = ctx()): Promise<Result> => runSql(client, sql, c)
const at = (r: Result, t: number) => r.rows.filter((row) => row.time === t)

beforeAll(async () => {
  stack = await seedStack(T0)
  client = stack.app.governor.store.client
}, 120_000)
afterAll(async () => {
  await stack?.close()
})

describe('every panel', () => {
  const all = Object.values(dashboards).flatMap(panelQueries)
  it.each(all.map((p) => [`${p.dashboard} / ${p.title}`, p] as const))('%s runs on the engine', async (_name, p) => {
    const r = await run(
      p.sql,
      ctx({}, { service: ['checkout', 'payments', 'governor'], environment: ['production', 'staging'] }),
    )
    expect(r.columns.length).toBeGreaterThan(0)
    if (p.type === 'timeseries') expect(r.columns[0]).toBe('time')
  })
})

describe('Service dashboard', () => {
  it("requests and errors per second: the histogram count's rate, as agg=rate computes it", async () => {
    const r = await run(panel(service, 'Requests and errors per second').sql)
    expect(r.columns).toEqual(['time', 'requests', 'errors'])
    const [row] = at(r, MINUTE_5)
    expect(row!.requests).toBeCloseTo(1.1, 9)
    expect(row!.errors).toBeCloseTo(0.2, 9)
    const all = await api(
      stack.app,
      'GET',
      `/query?metric=http.server.request.duration&service=checkout&agg=rate&step=60&by=service&from=${T0}&to=${Date.now()}`,
    )
    const errors = await api(
      stack.app,
      'GET',
      `/query?metric=http.server.request.duration&service=checkout&agg=rate&step=60&from=${T0}&to=${Date.now()}&match=http.response.status_code=500`,
    )
    const expected = all.body.series[0].points as [number, number][]
    expect(r.rows.map((x) => x.time)).toEqual(expected.map(([t]) => t))
    r.rows.forEach((x, i) => expect(x.requests as number).toBeCloseTo(expected[i]![1], 9))
    const errorPoints = new Map(errors.body.series[0].points as [number, number][])
    for (const x of r.rows) expect(x.errors as number).toBeCloseTo(errorPoints.get(x.time as number) ?? 0, 9)
  })

  it('error ratio: 5xx over all, per step', async () => {
    const r = await run(panel(service, 'Error ratio').sql)
    expect(r.columns).toEqual(['time', 'error_ratio'])
    expect(at(r, MINUTE_5)[0]!.error_ratio).toBeCloseTo(2 / 11, 9)
  })

  it('latency p50 and p99 in ms: histogram_quantile of each step, as agg=p50 and agg=p99', async () => {
    const r = await run(panel(service, 'Latency p50 and p99').sql)
    expect(r.columns).toEqual(['time', 'p50', 'p99'])
    expect(at(r, MINUTE_5)[0]!.p50).toBeCloseTo(68.75, 6)
    expect(at(r, MINUTE_5)[0]!.p99).toBeCloseTo(972.5, 6)
    for (const q of ['p50', 'p99'] as const) {
      const res = await api(
        stack.app,
        'GET',
        `/query?metric=http.server.request.duration&service=checkout&agg=${q}&step=60&by=service&from=${T0}&to=${Date.now()}`,
      )
      const points = res.body.series[0].points as [number, number][]
      expect(r.rows.map((x) => x.time)).toEqual(points.map(([t]) => t))
      r.rows.forEach((x, i) => expect(x[q] as number).toBeCloseTo(points[i]![1] * 1000, 6))
    }
  })

  it('last deploy: version, who, when and how long ago, of the selected environment', async () => {
    const r = await run(panel(service, 'Last deploy').sql)
    expect(r.columns).toEqual(['version', 'actor', 'deployed_at', 'seconds_ago', 'ago', 'environment', 'title'])
    expect(r.rows).toHaveLength(1)
    const [row] = r.rows
    expect(row).toMatchObject({
      version: '1.4.2',
      actor: 'alice',
      deployed_at: T0 + 10 * 60_000,
      environment: 'production',
    })
    expect(Math.abs((row!.seconds_ago as number) - (Date.now() - (T0 + 10 * 60_000)) / 1000)).toBeLessThan(60)
    expect(row!.ago).toMatch(/minutes/)
    const staging = await run(panel(service, 'Last deploy').sql, ctx({}, { environment: ['staging'] }))
    expect(staging.rows[0]).toMatchObject({ version: '2.0.0', actor: 'carol' })
  })

  it('knob values: each change, and the values at both edges of the range', async () => {
    const sql = panel(service, 'Knob values').sql
    const to = Date.now() + 60_000
    const r = await run(sql, ctx({ toMillis: to }))
    expect(r.columns).toEqual(['time', 'knob', 'value'])
    const series = (rows: Record<string, unknown>[], knob: string) =>
      rows.filter((x) => x.knob === knob).map((x) => x.value)
    expect(series(r.rows, 'workers')).toEqual([20, 40, 32, 32])
    expect(series(r.rows, 'cache')).toEqual([1, 1])
    expect(r.rows.at(-1)!.time).toBe(to)
    const later = await run(sql, ctx({ fromMillis: to - 30_000, toMillis: to }))
    expect(later.rows.filter((x) => x.knob === 'workers')).toEqual([
      { time: to - 30_000, knob: 'workers', value: 32 },
      { time: to, knob: 'workers', value: 32 },
    ])
  })

  it('SLO status: the SLI, budget, burn rate and alert GET /api/v1/slos computes', async () => {
    const r = await run(panel(service, 'SLOs: status and error budget').sql)
    expect(r.columns).toEqual([
      'service',
      'slo',
      'sli',
      'objective',
      'window',
      'sli_percent',
      'budget_remaining',
      'burn_rate',
      'alert',
      'bad_events',
      'total_events',
    ])
    const fromApi = (await api(stack.app, 'GET', '/slos?service=checkout')).body.slos as Record<string, any>[]
    expect(r.rows.map((x) => x.slo)).toEqual(['errors', 'latency'])
    for (const row of r.rows) {
      const s = fromApi.find((x) => x.name === row.slo)!
      expect(row.sli_percent as number).toBeCloseTo(s.current_sli, 9)
      expect(row.budget_remaining as number).toBeCloseTo(s.error_budget_remaining, 9)
      expect(row.burn_rate as number).toBeCloseTo(s.burn_rates[0].long, 9)
      expect(row.alert).toBe(s.alert)
      expect([row.bad_events, row.total_events]).toEqual([s.events.bad, s.events.total])
      expect(row.sli_percent as number).toBeCloseTo((9 / 11) * 100, 9)
      expect(row.alert).toBe('page')
    }
  })
})
