/**
 * The points of a PromQL read as ClickHouse sends them: one RowBinary row per exposed series,
 * its times and values already gathered into arrays by the store, so that JavaScript copies
 * each column whole (a memcpy) instead of reading it point by point:
 *
 *   series_id UInt64 │ part UInt8 │ key Float64 │ t0 Float64 │ offsets Array(UInt32) │ wide Array(Float64) │ values Array(Float64) │ stale Array(UInt8)
 *   8 bytes            1            8             8            n, then 4n bytes        m, then 8m bytes      n, then 8n bytes        0 or n, then as many
 *
 * (n is a LEB128 varint.) Times cross as UInt32 milliseconds after the series' first time
 * `t0` (4 bytes a point instead of 8: the bytes crossing from the engine are most of a big
 * read's cost); a series spanning 2^32 ms (49.7 days) or more sends them in `wide` as Float64
 * milliseconds instead, `offsets` then empty. Float64 is exact for any time below 2^53 ms.
 * `stale` is empty unless the series holds a stale marker. A row is one exposed series: a
 * histogram row gives one per bucket bound (`key`).
 */

/** Widest span of one series whose times cross as UInt32 offsets. */
const MAX_OFFSET = 0xffff_ffff

/**
 * The SQL that turns point rows `(series_id, part, key, ts, value, flags)` into these rows,
 * times sorted.
 *
 * Times and values are gathered as plain arrays and sorted by time alone: sorting arrays of
 * `(ts, value, flags)` tuples cost 2–3 times as much on 11.5 M points. ClickHouse's sort
 * gives the same permutation for the same keys, so values and stale flags stay aligned; the
 * order of points that share a time is left to `decodePointRows`, which keeps the one the
 * tuple sort put last.
 */
export function pointArraysSql(rows: string): string {
  return `SELECT series_id, part, key, toFloat64(lo) AS t0,
  if(narrow, arrayMap(x -> toUInt32(x - lo), arraySort(t)), []) AS offsets,
  if(narrow, [], arrayMap(x -> toFloat64(x), arraySort(t))) AS wide,
  arraySort((x, y) -> y, v, t) AS values,
  if(anyStale = 1, arraySort((x, y) -> y, f, t), []) AS stale
FROM (SELECT series_id, part, key, min(ts) AS lo, max(ts) - min(ts) <= ${MAX_OFFSET} AS narrow, groupArray(ts) AS t, groupArray(value) AS v,
  groupArray(toUInt8(bitAnd(flags, 1))) AS f, max(bitAnd(flags, 1)) AS anyStale
  FROM (${rows}) GROUP BY series_id, part, key)
ORDER BY series_id, part, key`
}

/** One exposed series' points. */
export interface PointRun {
  readonly id: bigint
  readonly part: number
  readonly key: number
  readonly ts: Float64Array
  readonly values: Float64Array
  /** 1 where the point is a stale marker (flags bit 0); undefined when the run holds none. */
  readonly stale?: Uint8Array
}

export function decodePointRows(bytes: Uint8Array): PointRun[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const runs: PointRun[] = []
  let at = 0
  const varint = (): number => {
    let v = 0, shift = 0, b: number
    do {
      if (at >= bytes.length) throw new Error('point rows: truncated')
      b = bytes[at++]!
      v += (b & 0x7f) * 2 ** shift
      shift += 7
    } while (b & 0x80)
    return v
  }
  // A copy of the column into its own aligned buffer: one memcpy, no per-point work.
  const column = (n: number, width: number): ArrayBuffer => {
    if (at + width * n > bytes.length) throw new Error('point rows: truncated')
    const copy = bytes.buffer.slice(bytes.byteOffset + at, bytes.byteOffset + at + width * n)
    at += width * n
    return copy as ArrayBuffer
  }
  while (at < bytes.length) {
    if (at + 25 > bytes.length) throw new Error('point rows: truncated')
    const id = view.getBigUint64(at, true)
    const part = bytes[at + 8]!
    const key = view.getFloat64(at + 9, true)
    const t0 = view.getFloat64(at + 17, true)
    at += 25
    const offsets = new Uint32Array(column(varint(), 4))
    const wide = new Float64Array(column(varint(), 8))
    let ts = wide
    if (offsets.length > 0) {
      ts = new Float64Array(offsets.length)
      for (let i = 0; i < offsets.length; i++) ts[i] = t0 + offsets[i]!
    }
    const values = new Float64Array(column(varint(), 8))
    const stale = new Uint8Array(column(varint(), 1))
    if (ts.length !== values.length || (stale.length !== 0 && stale.length !== values.length)) throw new Error('point rows: columns of different lengths')
    const kept = dedupe(ts, values, stale)
    const anyStale = stale.indexOf(1) >= 0
    runs.push({
      id, part, key, ts: ts.subarray(0, kept), values: values.subarray(0, kept),
      ...(anyStale ? { stale: stale.subarray(0, kept) } : {}),
    })
  }
  return runs
}

/**
 * Keeps one of points that share a time (a point sent twice), in place; returns how many are
 * kept. The one kept is the greatest by (value, stale), NaN above every number, as a sort of
 * `(ts, value, flags)` tuples keeping the last would: the SQL sorts by time alone and leaves
 * the order within a time to chance. `stale` is empty when the run holds no stale marker.
 */
function dedupe(ts: Float64Array, values: Float64Array, stale: Uint8Array): number {
  const flagged = stale.length > 0
  let out = 0
  for (let i = 0; i < ts.length; i++) {
    if (out > 0 && ts[out - 1] === ts[i]) {
      if (!above(values[i]!, flagged ? stale[i]! : 0, values[out - 1]!, flagged ? stale[out - 1]! : 0)) continue
      out--
    }
    if (out !== i) {
      ts[out] = ts[i]!
      values[out] = values[i]!
      if (flagged) stale[out] = stale[i]!
    }
    out++
  }
  return out
}

/** Whether point (v, s) sorts at or after point (w, r) in ClickHouse's order: NaN last, then the stale flag. */
function above(v: number, s: number, w: number, r: number): boolean {
  const vNaN = v !== v, wNaN = w !== w
  if (vNaN !== wNaN) return vNaN
  if (!vNaN && v !== w) return v > w
  return s >= r
}
