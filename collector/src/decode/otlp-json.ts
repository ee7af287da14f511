import { GovernorError } from '../errors.ts'
import type { ExpBuckets } from '../model/batch.ts'
import type { SeriesCache } from '../model/series-cache.ts'
import type { Attributes, MetricType } from '../model/types.ts'
import {
  BatchBuilder,
  MAX_VALUE_DEPTH,
  doubleJson,
  newAttributes,
  temporalityOf,
  type DecodeResult,
} from './decode-result.ts'
import {
  BadNumber,
  Malformed,
  SIGNED_DIGITS,
  array,
  bool,
  double,
  enumValue,
  fieldName,
  int,
  int64,
  isObject,
  numbers,
  object,
  show,
  string,
  time,
  uint64,
  within,
  type JsonObject,
} from './otlp-json-values.ts'
import { addTraceLabels, type HeldExemplar } from './exemplars.ts'

/**
 * Decodes an OTLP/JSON `ExportMetricsServiceRequest` (already parsed) into a batch.
 *
 * The OTLP JSON mapping: lowerCamelCase keys; int64 and fixed64 as decimal strings or
 * numbers; doubles as numbers or "NaN"/"Infinity"/"-Infinity"; enums as integers or names;
 * bytes as base64. Unknown keys are ignored and null counts as absent. A value of the wrong
 * shape throws `GOV_ERR_OTLP_MALFORMED` naming its path, e.g.
 * `resourceMetrics[0].scopeMetrics[1].metrics[2].sum.dataPoints[0].attributes[1].key`.
 * A number of the right shape but outside its field (a count of -1 or 1.5, a bucket count
 * past 2^64 - 1, a time before 1970) rejects its point only (see point-limits.ts).
 */
export function decodeOtlpJson(body: unknown, cache: SeriesCache, oldestMillis = 0): DecodeResult {
  return new JsonDecoder(cache, oldestMillis).decode(body)
}

/** Metric data keys, in the order a (malformed) metric carrying several of them is read. */
const DATA_KEYS = ['gauge', 'sum', 'histogram', 'exponentialHistogram', 'summary'] as const
const DATA_TYPES: Record<(typeof DATA_KEYS)[number], MetricType> = {
  gauge: 'gauge',
  sum: 'sum',
  histogram: 'histogram',
  exponentialHistogram: 'exponential_histogram',
  summary: 'summary',
}
const NO_BUCKETS = (): ExpBuckets => ({ offset: 0, counts: [] })

/**
 * One decode. The position down to the data point is held in index fields, read only to
 * name the path of a malformed value.
 */
class JsonDecoder {
  readonly #b: BatchBuilder
  #ri = -1
  #si = -1
  #mi = -1
  #data = ''
  #pi = -1

  constructor(cache: SeriesCache, oldestMillis: number) {
    this.#b = new BatchBuilder(cache, oldestMillis)
  }

  decode(body: unknown): DecodeResult {
    try {
      if (!isObject(body)) throw new Malformed('', `the body is ${show(body)}, not a JSON object`)
      const rms = array(body.resourceMetrics, 'resourceMetrics')
      for (this.#ri = 0; this.#ri < rms.length; this.#ri++) {
        const rm = object(rms[this.#ri], '') ?? {}
        const resource = object(rm.resource, 'resource')
        this.#b.setResource(resource ? attributes(resource.attributes, 'resource.attributes') : newAttributes())
        const sms = array(rm.scopeMetrics, 'scopeMetrics')
        for (this.#si = 0; this.#si < sms.length; this.#si++) this.#scopeMetrics(sms[this.#si])
        this.#si = -1
      }
    } catch (err) {
      if (err instanceof Malformed) throw this.#error(err)
      throw err
    }
    return this.#b.result()
  }

  #scopeMetrics(value: unknown): void {
    const sm = object(value, '') ?? {}
    const scope = object(sm.scope, 'scope')
    this.#b.setScope(scope ? string(scope.name, 'scope.name') : '')
    const metrics = array(sm.metrics, 'metrics')
    for (this.#mi = 0; this.#mi < metrics.length; this.#mi++) this.#metric(metrics[this.#mi])
    this.#mi = -1
  }

  #metric(value: unknown): void {
    const m = object(value, '') ?? {}
    const name = string(m.name, 'name')
    const description = string(m.description, 'description')
    const unit = string(m.unit, 'unit')
    let key: (typeof DATA_KEYS)[number] | undefined
    for (const k of DATA_KEYS) {
      if (m[k] !== undefined && m[k] !== null) {
        key = k
        break
      }
    }
    if (key === undefined) return
    this.#data = key
    const type = DATA_TYPES[key]
    const data = object(m[key], '') ?? {}
    const points = array(data.dataPoints, 'dataPoints')
    const temporality = enumValue(data.aggregationTemporality, 'aggregationTemporality')
    const monotonic = bool(data.isMonotonic, 'isMonotonic')
    const b = this.#b
    if (points.length > 0) {
      b.setMetric(name, description, unit, type, temporalityOf(temporality), monotonic)
      if (name === '') b.rejectPoints('metric has an empty name', points.length)
      else {
        for (this.#pi = 0; this.#pi < points.length; this.#pi++) {
          const p = object(points[this.#pi], '') ?? {}
          b.atPoint(this.#pi)
          try {
            if (type === 'gauge' || type === 'sum') numberPoint(b, p)
            else if (type === 'histogram') histogramPoint(b, p)
            else if (type === 'exponential_histogram') expHistogramPoint(b, p)
            else summaryPoint(b, p)
          } catch (err) {
            if (!(err instanceof BadNumber)) throw err
            b.rejectValue(fieldName(err.path), err.value, err.expected)
          }
          // Exemplars held for a point that threw before reaching the builder go with it.
          b.holdExemplars(undefined)
        }
      }
    }
    this.#pi = -1
    this.#data = ''
  }

  #error(err: Malformed): GovernorError {
    let path = ''
    if (this.#ri >= 0) path += `resourceMetrics[${this.#ri}]`
    if (this.#si >= 0) path += `.scopeMetrics[${this.#si}]`
    if (this.#mi >= 0) path += `.metrics[${this.#mi}]`
    if (this.#data !== '') path += `.${this.#data}`
    if (this.#pi >= 0) path += `.dataPoints[${this.#pi}]`
    if (err.path !== '') path += path === '' || err.path.startsWith('[') ? err.path : `.${err.path}`
    return new GovernorError(
      'GOV_ERR_OTLP_MALFORMED',
      `invalid OTLP JSON at ${path === '' ? 'the top level' : path}: ${err.message}`,
    )
  }
}

// --- data points ----------------------------------------------------------------------

function numberPoint(b: BatchBuilder, p: JsonObject): void {
  b.holdExemplars(exemplars(p.exemplars))
  let value: number | undefined
  if (p.asInt !== undefined && p.asInt !== null) value = int64(p.asInt, 'asInt')
  else if (p.asDouble !== undefined && p.asDouble !== null) value = double(p.asDouble, 0, 'asDouble')
  b.sample(
    attributes(p.attributes, 'attributes'),
    time(p.timeUnixNano, 'timeUnixNano'),
    time(p.startTimeUnixNano, 'startTimeUnixNano'),
    int(p.flags, 'flags'),
    value,
  )
}

function histogramPoint(b: BatchBuilder, p: JsonObject): void {
  b.holdExemplars(exemplars(p.exemplars))
  b.histogram(
    attributes(p.attributes, 'attributes'),
    time(p.timeUnixNano, 'timeUnixNano'),
    time(p.startTimeUnixNano, 'startTimeUnixNano'),
    int(p.flags, 'flags'),
    uint64(p.count, 'count'),
    double(p.sum, NaN, 'sum'),
    double(p.min, NaN, 'min'),
    double(p.max, NaN, 'max'),
    numbers(p.explicitBounds, true, 'explicitBounds'),
    numbers(p.bucketCounts, false, 'bucketCounts'),
  )
}

function expHistogramPoint(b: BatchBuilder, p: JsonObject): void {
  b.holdExemplars(exemplars(p.exemplars))
  b.expHistogram(
    attributes(p.attributes, 'attributes'),
    time(p.timeUnixNano, 'timeUnixNano'),
    time(p.startTimeUnixNano, 'startTimeUnixNano'),
    int(p.flags, 'flags'),
    uint64(p.count, 'count'),
    double(p.sum, NaN, 'sum'),
    double(p.min, NaN, 'min'),
    double(p.max, NaN, 'max'),
    int(p.scale, 'scale'),
    uint64(p.zeroCount, 'zeroCount'),
    double(p.zeroThreshold, 0, 'zeroThreshold'),
    buckets(p.positive, 'positive'),
    buckets(p.negative, 'negative'),
  )
}

function buckets(value: unknown, field: string): ExpBuckets {
  const o = object(value, field)
  if (o === undefined) return NO_BUCKETS()
  try {
    return { offset: int(o.offset, 'offset'), counts: numbers(o.bucketCounts, false, 'bucketCounts') }
  } catch (err) {
    throw within(err, field)
  }
}

function summaryPoint(b: BatchBuilder, p: JsonObject): void {
  const qvs = array(p.quantileValues, 'quantileValues')
  const quantiles = new Array<number>(qvs.length)
  const values = new Array<number>(qvs.length)
  for (let i = 0; i < qvs.length; i++) {
    try {
      const qv = object(qvs[i], '') ?? {}
      quantiles[i] = double(qv.quantile, 0, 'quantile')
      values[i] = double(qv.value, 0, 'value')
    } catch (err) {
      throw within(err, `quantileValues[${i}]`)
    }
  }
  b.summary(
    attributes(p.attributes, 'attributes'),
    time(p.timeUnixNano, 'timeUnixNano'),
    time(p.startTimeUnixNano, 'startTimeUnixNano'),
    int(p.flags, 'flags'),
    uint64(p.count, 'count'),
    double(p.sum, 0, 'sum'),
    quantiles,
    values,
  )
}

/**
 * A point's exemplars; undefined when it has none. Their labels are the filtered attributes
 * and the trace and span ids (hex in JSON, see `addTraceLabels`); a time or value that is no
 * number in range makes the exemplar's time NaN, so that the builder drops and counts it
 * without costing the point.
 */
function exemplars(value: unknown): HeldExemplar[] | undefined {
  const list = array(value, 'exemplars')
  if (list.length === 0) return undefined
  const out: HeldExemplar[] = []
  for (let i = 0; i < list.length; i++) {
    try {
      const e = object(list[i], '') ?? {}
      const labels = attributes(e.filteredAttributes, 'filteredAttributes')
      addTraceLabels(labels, hexId(e.traceId, 'traceId'), hexId(e.spanId, 'spanId'))
      let ts: number
      let v: number | undefined
      try {
        ts = time(e.timeUnixNano, 'timeUnixNano')
        if (e.asInt !== undefined && e.asInt !== null) v = int64(e.asInt, 'asInt')
        else if (e.asDouble !== undefined && e.asDouble !== null) v = double(e.asDouble, 0, 'asDouble')
      } catch (err) {
        if (!(err instanceof BadNumber)) throw err
        ts = NaN
        v = NaN
      }
      if (v !== undefined) out.push({ ts, value: v, labels })
    } catch (err) {
      throw within(err, `exemplars[${i}]`)
    }
  }
  return out.length === 0 ? undefined : out
}

/**
 * A trace or span id: hex text in OTLP JSON ('' when absent). Text that is not hex (base64,
 * as a sender that mapped bytes the protobuf JSON way writes) is left out: an exemplar's id
 * never costs its point or the request.
 */
function hexId(value: unknown, field: string): string {
  const s = string(value, field)
  return /^[0-9a-fA-F]*$/.test(s) ? s : ''
}

// --- attributes -----------------------------------------------------------------------

function attributes(value: unknown, field: string): Attributes {
  const out = newAttributes()
  const kvs = array(value, field)
  for (let i = 0; i < kvs.length; i++) {
    try {
      const kv = object(kvs[i], '') ?? {}
      out[string(kv.key, 'key')] = anyValue(kv.value, 0, 'value')
    } catch (err) {
      throw within(err, `${field}[${i}]`)
    }
  }
  return out
}

/**
 * An AnyValue as text, the same text the protobuf decoder makes of it: at depth 0 strings
 * as is and an empty value as ''; inside arrays and kvlists JSON text throughout.
 */
function anyValue(value: unknown, depth: number, field: string): string {
  if (depth > MAX_VALUE_DEPTH) throw new Malformed(field, `AnyValue nested deeper than ${MAX_VALUE_DEPTH} levels`)
  const v = object(value, field)
  if (v === undefined) return depth === 0 ? '' : 'null'
  try {
    if (v.stringValue !== undefined && v.stringValue !== null) {
      const s = string(v.stringValue, 'stringValue')
      return depth === 0 ? s : JSON.stringify(s)
    }
    if (v.boolValue !== undefined && v.boolValue !== null) return bool(v.boolValue, 'boolValue') ? 'true' : 'false'
    if (v.intValue !== undefined && v.intValue !== null) return intText(v.intValue, 'intValue')
    if (v.doubleValue !== undefined && v.doubleValue !== null) {
      const d = double(v.doubleValue, 0, 'doubleValue')
      return depth === 0 ? String(d) : doubleJson(d)
    }
    if (v.arrayValue !== undefined && v.arrayValue !== null) {
      const values = array((object(v.arrayValue, 'arrayValue') ?? {}).values, 'arrayValue.values')
      let json = '['
      for (let i = 0; i < values.length; i++) {
        if (i > 0) json += ','
        json += anyValue(values[i], depth + 1, `arrayValue.values[${i}]`)
      }
      return json + ']'
    }
    if (v.kvlistValue !== undefined && v.kvlistValue !== null) {
      const kvs = array((object(v.kvlistValue, 'kvlistValue') ?? {}).values, 'kvlistValue.values')
      let json = '{'
      for (let i = 0; i < kvs.length; i++) {
        const at = `kvlistValue.values[${i}]`
        const kv = object(kvs[i], at) ?? {}
        if (i > 0) json += ','
        json += `${JSON.stringify(string(kv.key, `${at}.key`))}:${anyValue(kv.value, depth + 1, `${at}.value`)}`
      }
      return json + '}'
    }
    if (v.bytesValue !== undefined && v.bytesValue !== null) {
      // Re-encoded so that URL-safe or unpadded base64 gives the same text (and series) as protobuf.
      const s = Buffer.from(string(v.bytesValue, 'bytesValue'), 'base64').toString('base64')
      return depth === 0 ? s : JSON.stringify(s)
    }
  } catch (err) {
    throw within(err, field)
  }
  return depth === 0 ? '' : 'null'
}

/** An int64 as exact decimal text: canonical digits whether it came as a string or a number. */
function intText(value: unknown, field: string): string {
  if (typeof value === 'string' && SIGNED_DIGITS.test(value)) {
    return value.length <= 15 ? String(Number(value)) : BigInt(value).toString()
  }
  if (typeof value === 'number' && Number.isInteger(value)) {
    return Number.isSafeInteger(value) ? String(value) : BigInt(value).toString()
  }
  throw new Malformed(field, `expected an integer, got ${show(value)}`)
}
