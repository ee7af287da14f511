import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PointBatch } from '../../../collector/src/model/batch.ts'
import { SeriesCache } from '../../../collector/src/model/series-cache.ts'
import type { SeriesInfo } from '../../../collector/src/model/types.ts'
import { ClickHouseStoreQueries } from '../../../collector/src/store/clickhouse-queries.ts'
import { toNumber, type StoreQueries } from '../../../collector/src/store/queries.ts'
import { MIGRATIONS } from '../../../collector/src/store/migrations.ts'
import { Store } from '../../../collector/src/store/store.ts'
import { testSettings } from '../../helpers/settings.ts'

// Points older than the retention are dropped by the TTL, so tests write recent times.
const T = Math.floor(Date.now() / 1000) * 1000 - 3_600_000
const cache = new SeriesCache()
function series(metric: string, type: SeriesInfo['type'], attributes: Record<string, string> = {}): SeriesInfo {
  return cache.resolve({
    metric,
    type,
    temporality: type === 'gauge' || type === 'summary' ? 'unspecified' : 'cumulative',
    monotonic: type === 'sum',
    unit: 'ms',
    description: 'd',
    service: 'checkout',
    scope: 'test',
    resource: { 'service.name': 'checkout' },
    attributes,
  })
}

describe('Store on the embedded engine', () => {
  const settings = testSettings()
  let store: Store
  let queries: StoreQueries

  beforeAll(async () => {
    store = await Store.open(settings)
    queries = new ClickHouseStoreQueries(store.client, store.db)
  })
  afterAll(async () => {
    await store?.close()
  })

  it('applies the migrations once and records them', async () => {
    const rs = await store.client.query({
      query: `SELECT version FROM ${store.db}.schema_migrations ORDER BY version`,
      format: 'JSONCompactEachRow',
    })
    expect(await rs.json()).toEqual(MIGRATIONS.map((m) => [m.version]))
  })

  it('round-trips strings with tabs, newlines, quotes and backslashes in names and attributes', async () => {
    const weird = 'a\tb\nc\'d\\e"f\u00e9\u{1F600}'
    const s = series(`odd.${weird}`, 'gauge', { [weird]: weird, plain: 'x' })
    const b = new PointBatch()
    b.series.set(s.id, s)
    b.samples.push(s, T + 123, 0, 0, 1.5)
    await store.write([b])
    const rows = await queries.series(`odd.${weird}`)
    expect(rows).toHaveLength(1)
    expect(rows[0]!.attributes).toEqual({ [weird]: weird, plain: 'x' })
    expect(rows[0]!.id).toBe(String(s.id))
    const pts = await queries.points('samples', ['value'], [String(s.id)], T, T + 1000, 10)
    expect(pts.ts).toEqual([T + 123])
    expect(pts.columns.value!.map(toNumber)).toEqual([1.5])
  })

  it('stores every point type whole, non-finite values included', async () => {
    const g = series('t.gauge', 'gauge'),
      h = series('t.hist', 'histogram'),
      e = series('t.exp', 'exponential_histogram'),
      q = series('t.sum', 'summary')
    const b = new PointBatch()
    for (const s of [g, h, e, q]) b.series.set(s.id, s)
    b.samples.push(g, T + 1000, 0, 0, NaN)
    b.samples.push(g, T + 2000, 0, 1, -Infinity)
    b.histograms.push(h, T + 1000, T + 500, 0, 6, 12.5, 0.5, 9, [1, 5], [1, 2, 3])
    b.expHistograms.push(
      e,
      T + 1000,
      T + 500,
      0,
      7,
      3.25,
      NaN,
      NaN,
      2,
      1,
      0.001,
      { offset: -2, counts: [1, 2] },
      { offset: 0, counts: [3] },
    )
    b.summaries.push(q, T + 1000, T + 500, 0, 10, 55, [0.5, 0.99], [4, 9.9])
    await store.write([b])

    const gp = await queries.points('samples', ['value', 'flags'], [String(g.id)], T, T + 10_000, 10)
    // The second point carries OTLP's "no recorded value" flag: stored, but not read back.
    expect(gp.columns.value!.map(toNumber)).toEqual([NaN])
    expect(gp.columns.flags).toEqual([0])
    const stored = await store.client.query({
      query: `SELECT flags, value FROM ${store.db}.samples WHERE series_id = ${g.id} ORDER BY ts`,
      format: 'JSONCompactEachRow',
      clickhouse_settings: { output_format_json_quote_denormals: 1 },
    })
    expect(await stored.json()).toEqual([
      [0, 'nan'],
      [1, '-inf'],
    ])
    const hp = await queries.points(
      'histograms',
      ['count', 'sum', 'min', 'max', 'bounds', 'counts'],
      [String(h.id)],
      T,
      T + 10_000,
      10,
    )
    expect(hp.start).toEqual([T + 500])
    expect([hp.columns.count![0], hp.columns.sum![0], hp.columns.bounds![0], hp.columns.counts![0]]).toEqual([
      '6',
      12.5,
      [1, 5],
      ['1', '2', '3'],
    ])
    const ep = await queries.points(
      'exp_histograms',
      ['scale', 'zero_count', 'positive_offset', 'positive_counts', 'negative_offset', 'negative_counts', 'min'],
      [String(e.id)],
      T,
      T + 10_000,
      10,
    )
    expect(Object.values(ep.columns).map((c) => c[0])).toEqual([2, '1', -2, ['1', '2'], 0, ['3'], 'nan'])
    const sp = await queries.points('summaries', ['quantiles', 'values'], [String(q.id)], T, T + 10_000, 10)
    expect([sp.columns.quantiles![0], sp.columns.values![0]]).toEqual([
      [0.5, 0.99],
      [4, 9.9],
    ])
  })

  it('writes a series row once, however often its points arrive', async () => {
    const s = series('t.once', 'gauge', { k: 'v' })
    for (let i = 0; i < 3; i++) {
      const b = new PointBatch()
      b.series.set(s.id, s)
      b.samples.push(s, T + 1000 + i, 0, 0, i)
      await store.write([b])
    }
    const rs = await store.client.query({
      query: `SELECT count() FROM ${store.db}.series WHERE metric = 't.once'`,
      format: 'JSONCompactEachRow',
    })
    expect(await rs.json()).toEqual([['1']])
    const pts = await queries.points('samples', ['value'], [String(s.id)], T, T + 10_000, 10)
    expect(pts.columns.value!.map(toNumber)).toEqual([0, 1, 2])
  })

  it('reads only [from, to) and reports one row past the limit', async () => {
    const s = series('t.range', 'gauge')
    const b = new PointBatch()
    b.series.set(s.id, s)
    for (let t = 0; t < 10; t++) b.samples.push(s, T + 1000 * t, 0, 0, t)
    await store.write([b])
    const inRange = await queries.points('samples', ['value'], [String(s.id)], T + 2000, T + 5000, 100)
    expect(inRange.ts).toEqual([T + 2000, T + 3000, T + 4000])
    const limited = await queries.points('samples', ['value'], [String(s.id)], T, T + 10_000, 4)
    expect(limited.ts).toHaveLength(5)
  })

  it('lists metrics with their type, unit and services', async () => {
    const list = await queries.metrics()
    const gauge = list.find((m) => m.name === 't.gauge')
    expect(gauge).toMatchObject({ type: 'gauge', unit: 'ms', services: ['checkout'], series: 1 })
  })

  it('reopens the same data directory with the series it knew', async () => {
    const before = store.knownSeriesCount
    await store.close()
    store = await Store.open(settings)
    queries = new ClickHouseStoreQueries(store.client, store.db)
    expect(store.knownSeriesCount).toBe(before)
  })
})
