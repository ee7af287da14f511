import { nanos } from '../helpers/otlp.ts'

/**
 * A service with traffic, a deploy and a knob, sent to a listening Governor the way apps and
 * CI send them: OTLP/JSON to /v1/metrics, then the JSON API.
 */

/** Latency buckets, in seconds (OTel's unit for http.server.request.duration). */
const BOUNDS = [0.05, 0.1, 0.25, 0.5, 1]
const MINUTE = 60_000

export interface Seeded {
  /** The deploy's start and finish, epoch ms. */
  deployAt: number
  deployId: string
}

const attrs = (o: Record<string, string>) => Object.entries(o).map(([key, v]) => ({ key, value: { stringValue: v } }))

async function call(
  url: string,
  token: string,
  method: string,
  path: string,
  body: unknown,
): Promise<Record<string, unknown>> {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  const text = await res.text()
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`)
  return text === '' ? {} : (JSON.parse(text) as Record<string, unknown>)
}

/**
 * `minutes` of cumulative HTTP server histograms (one point a minute, status 200 and 500)
 * ending now; after the deploy, `minutes / 2` ago, requests are slower and fail more.
 */
export async function seedService(
  url: string,
  tokens: { ingest: string; ops: string },
  service: string,
  now: number,
  minutes = 40,
): Promise<Seeded> {
  const start = now - (minutes + 1) * MINUTE
  const deployAt = now - (minutes / 2) * MINUTE
  const totals = {
    '200': new Array<number>(BOUNDS.length + 1).fill(0),
    '500': new Array<number>(BOUNDS.length + 1).fill(0),
  }
  const points: Record<'200' | '500', object[]> = { '200': [], '500': [] }
  for (let i = minutes; i >= 0; i--) {
    const ts = now - i * MINUTE
    const after = ts >= deployAt
    const add = {
      '200': after ? [20, 40, 60, 40, 10, 2] : [60, 60, 30, 5, 1, 0],
      '500': after ? [0, 2, 4, 4, 2, 1] : [0, 1, 0, 0, 0, 0],
    }
    for (const code of ['200', '500'] as const) {
      add[code].forEach((n, b) => {
        totals[code][b] = totals[code][b]! + n
      })
      const counts = totals[code]
      points[code].push({
        timeUnixNano: nanos(ts),
        startTimeUnixNano: nanos(start),
        count: String(counts.reduce((a, b) => a + b, 0)),
        sum: 0,
        bucketCounts: counts.map(String),
        explicitBounds: BOUNDS,
        attributes: attrs({ 'http.response.status_code': code, 'http.route': '/pay' }),
      })
    }
  }
  await call(url, tokens.ingest, 'POST', '/v1/metrics', {
    resourceMetrics: [
      {
        resource: { attributes: attrs({ 'service.name': service }) },
        scopeMetrics: [
          {
            metrics: [
              {
                name: 'http.server.request.duration',
                unit: 's',
                histogram: { aggregationTemporality: 2, dataPoints: [...points['200'], ...points['500']] },
              },
            ],
          },
        ],
      },
    ],
  })
  await call(url, tokens.ingest, 'PUT', `/api/v1/knobs/${service}/workers`, {
    type: 'int',
    default: 20,
    min: 1,
    max: 200,
    unit: '{worker}',
    description: 'worker pool size',
  })
  const deploy = await call(url, tokens.ops, 'POST', '/api/v1/deploys', {
    service,
    version: '1.4.2',
    actor: 'alice',
    commit: '9f2c1e0',
    description: 'faster cart totals',
    started_at: deployAt,
    finished_at: deployAt,
  })
  await call(url, tokens.ops, 'PUT', `/api/v1/slos/${service}/latency`, {
    sli: { type: 'latency', metric: 'http.server.request.duration', percentile: 99, threshold_ms: 300 },
    objective: 99,
    window: '1d',
    reason: 'pay answers within 300 ms',
  })
  // Every request is slower than 1 ms: a budget spent from the first point, burn pairs or not.
  await call(url, tokens.ops, 'PUT', `/api/v1/slos/${service}/instant`, {
    sli: { type: 'latency', metric: 'http.server.request.duration', percentile: 99, threshold_ms: 1 },
    objective: 99.9,
    window: '30d',
    reason: 'a budget that is spent',
  })
  await call(url, tokens.ops, 'PUT', `/api/v1/slos/${service}/queue`, {
    sli: { type: 'gauge_max', metric: 'queue.depth', max: 100 },
    objective: 99,
    window: '1d',
    reason: 'the cart queue stays short',
  })
  await call(url, tokens.ops, 'PUT', `/api/v1/controllers/${service}/workers-p99`, {
    knob: 'workers',
    slo: 'latency',
    guard: 'queue',
    algorithm: 'aimd',
    min: 2,
    max: 100,
    interval_ms: 1000,
    mode: 'shadow',
    reason: 'shed load when pay is slow',
  })
  return { deployAt, deployId: String(deploy.id) }
}
