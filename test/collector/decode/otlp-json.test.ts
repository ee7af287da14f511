import { describe, expect, it } from 'vitest'
import { decodeOtlpJson } from '../../../collector/src/decode/otlp-json.ts'
import { decodeOtlpProto } from '../../../collector/src/decode/otlp-proto.ts'
import { isGovernorError } from '../../../collector/src/errors.ts'
import { SeriesCache } from '../../../collector/src/model/series-cache.ts'

/* What only the JSON mapping has: several spellings of one value, and shape errors. */

const T = '1700000000123456789'
const T_MS = 1_700_000_000_123

const decode = (body: unknown) => decodeOtlpJson(body, new SeriesCache())
const wrap = (metrics: unknown[], extra: Record<string, unknown> = {}) => ({
  resourceMetrics: [
    {
      resource: { attributes: [{ key: 'service.name', value: { stringValue: 'svc' } }] },
      scopeMetrics: [{ scope: { name: 'sc' }, metrics }],
      ...extra,
    },
  ],
})
const sum = (dataPoints: unknown[], more: Record<string, unknown> = {}) => ({ name: 's', sum: { dataPoints, ...more } })

function malformed(body: unknown): string {
  try {
    decode(body)
  } catch (err) {
    if (!isGovernorError(err)) throw err
    expect(err.code).toBe('GOV_ERR_OTLP_MALFORMED')
    return err.message
  }
  throw new Error('expected GOV_ERR_OTLP_MALFORMED')
}

describe('decodeOtlpJson', () => {
  it('accepts int64 and fixed64 as strings and as numbers', () => {
    const r = decode(
      wrap([
        sum([
          { timeUnixNano: T, startTimeUnixNano: '1700000000000000000', asInt: '-42' },
          { timeUnixNano: 1_700_000_000_123_500_000, startTimeUnixNano: 1_700_000_000_000_500_000, asInt: -42 },
        ]),
      ]),
    )
    expect(r.rejected).toBe(0)
    expect(r.batch.samples.ts).toEqual([T_MS, T_MS])
    expect(r.batch.samples.start).toEqual([1_700_000_000_000, 1_700_000_000_000])
    expect(r.batch.samples.value).toEqual([-42, -42])
    expect(r.batch.samples.seriesId[0]).toBe(r.batch.samples.seriesId[1])

    const h = decode(
      wrap([
        {
          name: 'h',
          histogram: {
            dataPoints: [
              { timeUnixNano: T, count: '3', explicitBounds: [1], bucketCounts: ['1', '2'] },
              { timeUnixNano: T, count: 3, explicitBounds: ['1'], bucketCounts: [1, 2] },
            ],
          },
        },
      ]),
    ).batch.histograms
    expect(h.count).toEqual([3, 3])
    expect(h.counts).toEqual([
      [1, 2],
      [1, 2],
    ])
    expect(h.bounds).toEqual([[1], [1]])
  })

  it('accepts enums as integers and as names', () => {
    const temporalities = [
      1,
      'AGGREGATION_TEMPORALITY_DELTA',
      2,
      'AGGREGATION_TEMPORALITY_CUMULATIVE',
      '2',
      0,
      'SOMETHING_NEW',
      undefined,
    ]
    const metrics = temporalities.map((t, i) => ({
      name: `m${i}`,
      sum: { aggregationTemporality: t, isMonotonic: true, dataPoints: [{ timeUnixNano: T, asDouble: 1 }] },
    }))
    const r = decode(wrap(metrics))
    const got = r.batch.samples.seriesId.map((id) => r.batch.series.get(id)?.temporality)
    expect(got).toEqual([
      'delta',
      'delta',
      'cumulative',
      'cumulative',
      'cumulative',
      'unspecified',
      'unspecified',
      'unspecified',
    ])
  })

  it('accepts doubles as numbers and as the special strings', () => {
    const r = decode(
      wrap([
        {
          name: 'g',
          gauge: {
            dataPoints: ['NaN', 'Infinity', '-Infinity', '1.5', 2.5].map((v) => ({ timeUnixNano: T, asDouble: v })),
          },
        },
      ]),
    )
    const v = r.batch.samples.value
    expect(v[0]).toBeNaN()
    expect(v.slice(1)).toEqual([Infinity, -Infinity, 1.5, 2.5])
  })

  it('normalises ints and bytes so attributes match the protobuf decoder', () => {
    const attrs = [
      { key: 'i', value: { intValue: '007' } },
      { key: 'n', value: { intValue: 2 ** 63 } },
      { key: 'b', value: { bytesValue: 'AQID_w' } },
      { key: 'x', value: null },
    ]
    const r = decode(wrap([{ name: 'g', gauge: { dataPoints: [{ timeUnixNano: T, asInt: 1, attributes: attrs }] } }]))
    const s = r.batch.series.get(r.batch.samples.seriesId[0]!)!
    expect({ ...s.attributes }).toEqual({ i: '7', n: '9223372036854775808', b: 'AQID/w==', x: '' })
  })

  it('ignores unknown keys and treats null as absent', () => {
    const r = decode({
      future: { x: 1 },
      resourceMetrics: [
        {
          schemaUrl: 'u',
          newThing: [1, 2],
          resource: null,
          scopeMetrics: [
            {
              scope: null,
              metrics: [
                {
                  name: 'g',
                  metadata: [{ key: 'k' }],
                  gauge: {
                    dataPoints: [
                      { timeUnixNano: T, asDouble: 1, exemplars: [{ anything: true }], flags: null, shiny: 'yes' },
                    ],
                  },
                },
                { name: 'nodata', description: 'no data field' },
                { name: 'nullsum', sum: null },
              ],
            },
          ],
        },
      ],
    })
    expect(r.rejected).toBe(0)
    expect(r.batch.samples.value).toEqual([1])
    expect(r.batch.series.get(r.batch.samples.seriesId[0]!)).toMatchObject({ service: 'unknown_service', scope: '' })
  })

  it('rejects points with missing, zero or out-of-range times and keeps the rest', () => {
    const r = decode(
      wrap([
        sum([
          { timeUnixNano: T, asDouble: 1 },
          { asDouble: 2 },
          { timeUnixNano: 0, asDouble: 3 },
          { timeUnixNano: '0', asDouble: 4 },
          { timeUnixNano: 'Infinity', asDouble: 5 },
          // eslint-disable-next-line no-loss-of-precision -- a time past any float: Infinity, on purpose
          { timeUnixNano: 1e400, asDouble: 6 },
          { timeUnixNano: T, startTimeUnixNano: 'Infinity', asDouble: 7 },
          { timeUnixNano: T, asDouble: 8 },
        ]),
      ]),
    )
    expect(r.rejected).toBe(6)
    expect(r.batch.samples.value).toEqual([1, 8])
    const nanos = 'expected an integer number of nanoseconds in 0..18446744073709551615'
    expect(r.errors).toEqual([
      'metric "s": data point has no time_unix_nano (missing or 0)',
      `metric "s": data point 4: time_unix_nano is Infinity, ${nanos}`,
      `metric "s": data point 5: time_unix_nano is Infinity, ${nanos}`,
      `metric "s": data point 6: start_time_unix_nano is Infinity, ${nanos}`,
    ])
  })

  it('gives the same batch as the protobuf decoder for the same points', () => {
    // Hand-encoded protobuf of: gauge "g" { point { time=T, as_double=1.5, attr a="b" } }, no resource.
    const enc = new TextEncoder()
    const kv = [0x0a, 1, ...enc.encode('a'), 0x12, 3, 0x0a, 1, ...enc.encode('b')]
    const tBytes = [...new Uint8Array(new BigUint64Array([BigInt(T)]).buffer)]
    const vBytes = [...new Uint8Array(new Float64Array([1.5]).buffer)]
    const point = [0x19, ...tBytes, 0x21, ...vBytes, 0x3a, kv.length, ...kv]
    const gauge = [0x0a, point.length, ...point]
    const metric = [0x0a, 1, ...enc.encode('g'), 0x2a, gauge.length, ...gauge]
    const scope = [0x12, metric.length, ...metric]
    const rm = [0x12, scope.length, ...scope]
    const body = new Uint8Array([0x0a, rm.length, ...rm])
    const p = decodeOtlpProto(body, new SeriesCache())
    const j = decode({
      resourceMetrics: [
        {
          scopeMetrics: [
            {
              metrics: [
                {
                  name: 'g',
                  gauge: {
                    dataPoints: [
                      { timeUnixNano: T, asDouble: 1.5, attributes: [{ key: 'a', value: { stringValue: 'b' } }] },
                    ],
                  },
                },
              ],
            },
          ],
        },
      ],
    })
    expect(j.batch.samples).toEqual(p.batch.samples)
    expect(j.batch.series).toEqual(p.batch.series)
    expect(p.batch.samples.ts).toEqual([T_MS])
  })

  it('throws GOV_ERR_OTLP_MALFORMED naming the path of a wrong shape', () => {
    expect(malformed(null)).toBe('invalid OTLP JSON at the top level: the body is null, not a JSON object')
    expect(malformed([])).toMatch(/top level: the body is an array/)
    expect(malformed('{}')).toMatch(/top level: the body is "\{\}"/)
    expect(malformed({ resourceMetrics: {} })).toBe(
      'invalid OTLP JSON at resourceMetrics: expected an array, got an object',
    )
    expect(malformed({ resourceMetrics: [5] })).toBe(
      'invalid OTLP JSON at resourceMetrics[0]: expected an object, got 5',
    )
    expect(malformed({ resourceMetrics: [{ resource: { attributes: 'x' } }] })).toBe(
      'invalid OTLP JSON at resourceMetrics[0].resource.attributes: expected an array, got "x"',
    )
    const deep = (metrics: unknown[]) => ({
      resourceMetrics: [{}, { scopeMetrics: [{}, { metrics: [{}, {}, ...metrics] }] }],
    })
    expect(malformed(deep([{ name: 5 }]))).toBe(
      'invalid OTLP JSON at resourceMetrics[1].scopeMetrics[1].metrics[2].name: expected a string, got 5',
    )
    expect(malformed(deep([{ name: 'g', gauge: { dataPoints: {} } }]))).toBe(
      'invalid OTLP JSON at resourceMetrics[1].scopeMetrics[1].metrics[2].gauge.dataPoints: expected an array, got an object',
    )
    expect(malformed(deep([{ name: 's', sum: { isMonotonic: 'yes' } }]))).toMatch(
      /metrics\[2\]\.sum\.isMonotonic: expected true or false/,
    )
    expect(malformed(deep([sum([{}, { timeUnixNano: T, attributes: [{ key: 3 }] }])]))).toBe(
      'invalid OTLP JSON at resourceMetrics[1].scopeMetrics[1].metrics[2].sum.dataPoints[1].attributes[0].key: expected a string, got 3',
    )
    expect(
      malformed(
        deep([sum([{ attributes: [{}, { key: 'k', value: { arrayValue: { values: [{}, { intValue: 'x' }] } } }] }])]),
      ),
    ).toBe(
      'invalid OTLP JSON at resourceMetrics[1].scopeMetrics[1].metrics[2].sum.dataPoints[0].attributes[1].value.arrayValue.values[1].intValue: expected an integer, got "x"',
    )
    expect(
      malformed(
        deep([
          sum([
            { attributes: [{ key: 'k', value: { kvlistValue: { values: [{ key: 'a', value: { boolValue: 1 } }] } } }] },
          ]),
        ]),
      ),
    ).toMatch(/attributes\[0\]\.value\.kvlistValue\.values\[0\]\.value\.boolValue: expected true or false, got 1$/)
    expect(malformed(deep([{ name: 'h', histogram: { dataPoints: [{ bucketCounts: [1, 'x'] }] } }]))).toMatch(
      /histogram\.dataPoints\[0\]\.bucketCounts\[1\]: expected an integer, got "x"$/,
    )
    expect(
      malformed(deep([{ name: 'e', exponentialHistogram: { dataPoints: [{ positive: { bucketCounts: [true] } }] } }])),
    ).toMatch(/exponentialHistogram\.dataPoints\[0\]\.positive\.bucketCounts\[0\]: expected an integer, got true$/)
    expect(
      malformed(deep([{ name: 'q', summary: { dataPoints: [{ quantileValues: [{}, { value: {} }] }] } }])),
    ).toMatch(/summary\.dataPoints\[0\]\.quantileValues\[1\]\.value: expected a number, got an object$/)
    expect(malformed(deep([sum([{ timeUnixNano: true }])]))).toMatch(
      /dataPoints\[0\]\.timeUnixNano: expected a timestamp/,
    )
    expect(malformed(deep([sum([{ asInt: 'twelve' }])]))).toMatch(
      /dataPoints\[0\]\.asInt: expected an integer, got "twelve"/,
    )
  })

  it('refuses AnyValues nested too deeply instead of overflowing the stack', () => {
    let value: unknown = { stringValue: 'x' }
    for (let i = 0; i < 100; i++) value = { arrayValue: { values: [value] } }
    expect(malformed(wrap([sum([{ timeUnixNano: T, attributes: [{ key: 'k', value }] }])]))).toMatch(
      /nested deeper than 32 levels/,
    )
  })
})
