import type { ClickHouseClient } from '@clickhouse/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { decodeRemoteWrite } from '../../../collector/src/decode/remote-write.ts'
import { FAMILY_TYPE, MetricFamilies } from '../../../collector/src/decode/remote-write-typing.ts'
import { PointBatch } from '../../../collector/src/model/batch.ts'
import { SeriesCache } from '../../../collector/src/model/series-cache.ts'
import type { Settings } from '../../../collector/src/settings.ts'
import { ClickHouseStoreQueries } from '../../../collector/src/store/clickhouse-queries.ts'
import type { StoreQueries } from '../../../collector/src/store/queries.ts'
import { retypeSeries } from '../../../collector/src/store/series-retyping.ts'
import { selectFamilies } from '../../../collector/src/store/series-selection.ts'
import { Store } from '../../../collector/src/store/store.ts'
import { encodeWriteRequest } from '../../helpers/remote-write.ts'
import { testSettings } from '../../helpers/settings.ts'

// Series stored on a guess, then re-typed in the real engine: every read sees the declared
// type, the points stay readable, a type a sender stated is never touched, and a store opened
// again (a restart) reads the new type.

const T = Math.floor(Date.now() / 1000) * 1000 - 3_600_000

/** Remote-write series of `metric` for each job, typed from `families` (a guess when it has none). */
function remoteWrite(metric: string, jobs: string[], families = new MetricFamilies()): PointBatch {
  const body = encodeWriteRequest(
    jobs.map((job) => ({ labels: { __name__: metric, job }, samples: [[T, 1] as const, [T + 1000, 2] as const] })),
  )
  return decodeRemoteWrite(body, new SeriesCache(), families).batch
}

describe('re-typing series stored on a guess, on the embedded engine', () => {
  let settings: Settings
  let store: Store
  let queries: StoreQueries

  beforeAll(async () => {
    settings = testSettings()
    store = await Store.open(settings)
    queries = new ClickHouseStoreQueries(store.client, store.db)
    const stated = new MetricFamilies()
    // Metadata that came first: a gauge whose name a guess would call a counter's.
    stated.set('pool_sum', { type: FAMILY_TYPE.GAUGE, help: 'Pools, summed.', unit: '' })
    const otlp = new SeriesCache().resolve({
      metric: 'otel_hits',
      type: 'gauge',
      temporality: 'unspecified',
      monotonic: false,
      unit: '',
      description: '',
      service: 'shop',
      scope: 'io.opentelemetry.app',
      resource: { 'service.name': 'shop' },
      attributes: {},
    })
    const otlpBatch = new PointBatch()
    otlpBatch.series.set(otlp.id, otlp)
    otlpBatch.samples.push(otlp, T, 0, 0, 3)
    await store.write([
      remoteWrite('legacy_hits', ['shop', 'cart']), // a counter without _total: guessed gauge
      remoteWrite('pool_count', ['shop']), // a gauge named as a counter's part: guessed sum
      remoteWrite('pool_sum', ['shop'], stated),
      otlpBatch,
    ])
  })
  afterAll(async () => {
    await store?.close()
  })

  const typeOf = async (metric: string) =>
    (await queries.series(metric)).map((s) => [s.service, s.type, s.temporality, s.monotonic])

  it('starts from the guesses', async () => {
    expect(await typeOf('legacy_hits')).toEqual(
      expect.arrayContaining([
        ['shop', 'gauge', 'unspecified', false],
        ['cart', 'gauge', 'unspecified', false],
      ]),
    )
    expect(await typeOf('pool_count')).toEqual([['shop', 'sum', 'cumulative', true]])
  })

  it('re-types the guessed series of each metric, says which by service, and keeps their points', async () => {
    const before = store.seriesGeneration!
    const retyped = await store.retypeSeries([
      { metric: 'legacy_hits', from: 'gauge', to: 'sum' },
      { metric: 'pool_count', from: 'sum', to: 'gauge' },
    ])
    expect(retyped).toEqual([
      { metric: 'legacy_hits', service: 'cart', from: 'gauge', to: 'sum', series: 1 },
      { metric: 'legacy_hits', service: 'shop', from: 'gauge', to: 'sum', series: 1 },
      { metric: 'pool_count', service: 'shop', from: 'sum', to: 'gauge', series: 1 },
    ])
    // Readers that remember the series table (the PromQL selections) read it again.
    expect(store.seriesGeneration).toBeGreaterThan(before)
    expect((await typeOf('legacy_hits')).sort()).toEqual([
      ['cart', 'sum', 'cumulative', true],
      ['shop', 'sum', 'cumulative', true],
    ])
    expect(await typeOf('pool_count')).toEqual([['shop', 'gauge', 'unspecified', false]])
    // Gauge and sum points share one table: nothing moves, every point reads as before.
    const ids = (await queries.series('legacy_hits')).map((s) => s.id)
    expect((await queries.points('samples', ['value'], ids, T, T + 2000, 100)).columns.value).toEqual([1, 2, 1, 2])
  })

  it('every read sees the declared type: the metric list, PromQL selections, the metadata endpoint', async () => {
    const metrics = await queries.metrics()
    expect(metrics.find((m) => m.name === 'legacy_hits')?.type).toBe('sum')
    expect(metrics.find((m) => m.name === 'pool_count')?.type).toBe('gauge')
    const sel = await selectFamilies(store.client, store.db, [{ name: '__name__', type: '=', value: 'legacy_hits' }], {
      maxRows: 100,
      tooMany: () => new Error('too many'),
    })
    expect(sel.families.map((f) => f.series.type)).toEqual(['sum', 'sum'])
    // No metadata recorded here: the endpoint answers from the series rows.
    const metadata = await queries.metadata(undefined, Infinity)
    expect(metadata.legacy_hits).toEqual([{ type: 'counter', help: '', unit: '' }])
    expect(metadata.pool_count).toEqual([{ type: 'gauge', help: '', unit: '' }])
  })

  it('never re-types a type a sender stated: metadata that came first, OTLP', async () => {
    expect(
      await store.retypeSeries([
        { metric: 'pool_sum', from: 'gauge', to: 'sum' },
        { metric: 'otel_hits', from: 'gauge', to: 'sum' },
      ]),
    ).toEqual([])
    expect(await typeOf('pool_sum')).toEqual([['shop', 'gauge', 'unspecified', false]])
    expect(await typeOf('otel_hits')).toEqual([['shop', 'gauge', 'unspecified', false]])
  })

  it('is done once: series re-typed already carry the guess no more', async () => {
    expect(await store.retypeSeries([{ metric: 'legacy_hits', from: 'gauge', to: 'sum' }])).toEqual([])
  })

  it('persists: the store opened again reads the declared types, as a restarted collector learns them', async () => {
    await store.close()
    store = await Store.open(settings)
    queries = new ClickHouseStoreQueries(store.client, store.db)
    const types = new Map(await queries.metricTypes())
    expect(types.get('legacy_hits')).toBe('sum')
    expect(types.get('pool_count')).toBe('gauge')
    expect(types.get('pool_sum')).toBe('gauge')
  })
})

describe('re-typing on a ClickHouse cluster', () => {
  it('mutates the table that stores the rows, on every node, and waits for every replica', async () => {
    const commands: { query: string; clickhouse_settings?: Record<string, unknown> }[] = []
    const client = {
      query: async () => ({ json: async () => [['legacy_hits', 'shop', '3']] }),
      command: async (c: { query: string; clickhouse_settings?: Record<string, unknown> }) => {
        commands.push(c)
        return {}
      },
    } as unknown as ClickHouseClient
    const got = await retypeSeries(client, 'metrics', 'main', [{ metric: 'legacy_hits', from: 'gauge', to: 'sum' }])
    expect(got).toEqual([{ metric: 'legacy_hits', service: 'shop', from: 'gauge', to: 'sum', series: 3 }])
    expect(commands).toHaveLength(1)
    // The Distributed table takes no mutation: its local table does, ON CLUSTER.
    expect(commands[0]!.query).toMatch(/^ALTER TABLE metrics\.series_local ON CLUSTER main\nUPDATE /)
    expect(commands[0]!.clickhouse_settings).toEqual({ mutations_sync: '2' })
  })
})
