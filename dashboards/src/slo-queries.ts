import { TO_MS } from './increase-sql.ts'
import { DB, ENVIRONMENTS, SERVICES } from './queries.ts'

/**
 * Where each SLO stands at the end of the dashboard range, in SQL: the twin of `countEvents`
 * and `sloStatus` (`collector/src/slo/`), so the panels agree with `GET /api/v1/slos`.
 *
 *   definition (latest slo_versions row) ─► its series ─► points of the window + 15 min
 *     ─► growth per point (counters: resets handled; deltas and gauges: the point itself)
 *     ─► bad/total over the SLO window and the 8 burn windows ─► SLI, budget, burn, alert
 */

/** The workbook's burn pairs for 30 days: long, short (ms), threshold, page (1) or ticket (0). */
const PAIRS = [
  [3_600_000, 300_000, 14.4, 1],
  [21_600_000, 1_800_000, 6, 1],
  [86_400_000, 7_200_000, 3, 0],
  [259_200_000, 21_600_000, 1, 0],
] as const
const THIRTY_DAYS = 2_592_000_000
/** Growth before a window is read back this far (`LOOKBACK_MARGIN_MILLIS`). */
const LOOKBACK = 900_000

/** A window scaled by window / 30d, rounded to whole seconds, at least 1 s (`burnPairs`). */
const scaled = (ms: number) => `greatest(1000, toInt64(floor(${ms} * window_ms / ${THIRTY_DAYS} / 1000 + 0.5)) * 1000)`

/** The attribute of a series, point attributes first, then resource (`attr`). */
const attr = (k: string) =>
  `if(mapContains(s.attributes, ${k}), s.attributes[${k}], if(mapContains(s.resource, ${k}), s.resource[${k}], if(${k} = 'service', s.service, NULL)))`
/** `matchesValue`: `5xx` (any `Nxx`) matches N00..N99 and the literal; others exactly. */
const matches = (a: string, w: string) =>
  `if(match(${w}, '(?i)^[1-5]xx$'), match(${a}, concat('(?i)^', substring(${w}, 1, 1), '([0-9][0-9]|xx)$')), ${a} = ${w})`
const IS_BAD_SERIES = `arrayAll(kv -> arrayExists(w -> coalesce(${matches(attr('kv.1'), 'w')}, false),
      if(JSONType(kv.2) = 'Array', JSONExtract(kv.2, 'Array(String)'), [JSONExtractString(kv.2)])), errors)`

/** Observations of a histogram point above `threshold` (`ABOVE_THRESHOLD`): the +Inf bucket counts whole. */
const ABOVE_THRESHOLD = `arraySum(arrayMap((c, i) -> toFloat64(c) * multiIf(
      if(i = 1, 0., bounds[i - 1]) >= threshold, 1., i > length(bounds), 1., bounds[i] <= threshold, 0.,
      (bounds[i] - threshold) / (bounds[i] - if(i = 1, 0., bounds[i - 1]))), counts, arrayEnumerate(counts)))`

/** Every SLO of the selected services with its SLI, budget, burn rates and alert state. */
export function sloStatusSql(db = DB): string {
  const defs = `SELECT service, name, d,
    JSONExtractString(d, 'sli', 'type') AS sli_type, JSONExtractString(d, 'sli', 'metric') AS metric,
    JSONExtractFloat(d, 'objective') AS objective, JSONExtractString(d, 'window') AS window,
    toInt64(toUInt64OrZero(extract(window, '^([0-9]+)'))) * multiIf(endsWith(window, 'm'), 60000, endsWith(window, 'h'), 3600000, endsWith(window, 'd'), 86400000, 604800000) AS window_ms,
    1 - objective / 100 AS allowed,
    JSONExtractFloat(d, 'sli', 'threshold_ms') AS threshold_ms, JSONExtractFloat(d, 'sli', 'max') AS max_value,
    JSONExtractKeysAndValuesRaw(d, 'sli', 'errors') AS errors,
    [window_ms, ${PAIRS.flatMap(([l, s]) => [scaled(l), scaled(s)]).join(', ')}] AS wins
  FROM (SELECT service, name, argMax(definition, version) AS d FROM ${db}.slo_versions WHERE service IN (${SERVICES}) GROUP BY service, name)`
  const sliSeries = `SELECT o.service AS service, o.name AS name, s.series_id AS series_id, o.sli_type AS sli_type, o.wins AS wins,
      ${TO_MS} - o.window_ms - ${LOOKBACK} AS from_ms,
      o.sli_type = 'gauge_max' OR s.temporality = 'delta' AS is_delta,
      if(o.sli_type = 'latency', o.threshold_ms / multiIf(s.unit = 's', 1000., s.unit IN ('us', 'µs', 'μs'), 0.001, s.unit = 'ns', 0.000001, s.unit = 'min', 60000., 1.), o.max_value) AS threshold,
      o.sli_type = 'error_ratio' AND ${IS_BAD_SERIES} AS is_bad
    FROM (${defs}) AS o INNER JOIN (SELECT * FROM ${db}.series FINAL) AS s ON s.metric = o.metric AND s.service = o.service`
  const range = `ts > ${TO_MS} - ${90 * 86_400_000 + LOOKBACK} AND ts <= ${TO_MS} AND bitAnd(flags, 1) = 0`
  const points = `SELECT k.service AS service, k.name AS name, k.series_id AS series_id, k.wins AS wins, k.from_ms AS from_ms, k.is_delta AS is_delta, p.ts AS ts, p.start AS start,
      toFloat64(p.count) AS t, multiIf(k.sli_type = 'latency', ${ABOVE_THRESHOLD.replaceAll('threshold', 'k.threshold').replaceAll('bounds', 'p.bounds').replaceAll('counts', 'p.counts')}, k.is_bad, t, 0.) AS b
    FROM (SELECT series_id, ts, start, count, bounds, counts FROM ${db}.histograms WHERE ${range}) AS p INNER JOIN (${sliSeries}) AS k ON p.series_id = k.series_id
    WHERE p.ts > k.from_ms
    UNION ALL
    SELECT k.service, k.name, k.series_id, k.wins, k.from_ms, k.is_delta, p.ts, p.start,
      if(k.sli_type = 'gauge_max', 1., p.value) AS t, multiIf(k.sli_type = 'gauge_max', if(p.value > k.threshold, 1., 0.), k.is_bad, t, 0.) AS b
    FROM (SELECT series_id, ts, start, value FROM ${db}.samples WHERE ${range}) AS p INNER JOIN (${sliSeries}) AS k ON p.series_id = k.series_id
    WHERE p.ts > k.from_ms`
  const growth = `SELECT service, name, wins, ts,
      (rn > 1 AND (t < pt OR (start > pts AND start < ts))) AS reset, (start > from_ms AND start < ts) AS began_inside,
      multiIf(is_delta, t, rn = 1, if(began_inside, t, 0.), reset, t, t - pt) AS dt,
      multiIf(is_delta, b, rn = 1, if(began_inside, b, 0.), reset, b, greatest(b - pb, 0.)) AS db
    FROM (
      SELECT *, lagInFrame(t, 1, 0.) OVER w AS pt, lagInFrame(b, 1, 0.) OVER w AS pb,
        lagInFrame(ts, 1, toInt64(0)) OVER w AS pts, row_number() OVER w AS rn
      FROM (${points})
      WINDOW w AS (PARTITION BY service, name, series_id ORDER BY ts ROWS BETWEEN 1 PRECEDING AND CURRENT ROW))`
  const counts = `SELECT service, name,
      sumForEach(arrayMap(w -> if(ts > ${TO_MS} - w, db, 0.), wins)) AS bad,
      sumForEach(arrayMap(w -> if(ts > ${TO_MS} - w, dt, 0.), wins)) AS total
    FROM (${growth}) GROUP BY service, name`
  const burn = (i: number) => `if(c.total[${i}] > 0, c.bad[${i}] / c.total[${i}] / o.allowed, NULL)`
  const fires = (i: number, threshold: number) =>
    `(coalesce(${burn(2 * i + 2)}, -1) > ${threshold} AND coalesce(${burn(2 * i + 3)}, -1) > ${threshold})`
  const page = PAIRS.map(([, , th, p], i) => (p === 1 ? fires(i, th) : ''))
    .filter(Boolean)
    .join(' OR ')
  const ticket = PAIRS.map(([, , th, p], i) => (p === 0 ? fires(i, th) : ''))
    .filter(Boolean)
    .join(' OR ')
  return `SELECT o.service AS service, o.name AS slo, o.sli_type AS sli, o.objective AS objective, o.window AS window,
  if(c.total[1] > 0, (1 - c.bad[1] / c.total[1]) * 100, NULL) AS sli_percent,
  1 - coalesce(${burn(1)}, 0) AS budget_remaining,
  ${burn(2)} AS burn_rate,
  multiIf(${page}, 'page', ${ticket}, 'ticket', 'ok') AS alert,
  c.bad[1] AS bad_events, c.total[1] AS total_events
FROM (${defs}) AS o LEFT JOIN (${counts}) AS c ON c.service = o.service AND c.name = o.name
ORDER BY service, slo`
}

/** Every selected service: its last deploy in the selected environments and the state of its SLOs. */
export function fleetSql(db = DB): string {
  return `SELECT svc.service AS service, d.version AS version, d.actor AS actor, d.deployed_at AS deployed_at,
  if(d.deployed_at IS NULL, NULL, formatReadableTimeDelta(dateDiff('second', d.deployed_at, now64(3)))) AS ago,
  coalesce(s.slos, 0) AS slos, if(s.slos > 0, s.alert, 'none') AS alert,
  s.budget_remaining AS budget_remaining, s.burn_rate AS burn_rate
FROM (SELECT toString(service) AS service FROM ${db}.series WHERE service IN (${SERVICES})
  UNION DISTINCT SELECT toString(service) AS service FROM ${db}.events WHERE service IN (${SERVICES}) AND service != '') AS svc
LEFT JOIN (SELECT toString(service) AS service, toNullable(argMax(version, time)) AS version, toNullable(argMax(actor, time)) AS actor, toNullable(max(time)) AS deployed_at
  FROM ${db}.events FINAL WHERE kind = 'deploy' AND service IN (${SERVICES}) AND environment IN (${ENVIRONMENTS}) GROUP BY service) AS d ON d.service = svc.service
LEFT JOIN (SELECT toString(service) AS service, toNullable(count()) AS slos,
    ['ok', 'ticket', 'page'][max(indexOf(['ok', 'ticket', 'page'], alert))] AS alert,
    toNullable(min(budget_remaining)) AS budget_remaining, max(burn_rate) AS burn_rate
  FROM (${sloStatusSql(db)}) GROUP BY service) AS s ON s.service = svc.service
ORDER BY service`
}
