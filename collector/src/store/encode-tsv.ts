import type { ExpBuckets, PointBatch } from '../model/batch.ts'
import type { SeriesInfo } from '../model/types.ts'
import type { PointTable } from './migrations.ts'
import { TsvWriter } from './tsv-writer.ts'

/**
 * Encodes batches as TabSeparated rows, the cheapest text format the engine parses (chDB's
 * raw insert takes text formats only). Strings are escaped as TSV requires; floats use
 * JavaScript's shortest round-trip form, and non-finite values ClickHouse's `nan`/`inf`;
 * UInt64 values plain digits (see `uint`). The values themselves fit their columns: the
 * decoders' BatchBuilder rejects any point that does not (decode/point-limits.ts).
 */
export function encodePoints(table: PointTable, batches: readonly PointBatch[]): Buffer | undefined {
  if (table === 'samples') return encodeSamples(batches)
  const lines: string[] = []
  for (const b of batches) {
    switch (table) {
      case 'histograms': {
        const c = b.histograms
        for (let i = 0; i < c.length; i++) {
          lines.push(
            `${head(c, i)}\t${uint(c.count[i]!)}\t${num(c.sum[i]!)}\t${num(c.min[i]!)}\t${num(c.max[i]!)}\t${arr(c.bounds[i]!)}\t${uints(c.counts[i]!)}\n`,
          )
        }
        break
      }
      case 'exp_histograms': {
        const c = b.expHistograms
        for (let i = 0; i < c.length; i++) {
          const p = c.positive[i]!,
            n = c.negative[i]!
          lines.push(
            `${head(c, i)}\t${uint(c.count[i]!)}\t${num(c.sum[i]!)}\t${num(c.min[i]!)}\t${num(c.max[i]!)}\t${c.scale[i]}\t${uint(c.zeroCount[i]!)}\t${num(c.zeroThreshold[i]!)}\t${side(p)}\t${side(n)}\n`,
          )
        }
        break
      }
      case 'summaries': {
        const c = b.summaries
        for (let i = 0; i < c.length; i++) {
          lines.push(
            `${head(c, i)}\t${uint(c.count[i]!)}\t${num(c.sum[i]!)}\t${arr(c.quantiles[i]!)}\t${arr(c.values[i]!)}\n`,
          )
        }
        break
      }
    }
  }
  return lines.length === 0 ? undefined : Buffer.from(lines.join(''))
}

const TAB = 0x09
const NEWLINE = 0x0a

/** Samples, the bulk of every commit, through the byte writer (see TsvWriter). */
export function encodeSamples(batches: readonly PointBatch[]): Buffer | undefined {
  let rows = 0
  for (const b of batches) rows += b.samples.length
  if (rows === 0) return undefined
  const w = new TsvWriter(rows * 64)
  // A request's samples mostly share their timestamp (a scrape, an export): its digits are
  // written once and copied for the rows after.
  let lastTs = NaN,
    lastTsAt = 0,
    lastTsLength = 0
  for (const b of batches) {
    const c = b.samples
    for (let i = 0; i < c.length; i++) {
      w.raw(prefixBytes(c.series[i]!))
      const ts = c.ts[i]!
      if (ts === lastTs) w.repeat(lastTsAt, lastTsLength)
      else {
        lastTsAt = w.length
        w.int(ts)
        lastTsLength = w.length - lastTsAt
        lastTs = ts
      }
      w.byte(TAB)
      w.int(c.start[i]!)
      w.byte(TAB)
      w.int(c.flags[i]!)
      w.byte(TAB)
      w.float(c.value[i]!)
      w.byte(NEWLINE)
    }
  }
  return w.bytes()
}

/** Column order of each point table, as `encodePoints` writes them. */
export const POINT_COLUMNS: Record<PointTable, readonly string[]> = {
  samples: ['series_id', 'ts', 'start', 'flags', 'value'],
  histograms: ['series_id', 'ts', 'start', 'flags', 'count', 'sum', 'min', 'max', 'bounds', 'counts'],
  exp_histograms: [
    'series_id',
    'ts',
    'start',
    'flags',
    'count',
    'sum',
    'min',
    'max',
    'scale',
    'zero_count',
    'zero_threshold',
    'positive_offset',
    'positive_counts',
    'negative_offset',
    'negative_counts',
  ],
  summaries: ['series_id', 'ts', 'start', 'flags', 'count', 'sum', 'quantiles', 'values'],
}

export const SERIES_COLUMNS = [
  'metric',
  'series_id',
  'type',
  'temporality',
  'monotonic',
  'unit',
  'description',
  'service',
  'scope',
  'resource',
  'attributes',
] as const

/** Series rows, in SERIES_COLUMNS order. */
export function encodeSeries(series: Iterable<SeriesInfo>): Buffer | undefined {
  const lines: string[] = []
  for (const s of series) {
    lines.push(
      `${str(s.metric)}\t${s.id}\t${s.type}\t${s.temporality}\t${s.monotonic ? 1 : 0}\t${str(s.unit)}\t${str(s.description)}\t${str(s.service)}\t${str(s.scope)}\t${map(s.resource)}\t${map(s.attributes)}\n`,
    )
  }
  return lines.length === 0 ? undefined : Buffer.from(lines.join(''))
}

/** Column order of the exemplars table, as `encodeExemplars` writes them. */
export const EXEMPLAR_COLUMNS = ['series_id', 'ts', 'value', 'labels'] as const

/** Exemplar rows, in EXEMPLAR_COLUMNS order; undefined when the batches have none. */
export function encodeExemplars(batches: readonly PointBatch[]): Buffer | undefined {
  const lines: string[] = []
  for (const b of batches) {
    const c = b.exemplars
    for (let i = 0; i < c.length; i++) {
      lines.push(`${prefix(c.series[i]!)}${c.ts[i]}\t${num(c.value[i]!)}\t${map(c.labels[i]!)}\n`)
    }
  }
  return lines.length === 0 ? undefined : Buffer.from(lines.join(''))
}

interface Head {
  series: SeriesInfo[]
  ts: number[]
  start: number[]
  flags: number[]
}

// The decimal series id, once per series rather than per point: turning a bigint into text
// is the dearest part of a row.
const prefixes = new WeakMap<SeriesInfo, string>()

function prefix(s: SeriesInfo): string {
  let p = prefixes.get(s)
  if (p === undefined) prefixes.set(s, (p = `${s.id}\t`))
  return p
}

function prefixBytes(s: SeriesInfo): Buffer {
  return (s.tsvPrefix ??= Buffer.from(prefix(s)))
}

function head(c: Head, i: number): string {
  return `${prefix(c.series[i]!)}${c.ts[i]}\t${c.start[i]}\t${c.flags[i]}`
}

function num(v: number): string {
  if (Number.isFinite(v)) return String(v)
  return Number.isNaN(v) ? 'nan' : v > 0 ? 'inf' : '-inf'
}

function arr(values: readonly number[]): string {
  let out = '['
  for (let i = 0; i < values.length; i++) out += (i === 0 ? '' : ',') + num(values[i]!)
  return out + ']'
}

const UINT64_MAX = 2n ** 64n - 1n

/**
 * A UInt64 value as plain digits, at most 2^64 - 1. String() is not enough past 2^53: it
 * writes the double's shortest form (2^64 - 1 arrives as 2^64, `18446744073709552000`,
 * which the engine wraps to 384), and from 1e21 an exponent (`1e+21`, which it refuses).
 */
function uint(v: number): string {
  if (v <= Number.MAX_SAFE_INTEGER) return String(v)
  const b = BigInt(v)
  return (b > UINT64_MAX ? UINT64_MAX : b).toString()
}

function uints(values: readonly number[]): string {
  let out = '['
  for (let i = 0; i < values.length; i++) out += (i === 0 ? '' : ',') + uint(values[i]!)
  return out + ']'
}

function side(b: ExpBuckets): string {
  return `${b.offset}\t${uints(b.counts)}`
}

const TSV_ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r', '\0': '\\0' }

/** A string field, escaped as TabSeparated requires. */
function str(s: string): string {
  return /[\\\t\n\r\0]/.test(s) ? s.replace(/[\\\t\n\r\0]/g, (ch) => TSV_ESCAPES[ch]!) : s
}

/**
 * A Map(String, String) field: `{'k':'v'}`. Inside a compound value TSV quotes strings
 * with single quotes and the same backslash escapes, once (not escaped a second time).
 */
function map(attrs: Record<string, string>): string {
  let out = '{'
  let first = true
  for (const k in attrs) {
    out += `${first ? '' : ','}${quote(k)}:${quote(attrs[k]!)}`
    first = false
  }
  return out + '}'
}

function quote(s: string): string {
  return `'${s.replace(/[\\'\t\n\r\0]/g, (ch) => TSV_ESCAPES[ch] ?? '\\' + ch)}'`
}
