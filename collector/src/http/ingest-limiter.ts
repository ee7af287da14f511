import type { FastifyInstance } from 'fastify'
import { Limiter, SloGradientLimit } from '@governor/throttle'
import { throttlePlugin } from '@governor/throttle/fastify'
import { Counter, Gauge, type Registry } from 'prom-client'
import type { Settings } from '../settings.ts'

/**
 * The collector eats its own cooking: the receivers sit behind Governor's adaptive limiter,
 * its setpoint the ingest answer time (GOVERNOR_INGEST_LATENCY_TARGET_MILLIS). When commits
 * slow down or the event loop is saturated, answers stretch past the target, the limit comes
 * down, and the requests beyond it are answered 503 with Retry-After at once, before their
 * bodies are read, instead of queueing until senders time out and send everything again.
 * A request's round trip counts from its arrival, not from the limiter's hook (unless
 * GOVERNOR_INGEST_MAX_WAIT_MILLIS=0): under load most of the wait is before that hook.
 * The limit, the requests in flight and the requests shed show in /metrics.
 */
export async function installIngestLimiter(
  scope: FastifyInstance,
  settings: Pick<Settings, 'maxIngestConcurrency' | 'ingestLatencyTargetMillis' | 'ingestMaxWaitMillis'>,
  registry: Registry,
): Promise<Limiter | undefined> {
  if (settings.maxIngestConcurrency === 0) return undefined
  const limiter = new Limiter({
    limit: new SloGradientLimit({
      targetMillis: settings.ingestLatencyTargetMillis,
      minLimit: Math.min(4, settings.maxIngestConcurrency),
      maxLimit: settings.maxIngestConcurrency,
      initialLimit: Math.min(64, settings.maxIngestConcurrency),
    }),
    criticalReserve: 0, // every ingest request is alike
  })
  // Timed from arrival (the event-loop turn that read the request, installArrivalClock): the
  // wait before the limiter's own hook is most of what a sender sees under load.
  const fromArrival = settings.ingestMaxWaitMillis > 0
  await scope.register(throttlePlugin, {
    limiter,
    meter: false,
    name: 'ingest',
    ...(fromArrival ? { arrivedAt: (r) => r.arrivedAtMillis } : {}),
  })
  const registers = [registry]
  new Gauge({
    name: 'governor_ingest_concurrency_limit',
    help: 'Adaptive limit of ingest requests handled at once.',
    registers,
    collect() {
      this.set(limiter.limit)
    },
  })
  new Gauge({
    name: 'governor_ingest_inflight_requests',
    help: 'Ingest requests being handled.',
    registers,
    collect() {
      this.set(limiter.inflight)
    },
  })
  new Counter({
    name: 'governor_ingest_shed_requests_total',
    help: 'Ingest requests shed by the adaptive limiter (503 with Retry-After).',
    registers,
    collect() {
      this.reset()
      this.inc(limiter.counts.rejectedSheddable + limiter.counts.rejectedCritical)
    },
  })
  return limiter
}
