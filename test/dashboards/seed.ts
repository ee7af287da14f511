import type { FastifyInstance } from 'fastify'
import protobuf from 'protobufjs'
import { expect } from 'vitest'
import { api, histogram, send, type HistogramPoint } from '../collector/slo/seed.ts'

/**
 * The data the dashboard SQL tests read, sent through the real receivers and API:
 *
 * - `checkout`'s `http.server.request.duration` (seconds; bounds 0.1, 0.5, 1), a point
 *   every 10 s from `t0`: the `200` series adds 8 observations ≤ 0.1 s and 1 in (0.1, 0.5]
 *   per 10 s and restarts (a new start time, counting from 0) at point `RESTART`, in the
 *   middle of a minute so that a step holds the reset; the `500`
 *   series adds 2 in (0.5, 1]. So 1.1 requests/s, 0.2 errors/s, p50 68.75 ms, p99 972.5 ms
 *   in every whole minute without the restart.
 * - Governor's own counters as Prometheus remote-writes them (`job="governor"`): points
 *   accepted +100 per 10 s (10/s), points rejected +1 (0.1/s), requests refused +0.5
 *   (0.05/s), and commit-duration buckets le 0.01, 0.05, +Inf at +5, +9, +10 per 10 s
 *   (p50 10 ms, p99 50 ms).
 */
/** Time between two points of a series. */
export const STEP_MS = 10_000
/** The point at which the `200` series restarts: mid-minute, so that a step holds the reset. */
export const RESTART = 123
/** Bucket bounds of the latency histogram, seconds. */
export const BOUNDS = [0.1, 0.5, 1]
const OK_ADDS = [8, 1, 0, 0]
const ERROR_ADDS = [0, 0, 2, 0]

/** Timestamps of the points: every 10 s from `t0` to two minutes before `now`. */
export function pointTimes(t0: number, now: number): number[] {
  const out: number[] = []
  for (let t = t0; t <= now - 120_000; t += STEP_MS) out.push(t)
  return out
}

const times = (adds: number[], k: number) => adds.map((a) => a * k)

/** Sends the latency histogram of `checkout` through POST /v1/metrics. */
export async function sendLatency(app: FastifyInstance, ts: number[]): Promise<void> {
  const start = ts[0]! - 3_600_000
  const ok: HistogramPoint[] = ts.map((t, i) =>
    i < RESTART
      ? { ts: t, start, counts: times(OK_ADDS, i + 1), attrs: { 'http.response.status_code': '200' } }
      : {
          ts: t,
          start: ts[RESTART]! - 5_000,
          counts: times(OK_ADDS, i - RESTART + 1),
          attrs: { 'http.response.status_code': '200' },
        },
  )
  const errors: HistogramPoint[] = ts.map((t, i) => ({
    ts: t,
    start,
    counts: times(ERROR_ADDS, i + 1),
    attrs: { 'http.response.status_code': '500' },
  }))
  await send(app, 'checkout', [histogram('http.server.request.duration', 's', BOUNDS, [...ok, ...errors])])
}

const WriteRequest = protobuf
  .parse(
    `syntax = "proto3"; package prometheus;
  message WriteRequest { repeated TimeSeries timeseries = 1; }
  message TimeSeries { repeated Label labels = 1; repeated Sample samples = 2; }
  message Label { string name = 1; string value = 2; }
  message Sample { double value = 1; int64 timestamp = 2; }
`,
  )
  .root.lookupType('prometheus.WriteRequest')

/** Sends Governor's own counters as a Prometheus scraping it would remote-write them (uncompressed 1.0). */
export async function sendSelfMetrics(app: FastifyInstance, ts: number[]): Promise<void> {
  const counter = (labels: Record<string, string>, per: number) => ({
    labels: Object.entries({ job: 'governor', instance: 'governor:4318', ...labels }).map(([name, value]) => ({
      name,
      value,
    })),
    samples: ts.map((timestamp, i) => ({ timestamp, value: per * (i + 1) })),
  })
  const timeseries = [
    counter({ __name__: 'governor_points_accepted_total', receiver: 'otlp' }, 100),
    counter({ __name__: 'governor_points_rejected_total', receiver: 'otlp', reason: 'invalid_point' }, 1),
    counter({ __name__: 'governor_ingest_requests_rejected_total', receiver: 'otlp', reason: 'pipeline_full' }, 0.5),
    counter({ __name__: 'governor_commit_duration_seconds_bucket', le: '0.01' }, 5),
    counter({ __name__: 'governor_commit_duration_seconds_bucket', le: '0.05' }, 9),
    counter({ __name__: 'governor_commit_duration_seconds_bucket', le: '+Inf' }, 10),
  ]
  await remoteWrite(app, timeseries)
}

/**
 * Sends the rest of Governor's own /metrics the PromQL dashboards read (`job="governor"`):
 * controller decisions (`lower`, `active`) +1 per 10 s, webhook deliveries to `audit`
 * (`delivered`) +1 per 10 s (0.1/s), and 3 deliveries waiting for `flaky`.
 */
export async function sendControllerAndWebhookMetrics(app: FastifyInstance, ts: number[]): Promise<void> {
  const series = (labels: Record<string, string>, value: (i: number) => number) => ({
    labels: Object.entries({ job: 'governor', instance: 'governor:4318', ...labels }).map(([name, v]) => ({
      name,
      value: v,
    })),
    samples: ts.map((timestamp, i) => ({ timestamp, value: value(i) })),
  })
  await remoteWrite(app, [
    series({ __name__: 'governor_controller_decisions_total', kind: 'lower', mode: 'active' }, (i) => i + 1),
    series({ __name__: 'governor_webhook_deliveries_total', sink: 'audit', outcome: 'delivered' }, (i) => i + 1),
    series({ __name__: 'governor_webhook_pending_deliveries', sink: 'flaky' }, () => 3),
  ])
}

/** Sends series as Prometheus remote write 1.0 does (uncompressed protobuf). */
async function remoteWrite(app: FastifyInstance, timeseries: unknown[]): Promise<void> {
  const body = Buffer.from(WriteRequest.encode(WriteRequest.fromObject({ timeseries })).finish())
  const res = await app.inject({
    method: 'POST',
    url: '/api/v1/write',
    headers: { 'content-type': 'application/x-protobuf' },
    payload: body,
  })
  expect(res.statusCode, res.body).toBe(204)
}

/** POSTs or PUTs through the API and expects `status`. */
export async function ok(
  app: FastifyInstance,
  method: string,
  path: string,
  body: unknown,
  status = 201,
): Promise<Record<string, any>> {
  const res = await api(app, method, path, body)
  expect(res.status, JSON.stringify(res.body)).toBe(status)
  return res.body
}
