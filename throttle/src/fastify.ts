/**
 * @governor/throttle/fastify: a fastify plugin that puts a concurrency limiter in front of the
 * routes. Types only from fastify and @opentelemetry/api: neither is a runtime dependency of
 * the library (the meter is taken from @opentelemetry/api when it is installed, by a dynamic
 * import, or passed in).
 */
import type { Meter } from '@opentelemetry/api'
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import { numberOption } from './check-option.ts'
import { type Clock, monotonicClock } from './clock.ts'
import { ThrottleError } from './errors.ts'
import type { AcquireContext, Limiter, LimiterListener } from './limit/limiter.ts'
import { observeLimiter } from './limit/limiter-metrics.ts'

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
  /**
   * `Retry-After` of a shed request, seconds (whole; a function may look at the request).
   * Default: from the limiter's state (see the plugin): about the ratio of requests seen to
   * requests admitted over the last second or two, jittered ±50 %, from 1 to
   * `maxRetryAfterSeconds` (1 while that span has seen fewer than 20 requests).
   */
  retryAfterSeconds?: number | ((request: FastifyRequest) => number)
  /** Longest `Retry-After` the default gives, seconds. Default 30. */
  maxRetryAfterSeconds?: number
  /** Time for the default `Retry-After`, ms (monotonic). Default `performance.now`. */
  clock?: Clock
  /** Uniform randomness in [0, 1) for the default `Retry-After`'s jitter. Default Math.random. */
  random?: () => number
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
   * When the request arrived, on the limiter's clock (`performance.now()`'s scale: the default
   * coarse clock is on it too, unless the limiter was given another). Its round trip counts from there, so that time spent before the
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
 * the limit, so sheddable routes are shed first. Exposes the limiter's state through
 * OpenTelemetry metrics (`observeLimiter`: limit, in flight, peak in flight, rejections by
 * priority, the limit's reason), with `governor.knob` naming the knob bound to its max, so the
 * collector's controller on that knob knows what the fast loop does.
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
    const isCritical =
      options.isCritical ?? ((request: FastifyRequest) => request.routeOptions.config?.throttle?.critical === true)
    const bypass =
      options.bypass ?? ((request: FastifyRequest) => request.routeOptions.config?.throttle?.bypass === true)
    const classify = options.classify ?? defaultClassify
    const retryAfter =
      options.retryAfterSeconds ??
      overloadRetryAfter(limiter, {
        maxSeconds: numberOption(
          'throttlePlugin',
          'maxRetryAfterSeconds',
          options.maxRetryAfterSeconds,
          30,
          'positive',
        ),
        clock: options.clock ?? monotonicClock,
        random: options.random ?? Math.random,
      })
    const arrivedAt = options.arrivedAt
    // Not encapsulated (it limits the whole app), so a second registration would hook every
    // request twice and overwrite the first one's listener: refused.
    if (fastify.hasRequestDecorator('throttleListener')) {
      throw new ThrottleError(
        'THROTTLE_ERR_LIMIT_INVALID',
        '@governor/throttle/fastify is registered once per app: it already limits every route',
      )
    }
    fastify.decorateRequest('throttleListener', null)

    fastify.addHook('onRequest', (request, reply, done) => {
      if (bypass(request)) return done()
      const listener = limiter.acquire(isCritical(request) ? CRITICAL : SHEDDABLE, arrivedAt?.(request))
      if (listener === undefined) {
        const seconds = Math.max(0, Math.ceil(typeof retryAfter === 'function' ? retryAfter(request) : retryAfter))
        void reply
          .code(503)
          .header('retry-after', String(seconds))
          .send({
            statusCode: 503,
            code: SHED_ERROR_CODE,
            error: 'Service Unavailable',
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

/** Requests the default `Retry-After` needs to have seen over its span before it derives anything (else 1 s). */
const RETRY_AFTER_MIN_SEEN = 20

/**
 * The default `Retry-After`: when the limiter admits one request in r of those it sees, a
 * client told to come back in about r seconds adds about a 1/r of its load each second, not
 * all of it in the next one; the ±50 % jitter spreads the clients shed in the same second. r
 * is taken from the limiter's counts over the last one to two seconds (two snapshots rolled
 * each second, on the rejection path only: an admitted request pays nothing).
 *
 *   r = (admitted + rejected) / admitted      seconds = clamp(round(r × (0.5 + random)), 1, max)
 */
function overloadRetryAfter(
  limiter: Limiter<AcquireContext>,
  o: { maxSeconds: number; clock: Clock; random: () => number },
): () => number {
  const seen = () => limiter.counts.admitted + limiter.counts.rejectedCritical + limiter.counts.rejectedSheddable
  let prev = { at: o.clock(), admitted: limiter.counts.admitted, seen: seen() }
  let cur = prev
  return () => {
    const now = o.clock()
    if (now - cur.at >= 1000) {
      prev = cur
      cur = { at: now, admitted: limiter.counts.admitted, seen: seen() }
    }
    const seenSince = seen() - prev.seen
    // A ratio of a handful of requests is noise: 1 s until the span has seen RETRY_AFTER_MIN_SEEN.
    if (seenSince < RETRY_AFTER_MIN_SEEN) return 1
    const ratio = seenSince / Math.max(1, limiter.counts.admitted - prev.admitted)
    return Math.min(o.maxSeconds, Math.max(1, Math.round(ratio * (0.5 + o.random()))))
  }
}

/** The global meter of @opentelemetry/api, if the app has the package; undefined otherwise. */
async function globalMeter(): Promise<Meter | undefined> {
  try {
    const api = await import('@opentelemetry/api')
    return api.metrics.getMeter('@governor/throttle')
  } catch {
    return undefined
  }
}

/** The limiter's metrics (see `observeLimiter`) until the app closes. */
function observe(fastify: FastifyInstance, meter: Meter, limiter: Limiter<AcquireContext>, name: string): void {
  const stop = observeLimiter(meter, limiter as Limiter<never>, { name })
  fastify.addHook('onClose', (_instance, done) => {
    stop()
    done()
  })
}
