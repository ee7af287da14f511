import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PointBatch } from '../../../collector/src/model/batch.ts'
import { SeriesCache } from '../../../collector/src/model/series-cache.ts'
import type { SeriesInfo } from '../../../collector/src/model/types.ts'
import { isPromqlError } from '../../../collector/src/promql/errors.ts'
import type { LabelMatcher, RawSeries } from '../../../collector/src/promql/querier.ts'
import { ClickHouseQuerier } from '../../../collector/src/store/clickhouse-querier.ts'
import { Store } from '../../../collector/src/store/store.ts'
import { testSettings } from '../../helpers/settings.ts'

const T = Math.floor(Date.now() / 60_000) * 60_000 - 3_600_000
const cache = new SeriesCache()
const LIMITS = { maxSeries: 1000, maxSamples: 100_000 }

function otel(
  metric: string,
  type: SeriesInfo['type'],
  unit: string,
  attributes: Record<string, string> = {},
): SeriesInfo {
  return cache.resolve({
    metric,
    type,
    unit,
    description: '',
    temporality: type === 'gauge' || type === 'summary' ? 'unspecified' : 'cumulative',
    monotonic: type === 'sum',
    service: 'checkout',
    scope: 'shop',
    resource: { 'service.name': 'checkout', 'service.instance.id': 'pod-1', 'telemetry.sdk.language': 'nodejs' },
    attributes,
  })
}
function remoteWritten(metric: string, type: 'gauge' | 'sum', labels: Record<string, string>): SeriesInfo {
  return cache.resolve({
    metric,
    type,
    unit: '',
    description: '',
    temporality: type === 'sum' ? 'cumulative' : 'unspecified',
    monotonic: type === 'sum',
    service: labels.job ?? 'unknown_service',
    scope: '',
    resource: { 'service.name': labels.job ?? 'unknown_service' },
    attributes: labels,
  })
}

const eq = (name: string, value: string): LabelMatcher => ({ name, type: '=', value })
const re = (name: string, value: string): LabelMatcher => ({ name, type: '=~', value })
const hints = (start = T, end = T + 600_000) => ({ start, end, step: 0 })
const plain = (s: RawSeries[]) =>
  s
    .map((x) => ({
      labels: x.labels,
      ts: [...x.ts].map((t) => t - T),
      values: [...x.values],
      stale: x.stale === undefined ? undefined : [...x.stale],
    }))
    .sort((a, b) => (JSON.stringify(a.labels) < JSON.stringify(b.labels) ? -1 : 1))

describe('ClickHouseQuerier on the embedded engine', () => {
  let store: Store
  let q: ClickHouseQuerier

  beforeAll(async () => {
    store = await Store.open(testSettings())
    q = new ClickHouseQuerier(store)
    const b = new PointBatch()
    const up = remoteWritten('up', 'gauge', { job: 'api', instance: 'a:1' })
    const reqs = remoteWritten('http_requests_total', 'sum', { job: 'api', instance: 'a:1', code: '200' })
    const dur = otel('http.server.request.duration', 'histogram', 's', { 'http.route': '/pay' })
    const mem = otel('process.memory.usage', 'gauge', 'By')
    const lat = otel('rpc.latency', 'summary', 'ms')
    for (const s of [up, reqs, dur, mem, lat]) b.series.set(s.id, s)
    b.samples.push(up, T, 0, 0, 1)
    b.samples.push(up, T + 60_000, 0, 0, 0)
    b.samples.push(up, T + 120_000, 0, 1, NaN) // a stale marker
    b.samples.push(reqs, T, 0, 0, 10)
    b.samples.push(reqs, T + 60_000, 0, 0, NaN)
    b.histograms.push(dur, T, T - 1000, 0, 6, 3.5, 0, 2, [0.1, 1], [1, 2, 3])
    b.histograms.push(dur, T + 60_000, T - 1000, 0, 10, 5.5, 0, 2, [0.1, 1], [2, 3, 5])
    b.samples.push(mem, T + 30_000, 0, 0, 1024)
    b.summaries.push(lat, T, T - 1000, 0, 4, 40, [0.5, 0.99], [9, 20])
    await store.write([b])
    await store.client.command({
      query: `INSERT INTO ${store.db}.events (id, kind, time, time_end, service, actor, title, version) VALUES ('e1', 'deploy', fromUnixTimestamp64Milli(toInt64(${T + 90_000}), 'UTC'), fromUnixTimestamp64Milli(toInt64(${T + 90_000}), 'UTC'), 'checkout', 'ci', 'ship it', 'v2')`,
    })
  })
  afterAll(async () => {
    await store?.close()
  })

  it('reads a remote-written series as it was sent, with stale markers and real NaNs', async () => {
    expect(plain(await q.select([eq('__name__', 'up')], hints(), LIMITS))).toEqual([
      {
        labels: { __name__: 'up', job: 'api', instance: 'a:1' },
        ts: [0, 60_000, 120_000],
        values: [1, 0, NaN],
        stale: [0, 0, 1],
      },
    ])
    const [reqs] = await q.select([eq('__name__', 'http_requests_total'), eq('code', '200')], hints(), LIMITS)
    expect([...reqs!.values]).toEqual([10, NaN])
    expect(reqs!.stale).toBeUndefined()
  })

  it('exposes an OTLP histogram as cumulative _bucket{le} series, _sum and _count', async () => {
    const buckets = plain(
      await q.select([eq('__name__', 'http_server_request_duration_seconds_bucket')], hints(), LIMITS),
    )
    const base = {
      __name__: 'http_server_request_duration_seconds_bucket',
      http_route: '/pay',
      job: 'checkout',
      instance: 'pod-1',
    }
    expect(buckets).toEqual([
      { labels: { ...base, le: '+Inf' }, ts: [0, 60_000], values: [6, 10], stale: undefined },
      { labels: { ...base, le: '0.1' }, ts: [0, 60_000], values: [1, 2], stale: undefined },
      { labels: { ...base, le: '1' }, ts: [0, 60_000], values: [3, 5], stale: undefined },
    ])
    const le = await q.select(
      [eq('__name__', 'http_server_request_duration_seconds_bucket'), eq('le', '+Inf')],
      hints(),
      LIMITS,
    )
    expect(le.map((s) => s.labels.le)).toEqual(['+Inf'])
    const [count] = await q.select([eq('__name__', 'http_server_request_duration_seconds_count')], hints(), LIMITS)
    expect([...count!.values]).toEqual([6, 10])
  })

  it('finds an OTel metric by its own name, as a quoted UTF-8 selector does', async () => {
    const s = await q.select([eq('__name__', 'process.memory.usage')], hints(), LIMITS)
    expect(s.map((x) => x.labels.__name__)).toEqual(['process_memory_usage_bytes'])
  })

  it('selects by regex on names and labels, and by summary quantile', async () => {
    const names = (await q.select([re('__name__', 'http_.*_(sum|count)')], hints(), LIMITS))
      .map((s) => s.labels.__name__)
      .sort()
    expect(names).toEqual(['http_server_request_duration_seconds_count', 'http_server_request_duration_seconds_sum'])
    const routes = await q.select(
      [re('http_route', '/p.*'), eq('__name__', 'http_server_request_duration_seconds_sum')],
      hints(),
      LIMITS,
    )
    expect(routes).toHaveLength(1)
    const p99 = await q.select([eq('__name__', 'rpc_latency_milliseconds'), eq('quantile', '0.99')], hints(), LIMITS)
    expect(p99.map((s) => [...s.values])).toEqual([[20]])
  })

  it('exposes a delta sum without _total and an exponential histogram as _sum and _count', async () => {
    const b = new PointBatch()
    const orders = cache.resolve({
      metric: 'shop.orders',
      type: 'sum',
      unit: '{order}',
      description: '',
      temporality: 'delta',
      monotonic: true,
      service: 'checkout',
      scope: 'shop',
      resource: { 'service.name': 'checkout' },
      attributes: {},
    })
    const exp = otel('queue.wait', 'exponential_histogram', 'ms')
    b.series.set(orders.id, orders)
    b.series.set(exp.id, exp)
    b.samples.push(orders, T, T - 15_000, 0, 3)
    b.expHistograms.push(
      exp,
      T,
      T - 1000,
      0,
      7,
      3.25,
      0,
      1,
      2,
      1,
      0.001,
      { offset: -2, counts: [1, 2] },
      { offset: 0, counts: [3] },
    )
    await store.write([b])
    expect((await q.select([eq('__name__', 'shop_orders')], hints(), LIMITS)).map((s) => [...s.values])).toEqual([[3]])
    expect(await q.select([eq('__name__', 'shop_orders_total')], hints(), LIMITS)).toEqual([])
    const names = (await q.select([re('__name__', 'queue_wait_milliseconds.*')], hints(), LIMITS))
      .map((s) => [s.labels.__name__, [...s.values]])
      .sort()
    expect(names).toEqual([
      ['queue_wait_milliseconds_count', [7]],
      ['queue_wait_milliseconds_sum', [3.25]],
    ])
  })

  it('reads only the points in [start, end]', async () => {
    const [s] = await q.select([eq('__name__', 'up')], hints(T + 1, T + 60_000), LIMITS)
    expect([...s!.ts]).toEqual([T + 60_000])
  })

  it('refuses before reading points: too many series, too many samples', async () => {
    const err = await q
      .select([re('__name__', '.+')], hints(), { maxSeries: 2, maxSamples: 1e6 })
      .catch((e: unknown) => e)
    expect(isPromqlError(err) && err.errorType).toBe('execution')
    expect((err as Error).message).toMatch(/more than 2 series/)
    const err2 = await q
      .select([eq('__name__', 'http_server_request_duration_seconds_bucket')], hints(), {
        maxSeries: 100,
        maxSamples: 5,
      })
      .catch((e: unknown) => e)
    expect(isPromqlError(err2) && err2.errorType).toBe('execution')
    expect((err2 as Error).message).toMatch(/too many samples.*6 > 5/)
  })

  // A read of 1 series over 2 s would stay under 5 samples at one a second, so it is not
  // counted first; its points, 10 a second, are counted as they are decoded.
  it('refuses a small read of dense points as it decodes them', async () => {
    const dense = remoteWritten('dense_gauge', 'gauge', { job: 'api' })
    const b = new PointBatch()
    b.series.set(dense.id, dense)
    for (let i = 0; i < 20; i++) b.samples.push(dense, T + i * 100, 0, 0, i)
    await store.write([b])
    const err = await q
      .select([eq('__name__', 'dense_gauge')], hints(T, T + 2_000), { maxSeries: 100, maxSamples: 5 })
      .catch((e: unknown) => e)
    expect(isPromqlError(err) && err.errorType).toBe('execution')
    expect((err as Error).message).toMatch(/too many samples.*\(20 > 5/)
    expect(
      (await q.select([eq('__name__', 'dense_gauge')], hints(T, T + 2_000), { maxSeries: 100, maxSamples: 20 }))[0]!.ts,
    ).toHaveLength(20)
  })

  // Selections are remembered between queries while no series is written: a series written
  // since is found at once, and the remembered one is not read again (no series-table read).
  it('finds a series written after the same selector was asked, and remembers selections between', async () => {
    const ask = async () =>
      (await q.select([eq('__name__', 'fleet_size')], hints(), LIMITS)).map((x) => x.labels.instance).sort()
    const write = async (instance: string) => {
      const s = remoteWritten('fleet_size', 'gauge', { job: 'api', instance })
      const b = new PointBatch()
      b.series.set(s.id, s)
      b.samples.push(s, T + 10_000, 0, 0, 1)
      await store.write([b])
    }
    await write('a')
    expect(await ask()).toEqual(['a'])
    await write('b')
    expect(await ask()).toEqual(['a', 'b'])
    let seriesReads = 0
    const counting = new ClickHouseQuerier({
      db: store.db,
      readBinary: (query, format, signal) => store.readBinary(query, format, signal),
      get seriesGeneration() {
        return store.seriesGeneration
      },
      client: new Proxy(store.client, {
        get: (t, p, r) =>
          p === 'query'
            ? (...a: Parameters<typeof t.query>) => {
                seriesReads++
                return t.query(...a)
              }
            : Reflect.get(t, p, r),
      }),
    })
    await counting.select([eq('__name__', 'fleet_size')], hints(), LIMITS)
    await counting.select([eq('__name__', 'fleet_size')], hints(), LIMITS)
    expect(seriesReads).toBe(1)
    await write('c')
    expect(
      (await counting.select([eq('__name__', 'fleet_size')], hints(), LIMITS)).map((x) => x.labels.instance).sort(),
    ).toEqual(['a', 'b', 'c'])
    expect(seriesReads).toBe(2)
  })

  it('streams a long read and answers it as a short one, thinned for steps too', async () => {
    const calls: string[] = []
    const spying = new ClickHouseQuerier({
      db: store.db,
      client: store.client,
      readBinary: (query, format, signal) => {
        calls.push('whole')
        return store.readBinary(query, format, signal)
      },
      readBinaryChunks: (query, format, signal) => {
        calls.push('pieces')
        return store.readBinaryChunks(query, format, signal)
      },
    })
    const limits = { maxSeries: 1000, maxSamples: 10_000_000 }
    const long = { start: T - 30 * 86_400_000, end: T + 600_000, step: 0 }
    for (const m of [[eq('__name__', 'up')], [re('__name__', 'http_requests_total|up')]]) {
      calls.length = 0
      expect(plain(await spying.select(m, long, limits))).toEqual(plain(await q.select(m, hints(), LIMITS)))
      expect(calls).toEqual(['pieces'])
    }
    // An instant selector at a 1 s step over the month: the last point of each step, streamed.
    calls.length = 0
    const stepped = await spying.select([eq('__name__', 'up')], { ...long, step: 1000 }, limits)
    expect(calls).toEqual(['pieces'])
    expect(plain(stepped)).toEqual(plain(await q.select([eq('__name__', 'up')], hints(), LIMITS)))
  })

  it('serves the change log as governor_change, 1 at each event', async () => {
    expect(plain(await q.select([eq('__name__', 'governor_change'), eq('kind', 'deploy')], hints(), LIMITS))).toEqual([
      {
        labels: {
          __name__: 'governor_change',
          service: 'checkout',
          kind: 'deploy',
          version: 'v2',
          actor: 'ci',
          title: 'ship it',
        },
        ts: [90_000],
        values: [1],
        stale: undefined,
      },
    ])
  })

  it('lists series, label names and values of series with points in the range', async () => {
    const series = await q.series([[eq('__name__', 'http_server_request_duration_seconds_bucket')]], T, T + 600_000, 0)
    expect(series.map((s) => s.le).sort()).toEqual(['+Inf', '0.1', '1'])
    expect(await q.labelValues('__name__', [], T, T + 600_000, 0)).toContain('governor_change')
    expect(await q.labelValues('job', [[eq('__name__', 'up')]], T, T + 600_000, 0)).toEqual(['api'])
    expect(await q.labelNames([[eq('__name__', 'up')]], T, T + 600_000, 0)).toEqual(['__name__', 'instance', 'job'])
    expect(await q.labelValues('__name__', [], T + 500_000, T + 600_000, 0)).toEqual([])
  })
})
