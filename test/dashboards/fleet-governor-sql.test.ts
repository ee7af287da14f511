import type { ClickHouseClient } from '@clickhouse/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildSqlDashboards } from '../../dashboards/src/build.ts'
import { api } from '../collector/slo/seed.ts'
import type { MacroContext } from './grafana-macros.ts'
import { context, panel, runSql, type Result } from './run-panel.ts'
import { seedStack, timeline, type SeededStack } from './seed-stack.ts'

// The Fleet and Governor dashboards, the template variables and the annotation query on
// the real engine over the data of seed-stack.ts (see seed.ts for the numbers).

const { 'fleet.json': fleet, 'governor.json': governor, 'service.json': service } = buildSqlDashboards()
let stack: SeededStack
let client: ClickHouseClient
const { t0: T0 } = timeline()
const MINUTE_5 = T0 + 5 * 60_000
const ALL = { service: ['checkout', 'payments', 'governor'], environment: ['production'] }
const ctx = (over: Partial<MacroContext> = {}, vars: Record<string, string[]> = ALL) => context(T0, over, vars)
const run = (sql: string, c: MacroContext = ctx()): Promise<Result> => runSql(client, sql, c)
const at = (r: Result, t: number) => r.rows.filter((row) => row.time === t)
const sumBy = (rows: Record<string, unknown>[], key: string, value: string) =>
  rows.reduce<Record<string, number>>(
    (acc, r) => ({ ...acc, [r[key] as string]: (acc[r[key] as string] ?? 0) + (r[value] as number) }),
    {},
  )

beforeAll(async () => {
  stack = await seedStack(T0)
  client = stack.app.governor.store.client
  // Every event reaches `audit` (204) once and stays pending for `flaky` (500).
  const events = async () =>
    Number(
      (
        await (
          await client.query({ query: 'SELECT count() AS n FROM governor.events FINAL', format: 'JSONEachRow' })
        ).json<{ n: string }>()
      )[0]!.n,
    )
  const deadline = Date.now() + 20_000
  for (;;) {
    const d = (await api(stack.app, 'GET', '/webhooks/deliveries?limit=1000')).body.deliveries as {
      sink: string
      status: string
    }[]
    const n = await events()
    if (
      d.filter((x) => x.sink === 'audit' && x.status === 'delivered').length === n &&
      d.filter((x) => x.sink === 'flaky').length === n
    )
      break
    if (Date.now() > deadline) throw new Error(`deliveries did not settle: ${JSON.stringify(d.slice(0, 5))}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}, 120_000)
afterAll(async () => {
  await stack?.close()
})

describe('Fleet dashboard', () => {
  it('every service with its last production deploy, SLO count, worst alert, least budget and fastest burn', async () => {
    const r = await run(panel(fleet, 'Services').sql)
    expect(r.columns).toEqual([
      'service',
      'version',
      'actor',
      'deployed_at',
      'ago',
      'slos',
      'alert',
      'budget_remaining',
      'burn_rate',
    ])
    const slos = (await api(stack.app, 'GET', '/slos?service=checkout')).body.slos as {
      error_budget_remaining: number
      burn_rates: { long: number }[]
    }[]
    const [checkout, gov, payments] = r.rows
    expect(r.rows.map((x) => x.service)).toEqual(['checkout', 'governor', 'payments'])
    expect(checkout).toMatchObject({
      version: '1.4.2',
      actor: 'alice',
      deployed_at: T0 + 10 * 60_000,
      slos: 2,
      alert: 'page',
    })
    expect(checkout!.budget_remaining as number).toBeCloseTo(Math.min(...slos.map((s) => s.error_budget_remaining)), 9)
    expect(checkout!.burn_rate as number).toBeCloseTo(Math.max(...slos.map((s) => s.burn_rates[0]!.long)), 9)
    expect(payments).toMatchObject({ version: '3.1', actor: 'dave', slos: 0, alert: 'none', budget_remaining: null })
    expect(gov).toMatchObject({ version: null, deployed_at: null, ago: null, slos: 0, alert: 'none' })
  })

  it('requests per second by service', async () => {
    const r = await run(panel(fleet, 'Requests per second by service').sql)
    expect(r.columns).toEqual(['time', 'service', 'requests'])
    expect(at(r, MINUTE_5)).toEqual([{ time: MINUTE_5, service: 'checkout', requests: expect.closeTo(1.1, 9) }])
  })

  it('changes by kind over the range', async () => {
    const r = await run(
      panel(fleet, 'Changes by kind').sql,
      ctx({ toMillis: Date.now() + 60_000, intervalMillis: 3_600_000 }),
    )
    expect(r.columns).toEqual(['time', 'kind', 'changes'])
    // checkout: 3 deploys, 4 knob changes (2 declarations, 2 values), 2 controller events, 2 SLOs; payments: 1 deploy.
    expect(sumBy(r.rows, 'kind', 'changes')).toEqual({ deploy: 4, knob: 4, controller: 2, slo: 2 })
  })
})

describe('Governor dashboard', () => {
  it('points stored per second by table', async () => {
    const r = await run(panel(governor, 'Points stored per second, by table').sql)
    expect(at(r, MINUTE_5)).toEqual([
      { time: MINUTE_5, point_table: 'histograms', points: expect.closeTo(12 / 60, 9) },
      { time: MINUTE_5, point_table: 'samples', points: expect.closeTo(36 / 60, 9) },
    ])
  })

  it('points accepted per second by receiver, from the remote-written counter, as agg=rate', async () => {
    const r = await run(panel(governor, 'Points accepted per second, by receiver').sql)
    expect(r.columns).toEqual(['time', 'receiver', 'per_second'])
    expect(at(r, MINUTE_5)).toEqual([{ time: MINUTE_5, receiver: 'otlp', per_second: expect.closeTo(10, 9) }])
    const res = await api(
      stack.app,
      'GET',
      `/query?metric=governor_points_accepted_total&agg=rate&step=60&by=receiver&from=${T0}&to=${Date.now()}`,
    )
    const points = res.body.series[0].points as [number, number][]
    expect(r.rows.map((x) => x.time)).toEqual(points.map(([t]) => t))
    r.rows.forEach((x, i) => expect(x.per_second as number).toBeCloseTo(points[i]![1], 9))
  })

  it('rejections per second by reason', async () => {
    const r = await run(panel(governor, 'Rejections per second, by reason').sql)
    expect(at(r, MINUTE_5)).toEqual([
      { time: MINUTE_5, reason: 'invalid_point', per_second: expect.closeTo(0.1, 9) },
      { time: MINUTE_5, reason: 'pipeline_full', per_second: expect.closeTo(0.05, 9) },
    ])
  })

  it('commit latency p50 and p99 in ms from the le buckets', async () => {
    const r = await run(panel(governor, 'Commit (flush) latency p50 and p99').sql)
    expect(r.columns).toEqual(['time', 'p50', 'p99'])
    expect(at(r, MINUTE_5)).toEqual([{ time: MINUTE_5, p50: expect.closeTo(10, 9), p99: expect.closeTo(50, 9) }])
  })

  it('controller decisions by outcome, and the latest ones', async () => {
    const c = ctx({ toMillis: Date.now() + 60_000, intervalMillis: 3_600_000 })
    const r = await run(panel(governor, 'Controller decisions, by outcome').sql, c)
    expect(sumBy(r.rows, 'outcome', 'decisions')).toEqual({ applied: 1, shadow: 1, hold: 1 })
    const latest = await run(panel(governor, 'Latest controller decisions').sql, c)
    expect(latest.columns).toEqual(['time', 'service', 'actor', 'outcome', 'title', 'text'])
    expect(latest.rows.map((x) => x.outcome)).toEqual(['hold', 'shadow', 'applied'])
    expect(latest.rows.every((x) => x.actor === 'controller:workers-p99' && x.service === 'checkout')).toBe(true)
  })

  it('webhook deliveries by sink and status, and over time', async () => {
    const c = ctx({ toMillis: Date.now() + 60_000, intervalMillis: 3_600_000 })
    // 4 deploys, 4 knob changes, 2 controller events, 2 SLO changes.
    const events = 12
    const table = await run(panel(governor, 'Webhook deliveries by sink and status').sql, c)
    expect(table.rows.map((x) => [x.sink, x.status, x.deliveries])).toEqual([
      ['audit', 'delivered', events],
      ['flaky', 'pending', events],
    ])
    expect(table.rows[1]!.attempts as number).toBeGreaterThanOrEqual(events)
    const series = await run(panel(governor, 'Webhook deliveries, by status').sql, c)
    expect(sumBy(series.rows, 'status', 'deliveries')).toEqual({ delivered: events, pending: events })
  })
})

describe('template variables and annotations', () => {
  const variables = (d: typeof service) =>
    Object.fromEntries((d!.templating?.list ?? []).map((v) => [v.name, v.query as string]))

  it("list services, environments and the service's histograms", async () => {
    const v = variables(service)
    expect((await run(v.service!)).rows.map((x) => x.service)).toEqual(['checkout', 'governor', 'payments'])
    expect((await run(v.environment!)).rows.map((x) => x.environment)).toEqual(['production', 'staging'])
    expect((await run(v.latency_metric!, ctx({}, { service: ['checkout'] }))).rows.map((x) => x.metric)).toEqual([
      'http.server.request.duration',
    ])
  })

  it("the annotation query returns the service's changes with the columns Grafana reads", async () => {
    const sql = (service!.annotations?.list ?? []).find((a) => a.name === 'Changes')!.target as unknown as {
      rawSql: string
    }
    const r = await run(sql.rawSql, ctx({ toMillis: Date.now() + 60_000 }, { service: ['checkout'] }))
    expect(r.columns).toEqual(['time', 'timeEnd', 'text', 'tags'])
    expect(r.rows).toContainEqual({
      time: T0 + 10 * 60_000,
      timeEnd: expect.any(Number),
      text: 'alice deployed checkout 1.4.2 to production',
      tags: ['deploy', 'checkout', '1.4.2'],
    })
    expect(r.rows.some((x) => (x.text as string).includes('payments'))).toBe(false)
  })
})
