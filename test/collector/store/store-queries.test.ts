import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ClickHouseStoreQueries } from '../../../collector/src/store/clickhouse-queries.ts'
import {
  MemoryStoreQueries,
  type MemoryPointRow,
  type MemorySeriesRow,
} from '../../../collector/src/store/memory-queries.ts'
import { recordFamilies, type FamilyMetadata } from '../../../collector/src/store/prometheus-metadata.ts'
import { toNumber, type PointRows, type StoreQueries } from '../../../collector/src/store/queries.ts'
import { Store } from '../../../collector/src/store/store.ts'
import { testSettings } from '../../helpers/settings.ts'

// One contract, two implementations: the in-memory store queries that unit tests use must
// answer as the SQL over the series and point tables does, or the tests that use them prove
// nothing about Governor. Every case runs against both.

const M = 60_000
// Points older than the retention are dropped by the TTL, so the rows are recent.
const NOW = Math.floor(Date.now() / M) * M
const BIG = '12345678901234567890' // past 2^53: read as a number it would lose its last digits

const series = (metric: string, id: string, over: Partial<MemorySeriesRow> = {}): MemorySeriesRow => ({
  metric,
  id,
  type: 'gauge',
  temporality: 'unspecified',
  monotonic: false,
  unit: 'ms',
  description: `${metric} in ms`,
  service: 'api',
  scope: 'checkout-lib',
  resource: { 'service.name': over.service ?? 'api' },
  attributes: { route: `/${id}` },
  firstSeen: NOW - 60 * M,
  ...over,
})

/** The series table, in the batches it is written in. */
const SERIES: MemorySeriesRow[][] = [
  [
    // Ids 10 and 9: ordered as numbers, not as text.
    series('queue.depth', '10', { service: 'web' }),
    series('queue.depth', '9', { service: 'api' }),
    series('queue.depth', BIG, { service: 'web' }),
    series('http.server.request.duration', '20', { type: 'histogram', temporality: 'cumulative' }),
    // A Prometheus-native counter: no scope, no resource but the service.
    series('jobs_done_total', '30', {
      type: 'sum',
      temporality: 'cumulative',
      monotonic: true,
      unit: '',
      description: 'Jobs done.',
      service: 'worker',
      scope: '',
    }),
    series('retyped', '40', { firstSeen: NOW - 50 * M }),
  ],
  // Series 40 written again with another type, seen later: it reads as its latest row, while
  // its metric keeps the type it was first stored with.
  [series('retyped', '40', { type: 'sum', temporality: 'delta', unit: 's', firstSeen: NOW - 10 * M })],
]

const sample = (seriesId: string, ago: number, value: number, flags = 0): MemoryPointRow => ({
  seriesId,
  ts: NOW - ago,
  start: NOW - 90 * M,
  flags,
  columns: { value },
})

/** Point rows by table, written in this (unsorted) order. */
const SAMPLES: MemoryPointRow[] = [
  sample(BIG, 5 * M, 7),
  sample('10', 20 * M, 4),
  sample('9', 2 * M, 3),
  sample('10', 30 * M, 5), // the first millisecond of the range read: in
  sample('10', 10 * M, 1, 1), // no recorded value: out
  sample('10', 8 * M, 2, 2), // another flag bit: in
  sample('9', 40 * M, 8), // before the range
  sample('9', 0, 9), // the end of the range: out
  sample('40', 5 * M, 6), // a series not asked for
]
const HISTOGRAMS: MemoryPointRow[] = [
  {
    seriesId: '20',
    ts: NOW - 5 * M,
    start: NOW - 60 * M,
    flags: 0,
    columns: { count: 20, sum: 2500.5, bounds: [100, 200], counts: [12, 6, 2] },
  },
  {
    seriesId: '20',
    ts: NOW - 10 * M,
    start: NOW - 60 * M,
    flags: 0,
    columns: { count: 10, sum: 1000, bounds: [100, 200], counts: [6, 3, 1] },
  },
]

/** What senders stated of families, in two writes: the later one of a family wins. */
const FAMILIES: FamilyMetadata[][] = [
  [{ family: 'jobs_done_total', type: 'counter', help: 'First words.', unit: '' }],
  [
    { family: 'jobs_done_total', type: 'counter', help: 'Jobs done, all of them.', unit: '' },
    { family: 'stated_only', type: 'gauge', help: 'Sent before its samples.', unit: 'bytes' },
  ],
]

/** Point values compared as numbers: JSON carries a 64-bit integer as a string, and callers read every value with `toNumber`. */
function numeric(rows: PointRows): PointRows {
  const value = (v: unknown): unknown => (Array.isArray(v) ? v.map(value) : toNumber(v))
  return {
    ...rows,
    columns: Object.fromEntries(Object.entries(rows.columns).map(([c, vs]) => [c, vs.map(value)])),
  }
}

function contract(name: string, open: () => Promise<{ queries: StoreQueries; close(): Promise<void> }>): void {
  describe(name, () => {
    let queries: StoreQueries
    let close: () => Promise<void>
    beforeAll(async () => {
      ;({ queries, close } = await open())
    })
    afterAll(async () => {
      await close?.()
    })

    it('lists every metric by name, its services sorted and its series counted once', async () => {
      // `retyped` is left out: which of its rows describes it is the engine's choice (`any`).
      expect((await queries.metrics()).filter((m) => m.name !== 'retyped')).toEqual([
        {
          name: 'http.server.request.duration',
          type: 'histogram',
          unit: 'ms',
          description: 'http.server.request.duration in ms',
          services: ['api'],
          series: 1,
        },
        { name: 'jobs_done_total', type: 'sum', unit: '', description: 'Jobs done.', services: ['worker'], series: 1 },
        {
          name: 'queue.depth',
          type: 'gauge',
          unit: 'ms',
          description: 'queue.depth in ms',
          services: ['api', 'web'],
          series: 3,
        },
      ])
      expect((await queries.metrics()).find((m) => m.name === 'retyped')).toMatchObject({ series: 1 })
    })

    it('gives each metric the type of its first-seen series', async () => {
      expect(new Map(await queries.metricTypes())).toEqual(
        new Map([
          ['http.server.request.duration', 'histogram'],
          ['jobs_done_total', 'sum'],
          ['queue.depth', 'gauge'],
          ['retyped', 'gauge'],
        ]),
      )
    })

    it('reads the series of a metric ordered by id, the latest row of a series winning', async () => {
      expect((await queries.series('queue.depth')).map((s) => [s.id, s.service])).toEqual([
        ['9', 'api'],
        ['10', 'web'],
        [BIG, 'web'],
      ])
      expect((await queries.series('queue.depth', 'web')).map((s) => s.id)).toEqual(['10', BIG])
      expect(await queries.series('queue.depth', 'nobody')).toEqual([])
      expect(await queries.series('no.such.metric')).toEqual([])
      expect(await queries.series('retyped')).toEqual([
        {
          id: '40',
          type: 'sum',
          temporality: 'delta',
          monotonic: false,
          unit: 's',
          description: 'retyped in ms',
          service: 'api',
          resource: { 'service.name': 'api' },
          attributes: { route: '/40' },
        },
      ])
    })

    it('knows which services have series', async () => {
      expect(await queries.hasService('worker')).toBe(true)
      expect(await queries.hasService('web')).toBe(true)
      expect(await queries.hasService('billing')).toBe(false)
    })

    it('reads points of the asked series in [from, to), by series then time, without those of no recorded value', async () => {
      const rows = await queries.points('samples', ['value'], ['9', '10', BIG], NOW - 30 * M, NOW, 100)
      expect(numeric(rows)).toEqual({
        seriesId: ['9', '10', '10', '10', BIG],
        ts: [NOW - 2 * M, NOW - 30 * M, NOW - 20 * M, NOW - 8 * M, NOW - 5 * M],
        start: Array(5).fill(NOW - 90 * M),
        columns: { value: [3, 5, 4, 2, 7] },
      })
    })

    it('reads at most one row past the limit', async () => {
      const rows = await queries.points('samples', ['value'], ['9', '10', BIG], NOW - 30 * M, NOW, 2)
      expect(rows.seriesId).toEqual(['9', '10', '10'])
      expect(rows.ts).toEqual([NOW - 2 * M, NOW - 30 * M, NOW - 20 * M])
    })

    it('reads the columns asked of a table, in the order asked', async () => {
      const rows = numeric(
        await queries.points('histograms', ['counts', 'count', 'bounds'], ['20'], NOW - 60 * M, NOW, 100),
      )
      expect(Object.keys(rows.columns)).toEqual(['counts', 'count', 'bounds'])
      expect(rows).toEqual({
        seriesId: ['20', '20'],
        ts: [NOW - 10 * M, NOW - 5 * M],
        start: [NOW - 60 * M, NOW - 60 * M],
        columns: {
          counts: [
            [6, 3, 1],
            [12, 6, 2],
          ],
          count: [10, 20],
          bounds: [
            [100, 200],
            [100, 200],
          ],
        },
      })
      expect(await queries.points('histograms', ['count'], ['9'], NOW - 60 * M, NOW, 100)).toEqual({
        seriesId: [],
        ts: [],
        start: [],
        columns: { count: [] },
      })
    })

    it('describes every family by its Prometheus name, what senders stated winning', async () => {
      const all = await queries.metadata(undefined, Infinity)
      expect(all).toMatchObject({
        jobs_done_total: [{ type: 'counter', help: 'Jobs done, all of them.', unit: '' }],
        stated_only: [{ type: 'gauge', help: 'Sent before its samples.', unit: 'bytes' }],
        queue_depth_milliseconds: [{ type: 'gauge', help: 'queue.depth in ms', unit: 'milliseconds' }],
        http_server_request_duration_milliseconds: [
          { type: 'histogram', help: 'http.server.request.duration in ms', unit: 'milliseconds' },
        ],
      })
      expect(await queries.metadata('stated_only', Infinity)).toEqual({
        stated_only: [{ type: 'gauge', help: 'Sent before its samples.', unit: 'bytes' }],
      })
      expect(Object.keys(await queries.metadata(undefined, 1))).toEqual(Object.keys(all).slice(0, 1))
    })
  })
}

contract('store queries in SQL over the store', async () => {
  const store = await Store.open(testSettings())
  for (const batch of SERIES) {
    await store.client.insert({
      table: `${store.db}.series`,
      values: batch.map(({ id, firstSeen, ...s }) => ({
        ...s,
        series_id: id,
        first_seen: new Date(firstSeen!).toISOString().replace('T', ' ').replace('Z', ''),
      })),
      format: 'JSONEachRow',
    })
  }
  const points = (rows: MemoryPointRow[], defaults: Record<string, unknown> = {}) =>
    rows.map((p) => ({ series_id: p.seriesId, ts: p.ts, start: p.start, flags: p.flags, ...defaults, ...p.columns }))
  await store.client.insert({ table: `${store.db}.samples`, values: points(SAMPLES), format: 'JSONEachRow' })
  await store.client.insert({
    table: `${store.db}.histograms`,
    values: points(HISTOGRAMS, { min: 0, max: 0 }),
    format: 'JSONEachRow',
  })
  for (const families of FAMILIES) await recordFamilies(store.client, store.db, families)
  return { queries: new ClickHouseStoreQueries(store.client, store.db), close: () => store.close() }
})

contract('store queries in memory', async () => {
  const queries = new MemoryStoreQueries()
  for (const batch of SERIES) queries.addSeries(batch)
  queries.addPoints('samples', SAMPLES)
  queries.addPoints('histograms', HISTOGRAMS)
  for (const families of FAMILIES) queries.addFamilies(families)
  return { queries, close: async () => {} }
})
