import { describe, expect, it } from 'vitest'
import { decodeOtlpJson } from '../../collector/src/decode/otlp-json.ts'
import { decodeOtlpProto } from '../../collector/src/decode/otlp-proto.ts'
import { CardinalityGuard } from '../../collector/src/model/cardinality-guard.ts'
import { SeriesCache } from '../../collector/src/model/series-cache.ts'
import { encodeOtlp } from '../helpers/fuzz-inputs.ts'
import { gaugeRequest } from '../helpers/otlp.ts'

// Bug (found by the fuzzer's memory check): the series cache kept an entry for every metric
// context a request named (resource, scope, metric, type…), whether or not any series of it
// was kept, and counted only the series under them against its bound. A stream of new metric
// names past the series limit (every point refused) grew the server's heap without end. A context is now kept with its first series, and contexts count
// against the bound too.

const now = Date.now()

describe('the series cache under a stream of new metric names', () => {
  it('holds no context of a metric that brought no point, in protobuf or JSON', () => {
    const cache = new SeriesCache(1_000)
    for (let i = 0; i < 5_000; i++) {
      const request = gaugeRequest(`svc-${i}`, { [`empty.${i}`]: [] })
      expect(decodeOtlpProto(encodeOtlp(request), cache).batch.pointCount).toBe(0)
      expect(decodeOtlpJson(request, cache).batch.pointCount).toBe(0)
    }
    expect(cache.encodingContexts).toBe(0)
  })

  it('holds none past the series limit either', () => {
    const guard = new CardinalityGuard({ maxPerMetric: 1_000, maxPerService: 1, isKnown: () => false, now: () => now })
    const cache = new SeriesCache(1_000, guard)
    decodeOtlpProto(encodeOtlp(gaugeRequest('svc', { first: [{ ts: now, value: 1 }] })), cache)
    for (let i = 0; i < 2_000; i++)
      expect(
        decodeOtlpProto(encodeOtlp(gaugeRequest('svc', { [`over.${i}`]: [{ ts: now, value: 1 }] })), cache).rejected,
      ).toBe(1)
    expect(cache.encodingContexts).toBe(1)
  })

  it('bounds contexts of stored points with the series', () => {
    const cache = new SeriesCache(100)
    for (let i = 0; i < 2_000; i++)
      decodeOtlpProto(encodeOtlp(gaugeRequest(`svc-${i}`, { [`kept.${i}`]: [{ ts: now, value: 1 }] })), cache)
    expect(cache.encodingContexts).toBeGreaterThan(0)
    expect(cache.encodingContexts).toBeLessThanOrEqual(100)
  })

  it('still finds a series by its encoding the second time', () => {
    const cache = new SeriesCache(100)
    const request = encodeOtlp(gaugeRequest('svc', { again: [{ ts: now, value: 1, attrs: { a: 'b' } }] }))
    const first = decodeOtlpProto(request, cache)
    const second = decodeOtlpProto(request, cache)
    expect([...second.batch.series.values()][0]).toBe([...first.batch.series.values()][0])
    expect(cache.encodingContexts).toBe(1)
  })
})
