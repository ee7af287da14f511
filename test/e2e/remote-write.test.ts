import type { FastifyInstance } from 'fastify'
import protobuf from 'protobufjs'
import { compressSync } from 'snappy'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { nanos } from '../helpers/otlp.ts'
import { startServer } from '../helpers/server.ts'
import { encodeRawV2Request, encodeV2Request, nativeHistogram, V2_CONTENT_TYPE } from '../helpers/remote-write-v2.ts'

// Prometheus remote write 1.0 through a listening server: snappy-compressed WriteRequests
// come back through the query API, every bad input gets its status and a plain-text
// message starting with its code, and nothing of a refused request is stored.

const LIMIT = 64 * 1024
let app: FastifyInstance
let url: string
// Whole minutes, ten minutes ago: inside the query API's default hour, buckets aligned.
const B = Math.floor((Date.now() - 10 * 60_000) / 60_000) * 60_000

const WriteRequest = protobuf
  .parse(
    `syntax = "proto3"; package prometheus;
  message WriteRequest { repeated TimeSeries timeseries = 1; repeated MetricMetadata metadata = 3; }
  message MetricMetadata {
    enum MetricType { UNKNOWN = 0; COUNTER = 1; GAUGE = 2; HISTOGRAM = 3; GAUGEHISTOGRAM = 4; SUMMARY = 5; INFO = 6; STATESET = 7; }
    MetricType type = 1; string metric_family_name = 2; string help = 4; string unit = 5;
  }
  message TimeSeries { repeated Label labels = 1; repeated Sample samples = 2; }
  message Label { string name = 1; string value = 2; }
  message Sample { double value = 1; int64 timestamp = 2; }
`,
  )
  .root.lookupType('prometheus.WriteRequest')

type Series = { labels: Record<string, string>; samples: [number, number][] }

function writeRequest(series: Series[], metadata: object[] = []): Uint8Array {
  const timeseries = series.map((s) => ({
    labels: Object.entries(s.labels).map(([name, value]) => ({ name, value })),
    samples: s.samples.map(([timestamp, value]) => ({ timestamp, value })),
  }))
  return WriteRequest.encode(WriteRequest.fromObject({ timeseries, metadata })).finish()
}

const V1 = {
  'content-type': 'application/x-protobuf',
  'content-encoding': 'snappy',
  'x-prometheus-remote-write-version': '0.1.0',
}

function post(body: Uint8Array, headers: Record<string, string> = V1) {
  return fetch(`${url}/api/v1/write`, { method: 'POST', body, headers })
}

async function query(params: string): Promise<{
  metric: { type: string; unit: string }
  series: { labels: Record<string, string>; points: number[][] }[]
}> {
  const res = await fetch(`${url}/api/v1/query?${params}`)
  expect(res.status, await res.clone().text()).toBe(200)
  return res.json() as never
}

async function storedMetrics(): Promise<string[]> {
  await app.governor.pipeline.sync()
  const rs = await app.governor.store.client.query({
    query:
      'SELECT DISTINCT metric FROM governor.series WHERE series_id IN (SELECT series_id FROM governor.samples) ORDER BY metric',
    format: 'JSONCompactEachRow',
  })
  return (await rs.json<[string]>()).map((r) => r[0])
}

/** Status, and the plain-text body that must start with the error code. */
async function refused(res: Response, status: number, code: string): Promise<string> {
  const text = await res.text()
  expect(res.status, text).toBe(status)
  expect(res.headers.get('content-type')).toMatch(/^text\/plain/)
  expect(text.startsWith(`${code}: `), text).toBe(true)
  return text
}

beforeAll(async () => {
  // One pending point fills the pipeline: concurrent requests meet a full pipeline.
  ;({ app, url } = await startServer({ maxBodyBytes: LIMIT, maxPendingPoints: 1, flushIntervalMillis: 200 }))
})
afterAll(async () => {
  await app?.close()
})
// Acknowledged points stay pending until their commit: each test starts with them committed.
beforeEach(async () => {
  await app.governor.pipeline.sync()
})

describe('Prometheus remote write', () => {
  it('stores snappy-compressed samples: 204, and the raw values come back exactly', async () => {
    const res = await post(
      compressSync(
        writeRequest([
          {
            labels: { __name__: 'room_temperature', job: 'sensors', room: 'kitchen' },
            samples: [
              [B, 21.5],
              [B + 15_000, 21.75],
              [B + 30_000, -3.125],
            ],
          },
          { labels: { __name__: 'room_temperature', job: 'sensors', room: 'hall' }, samples: [[B, 19]] },
        ]),
      ),
    )
    expect(res.status).toBe(204)
    expect(await res.text()).toBe('')
    const q = await query(`metric=room_temperature&service=sensors&match=room=kitchen`)
    expect(q.metric.type).toBe('gauge')
    expect(q.series).toEqual([
      {
        labels: { 'service.name': 'sensors', job: 'sensors', room: 'kitchen' },
        points: [
          [B, 21.5],
          [B + 15_000, 21.75],
          [B + 30_000, -3.125],
        ],
      },
    ])
    const all = await query('metric=room_temperature')
    expect(all.series.map((s) => s.labels['room']).sort()).toEqual(['hall', 'kitchen'])
  })

  it('accepts an uncompressed body without Content-Encoding, and the proto=prometheus.WriteRequest parameter', async () => {
    const res = await post(
      writeRequest([{ labels: { __name__: 'plain_gauge', service_name: 'plain', job: 'j' }, samples: [[B, 7]] }]),
      {
        'content-type': 'application/x-protobuf;proto=prometheus.WriteRequest',
      },
    )
    expect(res.status).toBe(204)
    expect((await query('metric=plain_gauge&service=plain')).series[0]!.points).toEqual([[B, 7]])
  })

  it('stores counters as cumulative monotonic sums: increase corrects a reset exactly as for an OTLP sum', async () => {
    const samples: [number, number][] = [
      [B, 10],
      [B + 15_000, 20],
      [B + 30_000, 5],
      [B + 45_000, 15],
    ]
    const res = await post(
      compressSync(
        writeRequest(
          [{ labels: { __name__: 'jobs_total', job: 'worker' }, samples }],
          [{ type: 'COUNTER', metricFamilyName: 'jobs', help: 'Jobs run.', unit: '' }],
        ),
      ),
    )
    expect(res.status).toBe(204)
    await app.governor.pipeline.sync() // one pending point fills this server's pipeline
    const otlp = await fetch(`${url}/v1/metrics`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        resourceMetrics: [
          {
            resource: { attributes: [{ key: 'service.name', value: { stringValue: 'worker' } }] },
            scopeMetrics: [
              {
                metrics: [
                  {
                    name: 'otlp_jobs',
                    sum: {
                      aggregationTemporality: 2,
                      isMonotonic: true,
                      dataPoints: samples.map(([t, v]) => ({ timeUnixNano: nanos(t), asDouble: v })),
                    },
                  },
                ],
              },
            ],
          },
        ],
      }),
    })
    expect(otlp.status).toBe(200)
    const range = `from=${B}&to=${B + 60_000}&step=60`
    const rw = await query(`metric=jobs_total&agg=increase&${range}`)
    expect(rw.metric.type).toBe('sum')
    // raw growth 15 - 10 + 20 (the reset) = 25 over 45 s of samples, extrapolated to the 60 s bucket.
    expect(rw.series[0]!.points[0]![0]).toBe(B)
    expect(rw.series[0]!.points[0]![1]).toBeCloseTo(100 / 3, 9)
    const reference = await query(`metric=otlp_jobs&agg=increase&${range}`)
    expect(rw.series[0]!.points).toEqual(reference.series[0]!.points)
    const rate = await query(`metric=jobs_total&agg=rate&${range}`)
    expect(rate.series[0]!.points).toEqual((await query(`metric=otlp_jobs&agg=rate&${range}`)).series[0]!.points)
  })

  it('skips stale markers in queries, and drops samples without a time, still answering 204', async () => {
    const bytes = writeRequest([
      {
        labels: { __name__: 'stale_gauge', job: 'j' },
        samples: [
          [B, 1],
          [B + 15_000, 424242.5],
          [B + 30_000, 3],
        ],
      },
      {
        labels: { __name__: 'no_time_gauge', job: 'j' },
        samples: [
          [0, 1],
          [B, 2],
        ],
      },
      { labels: { job: 'nameless' }, samples: [[B, 1]] },
    ])
    const stand = Buffer.alloc(8)
    stand.writeDoubleLE(424242.5)
    Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).set(
      [0x02, 0, 0, 0, 0, 0, 0xf0, 0x7f],
      Buffer.from(bytes).indexOf(stand),
    )
    const res = await post(compressSync(bytes))
    expect(res.status).toBe(204)
    expect((await query('metric=stale_gauge')).series[0]!.points).toEqual([
      [B, 1],
      [B + 30_000, 3],
    ])
    const rs = await app.governor.store.client.query({
      query:
        "SELECT flags FROM governor.samples WHERE series_id IN (SELECT series_id FROM governor.series WHERE metric = 'stale_gauge') ORDER BY ts",
      format: 'JSONCompactEachRow',
    })
    expect(await rs.json()).toEqual([[0], [1], [0]])
    expect((await query('metric=no_time_gauge')).series[0]!.points).toEqual([[B, 2]])
    const self = await (await fetch(`${url}/metrics`)).text()
    expect(self).toMatch(/governor_points_rejected_total\{receiver="remote_write",reason="invalid_point"\} 2\b/)
    expect(self).toMatch(/governor_points_accepted_total\{receiver="remote_write"\} \d+/)
  })

  it('malformed protobuf: 400 naming the byte', async () => {
    const text = await refused(
      await post(compressSync(Buffer.from([0x0a, 0xff, 0xff, 0x01, 0x02]))),
      400,
      'GOV_ERR_RW_MALFORMED',
    )
    expect(text).toMatch(/invalid protobuf at byte \d+/)
  })

  it('bad snappy data: 400', async () => {
    const good = compressSync(writeRequest([{ labels: { __name__: 'bad_snappy', job: 'j' }, samples: [[B, 1]] }]))
    // Cut short: fewer bytes than the header declares.
    expect(await refused(await post(good.subarray(0, good.length - 2)), 400, 'GOV_ERR_RW_MALFORMED')).toMatch(
      /could not be decompressed/,
    )
    // A copy from before the start of the output.
    await refused(await post(Buffer.from([0x05, 0x01, 0x02])), 400, 'GOV_ERR_RW_MALFORMED')
    // The framing format (stream identifier chunk first) is not what remote write sends.
    const framed = Buffer.concat([Buffer.from([0xff, 0x06, 0x00, 0x00]), Buffer.from('sNaPpY'), good])
    expect(await refused(await post(framed), 400, 'GOV_ERR_RW_MALFORMED')).toMatch(/framing format/)
    const text = await refused(
      await post(writeRequest([{ labels: { __name__: 'bad_raw', job: 'j' }, samples: [[B, 1]] }])),
      400,
      'GOV_ERR_RW_MALFORMED',
    )
    expect(text).toMatch(/snappy/)
  })

  it('a snappy header declaring more than the limit: 413 before decompressing', async () => {
    // Declares 2^32 - 1 bytes, holds almost nothing: decompressing first would answer 400.
    const text = await refused(
      await post(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0x00, 0x01, 0x02])),
      413,
      'GOV_ERR_BODY_TOO_LARGE',
    )
    expect(text).toMatch(/declares 4294967295 bytes/)
    const bomb = compressSync(Buffer.alloc(1024 * 1024))
    expect(bomb.length).toBeLessThan(LIMIT)
    await refused(await post(bomb), 413, 'GOV_ERR_BODY_TOO_LARGE')
  })

  it('a body over the limit as sent: 413', async () => {
    const big = writeRequest([{ labels: { __name__: 'bad_big', job: 'j', pad: 'x'.repeat(LIMIT) }, samples: [[B, 1]] }])
    await refused(await post(big, { 'content-type': 'application/x-protobuf' }), 413, 'GOV_ERR_BODY_TOO_LARGE')
  })

  it('wrong content type or another encoding: 415', async () => {
    const body = compressSync(writeRequest([{ labels: { __name__: 'bad_type', job: 'j' }, samples: [[B, 1]] }]))
    await refused(await post(body, { ...V1, 'content-type': 'application/json' }), 415, 'GOV_ERR_RW_CONTENT_TYPE')
    await refused(
      await post(body, { ...V1, 'content-type': 'application/x-protobuf;proto=other.Message' }),
      415,
      'GOV_ERR_RW_CONTENT_TYPE',
    )
    await refused(await post(body, { ...V1, 'content-encoding': 'gzip' }), 415, 'GOV_ERR_RW_CONTENT_ENCODING')
  })

  it('metadata sent after the samples it describes: the metadata API gives each family as sent, and samples keep being stored', async () => {
    const series = (v: number) => [
      { labels: { __name__: 'late_hits', job: 'legacy' }, samples: [[B + v * 1000, v]] as [number, number][] },
      { labels: { __name__: 'late_seconds_count', job: 'legacy' }, samples: [[B + v * 1000, v]] as [number, number][] },
    ]
    // One request at a time: this server's pipeline holds one pending point.
    const send = async (body: Uint8Array) => {
      await app.governor.pipeline.sync()
      expect((await post(compressSync(body))).status).toBe(204)
    }
    await send(writeRequest(series(1)))
    // Prometheus sends metadata in requests of its own, every minute.
    const metadata = [
      { type: 'COUNTER', metricFamilyName: 'late_hits', help: 'Hits, from a text-format exporter.', unit: '' },
      { type: 'HISTOGRAM', metricFamilyName: 'late_seconds', help: 'Latency.', unit: 'seconds' },
    ]
    await send(writeRequest([], metadata))
    await send(writeRequest(series(2)))

    const read = async () => {
      const r = await fetch(`${url}/prometheus/api/v1/metadata`)
      return ((await r.json()) as { data: Record<string, { type: string; help: string; unit: string }[]> }).data
    }
    let families = await read()
    // Recorded beside the answer, not before it: wait until it is there (the test's deadline
    // ends the wait should it never come).
    while (families.late_seconds === undefined) {
      await new Promise((r) => setImmediate(r))
      families = await read()
    }
    expect(families.late_hits).toEqual([{ type: 'counter', help: 'Hits, from a text-format exporter.', unit: '' }])
    expect(families.late_seconds).toEqual([{ type: 'histogram', help: 'Latency.', unit: 'seconds' }])
    await app.governor.pipeline.sync()
    const stored = await app.governor.store.client.query({
      query: `SELECT count() FROM governor.samples WHERE series_id IN (SELECT series_id FROM governor.series WHERE metric IN ('late_hits', 'late_seconds_count'))`,
      format: 'JSONCompactEachRow',
    })
    expect(await stored.json()).toEqual([['4']])
  })

  it('remote write 2.0: stored with the metadata and created time of each series; the answer says what was written', async () => {
    const body = compressSync(
      Buffer.from(
        encodeV2Request([
          {
            labels: { __name__: 'v2_orders_total', job: 'shop', region: 'eu' },
            samples: [
              [B, 10],
              [B + 60_000, 16],
            ],
            metadata: { type: 'counter', help: 'Orders placed.' },
            created: B - 60_000,
            exemplars: [B],
          },
          {
            labels: { __name__: 'v2_cart_items', job: 'shop' },
            samples: [[B, 3]],
            metadata: { type: 'gauge', help: 'Items in carts.', unit: 'items' },
          },
          {
            labels: { __name__: 'v2_checkout_seconds', job: 'shop' },
            histograms: [nativeHistogram(B)],
            metadata: { type: 'histogram', help: 'Checkout latency.', unit: 'seconds' },
            created: B - 60_000,
          },
        ]),
      ),
    )
    const res = await post(body, {
      ...V1,
      'content-type': V2_CONTENT_TYPE,
      'x-prometheus-remote-write-version': '2.0.0',
    })
    expect(res.status, await res.text()).toBe(204)
    expect(res.headers.get('x-prometheus-remote-write-samples-written')).toBe('3')
    expect(res.headers.get('x-prometheus-remote-write-histograms-written')).toBe('1')
    expect(res.headers.get('x-prometheus-remote-write-exemplars-written')).toBe('1')
    await app.governor.pipeline.sync()

    const promql = async (path: string) => {
      const r = await fetch(`${url}/prometheus/api/v1/${path}`)
      expect(r.status).toBe(200)
      return ((await r.json()) as { data: any }).data
    }
    const at = (B + 60_000) / 1000
    expect(await promql(`query?query=${encodeURIComponent('v2_orders_total')}&time=${at}`)).toEqual({
      resultType: 'vector',
      result: [{ metric: { __name__: 'v2_orders_total', job: 'shop', region: 'eu' }, value: [at, '16'] }],
    })
    const metadata = await promql('metadata')
    expect(metadata.v2_orders_total).toEqual([{ type: 'counter', help: 'Orders placed.', unit: '' }])
    expect(metadata.v2_cart_items).toEqual([{ type: 'gauge', help: 'Items in carts.', unit: 'items' }])
    // The counter's created time is its start: the reset point a cumulative series is read from.
    const rs = await app.governor.store.client.query({
      query: `SELECT start FROM governor.samples WHERE series_id IN (SELECT series_id FROM governor.series WHERE metric = 'v2_orders_total') ORDER BY ts`,
      format: 'JSONCompactEachRow',
    })
    expect((await rs.json<[string]>()).map((r) => Number(r[0]))).toEqual([B - 60_000, B - 60_000])
    // The native histogram, as an exponential one: Prometheus' buckets 1, 2 and 4 are OpenTelemetry's 0, 1 and 3.
    const hs = await app.governor.store.client.query({
      query: `SELECT start, count, sum, scale, zero_count, positive_offset, positive_counts, negative_offset, negative_counts
FROM governor.exp_histograms WHERE series_id IN (SELECT series_id FROM governor.series WHERE metric = 'v2_checkout_seconds')`,
      format: 'JSONEachRow',
    })
    expect(await hs.json()).toEqual([
      {
        start: String(B - 60_000),
        count: '8',
        sum: 33.5,
        scale: 0,
        zero_count: '1',
        positive_offset: 0,
        positive_counts: ['3', '2', '0', '1'],
        negative_offset: 0,
        negative_counts: ['1'],
      },
    ])
  })

  it('remote write 2.0 refused whole: a malformed body is 400 and the headers say nothing was written', async () => {
    const body = compressSync(Buffer.from(encodeRawV2Request(['', '__name__', 'v2_bad'], [1, 2, 7, 0])))
    const res = await post(body, { ...V1, 'content-type': V2_CONTENT_TYPE })
    expect(await refused(res, 400, 'GOV_ERR_RW_MALFORMED')).toMatch(/symbol reference 7/)
    expect(res.headers.get('x-prometheus-remote-write-samples-written')).toBe('0')
    expect(await storedMetrics()).not.toContain('v2_bad')
  })

  it('a full pipeline: 503 with Retry-After, and only the accepted requests are stored', async () => {
    const responses = await Promise.all(
      [0, 1, 2, 3, 4].map((i) =>
        post(compressSync(writeRequest([{ labels: { __name__: `full_${i}`, job: 'j' }, samples: [[B, i]] }]))),
      ),
    )
    const statuses = responses.map((r) => r.status)
    expect(statuses).toContain(204)
    expect(statuses).toContain(503)
    expect(statuses.every((s) => s === 204 || s === 503)).toBe(true)
    for (const r of responses.filter((x) => x.status === 503)) {
      expect(r.headers.get('retry-after')).toBe('1')
      await refused(r, 503, 'GOV_ERR_PIPELINE_FULL')
    }
    const stored = (await storedMetrics()).filter((m) => m.startsWith('full_'))
    expect(stored).toEqual([0, 1, 2, 3, 4].filter((i) => statuses[i] === 204).map((i) => `full_${i}`))
  })

  it('stores nothing of the requests it refused', async () => {
    expect((await storedMetrics()).filter((m) => m.startsWith('bad_'))).toEqual([])
  })
})
