import { describe, expect, it } from 'vitest'
import { RemoteWriteV2Decoding } from '../../../collector/src/decode/remote-write-v2.ts'
import { decodeRemoteWrite } from '../../../collector/src/decode/remote-write.ts'
import { isGovernorError } from '../../../collector/src/errors.ts'
import type { PointBatch } from '../../../collector/src/model/batch.ts'
import { SeriesCache } from '../../../collector/src/model/series-cache.ts'
import { encodeWriteRequest } from '../../helpers/remote-write.ts'
import { encodeRawV2Request, encodeV2Request, nativeHistogram, type V2Series } from '../../helpers/remote-write-v2.ts'

const T = 1_700_000_000_000

function decode(series: readonly V2Series[], cache = new SeriesCache()) {
  const decoding = new RemoteWriteV2Decoding(encodeV2Request(series), cache)
  const batch = decoding.next()
  return { batch, decoding }
}

/** Each sample as metric, attributes, type, start, time and value. */
function rows(batch: PointBatch) {
  const s = batch.samples
  return s.series.map((info, i) => ({
    metric: info.metric,
    attributes: { ...info.attributes },
    service: info.service,
    type: info.type,
    description: info.description,
    unit: info.unit,
    start: s.start[i],
    ts: s.ts[i],
    value: s.value[i],
  }))
}

function malformed(fn: () => unknown): string {
  try {
    fn()
  } catch (err) {
    if (!isGovernorError(err)) throw err
    expect(err.code).toBe('GOV_ERR_RW_MALFORMED')
    return err.message
  }
  throw new Error('expected GOV_ERR_RW_MALFORMED')
}

describe('RemoteWriteV2Decoding', () => {
  it('reads labels through the symbols table, types each series by its own metadata, and a counter starts at its created time', () => {
    const { batch, decoding } = decode([
      {
        labels: { __name__: 'http_requests_total', job: 'api', route: '/a' },
        samples: [
          [T, 5],
          [T + 15_000, 7],
        ],
        metadata: { type: 'counter', help: 'Requests served.', unit: '' },
        created: T - 60_000,
      },
      {
        labels: { __name__: 'queue_depth', job: 'api' },
        samples: [[T, 3]],
        metadata: { type: 'gauge', help: 'Jobs waiting.' },
        created: T - 60_000,
      },
      {
        labels: { __name__: 'latency_seconds_bucket', job: 'api', le: '0.1' },
        samples: [[T, 9]],
        metadata: { type: 'histogram', help: 'Latency.', unit: 'seconds' },
      },
      {
        labels: { __name__: 'rpc_seconds', job: 'api', quantile: '0.99' },
        samples: [[T, 0.2]],
        metadata: { type: 'summary' },
      },
    ])
    expect(decoding.done).toBe(true)
    expect(decoding.rejected).toBe(0)
    expect(rows(batch)).toEqual([
      {
        metric: 'http_requests_total',
        attributes: { job: 'api', route: '/a' },
        service: 'api',
        type: 'sum',
        description: 'Requests served.',
        unit: '',
        start: T - 60_000,
        ts: T,
        value: 5,
      },
      expect.objectContaining({ metric: 'http_requests_total', start: T - 60_000, ts: T + 15_000, value: 7 }),
      // A gauge has no start, whatever the sender says.
      expect.objectContaining({
        metric: 'queue_depth',
        type: 'gauge',
        description: 'Jobs waiting.',
        start: 0,
        value: 3,
      }),
      expect.objectContaining({ metric: 'latency_seconds_bucket', type: 'sum', unit: 'seconds', start: 0, value: 9 }),
      expect.objectContaining({ metric: 'rpc_seconds', type: 'gauge', attributes: { job: 'api', quantile: '0.99' } }),
    ])
  })

  it('finds the same series as remote write 1.0 does for the same labels', () => {
    const cache = new SeriesCache()
    const labels = { __name__: 'shared_total', job: 'api', pod: 'p1' }
    const v1 = decodeRemoteWrite(encodeWriteRequest([{ labels, samples: [[T, 1]] }]), cache)
    const { batch } = decode([{ labels, samples: [[T + 1000, 2]] }], cache)
    expect(batch.samples.series[0]!.id).toBe(v1.batch.samples.series[0]!.id)
  })

  it('guesses the type by the name when the series has no metadata', () => {
    const { batch } = decode([
      { labels: { __name__: 'jobs_total', job: 'w' }, samples: [[T, 1]] },
      { labels: { __name__: 'temperature', job: 'w' }, samples: [[T, 20]] },
    ])
    expect(rows(batch).map((r) => [r.metric, r.type])).toEqual([
      ['jobs_total', 'sum'],
      ['temperature', 'gauge'],
    ])
  })

  it('stores native histograms beside samples, and exemplars on their series', () => {
    const { batch, decoding } = decode([
      { labels: { __name__: 'jobs_total', job: 'w' }, samples: [[T, 1]], exemplars: [T] },
      {
        labels: { __name__: 'job_seconds', job: 'w' },
        histograms: [nativeHistogram(T), nativeHistogram(T + 1000)],
        exemplars: [T + 1],
      },
    ])
    expect(batch.samples.length).toBe(1)
    expect(batch.expHistograms.length).toBe(2)
    expect(decoding.rejected).toBe(0)
    expect(batch.exemplars.ts).toEqual([T, T + 1])
    expect(batch.exemplars.labels.map((l) => ({ ...l }))).toEqual([{ trace_id: 'abc' }, { trace_id: 'abc' }])
    expect(batch.exemplars.series[0]!.id).toBe(batch.samples.series[0]!.id)
    expect(batch.exemplars.series[1]!.id).toBe(batch.expHistograms.series[0]!.id)
  })

  it('drops the samples of a series without a name, and says why', () => {
    const { batch, decoding } = decode([{ labels: { job: 'w' }, samples: [[T, 1]] }])
    expect(batch.pointCount).toBe(0)
    expect(decoding.rejected).toBe(1)
    expect(decoding.errors.join(' ')).toMatch(/no __name__/)
  })

  it('decodes in slices that give every sample once', () => {
    const series = Array.from({ length: 200 }, (_, i) => ({
      labels: { __name__: `m${i % 7}`, job: 'w', i: String(i) },
      samples: [[T, i] as const],
    }))
    const decoding = new RemoteWriteV2Decoding(encodeV2Request(series), new SeriesCache())
    const values: number[] = []
    let slices = 0
    while (!decoding.done) {
      let asked = 0
      values.push(...decoding.next(() => ++asked >= 1).samples.value)
      slices++
    }
    expect(slices).toBeGreaterThan(1)
    expect(values.sort((a, b) => a - b)).toEqual(series.map((_, i) => i))
  })

  it('refuses a body whose symbols do not start with the empty string, or whose references fall outside them', () => {
    const cache = new SeriesCache()
    expect(malformed(() => new RemoteWriteV2Decoding(encodeRawV2Request(['x', '__name__'], [1, 0]), cache))).toMatch(
      /first symbol must be the empty string/,
    )
    expect(
      malformed(() => new RemoteWriteV2Decoding(encodeRawV2Request(['', '__name__'], [1, 9]), cache).next()),
    ).toMatch(/symbol reference 9/)
    expect(malformed(() => new RemoteWriteV2Decoding(encodeRawV2Request(['', '__name__'], [1]), cache).next())).toMatch(
      /name and value pairs/,
    )
    expect(malformed(() => new RemoteWriteV2Decoding(Uint8Array.from([0x2a, 0x05, 0x01]), cache))).toBeTruthy()
  })
})
