import { describe, expect, it } from 'vitest'
import {
  BatchBuilder,
  MAX_ERRORS,
  doubleJson,
  millisFromNanoHalves,
  newAttributes,
  temporalityOf,
} from '../../../collector/src/decode/decode-result.ts'
import { SeriesCache } from '../../../collector/src/model/series-cache.ts'

function halves(ns: bigint): [number, number] {
  return [Number(ns & 0xffff_ffffn), Number(ns >> 32n)]
}

describe('millisFromNanoHalves', () => {
  it('is floor(ns / 1e6) exactly across the fixed64 range', () => {
    const edges = [
      0n,
      1n,
      999_999n,
      1_000_000n,
      2n ** 32n - 1n,
      2n ** 32n,
      2n ** 53n,
      1_700_000_000_123_999_999n,
      1_700_000_000_124_000_000n,
      1_700_000_000_123_999_744n,
      2n ** 64n - 1n,
      2n ** 64n - 1_000_000n,
    ]
    let seed = 7n
    const random: bigint[] = []
    for (let i = 0; i < 20_000; i++) {
      seed = (seed * 6_364_136_223_846_793_005n + 1_442_695_040_888_963_407n) % 2n ** 64n
      // Half near ms boundaries (where rounding bites), half anywhere.
      random.push(i % 2 === 0 ? seed : (seed / 1_000_000n) * 1_000_000n - BigInt(i % 3))
    }
    for (const ns of [...edges, ...random.filter((n) => n >= 0n)]) {
      const [lo, hi] = halves(ns)
      expect(millisFromNanoHalves(lo, hi)).toBe(Number(ns / 1_000_000n))
    }
  })
})

describe('temporalityOf and doubleJson', () => {
  it('maps the enum and writes JSON-safe doubles', () => {
    expect([0, 1, 2, 3, -1].map(temporalityOf)).toEqual([
      'unspecified',
      'delta',
      'cumulative',
      'unspecified',
      'unspecified',
    ])
    expect([1.5, -0, 1e21, NaN, Infinity, -Infinity].map(doubleJson)).toEqual([
      '1.5',
      '0',
      '1e+21',
      '"NaN"',
      '"Infinity"',
      '"-Infinity"',
    ])
  })
})

describe('BatchBuilder', () => {
  const attrs = (o: Record<string, string>) => Object.assign(newAttributes(), o)

  it('fills series metadata and forces gauges and summaries to unspecified, non-monotonic', () => {
    const b = new BatchBuilder(new SeriesCache())
    b.setResource(attrs({ 'service.name': '' }))
    b.setScope('lib')
    b.setMetric('g', 'd', 'u', 'gauge', 'delta', true)
    b.sample(attrs({ k: 'v' }), 10, 0, 0, 1)
    b.setMetric('s', '', '', 'summary', 'cumulative', true)
    b.summary(attrs({}), 10, 5, 0, 2, 3, [0.5], [1])
    b.setMetric('c', '', '', 'sum', 'delta', true)
    b.sample(attrs({}), 10, 5, 1, 4)
    const { batch, rejected } = b.result()
    expect(rejected).toBe(0)
    const infos = [...batch.series.values()]
    expect(infos.map((s) => [s.metric, s.type, s.temporality, s.monotonic])).toEqual([
      ['g', 'gauge', 'unspecified', false],
      ['s', 'summary', 'unspecified', false],
      ['c', 'sum', 'delta', true],
    ])
    expect(infos[0]).toMatchObject({
      service: 'unknown_service',
      scope: 'lib',
      unit: 'u',
      description: 'd',
      attributes: { k: 'v' },
    })
    expect(batch.samples.seriesId).toEqual([infos[0]!.id, infos[2]!.id])
    expect(batch.samples.flags).toEqual([0, 1])
  })

  it('applies the point rules and keeps distinct reasons up to MAX_ERRORS', () => {
    const b = new BatchBuilder(new SeriesCache())
    b.setMetric('m', '', '', 'histogram', 'cumulative', false)
    b.histogram(attrs({}), 0, 0, 0, 1, 1, NaN, NaN, [], [])
    b.histogram(attrs({}), NaN, 0, 0, 1, 1, NaN, NaN, [], [])
    b.histogram(attrs({}), 5, Infinity, 0, 1, 1, NaN, NaN, [], [])
    b.histogram(attrs({}), 5, 0, 0, 1, 1, NaN, NaN, [1], [1])
    b.histogram(attrs({}), 5, 0, 0, 1, 1, NaN, NaN, [1], [1])
    b.histogram(attrs({}), 5, 0, 0, 1, 1, NaN, NaN, [], [])
    b.histogram(attrs({}), 5, 0, 0, 1, 1, NaN, NaN, [], [1])
    b.setMetric('n', '', '', 'gauge', 'unspecified', false)
    b.sample(attrs({}), 5, 0, 0, undefined)
    b.setMetric('', '', '', 'gauge', 'unspecified', false)
    b.rejectPoints('metric has an empty name', 3)
    const { batch, rejected, errors } = b.result()
    expect(rejected).toBe(5 + 1 + 3)
    expect(batch.histograms.length).toBe(2)
    expect(batch.samples.length).toBe(0)
    expect(errors).toHaveLength(MAX_ERRORS)
    expect(errors).toEqual([
      'metric "m": data point has no time_unix_nano (missing or 0)',
      'metric "m": data point time_unix_nano is not a finite number',
      'metric "m": data point start_time_unix_nano is not a finite number',
      'metric "m": histogram data point has 1 bucket counts for 1 explicit bounds (expected bounds + 1)',
      'metric "n": number data point has neither asInt nor asDouble',
    ])
  })
})

describe('BatchBuilder: metric types', () => {
  const attrs = (o: Record<string, string>) => Object.assign(newAttributes(), o)
  const T = 1_700_000_000_000

  it("learns a metric's type from its first admitted point and refuses every point of another type", () => {
    const cache = new SeriesCache()
    const b = new BatchBuilder(cache)
    b.setResource(attrs({ 'service.name': 'shop' }))
    b.setMetric('queue.depth', '', '', 'gauge', 'unspecified', false)
    b.sample(attrs({ q: 'a' }), T, 0, 0, 3)
    b.setMetric('queue.depth', '', '', 'sum', 'cumulative', true)
    b.sample(attrs({ q: 'a' }), T + 1, 0, 0, 4)
    b.histogram(attrs({ q: 'a' }), T + 1, 0, 0, 1, 1, NaN, NaN, [1], [1, 0])
    const r = b.result()
    expect(r.batch.pointCount).toBe(1)
    expect(r.rejected).toBe(2)
    expect(r.errors).toEqual([
      'metric "queue.depth": type sum contradicts the stored type gauge: points of another type are refused (send them under another name)',
    ])
    expect(cache.types.get('queue.depth')).toBe('gauge')
  })

  it('learns nothing from a metric whose points were all refused, and nothing from a type guessed by name', () => {
    const cache = new SeriesCache()
    const b = new BatchBuilder(cache)
    b.setMetric('m', '', '', 'gauge', 'unspecified', false)
    b.sample(attrs({}), 0, 0, 0, 1) // no time: refused
    b.setMetric('hits', '', '', 'gauge', 'unspecified', false, true)
    b.sample(attrs({}), T, 0, 0, 1)
    expect(b.result().batch.pointCount).toBe(1)
    expect([cache.types.get('m'), cache.types.get('hits')]).toEqual([undefined, undefined])
  })
})
