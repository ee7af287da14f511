import type { FastifyInstance } from 'fastify'
import { expect } from 'vitest'
import { nanos } from '../../helpers/otlp.ts'
import { seeded } from '../../helpers/random.ts'

/** Deterministic uniform numbers in [0, 1), so every run sees the same data. */
export const prng = seeded

/** Bounds every 10 ms up to 0.5 s: fine enough that a p99 is read to the millisecond. */
export const BOUNDS = Array.from({ length: 50 }, (_, i) => Number(((i + 1) / 100).toFixed(2)))

const attrs = (o: Record<string, string>) => Object.entries(o).map(([key, v]) => ({ key, value: { stringValue: v } }))

/** One cumulative histogram series as an SDK exports it: a point every `everyMs` with the totals so far. */
export interface SeriesPlan {
  attributes: Record<string, string>
  /** Observations (seconds) made in the interval ending at `ts`. */
  observe: (ts: number) => number[]
}

/**
 * Sends `http.server.request.duration` of `service` through POST /v1/metrics: for each series,
 * a point every `everyMs` in [from, to], cumulative since `from - 60 s`.
 */
export async function seedLatency(
  app: FastifyInstance,
  service: string,
  from: number,
  to: number,
  everyMs: number,
  series: SeriesPlan[],
): Promise<void> {
  const start = from - 60_000
  const dataPoints = series.flatMap(({ attributes, observe }) => {
    const counts = new Array<number>(BOUNDS.length + 1).fill(0)
    let count = 0,
      sum = 0
    const points = []
    for (let ts = from; ts <= to; ts += everyMs) {
      if (ts > from) {
        for (const v of observe(ts)) {
          let b = BOUNDS.findIndex((bound) => v <= bound)
          if (b < 0) b = BOUNDS.length
          counts[b]!++
          count++
          sum += v
        }
      }
      points.push({
        timeUnixNano: nanos(ts),
        startTimeUnixNano: nanos(start),
        count: String(count),
        sum,
        bucketCounts: counts.map(String),
        explicitBounds: BOUNDS,
        attributes: attrs(attributes),
      })
    }
    return points
  })
  const res = await app.inject({
    method: 'POST',
    url: '/v1/metrics',
    headers: { 'content-type': 'application/json' },
    payload: {
      resourceMetrics: [
        {
          resource: { attributes: attrs({ 'service.name': service }) },
          scopeMetrics: [
            {
              metrics: [
                {
                  name: 'http.server.request.duration',
                  unit: 's',
                  histogram: { aggregationTemporality: 2, dataPoints },
                },
              ],
            },
          ],
        },
      ],
    },
  })
  expect(res.statusCode, res.body).toBe(200)
  await app.governor.pipeline.sync() // acknowledged once logged: committed before anyone reads the store
}

/** `n` uniform observations in [0, max). */
export function uniform(rand: () => number, n: number, max: number): number[] {
  return Array.from({ length: n }, () => rand() * max)
}

/** Records a deploy through the API; resolves to its id. */
export async function deploy(app: FastifyInstance, body: Record<string, unknown>): Promise<string> {
  const res = await app.inject({ method: 'POST', url: '/api/v1/deploys', payload: { actor: 'ci', ...body } })
  expect(res.statusCode, res.body).toBe(201)
  return (res.json() as { id: string }).id
}
