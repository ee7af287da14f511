import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ClickHouseClient } from '@clickhouse/client'
import { PointBatch } from '../../../collector/src/model/batch.ts'
import { SeriesCache } from '../../../collector/src/model/series-cache.ts'
import type { SeriesInfo } from '../../../collector/src/model/types.ts'
import { isPromqlError } from '../../../collector/src/promql/errors.ts'
import type { LabelMatcher, RawSeries, SelectHints } from '../../../collector/src/promql/querier.ts'
import { ClickHouseQuerier } from '../../../collector/src/store/clickhouse-querier.ts'
import { Store } from '../../../collector/src/store/store.ts'
import { testSettings } from '../../helpers/settings.ts'

const T = Math.floor(Date.now() / 60_000) * 60_000 - 6 * 3_600_000
const cache = new SeriesCache()

function counter(series: string): SeriesInfo {
  return cache.resolve({
    metric: 'jobs_total',
    type: 'sum',
    unit: '',
    description: '',
    temporality: 'cumulative',
    monotonic: true,
    service: 'worker',
    scope: '',
    resource: { 'service.name': 'worker' },
    attributes: { job: 'worker', series },
  })
}

const eq = (name: string, value: string): LabelMatcher => ({ name, type: '=', value })
const plain = (s: RawSeries[]) =>
  s.map((x) => ({
    labels: x.labels,
    ts: [...x.ts],
    values: [...x.values],
    stale: x.stale === undefined ? undefined : [...x.stale],
  }))

// A read of plain samples too long to skip the sample count at one sample a second may skip it
// when the index's estimate of the rows it reads is within the limit. Either way the answer and
// the limit's decision must be the ones the exact count gives.
describe('the sample limit checked on the index estimate', () => {
  let store: Store
  const asked: string[] = []
  let querier: ClickHouseQuerier
  let reference: ClickHouseQuerier
  // 3 h: 10,800 s, so neither limit below lets the read skip the check as a small one.
  const hints: SelectHints = { start: T, end: T + 3 * 3_600_000, step: 0 }

  beforeAll(async () => {
    store = await Store.open(testSettings())
    // One part: both series in the same granule, so the estimate for one counts the other's rows.
    const b = new PointBatch()
    const a = counter('a'),
      other = counter('other')
    b.series.set(a.id, a)
    b.series.set(other.id, other)
    for (let i = 0; i < 3000; i++) {
      const t = T + i * 1000 + (i >= 1500 ? 600_000 : 0) // a 10-minute gap halfway
      if (i === 700)
        b.samples.push(a, t, 0, 1, NaN) // a stale marker
      else if (i === 900)
        b.samples.push(a, t, 0, 0, NaN) // a real NaN
      else b.samples.push(a, t, 0, 0, i < 2000 ? i : i - 2000) // a counter reset at 2000
    }
    for (let i = 0; i < 5000; i++) b.samples.push(other, T + i * 1000, 0, 0, i)
    await store.write([b])
    const client = new Proxy(store.client, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver) as unknown
        if (prop !== 'query' || typeof value !== 'function') return value
        return (params: { query: string }) => {
          asked.push(params.query)
          return (value as (p: unknown) => unknown).call(target, params)
        }
      },
    }) as ClickHouseClient
    querier = new ClickHouseQuerier({
      db: store.db,
      client,
      readBinary: (q, f, s) => store.readBinary(q, f, s),
      readBinaryChunks: (q, f, s) => store.readBinaryChunks(q, f, s),
    })
    reference = new ClickHouseQuerier(store)
  })
  afterAll(async () => {
    await store?.close()
  })

  const select = (maxSamples: number) => {
    asked.length = 0
    return querier.select([eq('__name__', 'jobs_total'), eq('series', 'a')], hints, { maxSeries: 10, maxSamples })
  }
  const counted = () => asked.filter((q) => q.includes('count()')).length
  const estimated = () => asked.filter((q) => q.startsWith('EXPLAIN ESTIMATE')).length

  it('skips the exact count when the estimate is within the limit, with the same answer', async () => {
    const expected = plain(
      await reference.select([eq('__name__', 'jobs_total'), eq('series', 'a')], hints, {
        maxSeries: 10,
        maxSamples: 1e9,
      }),
    )
    expect(expected[0]!.ts.length).toBe(3000)
    expect(expected[0]!.stale?.filter((x) => x === 1).length).toBe(1)
    // 8,000 rows in the table: no estimate can pass it.
    expect(plain(await select(8000))).toEqual(expected)
    expect([estimated(), counted()]).toEqual([1, 0])
  })

  it('counts exactly when the estimate is past the limit, and reads when the count is within', async () => {
    const expected = plain(await select(8000))
    // The granule holds the other series' 5,000 rows too: estimated 8,000, counted 3,000.
    expect(plain(await select(3000))).toEqual(expected)
    expect([estimated(), counted()]).toEqual([1, 1])
  })

  it('refuses with the exact count when it is past the limit', async () => {
    const err = await select(2999).catch((e: unknown) => e)
    expect(isPromqlError(err) && err.errorType).toBe('execution')
    expect((err as Error).message).toMatch(/too many samples.*\(3000 > 2999,/)
    expect([estimated(), counted()]).toEqual([1, 1])
  })
})
