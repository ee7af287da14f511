import { gzipSync } from 'node:zlib'
import protobuf from 'protobufjs'
import { compressSync } from 'snappy'
import { seeded } from './random.ts'
import { encodeOtlpRequest } from './otlp-proto.ts'

/**
 * Inputs for fuzzing the receivers and the JSON API: valid seed bodies of every kind, and
 * seeded mutations of them (bytes flipped, cut, spliced, huge varints, lengths past the end,
 * deep nesting, compression bombs). Everything random comes from `Random`, so a seed replays.
 */

/** mulberry32: small, fast, and the same sequence for the same seed everywhere. */
export class Random {
  readonly next: () => number
  constructor(seed: number) {
    this.next = seeded(seed)
  }
  int(n: number): number {
    return Math.floor(this.next() * n)
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!
  }
  chance(p: number): boolean {
    return this.next() < p
  }
}

/** One request the fuzzer sends. */
export interface FuzzInput {
  kind: string
  method: 'POST' | 'PUT'
  url: string
  headers: Record<string, string>
  body: Buffer
}

// Remote write 1.0; OTLP requests are encoded with the whole OTLP schema of otlp-proto.ts.
const RW_SCHEMA = `syntax = "proto3";
message WriteRequest { repeated TimeSeries timeseries = 1; repeated Metadata metadata = 3; }
message TimeSeries { repeated Label labels = 1; repeated Sample samples = 2; }
message Label { string name = 1; string value = 2; }
message Sample { double value = 1; int64 timestamp = 2; }
message Metadata { int32 type = 1; string metric_family_name = 2; string help = 4; string unit = 5; }
`
const WriteRequest = protobuf.parse(RW_SCHEMA).root.lookupType('WriteRequest')

const kv = (key: string, value: string) => ({ key, value: { stringValue: value } })

/** An OTLP request with one metric of every type, as a plain object (JSON form and protobuf source). */
export function otlpObject(now: number, service: string): Record<string, unknown> {
  const ns = `${now}000000`
  const start = `${now - 60_000}000000`
  const attrs = [
    kv('route', '/pay'),
    {
      key: 'nested',
      value: { arrayValue: { values: [{ intValue: '7' }, { kvlistValue: { values: [kv('a', 'b')] } }] } },
    },
  ]
  return {
    resourceMetrics: [
      {
        resource: { attributes: [kv('service.name', service), kv('service.version', '1.0')] },
        scopeMetrics: [
          {
            scope: { name: 'fuzz', version: '1' },
            metrics: [
              {
                name: 'fuzz.gauge',
                unit: 'ms',
                gauge: { dataPoints: [{ attributes: attrs, timeUnixNano: ns, asDouble: 1.5 }] },
              },
              {
                name: 'fuzz.sum',
                sum: {
                  aggregationTemporality: 2,
                  isMonotonic: true,
                  dataPoints: [{ startTimeUnixNano: start, timeUnixNano: ns, asInt: '42' }],
                },
              },
              {
                name: 'fuzz.hist',
                histogram: {
                  aggregationTemporality: 2,
                  dataPoints: [
                    {
                      startTimeUnixNano: start,
                      timeUnixNano: ns,
                      count: '3',
                      sum: 6,
                      bucketCounts: ['1', '1', '1'],
                      explicitBounds: [1, 2],
                    },
                  ],
                },
              },
              {
                name: 'fuzz.exp',
                exponentialHistogram: {
                  aggregationTemporality: 1,
                  dataPoints: [
                    {
                      startTimeUnixNano: start,
                      timeUnixNano: ns,
                      count: '2',
                      sum: 3,
                      scale: 2,
                      zeroCount: '0',
                      positive: { offset: -1, bucketCounts: ['1', '1'] },
                    },
                  ],
                },
              },
              {
                name: 'fuzz.summary',
                summary: {
                  dataPoints: [
                    {
                      timeUnixNano: ns,
                      count: '4',
                      sum: 10,
                      quantileValues: [
                        { quantile: 0.5, value: 2 },
                        { quantile: 0.99, value: 4 },
                      ],
                    },
                  ],
                },
              },
            ],
          },
        ],
      },
    ],
  }
}

export function otlpProto(now: number, service: string): Buffer {
  return encodeOtlp(otlpObject(now, service))
}

/** An ExportMetricsServiceRequest in its OTLP/JSON form, encoded as protobuf. */
export const encodeOtlp = encodeOtlpRequest

export function remoteWriteProto(now: number, job: string): Buffer {
  return Buffer.from(
    WriteRequest.encode(
      WriteRequest.fromObject({
        timeseries: [
          {
            labels: [
              { name: '__name__', value: 'fuzz_requests_total' },
              { name: 'job', value: job },
              { name: 'code', value: '200' },
            ],
            samples: [
              { value: 5, timestamp: now - 1000 },
              { value: 7, timestamp: now },
            ],
          },
          {
            labels: [
              { name: '__name__', value: 'fuzz_temp' },
              { name: 'job', value: job },
            ],
            samples: [{ value: 21.5, timestamp: now }],
          },
        ],
        metadata: [{ type: 1, metricFamilyName: 'fuzz_requests_total', help: 'requests', unit: '' }],
      }),
    ).finish(),
  )
}

/** The JSON API bodies the fuzzer mutates, with where they go. */
export function apiSeeds(now: number): { url: string; method: 'POST' | 'PUT'; body: unknown }[] {
  return [
    {
      url: '/api/v1/deploys',
      method: 'POST',
      body: {
        service: 'checkout',
        version: '1.4.2',
        actor: 'alice',
        commit: '9f2c1e0',
        description: 'faster totals',
        started_at: now - 1000,
        finished_at: now,
        id: 'fuzz-1',
        plan: {
          expect: [{ metric: 'http.duration', change: 'down' }],
          risks: 'cold cache',
          watch: ['http.duration'],
          contingency: ['cart_cache'],
        },
      },
    },
    {
      url: '/api/v1/events',
      method: 'POST',
      body: {
        kind: 'incident',
        title: 'cards failing',
        actor: 'bob',
        service: 'checkout',
        text: 'PSP timeouts',
        tags: ['psp', 'p1'],
        time: now - 5000,
        time_end: now,
      },
    },
    {
      url: '/api/v1/knobs/checkout/workers',
      method: 'PUT',
      body: { type: 'int', default: 20, min: 1, max: 200, unit: '{worker}', description: 'pool size', owner: 'team-a' },
    },
    { url: '/api/v1/knobs/checkout/rollout', method: 'PUT', body: { type: 'percent', default: 10 } },
    {
      url: '/api/v1/knobs/checkout/mode',
      method: 'PUT',
      body: { type: 'enum', default: 'fast', values: ['fast', 'safe'] },
    },
    {
      url: '/api/v1/knobs/checkout/workers/value',
      method: 'POST',
      body: { value: 40, actor: 'alice', reason: 'queue backing up' },
    },
    {
      url: '/api/v1/knobs/checkout/workers/pin',
      method: 'POST',
      body: { value: 5, actor: 'alice', reason: 'incident' },
    },
    {
      url: '/api/v1/knobs/checkout/workers/revert',
      method: 'POST',
      body: { version: 1, actor: 'alice', reason: 'back' },
    },
  ]
}

// ---- mutations ------------------------------------------------------------------------

const INTERESTING = [0x00, 0x01, 0x7f, 0x80, 0xff, 0x0a, 0x12, 0x1a, 0x22, 0x08]
/** A varint of 10 bytes (more than 64 bits) or one of 2^32 and up. */
const HUGE_VARINTS = [
  Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]),
  Buffer.from([0x80, 0x80, 0x80, 0x80, 0x10]),
  Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f]),
]

/** One to four byte-level mutations of `b`. */
export function mutateBytes(rnd: Random, b: Buffer, other?: Buffer): Buffer {
  let out = Buffer.from(b)
  const n = 1 + rnd.int(4)
  for (let k = 0; k < n; k++) {
    const at = out.length === 0 ? 0 : rnd.int(out.length)
    switch (rnd.int(10)) {
      case 0:
        if (out.length > 0) out[at] = out[at]! ^ (1 << rnd.int(8))
        break
      case 1:
        if (out.length > 0) out[at] = rnd.pick(INTERESTING)
        break
      case 2:
        out = Buffer.concat([out.subarray(0, at), Buffer.from([rnd.int(256)]), out.subarray(at)])
        break
      case 3:
        out = Buffer.concat([out.subarray(0, at), out.subarray(Math.min(out.length, at + 1 + rnd.int(16)))])
        break
      case 4:
        out = out.subarray(0, at)
        break // truncated
      case 5:
        out = Buffer.concat([out.subarray(0, at), rnd.pick(HUGE_VARINTS), out.subarray(at)])
        break
      case 6: {
        // a length byte that points past the end
        if (out.length > 1) {
          out[at] = 0x0a
          out[Math.min(out.length - 1, at + 1)] = 0x7f | (rnd.chance(0.5) ? 0x80 : 0)
        }
        break
      }
      case 7: {
        // a slice repeated
        const len = 1 + rnd.int(Math.max(1, Math.min(64, out.length - at)))
        out = Buffer.concat([
          out.subarray(0, at),
          ...Array<Buffer>(1 + rnd.int(8)).fill(out.subarray(at, at + len)),
          out.subarray(at),
        ])
        break
      }
      case 8:
        if (other !== undefined && other.length > 0)
          out = Buffer.concat([out.subarray(0, at), other.subarray(rnd.int(other.length))])
        break
      default:
        out = Buffer.concat([out, Buffer.from(Array.from({ length: 1 + rnd.int(32) }, () => rnd.int(256)))])
    }
  }
  return out
}

const STRANGE_STRINGS = [
  '',
  ' ',
  '\u0000',
  "'; DROP TABLE governor.series; --",
  '{name:String}',
  '\\',
  '"',
  'é\u{1F600}\u200b',
  'x'.repeat(70_000),
  '-1',
  '1e309',
  'NaN',
  '__proto__',
  'constructor',
  '\ud800',
]
const STRANGE_VALUES: unknown[] = [
  null,
  true,
  false,
  0,
  -1,
  1e308,
  -1e308,
  2 ** 53 + 1,
  1.5,
  [],
  {},
  [[[]]],
  { __proto__: { polluted: 1 } },
  '9007199254740993',
  '18446744073709551616',
]

/** A structural mutation of a JSON value: fields replaced, removed, added, or nested deep. */
export function mutateJson(rnd: Random, v: unknown, depth = 0): unknown {
  if (depth > 6) return v
  if (Array.isArray(v)) {
    if (v.length > 0 && rnd.chance(0.3)) return v.map((x) => (rnd.chance(0.5) ? mutateJson(rnd, x, depth + 1) : x))
    if (rnd.chance(0.2)) return [...v, ...Array<unknown>(rnd.int(3)).fill(rnd.pick(v.length > 0 ? v : STRANGE_VALUES))]
    return rnd.chance(0.5) ? rnd.pick(STRANGE_VALUES) : v
  }
  if (typeof v === 'object' && v !== null) {
    const o: Record<string, unknown> = { ...(v as Record<string, unknown>) }
    const keys = Object.keys(o)
    const key = keys.length > 0 ? rnd.pick(keys) : 'x'
    switch (rnd.int(5)) {
      case 0:
        delete o[key]
        break
      case 1:
        o[key] = rnd.pick([...STRANGE_VALUES, ...STRANGE_STRINGS])
        break
      case 2:
        o[rnd.pick(STRANGE_STRINGS).slice(0, 20) || 'extra'] = rnd.pick(STRANGE_VALUES)
        break
      default:
        o[key] = mutateJson(rnd, o[key], depth + 1)
    }
    return o
  }
  if (typeof v === 'string') return rnd.chance(0.5) ? rnd.pick(STRANGE_STRINGS) : v + rnd.pick(STRANGE_STRINGS)
  return rnd.pick([...STRANGE_VALUES, ...STRANGE_STRINGS])
}

/** `[[[[…]]]]` or `{"a":{"a":…}}` nested `depth` levels, optionally inside a valid prefix. */
export function deepJson(depth: number, objects: boolean): Buffer {
  return Buffer.from(
    objects ? `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}` : `${'['.repeat(depth)}${']'.repeat(depth)}`,
  )
}

/** An OTLP attribute value nested `depth` levels of arrays in protobuf. */
export function deepAnyValue(depth: number): Buffer {
  // AnyValue{array_value(5): ArrayValue{values(1): AnyValue{…}}}
  let inner = Buffer.from([0x0a, 0x01, 0x78]) // AnyValue{string_value: "x"}
  for (let i = 0; i < depth; i++) {
    const arr = Buffer.concat([Buffer.from([0x0a]), varint(inner.length), inner]) // ArrayValue.values
    inner = Buffer.concat([Buffer.from([0x2a]), varint(arr.length), arr]) // AnyValue.array_value
  }
  const kvBody = Buffer.concat([Buffer.from([0x0a, 0x01, 0x6b, 0x12]), varint(inner.length), inner]) // KeyValue{key:"k", value}
  const resource = Buffer.concat([Buffer.from([0x0a]), varint(kvBody.length), kvBody]) // Resource.attributes
  const rm = Buffer.concat([Buffer.from([0x0a]), varint(resource.length), resource]) // ResourceMetrics.resource
  return Buffer.concat([Buffer.from([0x0a]), varint(rm.length), rm]) // ExportMetricsServiceRequest.resource_metrics
}

export function varint(n: number): Buffer {
  const out: number[] = []
  while (n > 0x7f) {
    out.push((n % 0x80) | 0x80)
    n = Math.floor(n / 0x80)
  }
  out.push(n)
  return Buffer.from(out)
}

/** A snappy block whose header declares `declared` bytes but whose data is `data`. */
export function snappyLying(declared: number, data: Buffer): Buffer {
  const body = compressSync(data)
  let i = 0
  while (body[i]! & 0x80) i++
  return Buffer.concat([varint(declared), body.subarray(i + 1)])
}

export { compressSync as snappy, gzipSync as gzip }
