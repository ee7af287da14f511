import { bucketQuantileSql, bucketTime, STEP_MS, STEP_RANGE, stepIncreaseSql } from './increase-sql.ts'

/**
 * The SQL of every panel, over Governor's tables (`collector/src/store/migrations.ts`).
 * Grafana fills in the template variables (`${service:singlequote}`, …) and the ClickHouse
 * plugin the macros (`$__fromTime_ms`, `$__toTime_ms`, `$__interval_s`). Each function takes
 * the database name so the tests can run the same text on their store.
 */

/** Governor's default database (`GOVERNOR_CLICKHOUSE_DATABASE`). */
export const DB = 'governor'
/** The selected services, each quoted, comma-separated. */
export const SERVICES = '${service:singlequote}'
/** The selected environments, each quoted, comma-separated. */
export const ENVIRONMENTS = '${environment:singlequote}'
/** The histogram the Service dashboard reads requests, errors and latency from. */
export const LATENCY_METRIC = '${latency_metric:singlequote}'

/** A series' environment: the OTel resource attribute, new name first. */
const SERIES_ENV =
  "if(resource['deployment.environment.name'] != '', resource['deployment.environment.name'], resource['deployment.environment'])"
/** Series of the selected environments, and series that name none. */
export const SERIES_IN_ENV = `(${SERIES_ENV} IN (${ENVIRONMENTS}) OR ${SERIES_ENV} = '')`
/** Milliseconds per unit of a duration histogram (`millisPerUnit`): `s`, `us`, `ns`, `min`; else ms. */
const MS_PER_UNIT =
  "multiIf(unit = 's', 1000., unit IN ('us', 'µs', 'μs'), 0.001, unit = 'ns', 0.000001, unit = 'min', 60000., 1.)"
/** A 5xx answer, by the OTel HTTP attribute (new name, then old). */
const IS_SERVER_ERROR =
  "startsWith(if(attributes['http.response.status_code'] != '', attributes['http.response.status_code'], attributes['http.status_code']), '5')"
/** A stored knob value (JSON) as a number: booleans 1 and 0, strings none. */
const KNOB_NUMBER = "multiIf(value = 'true', 1., value = 'false', 0., toFloat64OrNull(value))"

/** The latency histogram's points of the selected services in the buckets of the range. */
function histogramPoints(db: string, perBucket: boolean): string {
  const series = `SELECT series_id, temporality = 'delta' AS is_delta, ${IS_SERVER_ERROR} AS is_error, ${MS_PER_UNIT} AS ms_per_unit
    FROM ${db}.series FINAL
    WHERE metric = ${LATENCY_METRIC} AND type = 'histogram' AND service IN (${SERVICES}) AND ${SERIES_IN_ENV}`
  const value = perBucket
    ? `arrayJoin(arrayZip(arrayConcat(p.bounds, [inf]), arrayCumSum(p.counts))) AS lc, lc.1 * s.ms_per_unit AS le, toFloat64(lc.2) AS v`
    : 'toFloat64(p.count) AS v'
  return `SELECT p.series_id AS series_id, p.ts AS ts, p.start AS start, ${value}, s.is_delta AS is_delta, 1 AS is_counter, s.is_error AS is_error
    FROM (SELECT series_id, ts, start, count, bounds, counts FROM ${db}.histograms
      WHERE series_id IN (SELECT series_id FROM (${series})) AND ${STEP_RANGE} AND bitAnd(flags, 1) = 0) AS p
    INNER JOIN (${series}) AS s ON p.series_id = s.series_id`
}

/** Points of cumulative or delta sums named `metrics` (any service), in the buckets of the range. */
function counterPoints(db: string, metrics: readonly string[], keys: Record<string, string>): string {
  const keyCols = Object.entries(keys)
    .map(([name, expr]) => `, ${expr} AS ${name}`)
    .join('')
  const series = `SELECT series_id, temporality = 'delta' AS is_delta, monotonic AS is_counter${keyCols}
    FROM ${db}.series FINAL WHERE metric IN (${metrics.map((m) => `'${m}'`).join(', ')}) AND type = 'sum'`
  const keyRefs = Object.keys(keys)
    .map((k) => `, s.${k} AS ${k}`)
    .join('')
  return `SELECT p.series_id AS series_id, p.ts AS ts, p.start AS start, p.value AS v, s.is_delta AS is_delta, s.is_counter AS is_counter${keyRefs}
    FROM (SELECT series_id, ts, start, value FROM ${db}.samples
      WHERE series_id IN (SELECT series_id FROM (${series})) AND ${STEP_RANGE} AND bitAnd(flags, 1) = 0) AS p
    INNER JOIN (${series}) AS s ON p.series_id = s.series_id`
}

/** Requests and 5xx answers per second: the histogram count's `agg=rate` per step. */
export function requestRateSql(db = DB): string {
  return `SELECT ${bucketTime('b')}, sum(inc) / $__interval_s AS requests, sumIf(inc, is_error) / $__interval_s AS errors
FROM (${stepIncreaseSql(histogramPoints(db, false), ['is_error'])})
WHERE isFinite(inc)
GROUP BY b ORDER BY b`
}

/** The share of requests answered 5xx, per step (0 to 1). */
export function errorRatioSql(db = DB): string {
  return `SELECT ${bucketTime('b')}, sumIf(inc, is_error) / sum(inc) AS error_ratio
FROM (${stepIncreaseSql(histogramPoints(db, false), ['is_error'])})
WHERE isFinite(inc)
GROUP BY b HAVING sum(inc) > 0 ORDER BY b`
}

/** p50 and p99 latency in ms per step, as `agg=p50`/`agg=p99` (histogram_quantile over each bucket's increase). */
export function latencySql(db = DB): string {
  return p50p99Sql(stepIncreaseSql(histogramPoints(db, true), ['le']), 1)
}

/**
 * p50 and p99 per step from the per-step increases of cumulative buckets (`b`, `le`, `inc`),
 * times `scale` (1000: seconds to ms).
 */
function p50p99Sql(increases: string, scale: number): string {
  const scaled = (q: string) => (scale === 1 ? q : `${q} * ${scale}`)
  return `SELECT time, if(isFinite(p50), ${scaled('p50')}, NULL) AS p50, if(isFinite(p99), ${scaled('p99')}, NULL) AS p99
FROM (
  SELECT ${bucketTime('b')},
    ${bucketQuantileSql(0.5, 'buckets', 'p50')},
    ${bucketQuantileSql(0.99, 'buckets', 'p99')}
  FROM (
    SELECT b, groupArray((le, c)) AS buckets FROM (
      SELECT b, le, sum(inc) AS c FROM (${increases})
      WHERE isFinite(inc) GROUP BY b, le)
    GROUP BY b)
)
ORDER BY time`
}

/** Every numeric knob of the selected services over the range: its value at the start, each change, its value at the end. */
export function knobValuesSql(db = DB): string {
  const knobs = `${db}.knob_versions FINAL WHERE service IN (${SERVICES})`
  return `SELECT time, knob, value FROM (
  SELECT changed_at AS time, name AS knob, ${KNOB_NUMBER} AS value FROM ${knobs}
    AND changed_at >= $__fromTime_ms AND changed_at <= $__toTime_ms
  UNION ALL
  SELECT $__fromTime_ms AS time, name AS knob, ${KNOB_NUMBER} AS value
  FROM (SELECT name, argMax(value, version) AS value FROM ${knobs} AND changed_at < $__fromTime_ms GROUP BY name)
  UNION ALL
  SELECT $__toTime_ms AS time, name AS knob, ${KNOB_NUMBER} AS value
  FROM (SELECT name, argMax(value, version) AS value FROM ${knobs} AND changed_at <= $__toTime_ms GROUP BY name)
)
WHERE value IS NOT NULL
ORDER BY time, knob`
}

/** The last deploy of the selected service and environment: version, who, when, how long ago. */
export function lastDeploySql(db = DB): string {
  return `SELECT version, actor, time AS deployed_at, dateDiff('second', time, now64(3)) AS seconds_ago,
  formatReadableTimeDelta(seconds_ago) AS ago, environment, title
FROM ${db}.events FINAL
WHERE kind = 'deploy' AND service IN (${SERVICES}) AND environment IN (${ENVIRONMENTS})
ORDER BY time DESC
LIMIT 1`
}

/** Requests per second of every selected service (its latency histogram's count), per step. */
export function fleetRequestRateSql(db = DB): string {
  const series = `SELECT series_id, temporality = 'delta' AS is_delta, service FROM ${db}.series FINAL
    WHERE metric = 'http.server.request.duration' AND type = 'histogram' AND service IN (${SERVICES}) AND ${SERIES_IN_ENV}`
  const points = `SELECT p.series_id AS series_id, p.ts AS ts, p.start AS start, toFloat64(p.count) AS v, s.is_delta AS is_delta, 1 AS is_counter, s.service AS service
    FROM (SELECT series_id, ts, start, count FROM ${db}.histograms
      WHERE series_id IN (SELECT series_id FROM (${series})) AND ${STEP_RANGE} AND bitAnd(flags, 1) = 0) AS p
    INNER JOIN (${series}) AS s ON p.series_id = s.series_id`
  return `SELECT ${bucketTime('b')}, service, sum(inc) / $__interval_s AS requests
FROM (${stepIncreaseSql(points, ['service'])})
WHERE isFinite(inc)
GROUP BY b, service ORDER BY b, service`
}

/** Change-log events per step of the selected services, by kind (deploys, knob changes, …). */
export function changesPerStepSql(db = DB): string {
  return `SELECT ${bucketTime('b')}, kind, count() AS changes
FROM (SELECT intDiv(toUnixTimestamp64Milli(time), ${STEP_MS}) * ${STEP_MS} AS b, kind
  FROM ${db}.events FINAL
  WHERE service IN (${SERVICES}) AND time >= $__fromTime_ms AND time <= $__toTime_ms)
GROUP BY b, kind ORDER BY b, kind`
}

/** Points stored per second by their own time, per point table. */
export function pointsStoredSql(db = DB): string {
  const table = (t: string) =>
    `SELECT intDiv(ts, ${STEP_MS}) * ${STEP_MS} AS b, '${t}' AS point_table FROM ${db}.${t} WHERE ${STEP_RANGE}`
  return `SELECT ${bucketTime('b')}, point_table, count() / $__interval_s AS points
FROM (${['samples', 'histograms', 'exp_histograms', 'summaries'].map(table).join('\n  UNION ALL ')})
GROUP BY b, point_table ORDER BY b, point_table`
}

/** Governor's own counters, when its /metrics are remote-written into it: per-second rate per step by `label`. */
export function selfCounterRateSql(metrics: readonly string[], label: string, db = DB): string {
  return `SELECT ${bucketTime('b')}, ${label}, sum(inc) / $__interval_s AS per_second
FROM (${stepIncreaseSql(counterPoints(db, metrics, { [label]: `attributes['${label}']` }), [label])})
WHERE isFinite(inc)
GROUP BY b, ${label} ORDER BY b, ${label}`
}

/** p50 and p99 commit (flush) duration in ms from Governor's remote-written `governor_commit_duration_seconds` buckets. */
export function commitLatencySql(db = DB): string {
  const le = "if(attributes['le'] = '+Inf', inf, toFloat64OrZero(attributes['le']))"
  return p50p99Sql(
    stepIncreaseSql(counterPoints(db, ['governor_commit_duration_seconds_bucket'], { le }), ['le']),
    1000,
  )
}
