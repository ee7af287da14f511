/**
 * SQL building blocks that compute, in ClickHouse, what Governor's query API computes in
 * TypeScript (`collector/src/query/eval/`), so a panel shows the numbers
 * `GET /api/v1/query?agg=rate|pNN&step=` would give for the same step.
 *
 * Steps are Grafana's interval: bucket b covers `[b, b + step)` with `step = $__interval_s`
 * seconds, aligned to multiples of the step, and every bucket that the dashboard range
 * touches is read whole (as `stepWindows` does).
 */

/** The step in milliseconds, from the plugin's `$__interval_s` (at least 1 s). */
export const STEP_MS = '($__interval_s * 1000)'
/** The start of the dashboard range in epoch milliseconds. */
export const FROM_MS = 'toUnixTimestamp64Milli($__fromTime_ms)'
/** The end of the dashboard range in epoch milliseconds. */
export const TO_MS = 'toUnixTimestamp64Milli($__toTime_ms)'

/** Points of the buckets the range touches: `[alignDown(from), alignDown(to − 1) + step)`. */
export const STEP_RANGE = `ts >= intDiv(${FROM_MS}, ${STEP_MS}) * ${STEP_MS} AND ts < (intDiv(${TO_MS} - 1, ${STEP_MS}) + 1) * ${STEP_MS}`

/** A bucket start (epoch ms) as the time column Grafana reads. */
export const bucketTime = (col: string): string => `fromUnixTimestamp64Milli(toInt64(${col}), 'UTC') AS time`

/**
 * Per series, per step bucket and per `keys`: the increase of a counter-like value, the twin
 * of `stepIncrease` / `extrapolatedRate` (Prometheus' `increase()` over the bucket):
 *
 *   bucket  (b − 1ms ────────────────────────────── b + step − 1ms]
 *   points        ●───────●───────●───────●
 *                 first                    last
 *
 * 1. raw = last − first, plus the value before every reset (a drop, or a start time that
 *    says the counter restarted: `isStartTimestampReset`);
 * 2. each gap to an edge is extrapolated over when shorter than 1.1 × the average interval,
 *    else half an interval; a counter is not extrapolated below zero on the left;
 * 3. a first point whose start time lies inside the bucket began at 0 there: its value is
 *    growth and one point is enough; otherwise a bucket needs two points (NaN).
 *
 * Delta series add up their points. `points` must yield `series_id, ts, start, v,
 * is_delta, is_counter` and the `keys` columns; the result has `b, series_id, keys…, inc`.
 */
export function stepIncreaseSql(points: string, keys: readonly string[] = []): string {
  const k = keys.map((c) => `${c}, `).join('')
  return `SELECT b, series_id, ${k}
    count() AS n, min(ts) AS ft, max(ts) AS lt, argMin(v, ts) AS fv, argMax(v, ts) AS lv,
    argMin(start, ts) AS fs, any(is_delta) AS delta, any(is_counter) AS counter,
    sumIf(pv, rn > 1 AND is_counter AND (v < pv OR (start != 0 AND start < ts AND (start > pts OR (start = pts AND pstart != 0 AND pstart < pts))))) AS resets,
    sum(v) AS total,
    lv - fv + resets AS raw,
    (ft - (b - 1)) / 1000 AS to_start, (b + ${STEP_MS} - 1 - lt) / 1000 AS to_end,
    (lt - ft) / 1000 AS sampled, if(n > 1, sampled / (n - 1), 0) AS avg_interval,
    counter AND fs != 0 AND fs > b - 1 AND fs < ft AS began_inside,
    if(began_inside, (lt - fs) / 1000, sampled) AS span,
    if(began_inside, 0, if(to_start >= avg_interval * 1.1, avg_interval / 2, to_start)) AS left1,
    if(began_inside OR NOT counter, left1, least(left1, if(raw > 0 AND fv >= 0, sampled * (fv / raw), left1))) AS left2,
    if(to_end >= avg_interval * 1.1, avg_interval / 2, to_end) AS right1,
    multiIf(delta, total, NOT began_inside AND n = 1, nan,
      (raw + if(began_inside, fv, 0)) * if(span != 0, (span + left2 + right1) / span, 1)) AS inc
  FROM (
    SELECT *, intDiv(ts, ${STEP_MS}) * ${STEP_MS} AS b,
      lagInFrame(v, 1, 0.) OVER w AS pv, lagInFrame(ts, 1, toInt64(0)) OVER w AS pts,
      lagInFrame(start, 1, toInt64(0)) OVER w AS pstart, row_number() OVER w AS rn
    FROM (${points})
    WINDOW w AS (PARTITION BY series_id, ${k}intDiv(ts, ${STEP_MS}) ORDER BY ts ROWS BETWEEN 1 PRECEDING AND CURRENT ROW)
  )
  GROUP BY b, series_id${keys.map((c) => `, ${c}`).join('')}`
}

/**
 * `bucketQuantile` (Prometheus' `histogram_quantile`) over `buckets`, an array of
 * `(upper bound, count)` tuples of one step, as SELECT expressions ending in the column
 * `alias`: counts are made monotonic (each raised to the largest below it), the rank
 * `q × total` is found and interpolated inside its bucket (the first starts at 0); the +Inf
 * bucket answers the bound below it; NaN without observations, with fewer than two buckets
 * or without a +Inf bucket.
 */
export function bucketQuantileSql(q: number, buckets: string, alias: string): string {
  const a = (name: string) => `${alias}_${name}`
  const below = (arr: string) => `if(${a('i')} = 1, 0., ${arr}[${a('i')} - 1])`
  return [
    `arraySort(x -> x.1, ${buckets}) AS ${a('sorted')}`,
    `arrayMap(x -> x.1, ${a('sorted')}) AS ${a('les')}`,
    `arrayMap((c, i) -> arrayMax(arraySlice(arrayMap(x -> toFloat64(x.2), ${a('sorted')}), 1, i)), ${a('sorted')}, arrayEnumerate(${a('sorted')})) AS ${a('cums')}`,
    `length(${a('les')}) AS ${a('n')}`,
    `${q} * ${a('cums')}[${a('n')}] AS ${a('rank')}`,
    `arrayFirstIndex(c -> c >= ${a('rank')}, ${a('cums')}) AS ${a('i')}`,
    `multiIf(
      ${a('n')} < 2 OR ${a('cums')}[${a('n')}] <= 0 OR ${a('les')}[${a('n')}] != inf, nan,
      ${a('i')} = ${a('n')}, ${a('les')}[${a('n')} - 1],
      ${a('i')} = 1 AND ${a('les')}[1] <= 0, ${a('les')}[1],
      ${below(a('les'))} + (${a('les')}[${a('i')}] - ${below(a('les'))}) * ((${a('rank')} - ${below(a('cums'))}) / (${a('cums')}[${a('i')}] - ${below(a('cums'))}))
    ) AS ${alias}`,
  ].join(',\n    ')
}
