import Fastify, { type FastifyInstance, type FastifyError } from 'fastify'
import { AccessControl, loadTokens, TokenVerifier } from './auth/index.ts'
import { openPipeline } from './batch/open-pipeline.ts'
import { isGovernorError } from './errors.ts'
import { CardinalityGuard } from './model/cardinality-guard.ts'
import { SeriesCache } from './model/series-cache.ts'
import { MetricTypes } from './model/metric-types.ts'
import { changeRoutes } from './api/changes.ts'
import { healthRoutes, installHealthChecks } from './api/health.ts'
import { ChangeLog } from './changelog/change-log.ts'
import { ClickHouseChangeEvents } from './store/change-events.ts'
import { ClickHouseKnobVersions } from './store/knob-versions.ts'
import { ClickHouseOutbox } from './store/webhook-outbox.ts'
import { mannWhitneyUTest } from './store/rank-test.ts'
import { ClickHouseSliReads } from './store/sli-reads.ts'
import { ClickHouseDefinitionVersions } from './store/version-store.ts'
import {
  checkAlgorithmParams,
  ControllerMetrics,
  ControllerRunner,
  ControllerService,
  createAlgorithm,
  SliObserver,
  UsageObserver,
} from './control/index.ts'
import { DeployImpact, ImpactMetrics, ImpactScheduler } from './impact/index.ts'
import { controllerRoutes } from './api/controllers.ts'
import { impactRoutes } from './api/impact.ts'
import { knobRoutes } from './api/knobs.ts'
import { quarantineRoutes } from './api/quarantine.ts'
import { serviceRoutes } from './api/services.ts'
import { sloRoutes } from './api/slos.ts'
import { uiRoutes } from './api/ui.ts'
import { webhookRoutes } from './api/webhooks.ts'
import { whoamiRoutes } from './api/whoami.ts'
import { prometheusRoutes } from './api/prometheus.ts'
import { sqlRoutes } from './api/sql.ts'
import { installArrivalClock } from './http/arrival-clock.ts'
import { DebugRequestLog } from './http/request-log.ts'
import { installBodyLimits } from './http/body-limits.ts'
import { installGracefulClose } from './http/graceful-close.ts'
import { installIngestAdmission } from './http/ingest-admission.ts'
import { installIngestLimiter } from './http/ingest-limiter.ts'
import { installJsonBodies } from './http/json-body.ts'
import { installRateLimits } from './http/rate-limits.ts'
import { installSecurityHeaders } from './http/security-headers.ts'
import { KnobService } from './knobs/knob-service.ts'
import { metadataRoutes } from './api/metadata.ts'
import { queryRoutes } from './api/query.ts'
import { otlpGrpcReceiver } from './grpc/otlp-grpc-receiver.ts'
import { otlpReceiver } from './receivers/otlp.ts'
import { remoteWriteReceiver } from './receivers/remote-write.ts'
import { SelfMetrics } from './self-metrics.ts'
import type { Services } from './services.ts'
import type { Settings } from './settings.ts'
import { ClickHouseStoreQueries } from './store/clickhouse-queries.ts'
import { ReadGate } from './query/read-gate.ts'
import { Store } from './store/store.ts'
import { applySloFile, loadSloFile, SloService } from './slo/index.ts'
import { createWebhookSender } from './sinks/create-webhook-sender.ts'
import { loadSinks } from './sinks/sink-config.ts'
import { shareStore } from './shared-store.ts'

/** An error of the ClickHouse engine or server (ClickHouseError: a numeric code and a type). */
function isStoreError(err: unknown): boolean {
  const e = err as { code?: unknown; type?: unknown; statusCode?: unknown }
  return e.statusCode === undefined && typeof e.code === 'string' && /^\d+$/.test(e.code) && typeof e.type === 'string'
}

export interface BuildOptions {
  /**
   * Logger options for fastify; false silences it. Defaults to the settings' log level on
   * stdout; `stream` sends the lines elsewhere (tests read them).
   */
  logger?: boolean | { level: string; stream?: { write(line: string): void } }
  /**
   * Called with the new app before any hook or route is added to it. For tests: a hook added
   * here sees every route (`onRoute`) and every answer (`preSerialization`).
   */
  instrument?: (app: FastifyInstance) => void
}

/** Never logged, should a serializer ever include request headers. */
const REDACT = ['req.headers.authorization', 'req.headers.cookie']

/**
 * Builds the collector: opens the store (applying migrations), wires the write pipeline
 * and registers every route. Closing the app flushes the pipeline and closes the store.
 */
export async function buildApp(settings: Settings, options: BuildOptions = {}): Promise<FastifyInstance> {
  // Validated before the store opens: a bad sink or token, or an address open to the
  // network without tokens, stops the start before anything is opened or bound.
  const sinks = loadSinks(settings)
  const access = new AccessControl(new TokenVerifier(loadTokens(settings)))
  access.checkExposure(settings.host)
  const sloFile = settings.sloFile === '' ? undefined : loadSloFile(settings.sloFile)
  const store = await Store.open(settings)
  const logger = options.logger ?? (settings.logLevel === 'silent' ? false : { level: settings.logLevel })
  const app = Fastify({
    // Requests are logged with any token of their query string redacted (see AccessControl).
    logger:
      logger === false
        ? false
        : { ...(logger === true ? {} : logger), redact: REDACT, serializers: { req: (req) => access.logRequest(req) } },
    bodyLimit: settings.maxBodyBytes,
    logController: new DebugRequestLog(), // every request at debug, not info
  })
  options.instrument?.(app)
  installArrivalClock(app) // first: a request's wait counts from the event-loop turn that read it
  await installSecurityHeaders(app) // then, so that every answer carries them, refusals too
  installHealthChecks(app) // /healthz and /readyz answered before any other work
  await installRateLimits(app, settings, access) // before the access check: a flood is refused first
  installBodyLimits(app, settings)
  installJsonBodies(app)
  access.install(app) // before any route: every route must declare who may call it
  access.logStartup(app.log, settings.host)
  // Made before the pipeline, so that damage found when the log opens is counted (the gauges read the pipeline when scraped).
  const metrics = new SelfMetrics(() => ({ pending: pipeline.pendingPoints, fill: pipeline.fill }))
  const pipeline = await openPipeline(settings, store, app.log, () => ({
    committed: (points, millis) => {
      metrics.commitPoints.observe(points)
      metrics.commitDuration.observe(millis / 1000)
    },
    failed: () => metrics.commitFailures.inc(),
    quarantined: (table, rows) => metrics.quarantinedRows.inc({ table }, rows),
    walDamaged: (kind) => metrics.walDamaged.inc({ kind }),
  }))
  const changeEvents = new ClickHouseChangeEvents(store.client, store.db)
  const changeLog = new ChangeLog(changeEvents)
  const queries = new ClickHouseStoreQueries(store.client, store.db)
  const impact = new DeployImpact({
    changeLog,
    queries,
    rankTest: (before, after) => mannWhitneyUTest(store.client, before, after),
    windowMillis: settings.impactWindowMillis,
    bucketMillis: settings.impactBucketMillis,
    maxQueryPoints: settings.maxQueryPoints,
  })
  const knobs = new KnobService(new ClickHouseKnobVersions(store.client, store.db), changeLog, {
    onEventError: (err, k) =>
      app.log.error(
        { err },
        `knob change ${k.service}/${k.name} v${k.version} is stored but its change-log event could not be written`,
      ),
    readBeforeWrite: !store.embedded, // a server may be shared by other collectors
  })
  await knobs.load()
  const sliReads = new ClickHouseSliReads(store.client, store.db)
  const slos = new SloService(
    new ClickHouseDefinitionVersions(store.client, store.db, 'slo_versions'),
    changeLog,
    sliReads,
    queries,
  )
  await slos.load()
  if (sloFile !== undefined) await applySloFile(slos, settings.sloFile, sloFile)
  const controllers = new ControllerService(
    new ClickHouseDefinitionVersions(store.client, store.db, 'controller_versions'),
    changeLog,
    { knobs, slos, checkParams: checkAlgorithmParams },
  )
  await controllers.load()
  // Other collectors may share a server: follow their knob changes, run controllers under a lease.
  const shared = store.embedded
    ? undefined
    : await shareStore({
        store,
        settings,
        knobs,
        changeLog,
        queries,
        checkParams: checkAlgorithmParams,
        registry: metrics.registry,
        log: app.log,
      })
  const controllerRunner = new ControllerRunner({
    controllers: shared?.controllers ?? controllers,
    slos: shared?.slos ?? slos,
    knobs,
    lease: shared?.lease,
    changeLog,
    factory: createAlgorithm,
    metrics: new ControllerMetrics(metrics.registry),
    log: app.log,
    now: Date.now,
    observer: new SliObserver(sliReads, queries, settings.maxQueryPoints),
    usage: new UsageObserver(queries, settings.maxQueryPoints),
    tickMillis: settings.controllerTickMillis,
  })
  const webhooks = createWebhookSender(settings, sinks, {
    outbox: new ClickHouseOutbox(store.client, store.db, changeEvents),
    changes: changeLog,
    registry: metrics.registry,
    log: app.log,
  })
  const services: Services = {
    settings,
    store,
    queries,
    pipeline,
    seriesCache: new SeriesCache(
      1_000_000,
      new CardinalityGuard({
        maxPerMetric: settings.maxNewSeriesPerMetricPerHour,
        maxPerService: settings.maxNewSeriesPerServicePerHour,
        isKnown: (id) => store.hasSeries(id),
        now: Date.now,
        onRefused: (limit) => metrics?.seriesRefused.inc({ limit }),
      }),
      MetricTypes.of(await queries.metricTypes()),
    ),
    metrics,
    changeLog,
    impact,
    knobs,
    webhooks,
    access,
    slos,
    controllers,
    controllerRunner,
    readGate: new ReadGate({ maxRunning: settings.maxConcurrentReads, maxWaiting: 4 * settings.maxConcurrentReads }),
  }
  app.decorate('governor', services)
  const impactScheduler = new ImpactScheduler({
    impact,
    changeLog,
    metrics: new ImpactMetrics(metrics.registry),
    log: app.log,
    now: Date.now,
    intervalMillis: settings.impactIntervalMillis,
  })

  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched'
    services.metrics.requestDuration.observe(
      { method: req.method, route, status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    )
  })
  // A route that reads points sees every point acknowledged before it was called.
  app.addHook('preHandler', async (req) => {
    if (req.routeOptions.config.readsPoints === true) await pipeline.sync()
  })
  installGracefulClose(app) // kept-alive and silent connections must not hold a shutdown
  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (isGovernorError(err)) {
      if (err.statusCode === 503) reply.header('retry-after', '1')
      return reply.code(err.statusCode).send({ error: { code: err.code, message: err.message } })
    }
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return reply.code(413).send({
        error: {
          code: 'GOV_ERR_BODY_TOO_LARGE',
          message: `the body is over ${req.routeOptions.bodyLimit ?? settings.maxApiBodyBytes} bytes (GOVERNOR_MAX_API_BODY_BYTES, or GOVERNOR_MAX_BODY_BYTES for the receivers)`,
        },
      })
    }
    if (isStoreError(err)) {
      // The store refused (a full disk, a server gone): retryable, and no engine number leaks.
      req.log.error({ err }, 'the store refused a request')
      reply.header('retry-after', '1')
      return reply.code(503).send({
        error: {
          code: 'GOV_ERR_STORE_UNAVAILABLE',
          message: `the store refused the operation (${(err as { type?: string }).type ?? 'error'}); retry later`,
        },
      })
    }
    const status = err.statusCode ?? 500
    if (status >= 500) req.log.error({ err }, 'request failed')
    return reply
      .code(status)
      .send({ error: { code: err.code ?? 'internal', message: status >= 500 ? 'internal error' : err.message } })
  })
  app.addHook('onClose', async () => {
    await shared?.follower.stop()
    await controllerRunner.stop()
    await webhooks.close()
    await impactScheduler.stop()
    await pipeline.close()
    await store.close()
  })

  // The receivers in a scope of their own, behind admission (wait bound, body bytes) and the
  // collector's adaptive ingest limiter; OTLP/gRPC shares both.
  await app.register(async (ingest) => {
    const admission = installIngestAdmission(ingest, settings, services.metrics.registry)
    const limiter = await installIngestLimiter(ingest, settings, services.metrics.registry)
    await ingest.register(otlpReceiver)
    await ingest.register(remoteWriteReceiver)
    await ingest.register(otlpGrpcReceiver, { admission, limiter })
  })
  await app.register(healthRoutes)
  await app.register(metadataRoutes, { prefix: '/api/v1' })
  await app.register(queryRoutes, { prefix: '/api/v1' })
  await app.register(changeRoutes, { prefix: '/api/v1' })
  await app.register(impactRoutes, { prefix: '/api/v1' })
  await app.register(knobRoutes, { prefix: '/api/v1' })
  await app.register(webhookRoutes, { prefix: '/api/v1' })
  await app.register(sqlRoutes, { prefix: '/api/v1' })
  await app.register(prometheusRoutes, { prefix: '/prometheus/api/v1' })
  await app.register(sloRoutes, { prefix: '/api/v1' })
  await app.register(controllerRoutes, { prefix: '/api/v1' })
  await app.register(quarantineRoutes, { prefix: '/api/v1' })
  await app.register(serviceRoutes, { prefix: '/api/v1' })
  await app.register(whoamiRoutes, { prefix: '/api/v1' })
  await app.register(uiRoutes) // the web UI: the page at / and its assets at /ui/<name>
  impactScheduler.start()
  controllerRunner.start()
  shared?.follower.start()
  void webhooks.start()
  return app
}
