/**
 * The points of a PromQL read as ClickHouse sends them: one RowBinary row per exposed series,
 * its times and values already gathered into arrays by the store, so that JavaScript copies
 * each column whole (a memcpy) instead of reading it point by point:
 *
 *   series_id UInt64 │ part UInt8 │ key Float64 │ ts Array(Float64) │ values Array(Float64) │ stale Array(UInt8)
 *   8 bytes            1            8             n, then 8n bytes    n, then 8n bytes        n, then n bytes
 *
 * (n is a LEB128 varint.) Times come as Float64 milliseconds: exact for any time below 2^53 ms.
 * A row is one exposed series: a histogram row gives one per bucket bound (`key`).
 */

/** The SQL that turns point rows `(series_id, part, key, ts, value, flags)` into these rows, times sorted. */
export function pointArraysSql(rows: string): string {
  return `SELECT series_id, part, key, arrayMap(p -> toFloat64(p.1), s) AS ts, arrayMap(p -> p.2, s) AS values, arrayMap(p -> bitAnd(p.3, 1), s) AS stale
FROM (SELECT series_id, part, key, arraySort(groupArray((ts, value, flags))) AS s FROM (${rows}) GROUP BY series_id, part, key)
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
  const floats = (n: number): Float64Array => {
    if (at + 8 * n > bytes.length) throw new Error('point rows: truncated')
    const copy = new Float64Array(bytes.buffer.slice(bytes.byteOffset + at, bytes.byteOffset + at + 8 * n))
    at += 8 * n
    return copy
  }
  while (at < bytes.length) {
    if (at + 17 > bytes.length) throw new Error('point rows: truncated')
    const id = view.getBigUint64(at, true)
    const part = bytes[at + 8]!
    const key = view.getFloat64(at + 9, true)
    at += 17
    const ts = floats(varint())
    const values = floats(varint())
    const n = varint()
    const stale = bytes.subarray(at, at + n)
    at += n
    if (ts.length !== values.length || stale.length !== values.length) throw new Error('point rows: columns of different lengths')
    const kept = dedupe(ts, values, stale)
    const anyStale = stale.indexOf(1) >= 0
    runs.push({
      id, part, key, ts: ts.subarray(0, kept), values: values.subarray(0, kept),
      ...(anyStale ? { stale: Uint8Array.from(stale.subarray(0, kept)) } : {}),
    })
  }
  return runs
}

/** Keeps the last of points that share a time (a point sent twice), in place; returns how many are kept. */
function dedupe(ts: Float64Array, values: Float64Array, stale: Uint8Array): number {
  let out = 0
  for (let i = 0; i < ts.length; i++) {
    if (out > 0 && ts[out - 1] === ts[i]) out--
    if (out !== i) {
      ts[out] = ts[i]!
      values[out] = values[i]!
      stale[out] = stale[i]!
    }
    out++
  }
  return out
}
