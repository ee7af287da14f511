import type {} from 'fastify'
import type { AccessControl } from './auth/access-control.ts'
import type { WritePipeline } from './batch/write-pipeline.ts'
import type { ChangeLog } from './changelog/change-log.ts'
import type { ControllerRunner, ControllerService } from './control/index.ts'
import type { DeployImpact } from './impact/deploy-impact.ts'
import type { KnobService } from './knobs/knob-service.ts'
import type { SeriesCache } from './model/series-cache.ts'
import type { SelfMetrics } from './self-metrics.ts'
import type { SloService } from './slo/index.ts'
import type { Settings } from './settings.ts'
import type { WebhookSender } from './sinks/webhook-sender.ts'
import type { ReadGate } from './query/read-gate.ts'
import type { StoreQueries } from './store/queries.ts'
import type { Store } from './store/store.ts'

/** The collector's shared state, set once on the root fastify instance as `app.governor`. */
export interface Services {
  settings: Settings
  store: Store
  /** Reads of series, metrics and points (the store's read side). */
  queries: StoreQueries
  pipeline: WritePipeline
  seriesCache: SeriesCache
  metrics: SelfMetrics
  changeLog: ChangeLog
  impact: DeployImpact
  knobs: KnobService
  /** Chat and webhook delivery of change-log events. */
  webhooks: WebhookSender
  /** Bearer tokens and the roles every route declares. */
  access: AccessControl
  /** Service level objectives, their status and the deploy gate. */
  slos: SloService
  /** Controller bindings of knobs to SLOs. */
  controllers: ControllerService
  /** The loop that runs the controllers. */
  controllerRunner: ControllerRunner
  /** Bounds the reads of points (queries, SQL) that run at once. */
  readGate: ReadGate
}

declare module 'fastify' {
  interface FastifyInstance {
    governor: Services
  }
}
