import { Session } from 'chdb'
import { afterAll, describe, expect, it } from 'vitest'
import { decodePointRows, pointArraysSql } from '../../../collector/src/store/point-rows.ts'

// The point columns as the engine sends them (RowBinary of arrays), decoded: the SQL and the
// decoder are tested together on the engine itself.

describe('point rows', () => {
  const session = new Session()
  afterAll(() => session.close())

  const read = async (rows: string) => decodePointRows((await session.queryAsync(pointArraysSql(rows), { format: 'RowBinary' })).bytes())

  it('gives one run per (series, part, key), times sorted, stale markers flagged', async () => {
    const runs = await read(`SELECT toUInt64(series_id) AS series_id, toUInt8(part) AS part, toFloat64(key) AS key, toInt64(ts) AS ts, toFloat64(value) AS value, toUInt8(flags) AS flags FROM values(
      'series_id UInt64, part UInt8, key Float64, ts Int64, value Float64, flags UInt8',
      (18446744073709551615, 0, 0, 2000, 2, 0), (18446744073709551615, 0, 0, 1000, 1, 0), (18446744073709551615, 0, 0, 3000, nan, 1),
      (7, 1, inf, 1000, 5, 0), (7, 1, 0.5, 1000, 3, 0), (7, 2, 0, 1000, nan, 0))`)
    expect(runs.map((r) => ({ id: r.id, part: r.part, key: r.key, ts: [...r.ts], values: [...r.values], stale: r.stale && [...r.stale] }))).toEqual([
      { id: 7n, part: 1, key: 0.5, ts: [1000], values: [3], stale: undefined },
      { id: 7n, part: 1, key: Infinity, ts: [1000], values: [5], stale: undefined },
      { id: 7n, part: 2, key: 0, ts: [1000], values: [NaN], stale: undefined },
      { id: 18446744073709551615n, part: 0, key: 0, ts: [1000, 2000, 3000], values: [1, 2, NaN], stale: [0, 0, 1] },
    ])
  })

  it('keeps one point of a time sent twice', async () => {
    const [run] = await read(`SELECT toUInt64(1) AS series_id, toUInt8(0) AS part, toFloat64(0) AS key, toInt64(intDiv(number, 2) * 1000) AS ts, toFloat64(1) AS value, toUInt8(0) AS flags FROM numbers(6)`)
    expect([...run!.ts]).toEqual([0, 1000, 2000])
  })

  // Of points sharing a time the one kept is the one a sort of (ts, value, flags) puts last:
  // the greatest value, NaN above all, then the stale marker. Whatever order they come in.
  it('keeps the greatest of points that share a time, NaN and stale last', async () => {
    const runs = await read(`SELECT toUInt64(series_id) AS series_id, toUInt8(0) AS part, toFloat64(0) AS key, toInt64(ts) AS ts, toFloat64(value) AS value, toUInt8(flags) AS flags FROM values(
      'series_id UInt64, ts Int64, value Float64, flags UInt8',
      (1, 1000, 3, 0), (1, 1000, 7, 0), (1, 1000, -1, 0), (1, 2000, 5, 0),
      (2, 1000, nan, 1), (2, 1000, 9, 0), (2, 1000, nan, 0), (2, 2000, 1, 0), (2, 2000, nan, 0),
      (3, 1000, 4, 0), (3, 1000, 4, 2))`)
    expect(runs.map((r) => ({ ts: [...r.ts], values: [...r.values], stale: r.stale && [...r.stale] }))).toEqual([
      { ts: [1000, 2000], values: [7, 5], stale: undefined },
      { ts: [1000, 2000], values: [NaN, NaN], stale: [1, 0] },
      { ts: [1000], values: [4], stale: undefined },
    ])
  })

  it('sends times as offsets from the first, or whole when a series spans 2^32 ms', async () => {
    const big = 2 ** 45
    const runs = await read(`SELECT toUInt64(series_id) AS series_id, toUInt8(0) AS part, toFloat64(0) AS key, toInt64(ts) AS ts, toFloat64(1) AS value, toUInt8(0) AS flags FROM values(
      'series_id UInt64, ts Int64',
      (1, ${big + 4294967295}), (1, ${big}), (2, ${big}), (2, ${big + 4294967296}), (2, 5))`)
    expect(runs.map((r) => [...r.ts])).toEqual([[big, big + 4294967295], [5, big, big + 4294967296]])
    const raw = (await session.queryAsync(pointArraysSql(`SELECT toUInt64(1) AS series_id, toUInt8(0) AS part, toFloat64(0) AS key, toInt64(number * 1000) AS ts, toFloat64(1) AS value, toUInt8(0) AS flags FROM numbers(100)`), { format: 'RowBinary' })).bytes()
    // 25 bytes of head, 1 + 400 of offsets, 1 of wide times, 1 + 800 of values, 1 of stale flags
    expect(raw.byteLength).toBe(25 + 401 + 1 + 801 + 1)
  })

  it('refuses a truncated answer', () => {
    expect(() => decodePointRows(new Uint8Array(10))).toThrow(/truncated/)
    const claimsFive = new Uint8Array(30)
    claimsFive[25] = 5 // five time offsets announced (20 bytes), four bytes follow
    expect(() => decodePointRows(claimsFive)).toThrow(/truncated/)
  })
})
