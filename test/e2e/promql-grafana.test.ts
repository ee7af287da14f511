import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { nanos } from '../helpers/otlp.ts'
import { remoteWrite } from '../helpers/remote-write.ts'
import { startServer } from '../helpers/server.ts'

// The requests Grafana's Prometheus data source sends, as it sends them (form-encoded POST for
// queries, GET for the metric browser), through a listening server: the health check, the
// metric browser, a panel's range query with $__rate_interval expanded, and the annotation
// query over governor_change that marks deploys.

const T0 = Math.floor((Date.now() - 30 * 60_000) / 60_000) * 60_000
// Between two steps of the annotation query: marked at the step after it, once.
const DEPLOY_AT = T0 + 10 * 60_000 + 17_000
let app: FastifyInstance
let url: string

async function form(
  path: string,
  params: Record<string, string>,
): Promise<{
  status: number
  body: { status: string; data: { resultType: string; result: unknown }; errorType?: string; error?: string }
}> {
  const res = await fetch(`${url}/prometheus/api/v1/${path}`, {
    method: 'POST',
    body: new URLSearchParams(params),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  })
  return { status: res.status, body: (await res.json()) as never }
}
async function get(path: string): Promise<{ status: string; data: unknown }> {
  const res = await fetch(`${url}/prometheus/api/v1/${path}`)
  expect(res.status, path).toBe(200)
  return res.json() as never
}

describe("Grafana's requests", () => {
  beforeAll(async () => {
    ;({ app, url } = await startServer({ rateLimitApiPerMinute: 0, rateLimitIngestPerMinute: 0 }))
    const times = Array.from({ length: 120 }, (_, i) => T0 + i * 15_000)
    await remoteWrite(
      `${url}/api/v1/write`,
      ['200', '500'].map((code, c) => ({
        labels: { __name__: 'http_requests_total', job: 'checkout', instance: 'a:9090', code },
        samples: times.map((t, i) => [t, (i + 1) * (c === 0 ? 10 : 1)] as const),
      })),
    )
    // An OTLP histogram, exposed as http_server_request_duration_seconds_bucket{le}.
    const res = await fetch(`${url}/v1/metrics`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        resourceMetrics: [
          {
            resource: {
              attributes: [
                { key: 'service.name', value: { stringValue: 'checkout' } },
                { key: 'service.namespace', value: { stringValue: 'shop' } },
              ],
            },
            scopeMetrics: [
              {
                scope: { name: 'http' },
                metrics: [
                  {
                    name: 'http.server.request.duration',
                    unit: 's',
                    histogram: {
                      aggregationTemporality: 2,
                      dataPoints: times.map((t, i) => ({
                        startTimeUnixNano: nanos(T0 - 1000),
                        timeUnixNano: nanos(t),
                        count: String(4 * (i + 1)),
                        sum: 0.3 * (i + 1),
                        explicitBounds: [0.05, 0.1],
                        bucketCounts: [String(2 * (i + 1)), String(i + 1), String(i + 1)],
                        attributes: [{ key: 'http.route', value: { stringValue: '/pay' } }],
                      })),
                    },
                  },
                ],
              },
            ],
          },
        ],
      }),
    })
    expect(res.status).toBe(200)
    const deploy = await fetch(`${url}/api/v1/deploys`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        service: 'checkout',
        version: 'v42',
        actor: 'ci',
        description: 'faster payments',
        started_at: new Date(DEPLOY_AT).toISOString(),
      }),
    })
    expect(deploy.status, await deploy.clone().text()).toBeLessThan(300)
  })
  afterAll(async () => {
    await app?.close()
  })

  it('passes the data source health check', async () => {
    const { status, body } = await form('query', { query: '1+1', time: String((T0 + 30 * 60_000) / 1000) })
    expect(status).toBe(200)
    expect(body).toEqual({
      status: 'success',
      data: { resultType: 'scalar', result: [(T0 + 30 * 60_000) / 1000, '2'] },
    })
    expect(((await get('status/buildinfo')).data as { version: string }).version).toMatch(/^\d+\.\d+\.\d+$/)
  })

  it('feeds the metric browser: names, labels, values with match[], series, metadata', async () => {
    const range = `start=${T0 / 1000}&end=${(T0 + 30 * 60_000) / 1000}`
    const names = (await get(`label/__name__/values?${range}`)).data as string[]
    expect(names).toEqual(
      expect.arrayContaining([
        'http_requests_total',
        'http_server_request_duration_seconds_bucket',
        'http_server_request_duration_seconds_count',
        'governor_change',
      ]),
    )
    expect((await get(`labels?${range}&match[]=http_requests_total`)).data).toEqual([
      '__name__',
      'code',
      'instance',
      'job',
    ])
    expect(
      (
        await get(
          `label/job/values?${range}&match[]=${encodeURIComponent('{__name__="http_server_request_duration_seconds_bucket"}')}`,
        )
      ).data,
    ).toEqual(['shop/checkout'])
    expect((await get(`label/le/values?${range}&match[]=http_server_request_duration_seconds_bucket`)).data).toEqual([
      '+Inf',
      '0.05',
      '0.1',
    ])
    const series = (await get(`series?${range}&match[]=${encodeURIComponent('http_requests_total{code="500"}')}`)).data
    expect(series).toEqual([{ __name__: 'http_requests_total', job: 'checkout', instance: 'a:9090', code: '500' }])
    const meta = (await get('metadata')).data as Record<string, { type: string }[]>
    expect(meta.http_server_request_duration_seconds?.[0]?.type).toBe('histogram')
  })

  it("answers a panel's range query with $__rate_interval expanded", async () => {
    const { status, body } = await form('query_range', {
      query: 'sum by (code) (rate(http_requests_total[1m0s]))',
      start: String((T0 + 5 * 60_000) / 1000),
      end: String((T0 + 25 * 60_000) / 1000),
      step: '60',
    })
    expect(status).toBe(200)
    const result = body.data.result as { metric: { code: string }; values: [number, string][] }[]
    expect(body.data.resultType).toBe('matrix')
    expect(result.map((s) => s.metric.code).sort()).toEqual(['200', '500'])
    for (const s of result) {
      expect(s.values).toHaveLength(21)
      // 10 (or 1) every 15 s: 0.667 (or 0.0667) a second.
      for (const [, v] of s.values) expect(Number(v)).toBeCloseTo(s.metric.code === '200' ? 10 / 15 : 1 / 15, 6)
    }
    const p90 = await form('query', {
      query: 'histogram_quantile(0.5, sum by (le) (rate(http_server_request_duration_seconds_bucket[5m])))',
      time: String((T0 + 20 * 60_000) / 1000),
    })
    // Half of the observations are at or below 0.05: the median is the bucket's upper bound.
    expect((p90.body.data.result as { value: [number, string] }[])[0]?.value[1]).toBe('0.05')
  })

  it('finds OTel metrics and labels by their own names in quoted selectors', async () => {
    const { body } = await form('query', {
      query: '{"http.server.request.duration_count", "http.route"="/pay"}',
      time: String((T0 + 20 * 60_000) / 1000),
    })
    const result = body.data.result as { metric: Record<string, string>; value: [number, string] }[]
    expect(result.map((r) => r.metric)).toEqual([
      { __name__: 'http_server_request_duration_seconds_count', http_route: '/pay', job: 'shop/checkout' },
    ])
    expect(result[0]!.value[1]).toBe(String(4 * 81))
  })

  it('marks the deploy through the annotation query over governor_change', async () => {
    const { body } = await form('query_range', {
      query: 'max_over_time(governor_change{service="checkout"}[1m])',
      start: String(T0 / 1000),
      end: String((T0 + 30 * 60_000) / 1000),
      step: '60',
    })
    const result = body.data.result as { metric: Record<string, string>; values: [number, string][] }[]
    expect(result).toHaveLength(1)
    expect(result[0]!.metric).toMatchObject({ service: 'checkout', kind: 'deploy', version: 'v42', actor: 'ci' })
    expect(result[0]!.values).toEqual([[(T0 + 11 * 60_000) / 1000, '1']])
  })

  it('answers errors in Prometheus’ shape', async () => {
    const bad = await form('query', { query: 'sum(' })
    expect(bad.status).toBe(400)
    expect(bad.body).toMatchObject({ status: 'error', errorType: 'bad_data' })
  })
})
