import { readFileSync } from 'node:fs'
import { AggregationTemporality, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics'
import Fastify, { type FastifyInstance } from 'fastify'
import { afterEach, describe, expect, it } from 'vitest'
import { throttlePlugin } from '../../throttle/src/fastify.ts'
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
  return { open, inside, handler: async () => { entered(); await opened; return { ok: true } } }
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
    const points = (name: string) => metrics.find((m) => m.descriptor.name === name)!.dataPoints.map((p) => ({ value: p.value, attributes: p.attributes }))
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
    await expect(app.register(throttlePlugin, { limiter, meter: false }).ready()).rejects.toThrow(/registered once per app/)
  })

  it('takes nothing from fastify or @opentelemetry/api at run time', () => {
    const source = readFileSync(new URL('../../throttle/src/fastify.ts', import.meta.url), 'utf8')
    const imports = source.match(/^import .*$/gm) ?? []
    for (const line of imports) if (/'(fastify|@opentelemetry\/api)'/.test(line)) expect(line).toMatch(/^import type /)
    const pkg = JSON.parse(readFileSync(new URL('../../throttle/package.json', import.meta.url), 'utf8'))
    expect(pkg.dependencies).toBeUndefined()
    expect(pkg.exports['./fastify'].import.default).toBe('./dist/esm/fastify.js')
    expect(pkg.exports['./fastify'].require.default).toBe('./dist/cjs/fastify.js')
    expect(pkg.peerDependenciesMeta.fastify.optional).toBe(true)
  })
})
