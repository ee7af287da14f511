import { createHash } from 'node:crypto'
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ChildProcess } from 'node:child_process'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  apiSeeds,
  deepAnyValue,
  deepJson,
  gzip,
  mutateBytes,
  mutateJson,
  otlpObject,
  otlpProto,
  Random,
  remoteWriteProto,
  snappy,
  snappyLying,
  type FuzzInput,
} from '../helpers/fuzz-inputs.ts'
import { spawnServer } from '../helpers/server.ts'

// Seeded fuzzing of both receivers and the JSON API against a real server process: mutated
// OTLP protobuf and JSON, remote write (snappy), deploys, events and knobs; truncations, huge
// varints, lengths past the end, deep nesting, gzip and snappy bombs. The server must never
// crash, hang or answer 5xx; every refusal is a 4xx with a message; its memory stays bounded.
// An input that breaks something is kept under test/regression/fuzz-corpus/ and replayed by
// test/regression/fuzz-corpus.test.ts from then on.
//
// GOVERNOR_FUZZ_SEED replays a run; GOVERNOR_FUZZ_INPUTS tries more inputs, and
// GOVERNOR_FUZZ_MILLIS fuzzes for at least that long as well. A run tries a number of inputs,
// not an amount of time, so a busy machine tries as many as an idle one.

const SEED = Number(process.env.GOVERNOR_FUZZ_SEED ?? 20251126)
const INPUTS = Number(process.env.GOVERNOR_FUZZ_INPUTS ?? 600)
const BUDGET_MILLIS = Number(process.env.GOVERNOR_FUZZ_MILLIS ?? 0)
const MAX_BODY = 4 * 1024 * 1024
const CONCURRENCY = 8
const REQUEST_TIMEOUT_MILLIS = 15_000
const MAX_HEAP_MIB = 256
/** Growth of the server's resident memory over the run that counts as a leak. */
const MAX_RSS_GROWTH_MIB = 256
const CORPUS = new URL('../regression/fuzz-corpus/', import.meta.url)

let server: { child: ChildProcess; url: string; output: () => string }

beforeAll(async () => {
  server = await spawnServer({
    GOVERNOR_DATA_DIR: mkdtempSync(join(tmpdir(), 'governor-fuzz-')),
    GOVERNOR_MAX_BODY_BYTES: String(MAX_BODY),
    GOVERNOR_RATE_LIMIT_INGEST_PER_MINUTE: '0',
    GOVERNOR_RATE_LIMIT_API_PER_MINUTE: '0',
    GOVERNOR_IMPACT_INTERVAL_MILLIS: '0',
    GOVERNOR_LOG_LEVEL: 'fatal',
    // A JS heap that cannot grow past this: memory the server keeps for good (a leak) ends in
    // a crash the test sees, instead of hiding among garbage not collected yet.
    NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --max-old-space-size=${MAX_HEAP_MIB}`.trim(),
  })
})
afterAll(() => {
  server?.child.kill('SIGKILL')
})

/** The server's JS heap in use, from its own /metrics. */
async function heapMiB(): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text()
  return Math.round(Number(/^governor_nodejs_heap_size_used_bytes (\S+)/m.exec(text)?.[1]) / 1024 / 1024)
}

function rssMiB(pid: number): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]
  return Math.round(Number(kb) / 1024)
}

const SERVICES = ['checkout', 'payments', 'fuzz', 'cart']
const OTLP_JSON = { 'content-type': 'application/json' }
const OTLP_PROTO = { 'content-type': 'application/x-protobuf' }
const RW = {
  'content-type': 'application/x-protobuf',
  'content-encoding': 'snappy',
  'x-prometheus-remote-write-version': '0.1.0',
}

/** The next input: a kind drawn at random, a valid seed of that kind, then mutations. */
function nextInput(rnd: Random, now: number): FuzzInput {
  const service = rnd.pick(SERVICES)
  const otlp = (body: Buffer, headers: Record<string, string>, kind: string): FuzzInput =>
    rnd.chance(0.25)
      ? {
          kind: `${kind}+gzip`,
          method: 'POST',
          url: '/v1/metrics',
          headers: { ...headers, 'content-encoding': 'gzip' },
          body: rnd.chance(0.8) ? gzip(body) : mutateBytes(rnd, gzip(body)),
        }
      : { kind, method: 'POST', url: '/v1/metrics', headers, body }
  switch (rnd.int(12)) {
    case 0:
    case 1:
    case 2:
      return otlp(mutateBytes(rnd, otlpProto(now, service), otlpProto(now - 5000, 'other')), OTLP_PROTO, 'otlp-proto')
    case 3:
    case 4: {
      let o: unknown = otlpObject(now, service)
      for (let i = 1 + rnd.int(3); i > 0; i--) o = mutateJson(rnd, o)
      const text = Buffer.from(JSON.stringify(o) ?? 'null')
      return otlp(rnd.chance(0.3) ? mutateBytes(rnd, text) : text, OTLP_JSON, 'otlp-json')
    }
    case 5:
    case 6: {
      const proto = remoteWriteProto(now, service)
      const r = rnd.next()
      if (r < 0.5)
        return {
          kind: 'rw-proto',
          method: 'POST',
          url: '/api/v1/write',
          headers: RW,
          body: snappy(mutateBytes(rnd, proto)),
        }
      if (r < 0.8)
        return {
          kind: 'rw-snappy',
          method: 'POST',
          url: '/api/v1/write',
          headers: RW,
          body: mutateBytes(rnd, snappy(proto)),
        }
      return {
        kind: 'rw-plain',
        method: 'POST',
        url: '/api/v1/write',
        headers: { 'content-type': 'application/x-protobuf' },
        body: mutateBytes(rnd, proto),
      }
    }
    case 7:
    case 8: {
      const seed = rnd.pick(apiSeeds(now))
      let v: unknown = seed.body
      for (let i = 1 + rnd.int(3); i > 0; i--) v = mutateJson(rnd, v)
      const text = Buffer.from(JSON.stringify(v) ?? 'null')
      return {
        kind: `api${seed.url.replace(/\/api\/v1|\/checkout/g, '')}`,
        method: seed.method,
        url: seed.url,
        headers: { 'content-type': 'application/json' },
        body: rnd.chance(0.25) ? mutateBytes(rnd, text) : text,
      }
    }
    case 9: {
      // bombs
      switch (rnd.int(5)) {
        case 0:
          return {
            kind: 'gzip-bomb',
            method: 'POST',
            url: '/v1/metrics',
            headers: { ...OTLP_PROTO, 'content-encoding': 'gzip' },
            body: gzip(Buffer.alloc(MAX_BODY * 8)),
          }
        case 1:
          return {
            kind: 'snappy-declares-too-much',
            method: 'POST',
            url: '/api/v1/write',
            headers: RW,
            body: snappyLying(0xffff_ffff, Buffer.alloc(64)),
          }
        case 2:
          return {
            kind: 'snappy-expands-to-max',
            method: 'POST',
            url: '/api/v1/write',
            headers: RW,
            body: snappy(Buffer.alloc(MAX_BODY - 16, rnd.chance(0.5) ? 0 : 0x0a)),
          }
        case 3:
          return {
            kind: 'snappy-lies-short',
            method: 'POST',
            url: '/api/v1/write',
            headers: RW,
            body: snappyLying(10, remoteWriteProto(now, service)),
          }
        default:
          return {
            kind: 'gzip-json-bomb',
            method: 'POST',
            url: '/v1/metrics',
            headers: { ...OTLP_JSON, 'content-encoding': 'gzip' },
            body: gzip(Buffer.from(`{"resourceMetrics":[${'{},'.repeat(MAX_BODY)}{}]}`)),
          }
      }
    }
    case 10: {
      // deep nesting
      const depth = rnd.pick([100, 1_000, 10_000, 100_000, 1_000_000])
      if (rnd.chance(0.3))
        return {
          kind: 'deep-anyvalue',
          method: 'POST',
          url: '/v1/metrics',
          headers: OTLP_PROTO,
          body: deepAnyValue(Math.min(depth, 20_000)),
        }
      const seed = rnd.pick([...apiSeeds(now), { url: '/v1/metrics', method: 'POST' as const, body: null }])
      return {
        kind: 'deep-json',
        method: seed.method,
        url: seed.url,
        headers: { 'content-type': 'application/json' },
        body: deepJson(depth, rnd.chance(0.5)),
      }
    }
    default: {
      // odd headers and empty bodies
      const url = rnd.pick(['/v1/metrics', '/api/v1/write', '/api/v1/deploys', '/api/v1/events'])
      const headers: Record<string, string> = {
        'content-type': rnd.pick([
          'application/json',
          'application/x-protobuf',
          'application/x-protobuf; proto=io.prometheus.write.v2.Request',
          'text/plain',
          'application/json; charset=latin1',
          '',
          'multipart/form-data; boundary=x',
        ]),
      }
      if (rnd.chance(0.5))
        headers['content-encoding'] = rnd.pick(['gzip', 'snappy', 'br', 'deflate', 'identity', 'gzip, gzip', ''])
      const body = rnd.pick([
        Buffer.alloc(0),
        Buffer.from('{}'),
        Buffer.from([0x1f, 0x8b, 0x08]),
        Buffer.from([0xff, 0x06, 0x00, 0x00, 0x73, 0x4e, 0x61, 0x50, 0x70, 0x59]),
        otlpProto(now, service),
      ])
      return { kind: 'headers', method: 'POST', url, headers, body }
    }
  }
}

interface Failure {
  input: FuzzInput
  found: string
}

const limitOf = (url: string) => (url === '/v1/metrics' || url === '/api/v1/write' ? MAX_BODY : 1024 * 1024)

/** Sends one input; answers its status (0: none) and what broke, if anything. */
async function attempt(input: FuzzInput): Promise<{ status: number; found: string | undefined }> {
  const { status, found } = await send(input)
  return { status, found }
}

async function send(input: FuzzInput): Promise<{ status: number; found?: string }> {
  let res: Response
  try {
    res = await fetch(`${server.url}${input.url}`, {
      method: input.method,
      headers: input.headers,
      body: input.body,
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MILLIS),
    })
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } }
    // A body over the limit is refused (413) before it is read, and the connection closed
    // under the client still sending it: fine, as long as the server is still there.
    if (
      input.body.length > limitOf(input.url) &&
      ['EPIPE', 'ECONNRESET', 'UND_ERR_SOCKET'].includes(e.cause?.code ?? '')
    ) {
      const alive = await fetch(`${server.url}/healthz`).then(
        (r) => r.ok,
        () => false,
      )
      if (alive) return { status: 413 }
    }
    return {
      status: 0,
      found:
        e.name === 'TimeoutError'
          ? `hang: no answer in ${REQUEST_TIMEOUT_MILLIS} ms`
          : `crash: ${e.message} (${e.cause?.code ?? ''})`,
    }
  }
  const body = Buffer.from(await res.arrayBuffer())
  const status = res.status
  if (status >= 500) return { status, found: `${status}: ${body.toString('utf8').slice(0, 200)}` }
  if (status >= 400 && body.length === 0) return { status, found: `${status} without a message` }
  if (status < 200 || (status >= 300 && status < 400)) return { status, found: `unexpected status ${status}` }
  return { status }
}

function keep(f: Failure): string {
  mkdirSync(CORPUS, { recursive: true })
  const name = `${f.input.kind.replace(/[^a-z0-9-]+/gi, '-')}-${createHash('sha256').update(f.input.body).digest('hex').slice(0, 12)}.json`
  writeFileSync(
    new URL(name, CORPUS),
    `${JSON.stringify({ found: f.found, seed: SEED, method: f.input.method, url: f.input.url, headers: f.input.headers, body: f.input.body.toString('base64') }, null, 2)}\n`,
  )
  return name
}

describe('fuzzing the receivers and the JSON API', () => {
  it(
    'never crashes, hangs or answers 5xx, refuses with a message, and keeps its memory bounded',
    async () => {
      const rnd = new Random(SEED)
      const now = Date.now()
      const failures: Failure[] = []
      const byKind = new Map<string, number>()
      const statuses = new Map<number, number>()
      let tried = 0
      const run = async (input: FuzzInput) => {
        tried++
        byKind.set(input.kind, (byKind.get(input.kind) ?? 0) + 1)
        const { status, found } = await attempt(input)
        statuses.set(status, (statuses.get(status) ?? 0) + 1)
        if (found !== undefined) failures.push({ input, found })
      }
      // Warm up: every kind once, so the memory measured first includes what any input needs.
      for (let i = 0; i < 200; i++) await run(nextInput(rnd, now))
      const pid = server.child.pid!
      const before = rssMiB(pid)
      const heapBefore = await heapMiB()
      const deadline = Date.now() + BUDGET_MILLIS
      const measured = tried + INPUTS
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while ((tried < measured || Date.now() < deadline) && failures.length < 20) await run(nextInput(rnd, now))
        }),
      )
      const health = await fetch(`${server.url}/healthz`).then(
        (r) => r.status,
        (e: Error) => e.message,
      )
      const after = rssMiB(pid)
      const heapAfter = await heapMiB()
      const kept = failures.map(keep)
      const statusLine = [...statuses.entries()].map(([s, n]) => `${s}:${n}`).join(' ')
      console.log(
        `fuzz: ${tried} inputs tried (seed ${SEED}, ${CONCURRENCY} at a time); ` +
          `server RSS ${before} MiB before, ${after} MiB after (JS heap ${heapBefore} → ${heapAfter} MiB); ${failures.length} failures${kept.length > 0 ? `, kept as ${kept.join(', ')}` : ''}` +
          `${statusLine !== '' ? `; ${statusLine}` : ''}\n  by kind: ${[...byKind.entries()]
            .sort()
            .map(([k, n]) => `${k} ${n}`)
            .join(', ')}`,
      )
      expect(server.child.exitCode, server.output()).toBeNull()
      expect(health).toBe(200)
      expect(failures.map((f) => `${f.input.kind} ${f.input.url}: ${f.found}`)).toEqual([])
      expect(tried).toBeGreaterThanOrEqual(200 + INPUTS)
      expect(after - before, `RSS grew from ${before} to ${after} MiB`).toBeLessThan(MAX_RSS_GROWTH_MIB)
    },
    BUDGET_MILLIS + 600_000,
  ) // a deadline only: the run ends when its inputs are tried
})
