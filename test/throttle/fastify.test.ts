import { readFileSync } from 'node:fs'
import { AggregationTemporality, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics'
import Fastify, { type FastifyInstance } from 'fastify'
import { afterEach, describe, expect, it } from 'vitest'
import { bindBounds } from '../../throttle/src/bind-knob.ts'
import { ManualClock } from '../../throttle/src/clock.ts'
import { throttlePlugin } from '../../throttle/src/fastify.ts'
import { createMemoryClient } from '../../throttle/src/memory-client.ts'
import { FixedLimit } from '../../throttle/src/limit/fixed-limit.ts'
import { Limiter } from '../../throttle/src/limit/limiter.ts'
import { RecordingLimit } from '../../throttle/src/limit/recording-limit.ts'

class TestReader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE })
  }
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

/** A handler that waits until the test opens it, and says when it has been entered. */
function gate() {
  let open!: () => void
  let entered!: () => void
  const opened = new Promise<void>((r) => (open = r))
  const inside = new Promise<void>((r) => (entered = r))
  return {
    open,
    inside,
    handler: async () => {
      entered()
      await opened
      return { ok: true }
    },
  }
}

let app: FastifyInstance | undefined
afterEach(async () => {
  await app?.close()
  app = undefined
})

async function build(limit = new RecordingLimit(new FixedLimit(2)), options: { meter?: MeterProvider } = {}) {
  const limiter = new Limiter({ limit, criticalReserve: 0.5 }) // limit 2: one sheddable, the second slot for critical
  app = Fastify()
  await app.register(throttlePlugin, { limiter, meter: options.meter?.getMeter('test') ?? false, retryAfterSeconds: 2 })
  return { app, limiter, limit }
}

describe('the fastify plugin', () => {
  it('answers 503 with Retry-After when it sheds, and lets a critical route through while a sheddable one is shed', async () => {
    const { app, limiter } = await build()
    const slow = gate()
    const pay = gate()
    // Registered in a child plugin: the limiter is not encapsulated, it covers these routes too.
    await app.register(async (child) => {
      child.get('/search', slow.handler)
      child.post('/pay', { config: { throttle: { critical: true } } }, pay.handler)
    })
    const first = app.inject('/search')
    await slow.inside
    expect(limiter.inflight).toBe(1)

    const shed = await app.inject('/search')
    expect(shed.statusCode).toBe(503)
    expect(shed.headers['retry-after']).toBe('2')
    expect(shed.json()).toMatchObject({ statusCode: 503, code: 'THROTTLE_ERR_SHED', error: 'Service Unavailable' })
    expect(shed.json().message).toMatch(/over capacity \(1 in flight, limit 2\)/)

    const critical = app.inject({ method: 'POST', url: '/pay' })
    await pay.inside // admitted while /search is being shed
    expect((await app.inject('/search')).statusCode).toBe(503)
    expect((await app.inject({ method: 'POST', url: '/pay' })).statusCode).toBe(503) // the whole limit is in use now
    pay.open()
    slow.open()
    expect((await critical).statusCode).toBe(200)
    expect((await first).statusCode).toBe(200)
    expect(limiter.inflight).toBe(0)
    expect(limiter.counts).toMatchObject({ admitted: 2, rejectedSheddable: 2, rejectedCritical: 1, succeeded: 2 })
  })

  it('derives Retry-After from how many requests the limiter sees per one it admits, over the last second or two', async () => {
    const clock = new ManualClock()
    let draw = 0.5
    const limiter = new Limiter({ limit: new FixedLimit(1), criticalReserve: 0 })
    app = Fastify()
    await app.register(throttlePlugin, {
      limiter,
      meter: false,
      clock: clock.now,
      random: () => draw,
      maxRetryAfterSeconds: 30,
    })
    const slow = gate()
    app.get('/fast', async () => 'ok')
    app.get('/slow', slow.handler)
    for (let i = 0; i < 3; i++) expect((await app.inject('/fast')).statusCode).toBe(200)
    const held = app.inject('/slow')
    await slow.inside
    const retryAfter = async () => {
      const res = await app!.inject('/fast')
      expect(res.statusCode).toBe(503)
      return Number(res.headers['retry-after'])
    }
    // 4 admitted. Until 20 requests are seen, 1 s; then 20 seen per 4 admitted → 5 × (0.5 + 0.5) s.
    const first = []
    for (let i = 0; i < 16; i++) first.push(await retryAfter())
    expect(first).toEqual([...Array(15).fill(1), 5])
    // A second later the span reaches back to the start: 21 seen, 4 admitted.
    clock.advance(1000)
    expect(await retryAfter()).toBe(5)
    // Another second: only what came since the last second counts, nothing admitted since.
    clock.advance(1000)
    for (let i = 0; i < 19; i++) await retryAfter()
    expect(await retryAfter()).toBe(20) // 20 seen since the snapshot of a second ago, none admitted
    draw = 0 // the jitter: from half …
    expect(await retryAfter()).toBe(11)
    draw = 0.99 // … to one and a half, clamped to maxRetryAfterSeconds
    expect(await retryAfter()).toBe(30)
    slow.open()
    await held
  })

  it('feeds the limit only real round trips: 5xx failures are ignored, 503 and 504 are drops, bypassed routes are not counted', async () => {
    const { app, limiter, limit } = await build(new RecordingLimit(new FixedLimit(10)))
    app.get('/ok', async () => 'ok')
    app.get('/bad-request', async (_req, reply) => reply.code(400).send('no'))
    app.get('/fails', async () => {
      throw new Error('boom')
    })
    app.get('/overloaded', async (_req, reply) => reply.code(503).send('downstream full'))
    app.get('/health', { config: { throttle: { bypass: true } } }, async () => 'up')
    for (const url of ['/ok', '/bad-request', '/fails', '/overloaded', '/health']) await app.inject(url)
    expect(limit.samples.map((s) => s.didDrop)).toEqual([false, false, true]) // ok, 400, 503; the 500 is ignored
    expect(limiter.counts).toMatchObject({ succeeded: 2, ignored: 1, dropped: 1, bypassed: 0 })
    expect(limiter.inflight).toBe(0)
  })

  it('records limit, inflight and rejections as OpenTelemetry metrics', async () => {
    const reader = new TestReader()
    const provider = new MeterProvider({ readers: [reader] })
    const { app } = await build(new RecordingLimit(new FixedLimit(1)), { meter: provider })
    const slow = gate()
    app.get('/x', slow.handler)
    const held = app.inject('/x')
    await slow.inside
    await app.inject('/x')
    await app.inject('/x')
    const { resourceMetrics } = await reader.collect()
    const metrics = resourceMetrics.scopeMetrics.flatMap((s) => s.metrics)
    const points = (name: string) =>
      metrics
        .find((m) => m.descriptor.name === name)!
        .dataPoints.map((p) => ({ value: p.value, attributes: p.attributes }))
    expect(points('governor.limiter.limit')).toEqual([{ value: 1, attributes: { 'governor.limiter': 'http' } }])
    expect(points('governor.limiter.inflight')).toEqual([{ value: 1, attributes: { 'governor.limiter': 'http' } }])
    expect(points('governor.limiter.rejections')).toEqual([
      { value: 0, attributes: { 'governor.limiter': 'http', 'governor.priority': 'critical' } },
      { value: 2, attributes: { 'governor.limiter': 'http', 'governor.priority': 'sheddable' } },
    ])
    slow.open()
    await held
    await provider.shutdown()
  })

  it("names the knob bound to the limiter's max and reports the peak in flight between two collections", async () => {
    const reader = new TestReader()
    const provider = new MeterProvider({ readers: [reader] })
    const { app, limiter } = await build(new RecordingLimit(new FixedLimit(10)), { meter: provider })
    const client = createMemoryClient({ service: 'shop' })
    bindBounds(limiter, { max: client.knob('max-concurrency', { type: 'int', default: 8, min: 1, max: 100 }) })
    const gates = [gate(), gate(), gate()]
    gates.forEach((g, i) => app.get(`/x${i}`, g.handler))
    const held = gates.map((_, i) => app.inject(`/x${i}`))
    await Promise.all(gates.map((g) => g.inside))
    gates[0]!.open()
    gates[1]!.open()
    await Promise.all(held.slice(0, 2))
    const read = async () => {
      const metrics = (await reader.collect()).resourceMetrics.scopeMetrics.flatMap((s) => s.metrics)
      const one = (name: string) =>
        metrics
          .find((m) => m.descriptor.name === name)!
          .dataPoints.map((p) => ({ value: p.value, attributes: p.attributes }))
      return {
        limit: one('governor.limiter.limit'),
        inflight: one('governor.limiter.inflight'),
        peak: one('governor.limiter.peak_inflight'),
      }
    }
    const attributes = { 'governor.limiter': 'http', 'governor.knob': 'max-concurrency' }
    // Three were in flight at once; one is now. The limit is the knob's 8 (the FixedLimit's 10, bounded).
    expect(await read()).toEqual({
      limit: [{ value: 8, attributes }],
      inflight: [{ value: 1, attributes }],
      peak: [{ value: 3, attributes }],
    })
    // The next collection's span starts from the one still in flight.
    expect((await read()).peak).toEqual([{ value: 1, attributes }])
    gates[2]!.open()
    await held[2]
    await provider.shutdown()
  })

  it('uses the global OpenTelemetry meter when none is given (a no-op without an SDK)', async () => {
    const limiter = new Limiter({ limit: new FixedLimit(1) })
    app = Fastify()
    await app.register(throttlePlugin, { limiter })
    app.get('/x', async () => 'x')
    expect((await app.inject('/x')).statusCode).toBe(200)
    expect(limiter.counts.succeeded).toBe(1)
  })

  it('refuses a second registration: one limiter already covers every route', async () => {
    const { app, limiter } = await build()
    await expect(app.register(throttlePlugin, { limiter, meter: false }).ready()).rejects.toThrow(
      /registered once per app/,
    )
  })

  it('takes nothing from fastify or @opentelemetry/api at run time', () => {
    const source = readFileSync(new URL('../../throttle/src/fastify.ts', import.meta.url), 'utf8')
    const imports = (source.match(/^import [\s\S]*?from '[^']+'/gm) ?? []).map((i) => i.replace(/\s+/g, ' '))
    for (const line of imports) if (/'(fastify|@opentelemetry\/api)'/.test(line)) expect(line).toMatch(/^import type /)
    const pkg = JSON.parse(readFileSync(new URL('../../throttle/package.json', import.meta.url), 'utf8'))
    expect(pkg.dependencies).toBeUndefined()
    expect(pkg.exports['./fastify'].import.default).toBe('./dist/esm/fastify.js')
    expect(pkg.exports['./fastify'].require.default).toBe('./dist/cjs/fastify.js')
    expect(pkg.peerDependenciesMeta.fastify.optional).toBe(true)
  })
})
