import type { ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import protobuf from 'protobufjs'
import { afterAll, describe, expect, it } from 'vitest'
import { gaugeRequest } from '../helpers/otlp.ts'
import { encodeOtlpRequest } from '../helpers/otlp-proto.ts'
import { spawnServer } from '../helpers/server.ts'

// Bug: the OTLP JSON decoder took negative, fractional and huge numbers for integer fields (a
// histogram count of "-1", 1.5 or "1e300", a negative bucket count or zero count, a scale of
// 1.5, flags of 1e300) and acknowledged them. The store refused the commit holding them, the
// commit was retried forever from the write-ahead log (and again at the next start), and ingest
// stopped for good. Protobuf has its own: a fixed64 count of 2^64 - 1 was written as the
// double 2^64 prints, 18446744073709552000, which the engine wraps to 384; flags past 255 and
// a scale past the Int8 column were stored wrapped. Every point is now checked against its
// column before it is acknowledged: a bad one is rejected (OTLP partial success naming the
// metric, the point, the field and the value) and the rest of the request is kept.
//
// Here each poisoned value travels with good points, through a real server whose commits are
// made by reads (the flush interval is longer than the test), then the server is killed with
// points still in its write-ahead log and started again on the same data directory.

const children: ChildProcess[] = []
const dataDir = mkdtempSync(join(tmpdir(), 'governor-poison-'))
afterAll(async () => {
  for (const c of children) {
    if (c.exitCode !== null || c.signalCode !== null) continue
    c.kill('SIGKILL')
    await once(c, 'exit')
  }
  rmSync(dataDir, { recursive: true, force: true })
})

const Response = protobuf
  .parse(
    `syntax = "proto3";
message ExportMetricsServiceResponse { ExportMetricsPartialSuccess partial_success = 1; }
message ExportMetricsPartialSuccess { int64 rejected_data_points = 1; string error_message = 2; }`,
  )
  .root.lookupType('ExportMetricsServiceResponse')

type Kind = 'gauge' | 'histogram' | 'exponentialHistogram' | 'summary'
const TABLE: Record<Kind, string> = {
  gauge: 'samples',
  histogram: 'histograms',
  exponentialHistogram: 'exp_histograms',
  summary: 'summaries',
}

interface Variant {
  name: string
  kind: Kind
  bad: Record<string, unknown>
  /** What the partial success says of the bad point; undefined when it is valid and stored. */
  reason: string | undefined
  proto?: boolean
}

const UINT64 = 'expected an integer in 0..18446744073709551615'
const VARIANTS: Variant[] = [
  { name: 'count-minus-one', kind: 'histogram', bad: { count: '-1' }, reason: `count is -1, ${UINT64}` },
  { name: 'count-fraction', kind: 'histogram', bad: { count: 1.5 }, reason: `count is 1.5, ${UINT64}` },
  { name: 'count-exponent', kind: 'histogram', bad: { count: '1e300' }, reason: `count is 1e300, ${UINT64}` },
  {
    name: 'bucket-negative',
    kind: 'histogram',
    bad: { bucketCounts: ['1', '-1', '1'] },
    reason: `bucket_counts[1] is -1, ${UINT64}`,
  },
  {
    name: 'bucket-over-uint64',
    kind: 'histogram',
    bad: { bucketCounts: ['1', '18446744073709551616', '1'] },
    reason: `bucket_counts[1] is 18446744073709551616, ${UINT64}`,
  },
  { name: 'bounds-unsorted', kind: 'histogram', bad: { explicitBounds: [2, 1] }, reason: 'explicit_bounds[1] is 1' },
  {
    name: 'zero-count-negative',
    kind: 'exponentialHistogram',
    bad: { zeroCount: '-1' },
    reason: `zero_count is -1, ${UINT64}`,
  },
  {
    name: 'scale-fraction',
    kind: 'exponentialHistogram',
    bad: { scale: 1.5 },
    reason: 'scale is 1.5, expected an integer in -10..20',
  },
  { name: 'summary-count-negative', kind: 'summary', bad: { count: -5 }, reason: `count is -5, ${UINT64}` },
  {
    name: 'gauge-flags-huge',
    kind: 'gauge',
    bad: { flags: 1e300 },
    reason: 'flags is 1e+300, expected an integer in 0..255',
  },
  { name: 'time-negative', kind: 'gauge', bad: { timeUnixNano: '-1' }, reason: 'time_unix_nano is -1' },
  // Protobuf: what the wire can carry of them.
  {
    name: 'proto-scale',
    kind: 'exponentialHistogram',
    bad: { scale: 21 },
    reason: 'scale is 21, expected an integer in -10..20',
    proto: true,
  },
  {
    name: 'proto-flags',
    kind: 'histogram',
    bad: { flags: 256 },
    reason: 'flags is 256, expected an integer in 0..255',
    proto: true,
  },
  {
    name: 'proto-bounds',
    kind: 'histogram',
    bad: { explicitBounds: [1, NaN] },
    reason: 'explicit_bounds[1] is NaN',
    proto: true,
  },
  {
    name: 'proto-quantile',
    kind: 'summary',
    bad: { quantileValues: [{ quantile: 2, value: 1 }] },
    reason: 'quantile_values[0].quantile is 2',
    proto: true,
  },
  // A fixed64 count of "-1" is 2^64 - 1: a valid count, stored as exactly that.
  {
    name: 'proto-count-max',
    kind: 'histogram',
    bad: { count: '-1', bucketCounts: ['-1', '0', '0'] },
    reason: undefined,
    proto: true,
  },
  { name: 'proto-summary-count-max', kind: 'summary', bad: { count: '-5' }, reason: undefined, proto: true },
]

function point(kind: Kind, ms: number): Record<string, unknown> {
  const time = { timeUnixNano: `${ms}000000`, startTimeUnixNano: `${ms - 60_000}000000` }
  switch (kind) {
    case 'gauge':
      return { ...time, asDouble: 1.5 }
    case 'histogram':
      return { ...time, count: '3', sum: 6, bucketCounts: ['1', '1', '1'], explicitBounds: [1, 2] }
    case 'exponentialHistogram':
      return {
        ...time,
        count: '3',
        sum: 3,
        scale: 2,
        zeroCount: '1',
        positive: { offset: -1, bucketCounts: ['1', '1'] },
      }
    case 'summary':
      return { ...time, count: '4', sum: 10, quantileValues: [{ quantile: 0.5, value: 2 }] }
  }
}

/** Metric `poison.<name>`: a good point at `ms`, then the poisoned one at `ms + 1`. */
function request(v: Variant, ms: number): object {
  return {
    resourceMetrics: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'poison' } }] },
        scopeMetrics: [
          {
            metrics: [
              {
                name: `poison.${v.name}`,
                [v.kind]: {
                  aggregationTemporality: 2,
                  dataPoints: [point(v.kind, ms), { ...point(v.kind, ms + 1), ...v.bad }],
                },
              },
            ],
          },
        ],
      },
    ],
  }
}

interface Answer {
  status: number
  rejected: number
  message: string
}

async function send(url: string, v: Variant, ms: number): Promise<Answer> {
  const body = v.proto === true ? encodeOtlpRequest(request(v, ms)) : JSON.stringify(request(v, ms))
  const res = await fetch(`${url}/v1/metrics`, {
    method: 'POST',
    headers: { 'content-type': v.proto === true ? 'application/x-protobuf' : 'application/json' },
    body,
  })
  const bytes = Buffer.from(await res.arrayBuffer())
  if (res.status !== 200) return { status: res.status, rejected: 0, message: bytes.toString('latin1') }
  if (v.proto === true) {
    const ps = (
      Response.toObject(Response.decode(bytes), { longs: Number }) as {
        partialSuccess?: { rejectedDataPoints?: number; errorMessage?: string }
      }
    ).partialSuccess
    return { status: res.status, rejected: ps?.rejectedDataPoints ?? 0, message: ps?.errorMessage ?? '' }
  }
  const ps = (
    JSON.parse(bytes.toString()) as { partialSuccess?: { rejectedDataPoints?: string; errorMessage?: string } }
  ).partialSuccess
  return { status: res.status, rejected: Number(ps?.rejectedDataPoints ?? 0), message: ps?.errorMessage ?? '' }
}

/** Rows of a SELECT through the SQL API (a read: it waits for every acknowledged point). */
async function sql(url: string, query: string): Promise<unknown[][]> {
  const res = await fetch(`${url}/api/v1/sql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query }),
  })
  const text = await res.text()
  expect(res.status, text).toBe(200)
  return (JSON.parse(text) as { rows: unknown[][] }).rows
}

const ofMetric = (metric: string) => `series_id IN (SELECT series_id FROM governor.series WHERE metric = '${metric}')`

/** The times of the stored points of `poison.<name>`. */
async function storedTimes(url: string, v: Variant): Promise<number[]> {
  return (
    await sql(url, `SELECT ts FROM governor.${TABLE[v.kind]} WHERE ${ofMetric(`poison.${v.name}`)} ORDER BY ts`)
  ).map((r) => Number(r[0]))
}

async function readyz(url: string): Promise<number> {
  return (await fetch(`${url}/readyz`)).status
}

describe('a poisoned number does not wedge ingest', () => {
  it('rejects the bad point alone, keeps storing, and restarts on the same data', async () => {
    // Points are committed when a read asks for them (or never, before the kill below).
    // Without the ingest limiter: on a busy machine it may shed a request, which is not the point here.
    const env = {
      GOVERNOR_DATA_DIR: dataDir,
      GOVERNOR_FLUSH_INTERVAL_MILLIS: '60000',
      GOVERNOR_MAX_INGEST_CONCURRENCY: '0',
      GOVERNOR_INGEST_MAX_WAIT_MILLIS: '0',
      GOVERNOR_RATE_LIMIT_INGEST_PER_MINUTE: '0',
      GOVERNOR_RATE_LIMIT_API_PER_MINUTE: '0',
      GOVERNOR_IMPACT_INTERVAL_MILLIS: '0',
    }
    const first = await spawnServer(env)
    children.push(first.child)
    const base = Date.now() - 600_000

    // The reproducer of the report, as it was sent.
    const repro = await fetch(`${first.url}/v1/metrics`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        resourceMetrics: [
          {
            resource: { attributes: [{ key: 'service.name', value: { stringValue: 'x' } }] },
            scopeMetrics: [
              {
                metrics: [
                  {
                    name: 'h',
                    histogram: {
                      aggregationTemporality: 2,
                      dataPoints: [
                        {
                          timeUnixNano: `${base}000000`,
                          count: '-1',
                          sum: 1,
                          bucketCounts: ['1', '1', '1'],
                          explicitBounds: [1, 2],
                        },
                      ],
                    },
                  },
                ],
              },
            ],
          },
        ],
      }),
    })
    expect(repro.status).toBe(200)
    expect(await repro.json()).toEqual({
      partialSuccess: { rejectedDataPoints: '1', errorMessage: `metric "h": data point 0: count is -1, ${UINT64}` },
    })

    // Round 1: every variant, then good points after them; a read commits them all.
    for (const v of VARIANTS) {
      const a = await send(first.url, v, base)
      expect(a.status, `${v.name}: ${a.message}`).toBe(200)
      if (v.reason === undefined) expect(a, v.name).toEqual({ status: 200, rejected: 0, message: '' })
      else {
        expect(a.rejected, v.name).toBe(1)
        expect(a.message, v.name).toContain(`metric "poison.${v.name}": data point 1: ${v.reason}`)
      }
    }
    const rw = await fetch(`${first.url}/api/v1/write`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf' },
      body: remoteWrite(base),
    })
    expect(rw.status).toBe(204)
    const after = await fetch(`${first.url}/v1/metrics`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(
        gaugeRequest('poison', { 'poison.after': [1, 2, 3].map((i) => ({ ts: base + i, value: i })) }),
      ),
    })
    expect(after.status).toBe(200)

    for (const v of VARIANTS)
      expect(await storedTimes(first.url, v), v.name).toEqual(v.reason === undefined ? [base, base + 1] : [base])
    expect(await sql(first.url, `SELECT count() FROM governor.samples WHERE ${ofMetric('poison.after')}`)).toEqual([
      ['3'],
    ])
    expect(
      await sql(first.url, `SELECT toString(ts) FROM governor.samples WHERE ${ofMetric('poison_rw')} ORDER BY ts`),
    ).toEqual([[String(base)]])
    expect(await readyz(first.url)).toBe(200)
    // The counts of 2^64 - 1 are stored as such, not wrapped.
    expect(
      await sql(
        first.url,
        `SELECT toString(count), toString(counts) FROM governor.histograms WHERE ${ofMetric('poison.proto-count-max')} ORDER BY ts`,
      ),
    ).toEqual([
      ['3', '[1,1,1]'],
      ['18446744073709551615', '[18446744073709551615,0,0]'],
    ])
    expect(
      await sql(
        first.url,
        `SELECT toString(count) FROM governor.summaries WHERE ${ofMetric('poison.proto-summary-count-max')} ORDER BY ts`,
      ),
    ).toEqual([['4'], ['18446744073709551615']])
    // Remote write counts its bad sample as it counts every invalid one.
    expect(await (await fetch(`${first.url}/metrics`)).text()).toMatch(
      /governor_points_rejected_total\{receiver="remote_write",reason="invalid_point"\} 1\b/,
    )

    // Round 2: the same again, acknowledged into the write-ahead log and not read; then a kill.
    for (const v of VARIANTS) expect((await send(first.url, v, base + 10)).status, v.name).toBe(200)
    first.child.kill('SIGKILL')
    if (first.child.exitCode === null && first.child.signalCode === null) await once(first.child, 'exit')

    // The restart replays the log into the store: it starts, and holds both rounds' good points.
    const second = await spawnServer(env)
    children.push(second.child)
    for (const v of VARIANTS) {
      const good = v.reason === undefined ? [base, base + 1, base + 10, base + 11] : [base, base + 10]
      expect(await storedTimes(second.url, v), v.name).toEqual(good)
    }
    expect(await sql(second.url, `SELECT count() FROM governor.samples WHERE ${ofMetric('poison.after')}`)).toEqual([
      ['3'],
    ])
    expect(await readyz(second.url)).toBe(200)
    second.child.kill('SIGTERM')
    await once(second.child, 'exit')
  }, 120_000)
})

/** A remote write request: metric `poison_rw`, a good sample and one at int64's largest time. */
function remoteWrite(ms: number): Buffer {
  const WriteRequest = protobuf
    .parse(
      `syntax = "proto3";
message WriteRequest { repeated TimeSeries timeseries = 1; }
message TimeSeries { repeated Label labels = 1; repeated Sample samples = 2; }
message Label { string name = 1; string value = 2; }
message Sample { double value = 1; int64 timestamp = 2; }`,
    )
    .root.lookupType('WriteRequest')
  return Buffer.from(
    WriteRequest.encode(
      WriteRequest.fromObject({
        timeseries: [
          {
            labels: [
              { name: '__name__', value: 'poison_rw' },
              { name: 'job', value: 'poison' },
            ],
            samples: [
              { value: 1, timestamp: ms },
              { value: 2, timestamp: '9223372036854775807' },
            ],
          },
        ],
      }),
    ).finish(),
  )
}
