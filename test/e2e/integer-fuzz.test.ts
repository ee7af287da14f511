import type { ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import protobuf from 'protobufjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Random } from '../helpers/fuzz-inputs.ts'
import { encodeOtlpRequest } from '../helpers/otlp-proto.ts'
import { spawnServer } from '../helpers/server.ts'

// Seeded fuzzing of the integer fields of OTLP points (counts, bucket counts, zero counts,
// scale, offsets, flags, as_int, times) and of remote write timestamps: valid requests whose
// numbers are replaced by negative, fractional, huge, NaN and edge values, in JSON and in
// protobuf. Every request also carries a good point. The server must never answer 5xx, must
// stay ready, and must keep storing the good points: a value its columns cannot hold must be
// rejected at decode, never reach a commit the store refuses (which would stop ingest).
//
// Valid times far ahead come from a single instant per encoding, so that a commit touches few
// day partitions (the store refuses an insert that spans more than 100).
//
// GOVERNOR_FUZZ_SEED and GOVERNOR_INT_FUZZ_ROUNDS replay a run or fuzz for longer.

const SEED = Number(process.env.GOVERNOR_FUZZ_SEED ?? 20261202)
const ROUNDS = Number(process.env.GOVERNOR_INT_FUZZ_ROUNDS ?? 160)
/** Rounds between two checks that the good points are stored and the server is ready. */
const CHECK_EVERY = 20

/** What an integer field of OTLP JSON may be replaced with. */
const JSON_VALUES: readonly unknown[] = [
  -1,
  -5,
  '-1',
  1.5,
  '0.5',
  1e300,
  '1e300',
  -1e300,
  2 ** 64,
  '18446744073709551616',
  '18446744073709551615',
  2 ** 53 + 1,
  '9007199254740993',
  'NaN',
  'Infinity',
  '-Infinity',
  256,
  255,
  2 ** 31,
  -(2 ** 31) - 1,
  21,
  -11,
  20,
  '-0',
  0,
  '99999999999999999999999',
  1e-300,
  '1.0',
  2 ** 63,
  '-9223372036854775809',
]

/** What protobuf can carry in each wire type (a fixed64 "-1" is 2^64 - 1). */
type Wire = 'fixed64' | 'uint32' | 'sint32' | 'sfixed64'
const PROTO_VALUES: Record<Wire, readonly (string | number)[]> = {
  fixed64: ['-1', '-5', '18446744073709551615', '9007199254740993', '0', '1'],
  uint32: [256, 4294967295, 255, 1, 2],
  sint32: [21, -11, 2147483647, -2147483648, 20, -10],
  sfixed64: ['-9223372036854775808', '9223372036854775807', '-1'],
}

type Kind = 'gauge' | 'sum' | 'histogram' | 'exponentialHistogram' | 'summary'
type Point = Record<string, unknown>

/** Each kind's integer fields: where they are in a point, and their protobuf wire type. */
const FIELDS: Record<Kind, [string, Wire][]> = {
  gauge: [
    ['flags', 'uint32'],
    ['asInt', 'sfixed64'],
    ['timeUnixNano', 'fixed64'],
    ['startTimeUnixNano', 'fixed64'],
  ],
  sum: [
    ['flags', 'uint32'],
    ['asInt', 'sfixed64'],
    ['timeUnixNano', 'fixed64'],
  ],
  histogram: [
    ['count', 'fixed64'],
    ['bucketCounts.0', 'fixed64'],
    ['bucketCounts.2', 'fixed64'],
    ['flags', 'uint32'],
    ['timeUnixNano', 'fixed64'],
    ['startTimeUnixNano', 'fixed64'],
  ],
  exponentialHistogram: [
    ['count', 'fixed64'],
    ['zeroCount', 'fixed64'],
    ['scale', 'sint32'],
    ['flags', 'uint32'],
    ['positive.offset', 'sint32'],
    ['positive.bucketCounts.1', 'fixed64'],
    ['negative.offset', 'sint32'],
    ['negative.bucketCounts.0', 'fixed64'],
    ['timeUnixNano', 'fixed64'],
  ],
  summary: [
    ['count', 'fixed64'],
    ['flags', 'uint32'],
    ['timeUnixNano', 'fixed64'],
  ],
}
const KINDS = Object.keys(FIELDS) as Kind[]

function validPoint(kind: Kind, ms: number): Point {
  const time = { timeUnixNano: `${ms}000000`, startTimeUnixNano: `${ms - 60_000}000000` }
  switch (kind) {
    case 'gauge':
      return { ...time, asDouble: 2.5 }
    case 'sum':
      return { ...time, asInt: '42' }
    case 'histogram':
      return { ...time, count: '3', sum: 6, bucketCounts: ['1', '1', '1'], explicitBounds: [1, 2], flags: 0 }
    case 'exponentialHistogram':
      return {
        ...time,
        count: '4',
        sum: 3,
        scale: 2,
        zeroCount: '1',
        positive: { offset: -1, bucketCounts: ['1', '1'] },
        negative: { offset: 2, bucketCounts: ['1'] },
      }
    case 'summary':
      return { ...time, count: '4', sum: 10, quantileValues: [{ quantile: 0.5, value: 2 }] }
  }
}

/** Sets `path` (`a.b.0`) in a copy of `point` to `value`. */
function set(point: Point, path: string, value: unknown): Point {
  const out = structuredClone(point)
  const keys = path.split('.')
  let at: Record<string, unknown> = out
  for (const k of keys.slice(0, -1)) at = at[k] as Record<string, unknown>
  at[keys.at(-1)!] = value
  if (keys[0] === 'asInt') delete out.asDouble
  return out
}

const resource = (service: string) => ({ attributes: [{ key: 'service.name', value: { stringValue: service } }] })

/** One round's OTLP request: the good point, then 1 to 3 metrics with a mutated point beside a valid one. */
function otlpRound(rnd: Random, round: number, ms: number, proto: boolean): { body: object; mutated: string[] } {
  const mutated: string[] = []
  const metrics: object[] = [
    {
      name: 'intfuzz.good',
      gauge: {
        dataPoints: [
          {
            timeUnixNano: `${ms}000000`,
            asDouble: round,
            attributes: [{ key: 'round', value: { intValue: String(round) } }],
          },
        ],
      },
    },
  ]
  for (let m = 1 + rnd.int(3); m > 0; m--) {
    const kind = rnd.pick(KINDS)
    let bad = validPoint(kind, ms + 1)
    for (let f = 1 + rnd.int(2); f > 0; f--) {
      const [path, wire] = rnd.pick(FIELDS[kind])
      const value = proto ? rnd.pick(PROTO_VALUES[wire]) : rnd.pick(JSON_VALUES)
      bad = set(bad, path, value)
      mutated.push(`${kind}.${path}=${JSON.stringify(value)}`)
    }
    const data: Record<string, unknown> = {
      dataPoints: rnd.chance(0.5) ? [validPoint(kind, ms), bad] : [bad, validPoint(kind, ms)],
    }
    if (kind === 'sum' || kind === 'histogram' || kind === 'exponentialHistogram') data.aggregationTemporality = 2
    metrics.push({ name: `intfuzz.${kind}`, [kind]: data })
  }
  return {
    body: {
      resourceMetrics: [{ resource: resource('intfuzz'), scopeMetrics: [{ scope: { name: 'intfuzz' }, metrics }] }],
    },
    mutated,
  }
}

const WriteRequest = protobuf
  .parse(
    `syntax = "proto3";
message WriteRequest { repeated TimeSeries timeseries = 1; }
message TimeSeries { repeated Label labels = 1; repeated Sample samples = 2; }
message Label { string name = 1; string value = 2; }
message Sample { double value = 1; int64 timestamp = 2; }`,
  )
  .root.lookupType('WriteRequest')
const RW_TIMES = ['9223372036854775807', '-9223372036854775808', String(2 ** 53), '-1', '0', '9007199254740991', '1']

/** A remote write request: the good sample at `ms` and one at a mutated timestamp. */
function remoteWriteRound(rnd: Random, ms: number): { body: Buffer; mutated: string[] } {
  const ts = rnd.pick(RW_TIMES)
  const body = WriteRequest.encode(
    WriteRequest.fromObject({
      timeseries: [
        {
          labels: [
            { name: '__name__', value: 'intfuzz_rw_good' },
            { name: 'job', value: 'intfuzz' },
          ],
          samples: [{ value: 1, timestamp: ms }],
        },
        {
          labels: [
            { name: '__name__', value: 'intfuzz_rw' },
            { name: 'job', value: 'intfuzz' },
          ],
          samples: [
            { value: 1, timestamp: ms },
            { value: 2, timestamp: ts },
          ],
        },
      ],
    }),
  ).finish()
  return { body: Buffer.from(body), mutated: [`timestamp=${ts}`] }
}

let server: { child: ChildProcess; url: string; output: () => string }
const dataDir = mkdtempSync(join(tmpdir(), 'governor-intfuzz-'))

beforeAll(async () => {
  server = await spawnServer({
    GOVERNOR_DATA_DIR: dataDir,
    GOVERNOR_FLUSH_INTERVAL_MILLIS: '100',
    // Without the ingest limiter: a request it sheds on a busy machine is not what is tested.
    GOVERNOR_MAX_INGEST_CONCURRENCY: '0',
    GOVERNOR_INGEST_MAX_WAIT_MILLIS: '0',
    GOVERNOR_RATE_LIMIT_INGEST_PER_MINUTE: '0',
    GOVERNOR_RATE_LIMIT_API_PER_MINUTE: '0',
    GOVERNOR_IMPACT_INTERVAL_MILLIS: '0',
    GOVERNOR_LOG_LEVEL: 'fatal',
  })
})
afterAll(async () => {
  if (server !== undefined && server.child.exitCode === null && server.child.signalCode === null) {
    server.child.kill('SIGKILL')
    await once(server.child, 'exit')
  }
  rmSync(dataDir, { recursive: true, force: true })
})

/** The single value of a SELECT through the SQL API (a read: it waits for acknowledged points). */
async function scalar(query: string): Promise<string> {
  const res = await fetch(`${server.url}/api/v1/sql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query }),
  })
  const text = await res.text()
  if (res.status !== 200) throw new Error(`SQL answered ${res.status}: ${text}`)
  return String((JSON.parse(text) as { rows: unknown[][] }).rows[0]?.[0])
}

const countOf = (table: string, metric: string) =>
  scalar(
    `SELECT count() FROM governor.${table} WHERE series_id IN (SELECT series_id FROM governor.series WHERE metric = '${metric}')`,
  )

describe('fuzzing the integer fields of points', () => {
  it('never answers 5xx, stays ready and keeps storing good points', async () => {
    const rnd = new Random(SEED)
    const base = Date.now() - 3_600_000
    const problems: string[] = []
    let rejected = 0
    let goodOtlp = 0
    let goodRw = 0
    for (let round = 0; round < ROUNDS; round++) {
      const ms = base + round * 10
      if (rnd.chance(0.15)) {
        const { body, mutated } = remoteWriteRound(rnd, ms)
        const res = await fetch(`${server.url}/api/v1/write`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-protobuf' },
          body,
        })
        if (res.status !== 204)
          problems.push(`round ${round} remote write ${mutated.join(' ')}: ${res.status} ${await res.text()}`)
        else goodRw++
      } else {
        const proto = rnd.chance(0.5)
        const { body, mutated } = otlpRound(rnd, round, ms, proto)
        const res = await fetch(`${server.url}/v1/metrics`, {
          method: 'POST',
          headers: { 'content-type': proto ? 'application/x-protobuf' : 'application/json' },
          body: proto ? encodeOtlpRequest(body) : JSON.stringify(body),
        })
        const text = proto ? '' : await res.text()
        // Every mutated value is a number: the request is well formed and the good points are kept.
        if (res.status !== 200)
          problems.push(`round ${round} ${proto ? 'protobuf' : 'JSON'} ${mutated.join(' ')}: ${res.status} ${text}`)
        else {
          goodOtlp++
          if (!proto)
            rejected += Number(
              (JSON.parse(text) as { partialSuccess?: { rejectedDataPoints?: string } }).partialSuccess
                ?.rejectedDataPoints ?? 0,
            )
        }
      }
      if ((round + 1) % CHECK_EVERY === 0 || round === ROUNDS - 1) {
        // The reads commit what was acknowledged; a commit the store refused would fail them
        // or leave the good points out, and turn readiness off.
        expect(problems).toEqual([])
        expect(await countOf('samples', 'intfuzz.good'), `after round ${round}`).toBe(String(goodOtlp))
        expect(await countOf('samples', 'intfuzz_rw_good'), `after round ${round}`).toBe(String(goodRw))
        const ready = await fetch(`${server.url}/readyz`)
        expect(ready.status, `after round ${round}: ${await ready.text()}`).toBe(200)
      }
    }
    console.log(
      `integer fuzz: ${ROUNDS} rounds (seed ${SEED}), ${goodOtlp} OTLP and ${goodRw} remote write requests stored their good points; JSON answers rejected ${rejected} points`,
    )
    expect(server.child.exitCode, server.output()).toBeNull()
    // The mutations bite: many points were refused, and some mutated points were stored.
    expect(rejected).toBeGreaterThan(ROUNDS / 4)
    expect(
      Number(await countOf('histograms', 'intfuzz.histogram')) +
        Number(await countOf('exp_histograms', 'intfuzz.exponentialHistogram')),
    ).toBeGreaterThan(0)
  }, 120_000)
})
