import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { encodeV2Request, V2_CONTENT_TYPE } from '../../helpers/remote-write-v2.ts'
import { startServer } from '../../helpers/server.ts'

// Exemplars from OTLP (JSON) and remote write 2.0, through the collector, into the embedded
// engine, and back through /prometheus/api/v1/query_exemplars.

const T = Math.floor(Date.now() / 60_000) * 60_000 - 120_000
const TRACE = '0af7651916cd43dd8448eb211c80319c'
const SPAN = 'b7ad6b7169203331'
const nanos = (ms: number): string => `${ms}000000`

describe('exemplars in the store', { timeout: 60_000 }, () => {
  let app: FastifyInstance
  let url: string

  beforeAll(async () => {
    ;({ app, url } = await startServer({ flushIntervalMillis: 10 }))
  })
  afterAll(async () => {
    await app?.close()
  })

  const exemplars = async (query: string, start = T / 1000 - 60, end = T / 1000 + 60): Promise<unknown> => {
    const res = await fetch(
      `${url}/prometheus/api/v1/query_exemplars?${new URLSearchParams({ query, start: String(start), end: String(end) })}`,
    )
    const body = (await res.json()) as { status: string; data: { seriesLabels: Record<string, string> }[] }
    expect(body.status).toBe('success')
    return body.data.sort((a, b) => JSON.stringify(a.seriesLabels).localeCompare(JSON.stringify(b.seriesLabels)))
  }

  it('returns OTLP exemplars with their trace and span ids, on the series and the bucket they belong to', async () => {
    const body = {
      resourceMetrics: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'shop' } }] },
          scopeMetrics: [
            {
              scope: { name: 'shop-meter' },
              metrics: [
                {
                  name: 'orders',
                  sum: {
                    aggregationTemporality: 2,
                    isMonotonic: true,
                    dataPoints: [
                      {
                        timeUnixNano: nanos(T),
                        asInt: '5',
                        exemplars: [{ timeUnixNano: nanos(T - 100), asInt: '1', traceId: TRACE, spanId: SPAN }],
                      },
                    ],
                  },
                },
                {
                  name: 'checkout.duration',
                  unit: 's',
                  histogram: {
                    aggregationTemporality: 2,
                    dataPoints: [
                      {
                        timeUnixNano: nanos(T),
                        count: '2',
                        sum: 0.9,
                        explicitBounds: [0.1, 0.5, 1],
                        bucketCounts: ['0', '1', '1', '0'],
                        exemplars: [
                          {
                            timeUnixNano: nanos(T - 50),
                            asDouble: 0.3,
                            traceId: TRACE,
                            filteredAttributes: [{ key: 'user', value: { stringValue: 'u1' } }],
                          },
                        ],
                      },
                    ],
                  },
                },
              ],
            },
          ],
        },
      ],
    }
    const res = await fetch(`${url}/v1/metrics`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    })
    expect(res.status).toBe(200)

    expect(await exemplars('rate(orders_total[5m])')).toEqual([
      {
        seriesLabels: { __name__: 'orders_total', job: 'shop' },
        exemplars: [{ labels: { trace_id: TRACE, span_id: SPAN }, value: '1', timestamp: (T - 100) / 1000 }],
      },
    ])
    const [bucket] = (await exemplars('histogram_quantile(0.9, checkout_duration_seconds_bucket)')) as {
      seriesLabels: Record<string, string>
    }[]
    expect(bucket).toEqual({
      seriesLabels: expect.objectContaining({ __name__: 'checkout_duration_seconds_bucket', le: '0.5' }),
      exemplars: [{ labels: { user: 'u1', trace_id: TRACE }, value: '0.3', timestamp: (T - 50) / 1000 }],
    })
    // Outside the range: none.
    expect(await exemplars('orders_total', T / 1000 + 1, T / 1000 + 60)).toEqual([])
  })

  it('stores remote write 2.0 exemplars, counts them in the answer, and answers each once', async () => {
    const send = async (): Promise<Response> =>
      fetch(`${url}/api/v1/write`, {
        method: 'POST',
        headers: { 'content-type': V2_CONTENT_TYPE },
        body: Buffer.from(
          encodeV2Request([
            {
              labels: { __name__: 'rw_requests_total', job: 'api', instance: 'a:1' },
              samples: [[T, 1]],
              exemplars: [T - 10, T - 5],
            },
          ]),
        ),
      })
    const res = await send()
    expect(res.status).toBe(204)
    expect(res.headers.get('x-prometheus-remote-write-exemplars-written')).toBe('2')
    // The same exemplars again (a sender's retry): stored twice, answered once.
    expect((await send()).status).toBe(204)
    expect(await exemplars('sum by (job) (rw_requests_total{job="api"})')).toEqual([
      {
        seriesLabels: { __name__: 'rw_requests_total', job: 'api', instance: 'a:1' },
        exemplars: [
          { labels: { trace_id: 'abc' }, value: '1', timestamp: (T - 10) / 1000 },
          { labels: { trace_id: 'abc' }, value: '1', timestamp: (T - 5) / 1000 },
        ],
      },
    ])
    expect(await exemplars('rw_requests_total{job="other"}')).toEqual([])
  })
})
