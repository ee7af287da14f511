import { describe, expect, it } from 'vitest'
import { isGovernorError } from '../../../collector/src/errors.ts'
import { countOtlpItemsJson, countOtlpItemsProto } from '../../../collector/src/receivers/otlp-count.ts'
import { encodeSignalRequest, logsRequest, tracesRequest } from '../../helpers/otlp-signals.ts'

// Spans and log records are counted, never decoded: every span of every scope of every
// resource, whatever else the messages carry.

describe('counting spans and log records', () => {
  it.each([['traces', tracesRequest] as const, ['logs', logsRequest] as const])(
    'counts the %s of a request, in protobuf and in JSON',
    (signal, build) => {
      for (const [services, scopes, perScope] of [
        [['a'], 1, 1],
        [['a', 'b', 'c'], 2, 7],
        [['a'], 3, 0],
        [[], 0, 0],
      ] as const) {
        const request = build([...services], scopes, perScope)
        const expected = services.length * scopes * perScope
        expect(
          countOtlpItemsProto(encodeSignalRequest(signal, request)),
          JSON.stringify([services, scopes, perScope]),
        ).toBe(expected)
        expect(countOtlpItemsJson(signal, request)).toBe(expected)
      }
      expect(countOtlpItemsProto(Buffer.alloc(0))).toBe(0)
    },
  )

  it('passes over fields it does not know, at every level', () => {
    const known = encodeSignalRequest('traces', tracesRequest(['a'], 1, 2))
    // Field 99 (a string) before the request's own field, and an unknown varint inside each span
    // is carried in the spans' bytes, which are never read.
    const unknown = Buffer.concat([Buffer.from([0x9a, 0x06, 0x02]), Buffer.from('hi'), known])
    expect(countOtlpItemsProto(unknown)).toBe(2)
  })

  it('refuses a body that is not protobuf of that shape, or not a JSON object', () => {
    const good = encodeSignalRequest('logs', logsRequest(['a'], 1, 3))
    for (const bad of [
      good.subarray(0, good.length - 1),
      Buffer.from([0x0a, 0x05, 0x12, 0x10, 0x00]),
      Buffer.from([0x08, 0x01, 0x0a]),
    ]) {
      try {
        countOtlpItemsProto(bad)
        throw new Error(`counted ${bad.toString('hex')}`)
      } catch (err) {
        expect(isGovernorError(err) && err.code).toBe('GOV_ERR_OTLP_MALFORMED')
      }
    }
    expect(() => countOtlpItemsJson('traces', [1, 2])).toThrow(/not an OTLP\/JSON export request of traces/)
    expect(countOtlpItemsJson('traces', { resourceSpans: 'nope' })).toBe(0)
  })
})
