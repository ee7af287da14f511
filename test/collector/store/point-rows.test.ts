import { Session } from 'chdb'
import { afterAll, describe, expect, it } from 'vitest'
import {
  decodePointRows,
  lastPerStepSql,
  lastSamplePerStepSql,
  pointRowsSql,
  samplePointsSql,
  samplesAnyOrderSql,
  type PointRowsShape,
} from '../../../collector/src/store/point-rows.ts'

// The point columns as the engine sends them (Native, a row per point), decoded: the SQL and
// the decoder are tested together on the engine itself.

describe('point rows', () => {
  const session = new Session()
  afterAll(() => session.close())

  const WIDE = { keyed: true, start: 0, end: 2 ** 53 }
  const read = async (rows: string, shape: PointRowsShape = WIDE) =>
    decodePointRows((await session.queryAsync(pointRowsSql(rows, shape), { format: 'Native' })).bytes(), shape)

  it('gives one run per (series, part, key), times sorted, stale markers flagged', async () => {
    const runs =
      await read(`SELECT toUInt64(series_id) AS series_id, toUInt8(part) AS part, toFloat64(key) AS key, toInt64(ts) AS ts, toFloat64(value) AS value, toUInt8(flags) AS flags FROM values(
      'series_id UInt64, part UInt8, key Float64, ts Int64, value Float64, flags UInt8',
      (18446744073709551615, 0, 0, 2000, 2, 0), (18446744073709551615, 0, 0, 1000, 1, 0), (18446744073709551615, 0, 0, 3000, nan, 1),
      (7, 1, inf, 1000, 5, 0), (7, 1, 0.5, 1000, 3, 0), (7, 2, 0, 1000, nan, 0))`)
    expect(
      runs.map((r) => ({
        id: r.id,
        part: r.part,
        key: r.key,
        ts: [...r.ts],
        values: [...r.values],
        stale: r.stale && [...r.stale],
      })),
    ).toEqual([
      { id: 7n, part: 1, key: 0.5, ts: [1000], values: [3], stale: undefined },
      { id: 7n, part: 1, key: Infinity, ts: [1000], values: [5], stale: undefined },
      { id: 7n, part: 2, key: 0, ts: [1000], values: [NaN], stale: undefined },
      { id: 18446744073709551615n, part: 0, key: 0, ts: [1000, 2000, 3000], values: [1, 2, NaN], stale: [0, 0, 1] },
    ])
  })

  it('keeps one point of a time sent twice', async () => {
    const [run] = await read(
      `SELECT toUInt64(1) AS series_id, toUInt8(0) AS part, toFloat64(0) AS key, toInt64(intDiv(number, 2) * 1000) AS ts, toFloat64(1) AS value, toUInt8(0) AS flags FROM numbers(6)`,
    )
    expect([...run!.ts]).toEqual([0, 1000, 2000])
  })

  // Of points sharing a time the one kept is the one a sort of (ts, value, flags) puts last:
  // the greatest value, NaN above all, then the stale marker. Whatever order they come in.
  it('keeps the greatest of points that share a time, NaN and stale last', async () => {
    const runs =
      await read(`SELECT toUInt64(series_id) AS series_id, toUInt8(0) AS part, toFloat64(0) AS key, toInt64(ts) AS ts, toFloat64(value) AS value, toUInt8(flags) AS flags FROM values(
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

  it('keeps times past 2^32 ms exact, and sends offsets from the start when the read spans less', async () => {
    const big = 2 ** 45
    const rows = `SELECT toUInt64(series_id) AS series_id, toUInt8(0) AS part, toFloat64(0) AS key, toInt64(ts) AS ts, toFloat64(1) AS value, toUInt8(0) AS flags FROM values(
      'series_id UInt64, ts Int64',
      (1, ${big + 4294967295}), (1, ${big}), (2, ${big}), (2, ${big + 4294967296}), (2, 5))`
    expect((await read(rows)).map((r) => [...r.ts])).toEqual([
      [big, big + 4294967295],
      [5, big, big + 4294967296],
    ])
    const narrow = { keyed: false, start: big, end: big + 4294967295 }
    const within = `SELECT * FROM (${rows}) WHERE ts >= ${narrow.start} AND ts <= ${narrow.end}`
    expect((await read(within, narrow)).map((r) => [...r.ts])).toEqual([[big, big + 4294967295], [big]])
    const bytes = (await session.queryAsync(pointRowsSql(within, narrow), { format: 'Native' })).bytes()
    expect(Buffer.from(bytes).includes('UInt32')).toBe(true) // hi, lo and t
    expect(Buffer.from(bytes).includes('Float64')).toBe(true) // value only
    expect(Buffer.from(bytes).includes('key')).toBe(false) // plain samples: no part, no key
  })

  it('joins a series whose points span blocks, and keeps series that meet at a block edge apart', async () => {
    const rows = `SELECT toUInt64(intDiv(number, 7)) AS series_id, toUInt8(0) AS part, toFloat64(0) AS key, toInt64(number % 7) * 1000 AS ts, toFloat64(number) AS value, toUInt8(number = 12) AS flags FROM numbers(21)`
    const bytes = (
      await session.queryAsync(`${pointRowsSql(rows, WIDE)} SETTINGS max_block_size = 3`, { format: 'Native' })
    ).bytes()
    expect(bytes[0]).toBe(7) // seven columns …
    expect(bytes[1]).toBeLessThan(7) // … in blocks smaller than one series
    const runs = decodePointRows(bytes, WIDE)
    expect(
      runs.map((r) => ({ id: r.id, ts: [...r.ts], values: [...r.values], stale: r.stale && [...r.stale] })),
    ).toEqual(
      [0n, 1n, 2n].map((id) => ({
        id,
        ts: [0, 1000, 2000, 3000, 4000, 5000, 6000],
        values: Array.from({ length: 7 }, (_, i) => Number(id) * 7 + i),
        stale: id === 1n ? [0, 0, 0, 0, 0, 1, 0] : undefined,
      })),
    )
  })

  it('reads the same runs from the pieces a stream hands over, wherever they are cut', async () => {
    const rows = `SELECT toUInt64(intDiv(number, 5)) AS series_id, toUInt8(0) AS part, toFloat64(0) AS key, toInt64(number % 5) * 1000 AS ts, toFloat64(number) AS value, toUInt8(number = 7) AS flags FROM numbers(15)`
    const bytes = (
      await session.queryAsync(`${pointRowsSql(rows, WIDE)} SETTINGS max_block_size = 4`, { format: 'Native' })
    ).bytes()
    const whole = decodePointRows(bytes, WIDE).map((r) => ({
      id: r.id,
      ts: [...r.ts],
      values: [...r.values],
      stale: r.stale && [...r.stale],
    }))
    expect(whole).toHaveLength(3)
    for (let cut = 0; cut <= bytes.length; cut++) {
      for (const second of [cut, Math.min(bytes.length, cut + 37)]) {
        const pieces = [bytes.subarray(0, cut), bytes.subarray(cut, second), bytes.subarray(second)]
        expect(
          decodePointRows(pieces, WIDE).map((r) => ({
            id: r.id,
            ts: [...r.ts],
            values: [...r.values],
            stale: r.stale && [...r.stale],
          })),
          `cut at ${cut}, ${second}`,
        ).toEqual(whole)
      }
    }
    expect(() => decodePointRows([bytes.subarray(0, 40), bytes.subarray(40, bytes.length - 1)], WIDE)).toThrow(
      /truncated/,
    )
  })

  it('thinned for steps, keeps of each step the point the engine would read there', async () => {
    // Series 1 every 15 s with a duplicate time (7 and NaN: NaN kept) and a stale marker; series 2 sparse.
    const rows = `SELECT toUInt64(series_id) AS series_id, toUInt8(0) AS part, toFloat64(0) AS key, toInt64(ts) AS ts, toFloat64(value) AS value, toUInt8(flags) AS flags FROM values(
      'series_id UInt64, ts Int64, value Float64, flags UInt8',
      (1, 0, 1, 0), (1, 15000, 2, 0), (1, 30000, 3, 0), (1, 45000, 4, 0), (1, 60000, 7, 0), (1, 60000, nan, 0), (1, 75000, 5, 0),
      (1, 90000, 6, 0), (1, 105000, nan, 1), (1, 120000, 8, 0), (1, 120000, 9, 0),
      (2, 10000, 1, 0), (2, 100000, 2, 0))`
    const thinned = await read(lastPerStepSql(rows, 120000, 60000))
    expect(thinned.map((r) => ({ ts: [...r.ts], values: [...r.values], stale: r.stale && [...r.stale] }))).toEqual([
      // intervals (-∞…0], (0…60 s], (60 s…120 s] from the last step back
      { ts: [0, 60000, 120000], values: [1, NaN, 9], stale: undefined },
      { ts: [10000, 100000], values: [1, 2], stale: undefined },
    ])
    // The latest point at or before each step is the same thinned or not.
    const all = await read(rows)
    const latest = (ts: Float64Array, at: number) => {
      let i = -1
      for (let k = 0; k < ts.length; k++) if (ts[k]! <= at) i = k
      return i
    }
    for (const [r, full] of thinned.map((r, i) => [r, all[i]!] as const)) {
      for (const at of [0, 60000, 120000]) {
        const [a, b] = [latest(r.ts, at), latest(full.ts, at)]
        expect([r.ts[a], r.values[a]]).toEqual([full.ts[b], full.values[b]])
      }
    }
  })

  // Plain samples read straight from a table must give what the subquery form gives, and the
  // thinning by a 128-bit key must keep the point the sort keeps, on ties of every kind: a
  // number and NaN, NaN and a stale marker, two numbers, +0 and −0, negative values.
  describe('read straight from a table', () => {
    const table = 'point_rows_direct'
    const POINTS = `(1, 0, 1, 0), (1, 15000, -2.5, 0), (1, 30000, 3, 0), (1, 45000, 4, 0), (1, 60000, 7, 0), (1, 60000, nan, 0), (1, 75000, 5, 0),
      (1, 90000, 6, 0), (1, 105000, nan, 1), (1, 120000, 8, 0), (1, 120000, 9, 0), (1, 150000, nan, 0), (1, 150000, nan, 1),
      (2, 10000, -1, 0), (2, 10000, -3, 0), (2, 100000, 2, 0), (2, 170000, -0., 0), (2, 230000, -0., 0), (2, 230000, -7, 0),
      (3, 5000, 1e300, 0), (3, 5000, -1e-300, 0), (3, 65000, 0, 0), (3, 70000, 0, 1), (3, 179999, -inf, 0), (3, 180000, inf, 0),
      (18446744073709551615, 59999, 4, 0), (18446744073709551615, 60001, 5, 0)`
    const where = 'ts >= 0 AND ts <= 240000'
    const shape = { keyed: false, start: 0, end: 240000 }
    const plainRuns = (runs: ReturnType<typeof decodePointRows>) =>
      runs.map((r) => ({
        id: r.id,
        ts: [...r.ts],
        values: [...r.values].map((v) => (Object.is(v, -0) ? '-0' : v)),
        stale: r.stale && [...r.stale],
      }))
    const decoded = async (sql: string) =>
      plainRuns(decodePointRows((await session.queryAsync(sql, { format: 'Native' })).bytes(), shape))

    it('reads the points the subquery form reads', async () => {
      await session.queryAsync(
        `CREATE TABLE ${table} (series_id UInt64, ts Int64, value Float64, flags UInt8) ENGINE = MergeTree ORDER BY (series_id, ts)`,
      )
      // Two inserts: two parts, so points of one series come from two sorted runs.
      await session.queryAsync(
        `INSERT INTO ${table} SELECT * FROM values('series_id UInt64, ts Int64, value Float64, flags UInt8', ${POINTS}) WHERE ts % 2 = 0`,
      )
      await session.queryAsync(
        `INSERT INTO ${table} SELECT * FROM values('series_id UInt64, ts Int64, value Float64, flags UInt8', ${POINTS}) WHERE ts % 2 = 1`,
      )
      const viaSubquery = await decoded(
        pointRowsSql(
          `SELECT series_id, toUInt8(0) AS part, toFloat64(0) AS key, ts, value, flags FROM ${table} WHERE ${where}`,
          shape,
        ),
      )
      expect(viaSubquery).toHaveLength(4)
      expect(await decoded(samplePointsSql(table, where, shape))).toEqual(viaSubquery)
      // Series as positions in the read's id list: the same runs, 6 bytes a point fewer.
      const listed = { ...shape, ids: [2n, 18446744073709551615n, 1n, 3n, 99n] }
      const bytes = async (sql: string) => (await session.queryAsync(sql, { format: 'Native' })).bytes()
      expect(plainRuns(decodePointRows(await bytes(samplePointsSql(table, where, listed)), listed))).toEqual(
        viaSubquery,
      )
      expect(
        (await bytes(samplePointsSql(table, where, shape))).length -
          (await bytes(samplePointsSql(table, where, listed))).length,
      ).toBe(6 * 27 + 11) // 27 points: hi, lo (8 bytes) → n (2 bytes), and two column headers → one
      const keyedRows = `SELECT series_id, toUInt8(series_id % 3) AS part, toFloat64(ts % 7) AS key, ts, value, flags FROM ${table} WHERE ${where}`
      const keyed = { ...shape, keyed: true }
      const runsOf = async (s: PointRowsShape) =>
        plainRuns(decodePointRows(await bytes(pointRowsSql(keyedRows, s)), s)).map((r) => ({ ...r, n: r.ts.length }))
      expect(await runsOf({ ...keyed, ids: listed.ids })).toEqual(await runsOf(keyed))
      // A series missing from the list is an error, not a run under another id.
      await expect(async () =>
        decodePointRows(await bytes(samplePointsSql(table, where, { ...shape, ids: [1n, 2n] })), {
          ...shape,
          ids: [1n, 2n],
        }),
      ).rejects.toThrow(/series position 0 of 2/)
    })

    it('thinned for steps, keeps the point the sort keeps', async () => {
      const rows = `SELECT series_id, toUInt8(0) AS part, toFloat64(0) AS key, ts, value, flags FROM ${table} WHERE ${where}`
      for (const [end, step] of [
        [240000, 60000],
        [240000, 15000],
        [235000, 30000],
        [240000, 1],
        [240000, 240001],
      ] as const) {
        const bySort = await decoded(pointRowsSql(lastPerStepSql(rows, end, step), shape))
        expect(await decoded(lastSamplePerStepSql(table, where, shape, end, step)), `end ${end}, step ${step}`).toEqual(
          bySort,
        )
        const listed = { ...shape, ids: [3n, 2n, 1n, 18446744073709551615n] }
        const viaList = plainRuns(
          decodePointRows(
            (
              await session.queryAsync(lastSamplePerStepSql(table, where, listed, end, step), { format: 'Native' })
            ).bytes(),
            listed,
          ),
        )
        expect(viaList, `listed, end ${end}, step ${step}`).toEqual(bySort)
      }
      // The ties themselves, at a 60 s step: NaN over 7, 9 over 8, the stale NaN over NaN, −1 over −3, −0 over −7, 1e300 over −1e-300.
      const kept = await decoded(lastSamplePerStepSql(table, where, shape, 240000, 60000))
      expect(kept[0]).toEqual({ id: 1n, ts: [0, 60000, 120000, 150000], values: [1, NaN, 9, NaN], stale: [0, 0, 0, 1] })
      expect(kept[1]).toEqual({
        id: 2n,
        ts: [10000, 100000, 170000, 230000],
        values: [-1, 2, '-0', '-0'],
        stale: undefined,
      })
      expect(kept[2]).toEqual({ id: 3n, ts: [5000, 70000, 180000], values: [1e300, 0, Infinity], stale: [0, 1, 0] })
    })

    // With no order asked of the engine, a series comes in pieces from several parts: pieces
    // apart in time (laid end to end), interleaved (merged), sharing times across parts (one
    // kept by value), in blocks of 3 rows read by several threads. The runs must be the sorted
    // read's, point for point: counter resets, gaps, stale markers, NaN and ties included.
    it('reads the same runs in any order as sorted', async () => {
      const anyOrder = 'point_rows_any_order'
      await session.queryAsync(
        `CREATE TABLE ${anyOrder} (series_id UInt64, ts Int64, value Float64, flags UInt8) ENGINE = MergeTree ORDER BY (series_id, ts)`,
      )
      const insert = (points: string, filter = '1') =>
        session.queryAsync(
          `INSERT INTO ${anyOrder} SELECT * FROM values('series_id UInt64, ts Int64, value Float64, flags UInt8', ${points}) WHERE ${filter}`,
        )
      await insert(POINTS, 'ts % 2 = 0') // interleaved with the next part
      await insert(POINTS, 'ts % 2 = 1')
      // Times another part has too: a number where a stale marker is, a greater and a smaller value, NaN over a number.
      await insert('(1, 105000, 1, 0), (1, 120000, 8.5, 0), (2, 10000, -2, 0), (3, 65000, nan, 0)')
      // Apart in time, before and after the other parts: a gap, then a counter reset.
      await insert('(2, 1000, 40, 0), (2, 2000, 41, 0), (3, 200000, 9, 0), (3, 215000, 2, 0), (3, 230000, nan, 1)')
      await insert('(3, 235000, 3, 0), (3, 240000, 4, 0), (7, 0, 1, 0), (7, 240000, 2, 0)')
      const listed = { ...shape, ids: [3n, 7n, 2n, 1n, 18446744073709551615n] }
      const runsOf = async (sql: string, s: PointRowsShape) => {
        const chunks: Uint8Array[] = []
        for await (const chunk of session.queryStream(sql, { format: 'Native' })) chunks.push(chunk.raw())
        return plainRuns(decodePointRows(chunks, s))
      }
      const sorted = await runsOf(samplePointsSql(anyOrder, where, listed), listed)
      expect(sorted.map((r) => r.id)).toEqual([1n, 2n, 3n, 7n, 18446744073709551615n])
      expect(sorted[1]).toEqual({
        id: 2n,
        ts: [1000, 2000, 10000, 100000, 170000, 230000],
        values: [40, 41, -1, 2, '-0', '-0'],
        stale: undefined,
      })
      for (const settings of ['max_block_size = 3, max_threads = 4', 'max_threads = 1'])
        expect(
          await runsOf(`${samplesAnyOrderSql(anyOrder, where, listed)} SETTINGS ${settings}`, {
            ...listed,
            unordered: true,
          }),
          settings,
        ).toEqual(sorted)
      expect(() => samplesAnyOrderSql(anyOrder, where, shape)).toThrow(/needs the ids/)
    })
  })

  it('refuses a truncated answer and columns it does not expect', async () => {
    const bytes = (
      await session.queryAsync(
        pointRowsSql(
          `SELECT toUInt64(1) AS series_id, toUInt8(0) AS part, toFloat64(0) AS key, toInt64(number) AS ts, toFloat64(1) AS value, toUInt8(0) AS flags FROM numbers(4)`,
          WIDE,
        ),
        { format: 'Native' },
      )
    ).bytes()
    expect(decodePointRows(bytes, WIDE)).toHaveLength(1)
    expect(() => decodePointRows(bytes.subarray(0, bytes.length - 1), WIDE)).toThrow(/truncated/)
    expect(() => decodePointRows(bytes, { ...WIDE, keyed: false })).toThrow(/7 columns, expected 5/)
    const other = (await session.queryAsync('SELECT 1 AS a', { format: 'Native' })).bytes()
    expect(() => decodePointRows(other, WIDE)).toThrow(/1 columns, expected 7/)
  })
})
