import type { ClickHouseClient } from '@clickhouse/client'

/** Bad and total events counted over one window. */
export interface EventCount {
  bad: number
  total: number
}

/**
 * What one point of the SLI's series counts:
 *
 * - `latency`: a histogram point; total = its count, bad = its observations above
 *   `threshold` (see `ABOVE_THRESHOLD`).
 * - `errors`: a counter (a sum's value) or a histogram's count; every point's growth is
 *   total, and bad too when the series is one of `badIds`.
 * - `above_max`: a gauge sample; total = 1, bad = 1 when the value is above `threshold`.
 */
export type CountKind = 'latency' | 'errors' | 'above_max'

export interface CountQuery {
  kind: CountKind
  /** `samples` (counters, gauges) or `histograms`. */
  table: 'samples' | 'histograms'
  /** Every series of the SLI. */
  ids: readonly string[]
  /** `errors`: the series whose growth is bad. */
  badIds?: readonly string[]
  /** Series of delta temporality: each point carries its own growth. */
  deltaIds: readonly string[]
  /** `latency`: the threshold in the histogram's unit; `above_max`: the max. */
  threshold?: number
  /** The end of every window, epoch ms. */
  now: number
  /** Window lengths, ms: each window is (now − length, now]. */
  windows: readonly number[]
}

/**
 * Growth before a window is read back this far, so that a counter's first point inside the
 * longest window has the point before it to be compared with (see `countEvents`).
 */
export const LOOKBACK_MARGIN_MILLIS = 15 * 60_000

/**
 * Observations of one histogram point above the threshold `{threshold}`. Bucket i (1-based)
 * holds the observations in (lower, upper], lower = the bound below it (0 for the first),
 * upper = its bound (+Inf for the last):
 *
 *   lower ≥ threshold            all of the bucket is above
 *   upper ≤ threshold            none of it
 *   lower < threshold < upper    the share (upper − threshold) / (upper − lower): the
 *                                observations are taken as spread evenly inside the bucket,
 *                                as histogram_quantile's interpolation takes them
 *   the +Inf bucket              all of it (its observations could be anywhere above the
 *                                last bound, so they count as bad: put a bound at the threshold)
 */
const ABOVE_THRESHOLD = `arraySum(arrayMap((c, i) -> toFloat64(c) * multiIf(
      if(i = 1, 0., bounds[i - 1]) >= {threshold:Float64}, 1.,
      i > length(bounds), 1.,
      bounds[i] <= {threshold:Float64}, 0.,
      (bounds[i] - {threshold:Float64}) / (bounds[i] - if(i = 1, 0., bounds[i - 1]))
    ), counts, arrayEnumerate(counts)))`

/** Per point: `t` (total events) and `b` (bad events), as counters or as deltas. */
function pointValues(q: CountQuery): { t: string; b: string } {
  switch (q.kind) {
    case 'latency':
      return { t: 'toFloat64(count)', b: ABOVE_THRESHOLD }
    case 'errors': {
      const t = q.table === 'histograms' ? 'toFloat64(count)' : 'value'
      return { t, b: `if(series_id IN {bad_ids:Array(UInt64)}, ${t}, 0.)` }
    }
    case 'above_max':
      return { t: '1.', b: 'if(value > {threshold:Float64}, 1., 0.)' }
  }
}

/** How an SLI reads the store: events counted over windows, its newest point, a gauge's last value. */
export interface SliReads {
  /** Bad and total events of the SLI over each window ending at `now` (see `ClickHouseSliReads.countEvents`). */
  countEvents(q: CountQuery): Promise<EventCount[]>
  /** The time of the newest point of these series in (from, now], undefined when there is none. */
  newest(table: CountQuery['table'], ids: readonly string[], from: number, now: number): Promise<number | undefined>
  /** The highest of the series' last values in (from, now], undefined when there is none. */
  lastValue(ids: readonly string[], from: number, now: number): Promise<number | undefined>
}

/** SLI reads in SQL: every count is ClickHouse's, and one row comes back. */
export class ClickHouseSliReads implements SliReads {
  readonly #client: ClickHouseClient
  readonly #db: string

  constructor(client: ClickHouseClient, db: string) {
    this.#client = client
    this.#db = db
  }

  /**
   * Counts bad and total events of an SLI over several windows ending at `now`, in one query.
   *
   * Cumulative series are counters: the events of a window are the growth of each series
   * between consecutive points, summed over the points that fall inside the window — per
   * series last − first, with resets handled:
   *
   *   points      ●────────●────────●  reset  ●────────●
   *   value       100      130      150       20       45
   *   growth               +30      +20       +20      +25    (a drop: the counter restarted
   *                                                             at 0, so the new value is growth)
   *
   * A point is a reset when its total is below the previous one, or when its start time lies
   * after the previous point (OTLP says when a counter restarted). The bad count of a reset
   * point is its own value too. The first point read has nothing before it: its growth is 0,
   * or its whole value when its start time shows the counter began inside the range read.
   * The range read begins `LOOKBACK_MARGIN_MILLIS` before the longest window, so the growth up
   * to the first point of a window comes from the point before it; growth is stamped at the
   * end of the interval it happened in. Delta series (and gauges) need none of this: each
   * point is its own count. All of it in SQL (`lagInFrame` over each series' points), so only
   * one row of sums comes back.
   */
  async countEvents(q: CountQuery): Promise<EventCount[]> {
    if (q.ids.length === 0 || q.windows.length === 0) return q.windows.map(() => ({ bad: 0, total: 0 }))
    const from = q.now - Math.max(...q.windows) - LOOKBACK_MARGIN_MILLIS
    const { t, b } = pointValues(q)
    const sums = q.windows.flatMap((_, i) => [
      `sumIf(db, ts > {now:Int64} - {w${i}:Int64}) AS bad${i}`,
      `sumIf(dt, ts > {now:Int64} - {w${i}:Int64}) AS total${i}`,
    ])
    const isDelta = q.kind === 'above_max' ? '1' : 'series_id IN {delta_ids:Array(UInt64)}'
    const query = `SELECT ${sums.join(', ')}
FROM (
  SELECT ts,
    (rn > 1 AND (t < pt OR (start > pts AND start < ts))) AS reset,
    (start > {from:Int64} AND start < ts) AS began_inside,
    multiIf(is_delta, t, rn = 1, if(began_inside, t, 0.), reset, t, t - pt) AS dt,
    multiIf(is_delta, b, rn = 1, if(began_inside, b, 0.), reset, b, greatest(b - pb, 0.)) AS db
  FROM (
    SELECT ts, start, t, b, is_delta,
      lagInFrame(t, 1, 0.) OVER w AS pt,
      lagInFrame(b, 1, 0.) OVER w AS pb,
      lagInFrame(ts, 1, 0) OVER w AS pts,
      row_number() OVER w AS rn
    FROM (
      SELECT series_id, ts, start, ${t} AS t, ${b} AS b, ${isDelta} AS is_delta
      FROM ${this.#db}.${q.table}
      WHERE series_id IN {ids:Array(UInt64)} AND ts > {from:Int64} AND ts <= {now:Int64} AND bitAnd(flags, 1) = 0
    )
    WINDOW w AS (PARTITION BY series_id ORDER BY ts ROWS BETWEEN 1 PRECEDING AND CURRENT ROW)
  )
)`
    const params: Record<string, unknown> = {
      ids: q.ids.map(BigInt),
      bad_ids: (q.badIds ?? []).map(BigInt),
      delta_ids: q.deltaIds.map(BigInt),
      threshold: q.threshold ?? 0,
      from,
      now: q.now,
    }
    q.windows.forEach((w, i) => {
      params[`w${i}`] = w
    })
    const rs = await this.#client.query({ query, query_params: params, format: 'JSONCompactEachRow' })
    const [row = []] = await rs.json<(number | string | null)[]>()
    return q.windows.map((_, i) => ({ bad: num(row[2 * i]), total: num(row[2 * i + 1]) }))
  }

  async newest(
    table: CountQuery['table'],
    ids: readonly string[],
    from: number,
    now: number,
  ): Promise<number | undefined> {
    const rs = await this.#client.query({
      query: `SELECT max(ts), count() FROM ${this.#db}.${table}
WHERE series_id IN {ids:Array(UInt64)} AND ts > {from:Int64} AND ts <= {now:Int64} AND bitAnd(flags, 1) = 0`,
      query_params: { ids: ids.map(BigInt), from, now },
      format: 'JSONCompactEachRow',
    })
    const [[ts, n] = []] = await rs.json<[string | number, string | number]>()
    return Number(n ?? 0) > 0 ? Number(ts) : undefined
  }

  async lastValue(ids: readonly string[], from: number, now: number): Promise<number | undefined> {
    const rs = await this.#client.query({
      query: `SELECT max(v), count() FROM (
  SELECT argMax(value, ts) AS v FROM ${this.#db}.samples
  WHERE series_id IN {ids:Array(UInt64)} AND ts > {from:Int64} AND ts <= {now:Int64} AND bitAnd(flags, 1) = 0
  GROUP BY series_id)`,
      query_params: { ids: ids.map(BigInt), from, now },
      format: 'JSONCompactEachRow',
    })
    const [[v, n] = []] = await rs.json<[number | string, string | number]>()
    return Number(n ?? 0) > 0 ? Number(v) : undefined
  }
}

/** A row of the samples or histograms table, as `MemorySliReads` holds it (times epoch ms). */
export interface SliRow {
  seriesId: string
  ts: number
  /** When a cumulative series began counting; 0 when unknown. */
  start: number
  /** Bit 0: no recorded value (a stale marker): never read. */
  flags: number
  /** Samples: the value. */
  value?: number
  /** Histograms: the count, the bounds and each bucket's count (one more than the bounds). */
  count?: number
  bounds?: readonly number[]
  counts?: readonly number[]
}

/**
 * The SLI reads over rows held in memory, counted as `ClickHouseSliReads` counts them in SQL
 * (the same contract test runs against both): for unit tests of what reads SLIs, and to say in
 * plain code what the SQL does.
 */
export class MemorySliReads implements SliReads {
  readonly #rows: Record<CountQuery['table'], SliRow[]> = { samples: [], histograms: [] }

  /** Adds rows to a table, in any order. */
  add(table: CountQuery['table'], rows: readonly SliRow[]): void {
    this.#rows[table].push(...rows)
  }

  async countEvents(q: CountQuery): Promise<EventCount[]> {
    const counts = q.windows.map(() => ({ bad: 0, total: 0 }))
    if (q.ids.length === 0) return counts
    const from = q.now - Math.max(...q.windows) - LOOKBACK_MARGIN_MILLIS
    const bad = new Set(q.badIds ?? [])
    const delta = new Set(q.deltaIds)
    for (const rows of this.#series(q.table, q.ids, from, q.now).values()) {
      let previous: { ts: number; t: number; b: number } | undefined
      for (const row of rows) {
        const { t, b } = pointValue(q, row, bad)
        let dt: number, db: number
        if (q.kind === 'above_max' || delta.has(row.seriesId)) [dt, db] = [t, b]
        else if (previous === undefined) {
          const beganInside = row.start > from && row.start < row.ts
          ;[dt, db] = beganInside ? [t, b] : [0, 0]
        } else if (t < previous.t || (row.start > previous.ts && row.start < row.ts)) [dt, db] = [t, b]
        else [dt, db] = [t - previous.t, Math.max(b - previous.b, 0)]
        previous = { ts: row.ts, t, b }
        q.windows.forEach((w, i) => {
          if (row.ts > q.now - w) {
            counts[i]!.bad += db
            counts[i]!.total += dt
          }
        })
      }
    }
    return counts
  }

  async newest(table: CountQuery['table'], ids: readonly string[], from: number, now: number) {
    let newest: number | undefined
    for (const rows of this.#series(table, ids, from, now).values())
      newest = Math.max(newest ?? -Infinity, rows.at(-1)!.ts)
    return newest
  }

  async lastValue(ids: readonly string[], from: number, now: number) {
    let highest: number | undefined
    for (const rows of this.#series('samples', ids, from, now).values())
      highest = Math.max(highest ?? -Infinity, rows.at(-1)!.value ?? 0)
    return highest
  }

  /** The recorded rows of each of `ids` in (from, now], in time order. */
  #series(table: CountQuery['table'], ids: readonly string[], from: number, now: number): Map<string, SliRow[]> {
    const wanted = new Set(ids)
    const series = new Map<string, SliRow[]>()
    for (const row of this.#rows[table]) {
      if (!wanted.has(row.seriesId) || row.ts <= from || row.ts > now || (row.flags & 1) !== 0) continue
      const rows = series.get(row.seriesId) ?? []
      rows.push(row)
      series.set(row.seriesId, rows)
    }
    for (const rows of series.values()) rows.sort((a, b) => a.ts - b.ts)
    return series
  }
}

/** What one row counts (see `CountKind`): total `t` and bad `b`, as counters or as deltas. */
function pointValue(q: CountQuery, row: SliRow, bad: ReadonlySet<string>): { t: number; b: number } {
  switch (q.kind) {
    case 'latency':
      return { t: row.count ?? 0, b: aboveThreshold(row.bounds ?? [], row.counts ?? [], q.threshold ?? 0) }
    case 'errors': {
      const t = q.table === 'histograms' ? (row.count ?? 0) : (row.value ?? 0)
      return { t, b: bad.has(row.seriesId) ? t : 0 }
    }
    case 'above_max':
      return { t: 1, b: (row.value ?? 0) > (q.threshold ?? 0) ? 1 : 0 }
  }
}

/** `ABOVE_THRESHOLD` in plain code: a histogram point's observations above `threshold`. */
function aboveThreshold(bounds: readonly number[], counts: readonly number[], threshold: number): number {
  let above = 0
  counts.forEach((c, k) => {
    const lower = k === 0 ? 0 : bounds[k - 1]!
    const upper = bounds[k]
    if (lower >= threshold || upper === undefined) above += c
    else if (upper > threshold) above += (c * (upper - threshold)) / (upper - lower)
  })
  return above
}

function num(v: number | string | null | undefined): number {
  const n = Number(v ?? 0)
  return Number.isFinite(n) ? n : 0
}
