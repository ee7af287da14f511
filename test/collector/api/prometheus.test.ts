import Fastify, { type FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { prometheusRoutes, type QueryData, type QueryEngine } from '../../../collector/src/api/prometheus.ts'
import { MIN_TIME, parseDuration, parseSelector, parseTime } from '../../../collector/src/api/prometheus-params.ts'
import { PromqlError } from '../../../collector/src/promql/errors.ts'
import { MemoryQuerier } from '../../../collector/src/promql/memory-querier.ts'
import { ReadGate } from '../../../collector/src/query/read-gate.ts'
import type { Services } from '../../../collector/src/services.ts'
import { ClickHouseStoreQueries } from '../../../collector/src/store/clickhouse-queries.ts'
import { Store } from '../../../collector/src/store/store.ts'
import { testSettings } from '../../helpers/settings.ts'

// The Prometheus HTTP API's parameters, envelope and errors, against an engine that records
// what it is asked (the evaluation itself is tested in test/collector/promql/ and, against
// Prometheus, in test/e2e/promql-vs-prometheus.test.ts).

const NOW = 1_700_000_000_000

class RecordingEngine implements QueryEngine {
  calls: unknown[][] = []
  answer: QueryData | Error = { resultType: 'scalar', result: [NOW / 1000, '2'] }
  async instantQuery(query: string, time: number): Promise<QueryData> {
    this.calls.push(['instant', query, time])
    if (this.answer instanceof Error) throw this.answer
    return this.answer
  }
  async rangeQuery(query: string, start: number, end: number, step: number): Promise<QueryData> {
    this.calls.push(['range', query, start, end, step])
    if (this.answer instanceof Error) throw this.answer
    return this.answer
  }
}

describe('Prometheus HTTP API', () => {
  const engine = new RecordingEngine()
  let app: FastifyInstance
  let store: Store

  beforeAll(async () => {
    const settings = testSettings()
    store = await Store.open(settings)
    app = Fastify()
    app.decorate('governor', {
      store,
      queries: new ClickHouseStoreQueries(store.client, store.db),
      settings,
      readGate: new ReadGate({ maxRunning: 2, maxWaiting: 2 }),
    } as unknown as Services)
    const querier = new MemoryQuerier([
      { labels: { __name__: 'up', job: 'api', instance: 'a:1' }, points: [[NOW - 60_000, 1]] },
      { labels: { __name__: 'up', job: 'db', instance: 'b:1' }, points: [[NOW - 60_000, 0]] },
      { labels: { __name__: 'http_requests_total', job: 'api', code: '200' }, points: [[NOW - 60_000, 5]] },
    ])
    await app.register(prometheusRoutes, { prefix: '/prometheus/api/v1', engine, querier, now: () => NOW })
  })
  afterAll(async () => {
    await app?.close()
    await store?.close()
  })

  it("answers Grafana's health check, GET and form-encoded POST, in Prometheus' envelope", async () => {
    const get = await app.inject({ url: `/prometheus/api/v1/query?query=1%2B1&time=${NOW / 1000}` })
    expect(get.statusCode).toBe(200)
    expect(get.json()).toEqual({ status: 'success', data: { resultType: 'scalar', result: [NOW / 1000, '2'] } })
    const post = await app.inject({
      method: 'POST',
      url: '/prometheus/api/v1/query',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: `query=1%2B1&time=${NOW / 1000}`,
    })
    expect(post.json().status).toBe('success')
    expect(engine.calls.slice(-2)).toEqual([
      ['instant', '1+1', NOW],
      ['instant', '1+1', NOW],
    ])
  })

  it('takes range queries with RFC 3339 times and duration steps, and refuses more than 11,000 points', async () => {
    const ok = await app.inject({
      url: '/prometheus/api/v1/query_range?query=up&start=2023-11-14T22:13:20Z&end=2023-11-14T23:13:20.5Z&step=1m',
    })
    expect(ok.statusCode).toBe(200)
    expect(engine.calls.at(-1)).toEqual(['range', 'up', NOW, NOW + 3_600_500, 60_000])
    const tooMany = await app.inject({ url: `/prometheus/api/v1/query_range?query=up&start=0&end=11001&step=1` })
    expect(tooMany.statusCode).toBe(400)
    expect(tooMany.json()).toEqual({
      status: 'error',
      errorType: 'bad_data',
      error:
        'exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)',
    })
    const backwards = await app.inject({ url: '/prometheus/api/v1/query_range?query=up&start=10&end=5&step=1' })
    expect(backwards.json().error).toMatch(/end timestamp must not be before start time/)
  })

  it("maps the engine's errors to Prometheus' status codes", async () => {
    for (const [type, status] of [
      ['bad_data', 400],
      ['execution', 422],
      ['timeout', 503],
      ['internal', 500],
    ] as const) {
      engine.answer = new PromqlError(type, `a ${type} error`)
      const res = await app.inject({ url: '/prometheus/api/v1/query?query=x' })
      expect([res.statusCode, res.json()]).toEqual([
        status,
        { status: 'error', errorType: type, error: `a ${type} error` },
      ])
    }
    engine.answer = { resultType: 'vector', result: [], warnings: ['careful'] }
    expect((await app.inject({ url: '/prometheus/api/v1/query?query=x' })).json()).toEqual({
      status: 'success',
      data: { resultType: 'vector', result: [] },
      warnings: ['careful'],
    })
    const missing = await app.inject({ url: '/prometheus/api/v1/query' })
    expect([missing.statusCode, missing.json().error]).toEqual([400, 'invalid parameter "query": missing'])
  })

  it('lists series, label names and values with match[], as the metric browser asks', async () => {
    const series = await app.inject({
      url: `/prometheus/api/v1/series?match[]=up&start=${(NOW - 3_600_000) / 1000}&end=${NOW / 1000}`,
    })
    expect(series.json().data).toHaveLength(2)
    expect((await app.inject({ url: '/prometheus/api/v1/series' })).json().error).toBe('no match[] parameter provided')
    expect((await app.inject({ url: '/prometheus/api/v1/labels' })).json()).toEqual({
      status: 'success',
      data: ['__name__', 'code', 'instance', 'job'],
    })
    expect(
      (await app.inject({ url: '/prometheus/api/v1/label/job/values?match[]=up{instance=~"a.*"}' })).json().data,
    ).toEqual(['api'])
    const post = await app.inject({
      method: 'POST',
      url: '/prometheus/api/v1/labels',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'match[]=http_requests_total&match[]=up%7Bjob%3D%22db%22%7D',
    })
    expect(post.json().data).toEqual(['__name__', 'code', 'instance', 'job'])
    expect((await app.inject({ url: '/prometheus/api/v1/label/__name__/values?limit=1' })).json().data).toEqual([
      'http_requests_total',
    ])
  })

  it('answers buildinfo, metadata and exemplars as Grafana expects', async () => {
    expect((await app.inject({ url: '/prometheus/api/v1/status/buildinfo' })).json().data.version).toMatch(/^3\./)
    expect((await app.inject({ url: '/prometheus/api/v1/metadata' })).json().data.governor_change).toEqual([
      { type: 'gauge', help: expect.any(String), unit: '' },
    ])
    expect((await app.inject({ url: '/prometheus/api/v1/query_exemplars?query=up&start=0&end=1' })).json()).toEqual({
      status: 'success',
      data: [],
    })
  })
})

describe('Prometheus API parameters', () => {
  it('parses times as Prometheus does', () => {
    expect(parseTime('1700000000.123', 'time', 0)).toBe(1_700_000_000_123)
    expect(parseTime('2023-11-14T22:13:20+01:00', 'time', 0)).toBe(NOW - 3_600_000)
    expect(parseTime(undefined, 'time', 7)).toBe(7)
    expect(parseTime('0001-01-01T00:00:00Z', 'start', 0)).toBe(MIN_TIME)
    expect(() => parseTime('yesterday', 'time', 0)).toThrow(
      'invalid parameter "time": cannot parse "yesterday" to a valid timestamp',
    )
  })

  it('parses durations and float seconds', () => {
    expect([
      parseDuration('15', 'step'),
      parseDuration('0.5', 'step'),
      parseDuration('1h30m', 'step'),
      parseDuration('100ms', 'step'),
    ]).toEqual([15_000, 500, 5_400_000, 100])
    expect(() => parseDuration('1x', 'step')).toThrow(/cannot parse "1x"/)
  })

  it('parses series selectors, quoted UTF-8 names included', () => {
    expect(parseSelector('up{job="api", code!~"5.."}')).toEqual([
      { name: '__name__', type: '=', value: 'up' },
      { name: 'job', type: '=', value: 'api' },
      { name: 'code', type: '!~', value: '5..' },
    ])
    expect(parseSelector('{"http.server.duration", "http.route"="/a\\"b"}')).toEqual([
      { name: '__name__', type: '=', value: 'http.server.duration' },
      { name: 'http.route', type: '=', value: '/a"b' },
    ])
    expect(() => parseSelector('{job=""}')).toThrow(/at least one non-empty matcher/)
    expect(() => parseSelector('up{job=}')).toThrow(/parse error/)
  })
})
