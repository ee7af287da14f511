import { describe, expect, it } from 'vitest'
import type { DecodeResult } from '../../../collector/src/decode/decode-result.ts'
import { decodeOtlpJson } from '../../../collector/src/decode/otlp-json.ts'
import { decodeOtlpProto } from '../../../collector/src/decode/otlp-proto.ts'
import { aboveUint64, badBound, outsideInt64 } from '../../../collector/src/decode/point-limits.ts'
import type { PointTable } from '../../../collector/src/store/migrations.ts'
import { encodePoints } from '../../../collector/src/store/encode-tsv.ts'
import { SeriesCache } from '../../../collector/src/model/series-cache.ts'
import { encodeOtlpRequest } from '../../helpers/otlp-proto.ts'

/*
 * Numbers that fit their OTLP field's shape but not the column they land in (a count of -1,
 * flags of 1e300, a scale of 1.5...). Each bad point sits between two good ones of the same
 * metric: it alone is rejected, with the metric, its index, the field and the value named,
 * and the good ones are kept. Protobuf cannot carry most of them (a fixed64 is never
 * negative or fractional); what it makes of them is checked too: a count of "-1" arrives as
 * the fixed64 2^64 - 1, a valid count that must reach the store as exactly that.
 */

const T = 1_700_000_000_123
const nanos = (ms: number) => `${ms}000000`
const UINT64 = 'expected an integer in 0..18446744073709551615'
const NANOS = 'expected an integer number of nanoseconds in 0..18446744073709551615'

type Kind = 'gauge' | 'histogram' | 'exponentialHistogram' | 'summary'
const TABLE: Record<Kind, PointTable> = {
  gauge: 'samples',
  histogram: 'histograms',
  exponentialHistogram: 'exp_histograms',
  summary: 'summaries',
}

/** A valid point of each kind at time `ms`. */
function goodPoint(kind: Kind, ms: number): Record<string, unknown> {
  const time = { timeUnixNano: nanos(ms), startTimeUnixNano: nanos(T - 60_000) }
  switch (kind) {
    case 'gauge':
      return { ...time, asDouble: 1.5, flags: 0 }
    case 'histogram':
      return { ...time, count: '3', sum: 6, bucketCounts: ['1', '1', '1'], explicitBounds: [1, 2], flags: 0 }
    case 'exponentialHistogram':
      return {
        ...time,
        count: '3',
        sum: 3,
        scale: 2,
        zeroCount: '1',
        positive: { offset: -1, bucketCounts: ['1', '1'] },
        negative: { offset: 0, bucketCounts: [] },
      }
    case 'summary':
      return {
        ...time,
        count: '4',
        sum: 10,
        quantileValues: [
          { quantile: 0.5, value: 2 },
          { quantile: 0.99, value: 4 },
        ],
      }
  }
}

/** A request with metric "m" of `kind`: a good point, the good point changed by `bad`, a good point. */
function request(kind: Kind, bad: Record<string, unknown>): object {
  const data = {
    aggregationTemporality: 2,
    dataPoints: [goodPoint(kind, T), { ...goodPoint(kind, T + 1), ...bad }, goodPoint(kind, T + 2)],
  }
  return {
    resourceMetrics: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'svc' } }] },
        scopeMetrics: [{ scope: { name: 'sc' }, metrics: [{ name: 'm', [kind]: data }] }],
      },
    ],
  }
}

const json = (kind: Kind, bad: Record<string, unknown>) => decodeOtlpJson(request(kind, bad), new SeriesCache())
const proto = (kind: Kind, bad: Record<string, unknown>) =>
  decodeOtlpProto(encodeOtlpRequest(request(kind, bad)), new SeriesCache())

/** The point at index 1 was rejected for `reason`; the good points at 0 and 2 are kept. */
function expectRejected(r: DecodeResult, kind: Kind, reason: string): void {
  expect(r.errors).toEqual([`metric "m": data point 1: ${reason}`])
  expect(r.rejected).toBe(1)
  const table = TABLE[kind]
  const columns =
    table === 'samples'
      ? r.batch.samples
      : table === 'histograms'
        ? r.batch.histograms
        : table === 'exp_histograms'
          ? r.batch.expHistograms
          : r.batch.summaries
  expect(columns.ts).toEqual([T, T + 2])
}

/** The TSV row of the point at index 1, split into its columns. */
function storedRow(r: DecodeResult, kind: Kind): string[] {
  expect(r.rejected).toBe(0)
  const rows = encodePoints(TABLE[kind], [r.batch])!.toString().trimEnd().split('\n')
  expect(rows).toHaveLength(3)
  return rows[1]!.split('\t')
}

describe('poisoned numbers in OTLP JSON reject their point only', () => {
  const cases: [string, Kind, Record<string, unknown>, string][] = [
    // The variants that stopped ingest: each was acknowledged, then refused by the store forever.
    ['histogram count "-1"', 'histogram', { count: '-1' }, `count is -1, ${UINT64}`],
    ['histogram count 1.5', 'histogram', { count: 1.5 }, `count is 1.5, ${UINT64}`],
    ['histogram count "1e300"', 'histogram', { count: '1e300' }, `count is 1e300, ${UINT64}`],
    ['negative bucket count', 'histogram', { bucketCounts: ['1', '-1', '1'] }, `bucket_counts[1] is -1, ${UINT64}`],
    ['negative exponential zeroCount', 'exponentialHistogram', { zeroCount: '-1' }, `zero_count is -1, ${UINT64}`],
    ['exponential scale 1.5', 'exponentialHistogram', { scale: 1.5 }, 'scale is 1.5, expected an integer in -10..20'],
    ['summary count -5', 'summary', { count: -5 }, `count is -5, ${UINT64}`],
    ['gauge flags 1e300', 'gauge', { flags: 1e300 }, 'flags is 1e+300, expected an integer in 0..255'],
    // Their neighbours.
    ['histogram count "NaN"', 'histogram', { count: 'NaN' }, `count is NaN, ${UINT64}`],
    ['histogram count "Infinity"', 'histogram', { count: 'Infinity' }, `count is Infinity, ${UINT64}`],
    [
      'count one past 2^64 - 1, as digits',
      'histogram',
      { count: '18446744073709551616' },
      `count is 18446744073709551616, ${UINT64}`,
    ],
    [
      'count 2^64 as a JSON number (not provably within uint64)',
      'summary',
      { count: 2 ** 64 },
      `count is 18446744073709552000, ${UINT64}`,
    ],
    [
      'bucket count 1e300 as a number',
      'histogram',
      { bucketCounts: [1, 1e300, 1] },
      `bucket_counts[1] is 1e+300, ${UINT64}`,
    ],
    ['fractional bucket count', 'histogram', { bucketCounts: ['1', '0.5', '1'] }, `bucket_counts[1] is 0.5, ${UINT64}`],
    [
      'unsorted explicit bounds',
      'histogram',
      { explicitBounds: [2, 1] },
      'explicit_bounds[1] is 1, expected a finite number above explicit_bounds[0] (2): bounds are strictly increasing',
    ],
    [
      'repeated explicit bound',
      'histogram',
      { explicitBounds: [1, 1] },
      'explicit_bounds[1] is 1, expected a finite number above explicit_bounds[0] (1): bounds are strictly increasing',
    ],
    [
      'infinite explicit bound',
      'histogram',
      { explicitBounds: [1, 'Infinity'] },
      'explicit_bounds[1] is Infinity, expected a finite number above explicit_bounds[0] (1): bounds are strictly increasing',
    ],
    [
      'NaN explicit bound',
      'histogram',
      { explicitBounds: ['NaN', 2] },
      'explicit_bounds[0] is NaN, expected a finite number',
    ],
    ['negative histogram flags', 'histogram', { flags: -1 }, 'flags is -1, expected an integer in 0..255'],
    [
      'flags past the column (256)',
      'exponentialHistogram',
      { flags: 256 },
      'flags is 256, expected an integer in 0..255',
    ],
    ['exponential scale 21', 'exponentialHistogram', { scale: 21 }, 'scale is 21, expected an integer in -10..20'],
    ['exponential scale -11', 'exponentialHistogram', { scale: '-11' }, 'scale is -11, expected an integer in -10..20'],
    ['exponential count "-2"', 'exponentialHistogram', { count: '-2' }, `count is -2, ${UINT64}`],
    [
      'bucket offset past int32',
      'exponentialHistogram',
      { positive: { offset: 2 ** 31, bucketCounts: ['1'] } },
      'positive.offset is 2147483648, expected an integer in -2147483648..2147483647',
    ],
    [
      'fractional negative bucket count',
      'exponentialHistogram',
      { negative: { offset: 0, bucketCounts: [1.5] } },
      `negative.bucket_counts[0] is 1.5, ${UINT64}`,
    ],
    [
      'huge positive bucket count, as digits',
      'exponentialHistogram',
      { positive: { offset: 0, bucketCounts: ['1', '99999999999999999999'] } },
      `positive.bucket_counts[1] is 99999999999999999999, ${UINT64}`,
    ],
    [
      'summary quantile 1.5',
      'summary',
      {
        quantileValues: [
          { quantile: 0.5, value: 1 },
          { quantile: 1.5, value: 2 },
        ],
      },
      'quantile_values[1].quantile is 1.5, expected a number in 0..1',
    ],
    [
      'summary quantile NaN',
      'summary',
      { quantileValues: [{ quantile: 'NaN', value: 1 }] },
      'quantile_values[0].quantile is NaN, expected a number in 0..1',
    ],
    [
      'fractional asInt',
      'gauge',
      { asDouble: undefined, asInt: 1.5 },
      'as_int is 1.5, expected an integer in -9223372036854775808..9223372036854775807',
    ],
    [
      'asInt past int64',
      'gauge',
      { asDouble: undefined, asInt: '9223372036854775808' },
      'as_int is 9223372036854775808, expected an integer in -9223372036854775808..9223372036854775807',
    ],
    ['negative time', 'gauge', { timeUnixNano: '-1' }, `time_unix_nano is -1, ${NANOS}`],
    ['fractional time', 'histogram', { timeUnixNano: 1.5 }, `time_unix_nano is 1.5, ${NANOS}`],
    [
      'time past 2^64 - 1 ns',
      'summary',
      { timeUnixNano: '18446744073709551616' },
      `time_unix_nano is 18446744073709551616, ${NANOS}`,
    ],
    ['time in exponent form past 2^64 ns', 'gauge', { timeUnixNano: 1e30 }, `time_unix_nano is 1e+30, ${NANOS}`],
    [
      'start time that is no number',
      'histogram',
      { startTimeUnixNano: 'soon' },
      `start_time_unix_nano is "soon", ${NANOS}`,
    ],
  ]
  it.each(cases)('%s', (_name, kind, bad, reason) => {
    expectRejected(json(kind, bad), kind, reason)
  })

  it('keeps the largest values that fit, and writes them as the column reads them', () => {
    const max = '18446744073709551615'
    const h = storedRow(json('histogram', { count: max, bucketCounts: [max, '0', '9007199254740993'] }), 'histogram')
    expect(h[4]).toBe(max)
    expect(h[9]).toBe(`[${max},0,9007199254740992]`)
    const e = storedRow(
      json('exponentialHistogram', {
        scale: -10,
        zeroCount: max,
        positive: { offset: -(2 ** 31), bucketCounts: [max] },
        negative: { offset: 2 ** 31 - 1, bucketCounts: [] },
      }),
      'exponentialHistogram',
    )
    expect([e[8], e[9], e[11], e[12], e[13]]).toEqual(['-10', max, '-2147483648', `[${max}]`, '2147483647'])
    const g = storedRow(
      json('gauge', {
        flags: 255,
        asDouble: undefined,
        asInt: '-9223372036854775808',
        timeUnixNano: '0000001700000000124000000',
      }),
      'gauge',
    )
    expect([g[1], g[3], g[4]]).toEqual([String(T + 1), '255', '-9223372036854776000'])
    const s = storedRow(
      json('summary', {
        count: '1e3',
        quantileValues: [
          { quantile: 0, value: 'NaN' },
          { quantile: 1, value: '-Infinity' },
        ],
      }),
      'summary',
    )
    expect([s[4], s[6], s[7]]).toEqual(['1000', '[0,1]', '[nan,-inf]'])
  })

  it('still refuses a value of the wrong shape as a malformed request', () => {
    expect(() => json('histogram', { count: 'three' })).toThrow(
      /dataPoints\[1\]\.count: expected an integer, got "three"/,
    )
    expect(() => json('histogram', { bucketCounts: [true] })).toThrow(
      /dataPoints\[1\]\.bucketCounts\[0\]: expected an integer, got true/,
    )
  })
})

describe('poisoned numbers in OTLP protobuf', () => {
  it.each([
    ['histogram count "-1" (the fixed64 2^64 - 1)', 'histogram', { count: '-1' }, 4],
    ['summary count -5 (the fixed64 2^64 - 5)', 'summary', { count: '-5' }, 4],
    ['negative exponential zeroCount (the fixed64 2^64 - 1)', 'exponentialHistogram', { zeroCount: '-1' }, 9],
    ['exponential count past 2^53', 'exponentialHistogram', { count: '18446744073709551615' }, 4],
  ] as [string, Kind, Record<string, unknown>, number][])(
    '%s is stored as a count the UInt64 column holds',
    (_name, kind, bad, column) => {
      // As a double these are 2^64, which String() writes 18446744073709552000: wrapped to 384.
      expect(storedRow(proto(kind, bad), kind)[column]).toBe('18446744073709551615')
    },
  )

  it('negative bucket counts (fixed64 and uint64 varints) are stored as counts the column holds', () => {
    expect(storedRow(proto('histogram', { bucketCounts: ['1', '-1', '1'] }), 'histogram')[9]).toBe(
      '[1,18446744073709551615,1]',
    )
    const e = storedRow(
      proto('exponentialHistogram', { positive: { offset: 0, bucketCounts: ['-1', '9007199254740993'] } }),
      'exponentialHistogram',
    )
    expect(e[12]).toBe('[18446744073709551615,9007199254740992]')
  })

  const cases: [string, Kind, Record<string, unknown>, string][] = [
    ['exponential scale 21', 'exponentialHistogram', { scale: 21 }, 'scale is 21, expected an integer in -10..20'],
    ['exponential scale -11', 'exponentialHistogram', { scale: -11 }, 'scale is -11, expected an integer in -10..20'],
    [
      'exponential scale past int8',
      'exponentialHistogram',
      { scale: 2 ** 31 - 1 },
      'scale is 2147483647, expected an integer in -10..20',
    ],
    ['gauge flags past the column (256)', 'gauge', { flags: 256 }, 'flags is 256, expected an integer in 0..255'],
    [
      'histogram flags 2^32 - 1',
      'histogram',
      { flags: 2 ** 32 - 1 },
      'flags is 4294967295, expected an integer in 0..255',
    ],
    ['exponential flags 1000', 'exponentialHistogram', { flags: 1000 }, 'flags is 1000, expected an integer in 0..255'],
    ['summary flags 300', 'summary', { flags: 300 }, 'flags is 300, expected an integer in 0..255'],
    [
      'unsorted explicit bounds',
      'histogram',
      { explicitBounds: [2, 1] },
      'explicit_bounds[1] is 1, expected a finite number above explicit_bounds[0] (2): bounds are strictly increasing',
    ],
    [
      'NaN explicit bound',
      'histogram',
      { explicitBounds: [1, NaN] },
      'explicit_bounds[1] is NaN, expected a finite number above explicit_bounds[0] (1): bounds are strictly increasing',
    ],
    [
      '-Infinity explicit bound',
      'histogram',
      { explicitBounds: [-Infinity, 2] },
      'explicit_bounds[0] is -Infinity, expected a finite number',
    ],
    [
      'summary quantile 2',
      'summary',
      { quantileValues: [{ quantile: 2, value: 1 }] },
      'quantile_values[0].quantile is 2, expected a number in 0..1',
    ],
    [
      'summary quantile -0.5',
      'summary',
      {
        quantileValues: [
          { quantile: 0.5, value: 1 },
          { quantile: -0.5, value: 1 },
        ],
      },
      'quantile_values[1].quantile is -0.5, expected a number in 0..1',
    ],
  ]
  it.each(cases)('%s rejects its point only', (_name, kind, bad, reason) => {
    expectRejected(proto(kind, bad), kind, reason)
    // The JSON decoder says the same of the same values.
    expectRejected(json(kind, bad), kind, reason)
  })
})

describe('exact limits of decimal text', () => {
  it('aboveUint64 compares digit strings exactly, leading zeros and all', () => {
    expect(aboveUint64('18446744073709551615')).toBe(false)
    expect(aboveUint64('0018446744073709551615')).toBe(false)
    expect(aboveUint64('18446744073709551616')).toBe(true)
    expect(aboveUint64('99999999999999999999')).toBe(true)
    expect(aboveUint64('100000000000000000000')).toBe(true)
    expect(aboveUint64('0')).toBe(false)
  })

  it('outsideInt64 compares signed digit strings exactly', () => {
    expect(outsideInt64('9223372036854775807')).toBe(false)
    expect(outsideInt64('9223372036854775808')).toBe(true)
    expect(outsideInt64('-9223372036854775808')).toBe(false)
    expect(outsideInt64('-9223372036854775809')).toBe(true)
    expect(outsideInt64('-0009223372036854775808')).toBe(false)
  })

  it('badBound finds the first bound that is not finite or not above the one before', () => {
    expect(badBound([])).toBe(-1)
    expect(badBound([-1e300, 0, 1e300])).toBe(-1)
    expect(badBound([0, 1, 1])).toBe(2)
    expect(badBound([0, NaN])).toBe(1)
    expect(badBound([-Infinity])).toBe(0)
  })
})
