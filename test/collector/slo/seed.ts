import type { FastifyInstance } from 'fastify'
import { expect } from 'vitest'
import { nanos } from '../../helpers/otlp.ts'

/** OTLP/JSON builders for SLO and controller tests: exact points, sent through POST /v1/metrics. */

const attrs = (o: Record<string, string> = {}) =>
  Object.entries(o).map(([key, v]) => ({ key, value: { stringValue: v } }))

/** One cumulative histogram point: per-bucket counts (not cumulative across buckets), `bounds.length + 1` of them. */
export interface HistogramPoint {
  ts: number
  start: number
  counts: number[]
  attrs?: Record<string, string>
}

export function histogram(name: string, unit: string, bounds: number[], points: HistogramPoint[]): object {
  return {
    name,
    unit,
    histogram: {
      aggregationTemporality: 2,
      dataPoints: points.map((p) => ({
        timeUnixNano: nanos(p.ts),
        startTimeUnixNano: nanos(p.start),
        count: String(p.counts.reduce((a, b) => a + b, 0)),
        sum: 0,
        bucketCounts: p.counts.map(String),
        explicitBounds: bounds,
        attributes: attrs(p.attrs),
      })),
    },
  }
}

export interface NumberPoint {
  ts: number
  start?: number
  value: number
  attrs?: Record<string, string>
}

/** A cumulative monotonic sum (a counter). */
export function counter(name: string, points: NumberPoint[]): object {
  return {
    name,
    sum: {
      aggregationTemporality: 2,
      isMonotonic: true,
      dataPoints: points.map((p) => ({
        timeUnixNano: nanos(p.ts),
        startTimeUnixNano: nanos(p.start ?? 0),
        asDouble: p.value,
        attributes: attrs(p.attrs),
      })),
    },
  }
}

export function gauge(name: string, points: NumberPoint[]): object {
  return {
    name,
    gauge: {
      dataPoints: points.map((p) => ({ timeUnixNano: nanos(p.ts), asDouble: p.value, attributes: attrs(p.attrs) })),
    },
  }
}

/** Posts the metrics of `service` through POST /v1/metrics and expects them stored. */
export async function send(app: FastifyInstance, service: string, metrics: object[]): Promise<void> {
  const res = await app.inject({
    method: 'POST',
    url: '/v1/metrics',
    headers: { 'content-type': 'application/json' },
    payload: {
      resourceMetrics: [{ resource: { attributes: attrs({ 'service.name': service }) }, scopeMetrics: [{ metrics }] }],
    },
  })
  expect(res.statusCode, res.body).toBe(200)
  expect(res.json()).not.toHaveProperty('partialSuccess.rejectedDataPoints')
  await app.governor.pipeline.sync() // acknowledged once logged: committed before anyone reads the store
}

/** A cumulative histogram point from running totals: `add` more observations per bucket. */
export function accumulate(bounds: number[]): (ts: number, start: number, add: number[]) => HistogramPoint {
  const totals = new Array<number>(bounds.length + 1).fill(0)
  return (ts, start, add) => {
    add.forEach((n, i) => {
      totals[i] = totals[i]! + n
    })
    return { ts, start, counts: [...totals] }
  }
}

export async function api(
  app: FastifyInstance,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: Record<string, any> }> {
  const res = await app.inject({ method: method as 'GET', url: `/api/v1${path}`, payload: body as object })
  return { status: res.statusCode, body: res.body === '' ? {} : (res.json() as Record<string, any>) }
}
