/**
 * @governor/throttle/fastify: a fastify plugin that puts a concurrency limiter in front of the
 * routes. Types only from fastify and @opentelemetry/api: neither is a runtime dependency of
 * the library (the meter is taken from @opentelemetry/api when it is installed, by a dynamic
 * import, or passed in).
 */
import type { BatchObservableResult, Meter } from '@opentelemetry/api'
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import { ThrottleError } from './errors.ts'
import type { AcquireContext, Limiter, LimiterListener } from './limit/limiter.ts'

/** Route config of the plugin: `{ config: { throttle: { critical: true } } }`. */
export interface ThrottleRouteConfig {
  /** Admitted up to the whole limit; sheddable routes only up to the limit less the critical reserve. */
  critical?: boolean
  /** Not limited, not counted (health checks, metrics scrapes). */
  bypass?: boolean
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** @governor/throttle/fastify: how the concurrency limiter treats the route. */
    throttle?: ThrottleRouteConfig
  }
  interface FastifyRequest {
    /** @governor/throttle/fastify: the limiter's listener of this request (null when not admitted by it). */
    throttleListener: LimiterListener | null
  }
}

/** What a finished request tells the limit: a real round trip, nothing, or a drop. */
export type ThrottleOutcome = 'success' | 'ignore' | 'dropped'

/** Options of the plugin. */
export interface ThrottlePluginOptions {
  /** The limiter (its Limit, bounds and critical reserve). Bind its bounds to a knob with `bindBounds`. */
  limiter: Limiter<AcquireContext>
  /** Whether a request is critical. Default: the route's `config.throttle.critical`. */
  isCritical?: (request: FastifyRequest) => boolean
  /** Requests that skip the limiter. Default: the route's `config.throttle.bypass`. */
  bypass?: (request: FastifyRequest) => boolean
  /** `Retry-After` of a shed request, seconds (whole; a function may look at the request). Default 1. */
  retryAfterSeconds?: number | ((request: FastifyRequest) => number)
  /**
   * What a finished response tells the limit. Default: below 500 a round trip (`success`), 503
   * and 504 a drop (the app itself is overloaded or timed out downstream), other 5xx `ignore`
   * (a fast failure says nothing about capacity).
   */
  classify?: (request: FastifyRequest, reply: FastifyReply) => ThrottleOutcome
  /**
   * Where the limiter's metrics go: a Meter, `false` for none, or (default) the global meter
   * provider of @opentelemetry/api when the app has it installed, so that they reach the
   * collector with the app's other metrics.
   */
  meter?: Meter | false
  /** The `governor.limiter` attribute of the metrics. Default 'http'. */
  name?: string
  /**
   * When the request arrived, on the limiter's clock (`performance.now()` unless the limiter
   * was given another). Its round trip counts from there, so that time spent before the
   * plugin's hook (the event loop busy with other requests, a queue in front) reaches the
   * limit too. Default: when the plugin's `onRequest` hook runs.
   */
  arrivedAt?: (request: FastifyRequest) => number | undefined
}

/** The body of a shed request's 503. */
export const SHED_ERROR_CODE = 'THROTTLE_ERR_SHED'

const CRITICAL: AcquireContext = Object.freeze({ critical: true })
const SHEDDABLE: AcquireContext = Object.freeze({ critical: false })

function defaultClassify(_request: FastifyRequest, reply: FastifyReply): ThrottleOutcome {
  const status = reply.statusCode
  if (status < 500) return 'success'
  return status === 503 || status === 504 ? 'dropped' : 'ignore'
}

function report(listener: LimiterListener, outcome: ThrottleOutcome): void {
  if (outcome === 'success') listener.onSuccess()
  else if (outcome === 'dropped') listener.onDropped()
  else listener.onIgnore()
}

/**
 * Limits the concurrency of the routes registered after it (in its scope and the parent's: it
 * is not encapsulated). A request over the limit is answered 503 with `Retry-After` before its
 * body is read; critical routes (`config: { throttle: { critical: true } }`) keep a reserve of
 * the limit, so sheddable routes are shed first. Exposes, through OpenTelemetry metrics,
 * `governor.limiter.limit`, `governor.limiter.inflight` and `governor.limiter.rejections`
 * (by `governor.priority`: critical, sheddable).
 *
 * ```ts
 * import { Limiter, SloGradientLimit, bindBounds } from '@governor/throttle'
 * import { throttlePlugin } from '@governor/throttle/fastify'
 *
 * const limiter = new Limiter({ limit: new SloGradientLimit({ targetMillis: 250 }) })
 * bindBounds(limiter, { max: governor.knob('max-concurrency', { type: 'int', default: 500, min: 1, max: 5000 }) })
 * await app.register(throttlePlugin, { limiter })
 * app.get('/checkout', { config: { throttle: { critical: true } } }, handler)
 * ```
 */
export const throttlePlugin: FastifyPluginAsync<ThrottlePluginOptions> = Object.assign(
  async function governorThrottle(fastify: FastifyInstance, options: ThrottlePluginOptions): Promise<void> {
    const { limiter } = options
    const isCritical = options.isCritical ?? ((request: FastifyRequest) => request.routeOptions.config?.throttle?.critical === true)
    const bypass = options.bypass ?? ((request: FastifyRequest) => request.routeOptions.config?.throttle?.bypass === true)
    const classify = options.classify ?? defaultClassify
    const retryAfter = options.retryAfterSeconds ?? 1
    const arrivedAt = options.arrivedAt
    // Not encapsulated (it limits the whole app), so a second registration would hook every
    // request twice and overwrite the first one's listener: refused.
    if (fastify.hasRequestDecorator('throttleListener')) {
      throw new ThrottleError('THROTTLE_ERR_LIMIT_INVALID', '@governor/throttle/fastify is registered once per app: it already limits every route')
    }
    fastify.decorateRequest('throttleListener', null)

    fastify.addHook('onRequest', (request, reply, done) => {
      if (bypass(request)) return done()
      const listener = limiter.acquire(isCritical(request) ? CRITICAL : SHEDDABLE, arrivedAt?.(request))
      if (listener === undefined) {
        const seconds = Math.max(0, Math.ceil(typeof retryAfter === 'function' ? retryAfter(request) : retryAfter))
        void reply.code(503).header('retry-after', String(seconds)).send({
          statusCode: 503, code: SHED_ERROR_CODE, error: 'Service Unavailable',
          message: `over capacity (${limiter.inflight} in flight, limit ${limiter.limit}): shed; retry after ${seconds} s`,
        })
        return // answered: fastify must not run the handler, so done() is not called
      }
      request.throttleListener = listener
      done()
    })
    const finish = (request: FastifyRequest, outcome: ThrottleOutcome | ((r: FastifyRequest) => ThrottleOutcome)) => {
      const listener = request.throttleListener
      if (listener === null) return
      request.throttleListener = null
      report(listener, typeof outcome === 'function' ? outcome(request) : outcome)
    }
    fastify.addHook('onResponse', (request, reply, done) => {
      finish(request, (r) => classify(r, reply))
      done()
    })
    // A client gone before the answer: no round trip. A request that timed out: a drop.
    fastify.addHook('onRequestAbort', (request, done) => {
      finish(request, 'ignore')
      done()
    })
    fastify.addHook('onTimeout', (request, _reply, done) => {
      finish(request, 'dropped')
      done()
    })

    const meter = options.meter === undefined ? await globalMeter() : options.meter
    if (meter !== false && meter !== undefined) observe(fastify, meter, limiter, options.name ?? 'http')
  },
  { [Symbol.for('skip-override')]: true, [Symbol.for('fastify.display-name')]: '@governor/throttle/fastify' },
)

/** The global meter of @opentelemetry/api, if the app has the package; undefined otherwise. */
async function globalMeter(): Promise<Meter | undefined> {
  try {
    const api = await import('@opentelemetry/api')
    return api.metrics.getMeter('@governor/throttle')
  } catch {
    return undefined
  }
}

/** Observable instruments: read when the SDK collects, so a request pays nothing for metrics. */
function observe(fastify: FastifyInstance, meter: Meter, limiter: Limiter<AcquireContext>, name: string): void {
  const limit = meter.createObservableGauge('governor.limiter.limit', { description: 'Concurrency limit of the adaptive limiter', unit: '{request}' })
  const inflight = meter.createObservableGauge('governor.limiter.inflight', { description: 'Requests admitted by the limiter and not finished', unit: '{request}' })
  const rejections = meter.createObservableCounter('governor.limiter.rejections', { description: 'Requests shed by the limiter (503)', unit: '{request}' })
  const attrs = { 'governor.limiter': name }
  const critical = { ...attrs, 'governor.priority': 'critical' }
  const sheddable = { ...attrs, 'governor.priority': 'sheddable' }
  const callback = (result: BatchObservableResult) => {
    result.observe(limit, limiter.limit, attrs)
    result.observe(inflight, limiter.inflight, attrs)
    result.observe(rejections, limiter.counts.rejectedCritical, critical)
    result.observe(rejections, limiter.counts.rejectedSheddable, sheddable)
  }
  meter.addBatchObservableCallback(callback, [limit, inflight, rejections])
  fastify.addHook('onClose', (_instance, done) => {
    meter.removeBatchObservableCallback(callback, [limit, inflight, rejections])
    done()
  })
}
