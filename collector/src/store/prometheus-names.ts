/**
 * How a stored series is seen through PromQL: its Prometheus name and labels, per the
 * OpenTelemetry → Prometheus compatibility rules, and which stored values each exposed series
 * reads. One stored series can expose several Prometheus series: a histogram gives one
 * `_bucket` series per bound plus `_sum` and `_count`, a summary one series per quantile plus
 * `_sum` and `_count`.
 *
 *   stored (series table)                          exposed to PromQL
 *   ──────────────────────────────────────────     ───────────────────────────────────────────
 *   remote write: name + labels kept as sent   →   the same name and labels, untouched
 *   OTLP gauge `system.memory.usage` unit By   →   system_memory_usage_bytes
 *   OTLP monotonic cumulative sum, unit s      →   …_seconds_total
 *   OTLP histogram                             →   …_bucket{le} (cumulative), …_sum, …_count
 *   OTLP summary                               →   …{quantile}, …_sum, …_count
 *   resource service.namespace / service.name  →   job="namespace/name"
 *   resource service.instance.id               →   instance
 *   point attribute `http.route`               →   http_route
 */
import type { Labels } from '../promql/querier.ts'

/** A row of the series table, as the querier reads it. */
export interface StoredSeries {
  readonly id: bigint
  readonly metric: string
  readonly type: string
  readonly temporality: string
  readonly monotonic: boolean
  readonly unit: string
  readonly service: string
  readonly scope: string
  readonly resource: Readonly<Record<string, string>>
  readonly attributes: Readonly<Record<string, string>>
}

/**
 * Which stored values an exposed series reads. `value`: the samples table. The others read a
 * histogram or summary row: `bucket` the cumulative count at bound `key` (+Inf the last),
 * `quantile` the value at quantile `key`, `sum` and `count`.
 */
export type Part = 'value' | 'bucket' | 'sum' | 'count' | 'quantile'

/** Part codes as the point query returns them (see clickhouse-querier.ts). */
export const PART_CODE: Readonly<Record<Part, number>> = { value: 0, bucket: 1, sum: 2, count: 3, quantile: 4 }

/**
 * A family of exposed series of one stored series and one part: the labels without the
 * `le`/`quantile` label that bucket and quantile series add per key.
 */
export interface ExposedFamily {
  readonly series: StoredSeries
  readonly part: Part
  /** Every label, `__name__` included; `le` or `quantile` is added per key. */
  readonly labels: Labels
  /** The name the series is also found by: its own OTel name (with the part suffix). */
  readonly ownName: string
  /** `le` for buckets, `quantile` for quantiles, undefined otherwise. */
  readonly keyLabel?: 'le' | 'quantile'
}

/**
 * Whether a series came in through Prometheus remote write: Prometheus names and labels,
 * kept as they are. The series table has no column that says where a series came from; the
 * remote-write decoder gives every series an empty scope and a resource of `service.name`
 * alone, which no OpenTelemetry SDK sends (its meter has a name and its resource carries
 * `telemetry.sdk.*`), and its metric names are classic ones (no dots). An OTLP sender with
 * no scope and no other resource attribute (a request written by hand) still has a dotted
 * name most of the time, and is then read as OTLP; one that has not is read as
 * Prometheus-native: its names are taken as they are, without unit or `_total` suffixes.
 */
export function isPrometheusNative(s: Pick<StoredSeries, 'scope' | 'resource' | 'type' | 'metric'>): boolean {
  if (s.scope !== '' || (s.type !== 'gauge' && s.type !== 'sum')) return false
  for (const key in s.resource) if (key !== 'service.name') return false
  return CLASSIC_METRIC_NAME.test(s.metric)
}

/** Metric names as Prometheus 2 writes them (label names may be UTF-8 from Prometheus 3). */
const CLASSIC_METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/

// OTel unit (UCUM) → Prometheus unit word, as in Prometheus' OTLP translator.
const UNIT_WORDS: Readonly<Record<string, string>> = {
  d: 'days',
  h: 'hours',
  min: 'minutes',
  s: 'seconds',
  ms: 'milliseconds',
  us: 'microseconds',
  ns: 'nanoseconds',
  By: 'bytes',
  KiBy: 'kibibytes',
  MiBy: 'mebibytes',
  GiBy: 'gibibytes',
  TiBy: 'tibibytes',
  KBy: 'kilobytes',
  MBy: 'megabytes',
  GBy: 'gigabytes',
  TBy: 'terabytes',
  m: 'meters',
  V: 'volts',
  A: 'amperes',
  J: 'joules',
  W: 'watts',
  g: 'grams',
  Cel: 'celsius',
  Hz: 'hertz',
  '1': '',
  '%': 'percent',
  $: 'dollars',
}
const PER_UNIT_WORDS: Readonly<Record<string, string>> = {
  s: 'second',
  m: 'minute',
  h: 'hour',
  d: 'day',
  w: 'week',
  mo: 'month',
  y: 'year',
}

/** Name tokens: runs of letters and digits (every other character separates). */
export function nameTokens(name: string): string[] {
  return name.split(/[^\p{L}\p{N}]+/u).filter((t) => t !== '')
}

/** A unit as Prometheus name words: `s` → seconds, `By/s` → bytes per second, `{request}` → none. */
export function unitWords(unit: string): string[] {
  if (unit === '') return []
  const slash = unit.indexOf('/')
  const main = slash < 0 ? unit : unit.slice(0, slash)
  const per = slash < 0 ? '' : unit.slice(slash + 1)
  const words: string[] = []
  const m = unitWord(main, UNIT_WORDS)
  if (m !== '') words.push(m)
  const p = unitWord(per, PER_UNIT_WORDS)
  if (p !== '') words.push('per', p)
  return words
}

function unitWord(u: string, table: Readonly<Record<string, string>>): string {
  const t = u.trim()
  if (t === '' || /[{}]/.test(t)) return '' // annotations such as {request} carry no unit
  return table[t] ?? sanitizeLabelName(t)
}

/**
 * The Prometheus name of an OTel metric: its tokens joined by `_`, the unit's words added when
 * not in the name already, `_total` for a monotonic cumulative sum (any other `total` token
 * moved to the end), `_ratio` for a gauge of unit `1`.
 */
export function prometheusMetricName(
  s: Pick<StoredSeries, 'metric' | 'unit' | 'type' | 'temporality' | 'monotonic'>,
): string {
  let tokens = nameTokens(s.metric)
  for (const w of unitWords(s.unit)) if (!tokens.includes(w)) tokens.push(w)
  if (isCounter(s)) {
    tokens = tokens.filter((t) => t !== 'total')
    tokens.push('total')
  }
  if (s.type === 'gauge' && s.unit === '1' && !tokens.includes('ratio')) tokens.push('ratio')
  const name = tokens.join('_')
  return name === '' ? '_' : /^[0-9]/.test(name) ? `_${name}` : name
}

/** A monotonic cumulative sum: what PromQL calls a counter. */
function isCounter(s: Pick<StoredSeries, 'type' | 'temporality' | 'monotonic'>): boolean {
  return s.type === 'sum' && s.monotonic && s.temporality === 'cumulative'
}

/** A label name Prometheus accepts: invalid characters to `_`, `key_` before a leading digit. */
export function sanitizeLabelName(name: string): string {
  const s = name.replace(/[^a-zA-Z0-9_]/g, '_')
  return s === '' ? '_' : /^[0-9]/.test(s) ? `key_${s}` : s
}

/** Prometheus' `le`/`quantile` text of a bound or quantile: `+Inf`, `0.25`, `1e+06`. */
export function formatKey(v: number): string {
  if (v === Infinity) return '+Inf'
  if (v === -Infinity) return '-Inf'
  if (Number.isNaN(v)) return 'NaN'
  return String(v)
}

/** The families a stored series exposes, every part of it. */
export function exposedFamilies(s: StoredSeries): ExposedFamily[] {
  if (isPrometheusNative(s)) {
    const labels: Record<string, string> = { ...s.attributes, __name__: s.metric }
    return [{ series: s, part: 'value', labels, ownName: s.metric }]
  }
  const base = otelLabels(s)
  const name = prometheusMetricName(s)
  const family = (part: Part, suffix: string, keyLabel?: 'le' | 'quantile'): ExposedFamily => ({
    series: s,
    part,
    labels: { ...base, __name__: name + suffix },
    ownName: s.metric + suffix,
    ...(keyLabel === undefined ? {} : { keyLabel }),
  })
  switch (s.type) {
    case 'histogram':
      return [family('bucket', '_bucket', 'le'), family('sum', '_sum'), family('count', '_count')]
    case 'exponential_histogram':
      // Native histograms are not exposed; their sum and count are.
      return [family('sum', '_sum'), family('count', '_count')]
    case 'summary':
      return [family('quantile', '', 'quantile'), family('sum', '_sum'), family('count', '_count')]
    default:
      return [family('value', '')]
  }
}

/** The labels of an OTel series: point attributes sanitized, then `job` and `instance` from the resource. */
function otelLabels(s: StoredSeries): Record<string, string> {
  const labels: Record<string, string> = {}
  for (const [k, v] of Object.entries(s.attributes)) {
    const name = sanitizeLabelName(k)
    // Two keys that sanitize alike are joined with `;`, in key order, as Prometheus does.
    labels[name] = labels[name] === undefined ? v : `${labels[name]};${v}`
  }
  const service = s.resource['service.name'] ?? s.service
  const namespace = s.resource['service.namespace']
  if (service !== undefined && service !== '')
    labels.job = namespace !== undefined && namespace !== '' ? `${namespace}/${service}` : service
  const instance = s.resource['service.instance.id']
  if (instance !== undefined && instance !== '') labels.instance = instance
  return labels
}

/**
 * Stored metric-name stems that could expose a series named `name`, for a first cut in SQL:
 * the name itself and each prefix of its tokens. A stored name matches when its own tokens,
 * joined by `_`, are one of them (see `stemsSql`); the exact name is then checked in JS.
 */
export function nameStems(name: string): string[] {
  const tokens = name.split('_').filter((t) => t !== '')
  const stems = new Set<string>([name])
  for (let i = 1; i <= tokens.length; i++) stems.add(tokens.slice(0, i).join('_'))
  return [...stems]
}

/** The own name a family is found by without its part suffix (for a SQL cut on quoted names). */
export const PART_SUFFIXES = ['_bucket', '_sum', '_count'] as const
