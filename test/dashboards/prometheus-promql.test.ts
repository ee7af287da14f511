import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildPrometheusDashboards } from '../../dashboards/src/build.ts'
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard'
import { pointTimes, sendControllerAndWebhookMetrics } from './seed.ts'
import { seedStack, timeline, type SeededStack } from './seed-stack.ts'
import { expandPromMacros, type PromMacroContext } from './promql-macros.ts'
import {
  annotationEvents,
  dashboardContext,
  panelTargets,
  renderFormat,
  runInstant,
  runRange,
  targetsOf,
  variableOptions,
  type MatrixSeries,
} from './run-promql.ts'

// Every query of the Prometheus-flavoured dashboards, and their annotation and variable
// queries, with Grafana's macros and variables expanded as its Prometheus data source does,
// against a real Governor's /prometheus over the data of seed-stack.ts (numbers: seed.ts).

const dashboards = buildPrometheusDashboards()
const {
  'service-prometheus.json': service,
  'fleet-prometheus.json': fleet,
  'governor-prometheus.json': governor,
} = dashboards
const { t0: T0 } = timeline()
const MINUTE_5 = T0 + 5 * 60_000
const BUDGET = 1 - 99.9 / 100

/** The selections each dashboard is run with: the seeded service; All on the fleet views. */
const SELECTED: Record<string, Record<string, string[] | 'All'>> = {
  'Governor: service (PromQL)': {
    service: ['checkout'],
    latency_metric: ['http_server_request_duration_seconds'],
    objective: ['99.9'],
  },
  'Governor: fleet (PromQL)': { service: 'All', objective: ['99.9'] },
  'Governor: itself (PromQL)': { service: 'All' },
}

let stack: SeededStack
let app: FastifyInstance
let to: number

/** The dashboard's context over [T0, to]: a one-minute interval (the panels' minimum) and the provisioned 15 s scrape interval. */
function ctx(d: Dashboard, values: Record<string, string[] | 'All'> = SELECTED[d.title!]!): PromMacroContext {
  return dashboardContext(d, values, {
    fromMillis: T0,
    toMillis: to,
    intervalMillis: 60_000,
    scrapeIntervalMillis: 15_000,
  })
}

/** The series of one panel query, by their rendered legend. */
async function byLegend(d: Dashboard, panel: string, refId = 'A', c = ctx(d)): Promise<Map<string, MatrixSeries>> {
  const t = targetsOf(d, panel).find((x) => x.refId === refId)!
  const res = await runRange(app, t.expr, c)
  return new Map(res.data.result.map((s) => [renderFormat(t.legend, s.metric), s]))
}

/** A series' value at `ms`. */
const valueAt = (s: MatrixSeries | undefined, ms: number): number => {
  const point = s?.values.find(([t]) => t * 1000 === ms)
  if (point === undefined) throw new Error(`no point at ${ms}: ${JSON.stringify(s?.values.slice(0, 3))}`)
  return Number(point[1])
}

beforeAll(async () => {
  stack = await seedStack(T0)
  app = stack.app
  await sendControllerAndWebhookMetrics(app, pointTimes(T0, Date.now()))
  // Knob changes and controller events were just recorded: look at the dashboards two
  // minutes later, so that the last step (the range's end aligned down to a step) is past them.
  to = Date.now() + 120_000
  // Remote-written points are acknowledged once durable, maybe before the store shows them.
  const deadline = Date.now() + 10_000
  while ((await runInstant(app, 'governor_webhook_pending_deliveries', ctx(governor))).data.result.length === 0) {
    if (Date.now() > deadline) throw new Error('seeded /metrics series not visible')
    await new Promise((r) => setTimeout(r, 50))
  }
}, 120_000)
afterAll(async () => {
  await stack?.close()
})

describe('every panel query', () => {
  const all = Object.values(dashboards).flatMap((d) =>
    panelTargets(d).map((t) => [`${t.dashboard} / ${t.panel} / ${t.refId}`, d, t] as const),
  )
  it.each(all)("%s answers numbers of its panel's shape", async (_name, d, t) => {
    if (t.instant) {
      const res = await runInstant(app, t.expr, ctx(d))
      expect([res.status, res.data.resultType]).toEqual(['success', 'vector'])
      expect(res.data.result.length).toBeGreaterThan(0)
      // A table row per series: its labels are the columns.
      for (const s of res.data.result) {
        expect(Object.keys(s.metric).length).toBeGreaterThan(1)
        expect(Number.isFinite(Number(s.value[1]))).toBe(true)
      }
    } else {
      const res = await runRange(app, t.expr, ctx(d))
      expect([res.status, res.data.resultType]).toEqual(['success', 'matrix'])
      expect(res.data.result.length).toBeGreaterThan(0)
      for (const s of res.data.result) {
        expect(s.values.length).toBeGreaterThan(0)
        for (const [time, v] of s.values) {
          expect(time % 60).toBe(0)
          expect(Number.isFinite(Number(v)), `${JSON.stringify(s.metric)} at ${time}: ${v}`).toBe(true)
        }
        expect(renderFormat(t.legend, s.metric)).not.toMatch(/^\s*$|:\s*$/)
      }
    }
  })
})

describe('Grafana macros', () => {
  it('expand as the data source expands them', () => {
    const c = ctx(service)
    expect(
      expandPromMacros('rate(x{job=~"$service"}[$__rate_interval]) [$__interval] [$__range] $__interval_ms', c),
    ).toBe(`rate(x{job=~"checkout"}[1m15s]) [1m] [${Math.round((to - T0) / 1000)}s] 60000`)
    expect(expandPromMacros('{job=~"$service"}', ctx(fleet, { service: ['checkout', 'a.b'] }))).toBe(
      '{job=~"(checkout|a\\\\.b)"}',
    )
    expect(expandPromMacros('{job=~"$service"}', ctx(fleet))).toBe('{job=~".*"}')
    expect(() => expandPromMacros('$__unknown', c)).toThrow(/not expanded/)
  })
})

describe('Service dashboard (PromQL)', () => {
  it('requests and errors per second: 1.1 and 0.2', async () => {
    expect(
      valueAt((await byLegend(service, 'Requests and errors per second', 'A')).get('requests'), MINUTE_5),
    ).toBeCloseTo(1.1, 9)
    expect(
      valueAt((await byLegend(service, 'Requests and errors per second', 'B')).get('errors'), MINUTE_5),
    ).toBeCloseTo(0.2, 9)
  })

  it('error ratio: 2 of 11', async () => {
    expect(valueAt((await byLegend(service, 'Error ratio')).get('error ratio'), MINUTE_5)).toBeCloseTo(2 / 11, 9)
  })

  it('latency p50 and p99 in seconds: histogram_quantile over the _bucket series', async () => {
    expect(valueAt((await byLegend(service, 'Latency p50 and p99', 'A')).get('p50'), MINUTE_5)).toBeCloseTo(0.06875, 9)
    expect(valueAt((await byLegend(service, 'Latency p50 and p99', 'B')).get('p99'), MINUTE_5)).toBeCloseTo(0.9725, 9)
  })

  it('error budget burn: the error ratio over the budget of the objective, and the page line', async () => {
    for (const [ref, legend] of [
      ['A', '1h'],
      ['B', '5m'],
    ] as const) {
      expect(valueAt((await byLegend(service, 'Error budget burn rate', ref)).get(legend), MINUTE_5)).toBeCloseTo(
        2 / 11 / BUDGET,
        6,
      )
    }
    expect(valueAt((await byLegend(service, 'Error budget burn rate', 'C')).get('page (14.4)'), MINUTE_5)).toBe(14.4)
    const strict = ctx(service, { ...SELECTED['Governor: service (PromQL)'], objective: ['99'] })
    expect(valueAt((await byLegend(service, 'Error budget burn rate', 'A', strict)).get('1h'), MINUTE_5)).toBeCloseTo(
      2 / 11 / 0.01,
      6,
    )
  })

  it('deploys and knob changes of the service in the range, one row each', async () => {
    const deploys = (await runInstant(app, targetsOf(service, 'Deploys in the range')[0]!.expr, ctx(service))).data
      .result
    expect(deploys.map((r) => [r.metric.version, r.metric.actor, r.metric.environment]).sort()).toEqual([
      ['1.4.1', 'bob', 'production'],
      ['1.4.2', 'alice', 'production'],
      ['2.0.0', 'carol', 'staging'],
    ])
    const knobs = (await runInstant(app, targetsOf(service, 'Knob changes in the range')[0]!.expr, ctx(service))).data
      .result
    expect(knobs.every((r) => r.metric.kind === 'knob' && r.metric.service === 'checkout')).toBe(true)
    expect(knobs.map((r) => r.metric.actor)).toEqual(expect.arrayContaining(['alice', 'controller:workers-p99']))
  })

  it("variables: services from label_values(job), the service's histograms without _bucket", async () => {
    const vars = service.templating!.list!
    const svc = vars.find((v) => v.name === 'service')!
    expect(await variableOptions(app, svc.query as string, svc.regex, ctx(service))).toEqual(
      expect.arrayContaining(['checkout', 'governor']),
    )
    const metric = vars.find((v) => v.name === 'latency_metric')!
    expect(await variableOptions(app, metric.query as string, metric.regex, ctx(service))).toEqual([
      'http_server_request_duration_seconds',
    ])
  })
})

describe('the annotation query', () => {
  const annotation = (d: Dashboard) => {
    const a = d.annotations!.list![0]!
    return { ...a, expr: (a.target as unknown as { expr: string }).expr }
  }

  it('marks each deploy and knob change of the service at the first step at or after it', async () => {
    const a = annotation(service)
    const res = await runRange(app, a.expr, ctx(service))
    const events = annotationEvents(res.data.result, a)
    const first = (title: string) => events.filter((e) => e.title === title).map((e) => e.time)[0]
    // 1.4.1 at T0 + 1 min exactly, on a step; 1.4.2 at T0 + 10 min.
    expect(first('deploy checkout 1.4.1')).toBe(T0 + 60_000)
    expect(first('deploy checkout 1.4.2')).toBe(T0 + 10 * 60_000)
    const deploy = events.find((e) => e.title === 'deploy checkout 1.4.2')!
    expect(deploy.tags).toEqual(['deploy', 'checkout'])
    expect(deploy.text).not.toBe('')
    const knobs = events.filter((e) => e.tags[0] === 'knob')
    expect(knobs.length).toBeGreaterThan(0)
    expect(knobs.every((e) => e.title === 'knob checkout ' && e.text !== '')).toBe(true)
    expect(events.filter((e) => e.tags[0] === 'controller').length).toBeGreaterThan(0)
    // Only the selected service.
    expect(events.some((e) => e.tags.includes('payments'))).toBe(false)
  })

  it("marks every service's changes with All selected", async () => {
    const a = annotation(fleet)
    const events = annotationEvents((await runRange(app, a.expr, ctx(fleet))).data.result, a)
    expect(events.find((e) => e.title === 'deploy payments 3.1')?.time).toBe(T0 + 20 * 60_000)
  })
})

describe('Fleet dashboard (PromQL)', () => {
  it('requests, error ratio, p99 and burn by service', async () => {
    expect(valueAt((await byLegend(fleet, 'Requests per second by service')).get('checkout'), MINUTE_5)).toBeCloseTo(
      1.1,
      9,
    )
    expect(valueAt((await byLegend(fleet, 'Error ratio by service')).get('checkout'), MINUTE_5)).toBeCloseTo(2 / 11, 9)
    expect(valueAt((await byLegend(fleet, 'Latency p99 by service')).get('checkout'), MINUTE_5)).toBeCloseTo(0.9725, 9)
    expect(
      valueAt((await byLegend(fleet, 'Error budget burn rate (1h) by service')).get('checkout'), MINUTE_5),
    ).toBeCloseTo(2 / 11 / BUDGET, 6)
  })

  it('changes by kind, and deploys of every service', async () => {
    const kinds = await byLegend(fleet, 'Changes by kind')
    expect([...kinds.keys()]).toEqual(expect.arrayContaining(['deploy', 'knob', 'controller']))
    expect(valueAt(kinds.get('deploy'), T0 + 20 * 60_000)).toBe(1)
    const deploys = (await runInstant(app, targetsOf(fleet, 'Deploys in the range')[0]!.expr, ctx(fleet))).data.result
    expect(deploys.map((r) => r.metric.version).sort()).toEqual(['1.4.1', '1.4.2', '2.0.0', '3.1'])
  })
})

describe('Governor dashboard (PromQL)', () => {
  it('ingest: points accepted, rejections, commit latency', async () => {
    expect(
      valueAt((await byLegend(governor, 'Points accepted per second, by receiver')).get('otlp'), MINUTE_5),
    ).toBeCloseTo(10, 9)
    expect(
      valueAt(
        (await byLegend(governor, 'Rejections per second, by reason', 'A')).get('points: invalid_point'),
        MINUTE_5,
      ),
    ).toBeCloseTo(0.1, 9)
    expect(
      valueAt(
        (await byLegend(governor, 'Rejections per second, by reason', 'B')).get('requests: pipeline_full'),
        MINUTE_5,
      ),
    ).toBeCloseTo(0.05, 9)
    expect(
      valueAt((await byLegend(governor, 'Commit (flush) latency p50 and p99', 'A')).get('p50'), MINUTE_5),
    ).toBeCloseTo(0.01, 9)
    expect(
      valueAt((await byLegend(governor, 'Commit (flush) latency p50 and p99', 'B')).get('p99'), MINUTE_5),
    ).toBeCloseTo(0.05, 9)
  })

  it('controllers and webhooks', async () => {
    // +1 per 10 s over $__rate_interval (1m15s): 7.5.
    expect(
      valueAt((await byLegend(governor, 'Controller decisions, by kind and mode')).get('lower (active)'), MINUTE_5),
    ).toBeCloseTo(7.5, 9)
    const byController = await byLegend(governor, 'Controller changes in the change log, by controller')
    expect([...byController.keys()]).toEqual(['controller:workers-p99'])
    expect(
      valueAt(
        (await byLegend(governor, 'Webhook deliveries per second, by sink and outcome')).get('audit: delivered'),
        MINUTE_5,
      ),
    ).toBeCloseTo(0.1, 9)
    expect(valueAt((await byLegend(governor, 'Webhook deliveries waiting, by sink')).get('flaky'), MINUTE_5)).toBe(3)
  })
})
