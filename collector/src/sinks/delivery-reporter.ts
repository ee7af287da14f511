import { Counter, Gauge, type Registry } from 'prom-client'
import type { ChangeEvent } from '../changelog/types.ts'
import type { DeliveryStatus } from './outbox.ts'
import type { AttemptOutcome } from './retry-policy.ts'
import { redactUrl, type SinkConfig } from './sink-config.ts'

/** The logger the sender writes to (fastify's logger fits). */
export interface SinkLog {
  debug(obj: object, msg: string): void
  info(obj: object, msg: string): void
  warn(obj: object, msg: string): void
  error(obj: object, msg: string): void
}

/** Where the sender itself can fail, as the `stage` label counts it. */
export type SenderStage = 'scan' | 'save' | 'internal'

const RECOVERED: Record<SenderStage, string> = {
  scan: 'webhook sender: scanning the outbox works again',
  save: 'webhook sender: saving delivery states works again',
  internal: 'webhook sender: recovered',
}

/**
 * Counts and logs what the webhook sender does, so that a failure that repeats (a sink
 * down for hours, a store that is away) is logged once, then at debug level until it
 * recovers, and every occurrence is counted in a metric.
 */
export class DeliveryReporter {
  readonly #log: SinkLog
  readonly #deliveries: Counter<'sink' | 'outcome'>
  readonly #errors: Counter<'stage'>
  /** Sinks whose failures are logged at debug level until one delivery succeeds. */
  readonly #failingSinks = new Set<string>()
  readonly #failingStages = new Set<SenderStage>()

  /** `pending` counts a sink's deliveries that are not final, read at each scrape. */
  constructor(registry: Registry, log: SinkLog, sinks: readonly string[], pending: (sink: string) => number) {
    this.#log = log
    const registers = [registry]
    this.#deliveries = new Counter({
      name: 'governor_webhook_deliveries_total',
      labelNames: ['sink', 'outcome'],
      registers,
      help: 'Delivery attempts to chat and webhook sinks, by outcome: delivered, retried, gave_up (past the retry time), gone (410: sink disabled).',
    })
    this.#errors = new Counter({
      name: 'governor_webhook_sender_errors_total',
      labelNames: ['stage'],
      registers,
      help: 'Failures of the webhook sender itself, by stage: scan (reading the outbox), save (writing a delivery state), internal.',
    })
    new Gauge({
      name: 'governor_webhook_pending_deliveries',
      labelNames: ['sink'],
      registers,
      help: 'Deliveries not final yet (waiting, retrying or held by a disabled sink), by sink.',
      collect() {
        for (const s of sinks) this.set({ sink: s }, pending(s))
      },
    })
  }

  get log(): SinkLog {
    return this.#log
  }

  /** One attempt's outcome, and the status it led to. */
  attempt(sink: SinkConfig, event: ChangeEvent, outcome: AttemptOutcome, status: DeliveryStatus, error: string): void {
    const ctx = { sink: sink.name, url: redactUrl(sink.url), event: event.id, kind: event.kind }
    if (outcome.result === 'delivered') {
      this.#deliveries.inc({ sink: sink.name, outcome: 'delivered' })
      if (this.#failingSinks.delete(sink.name)) this.#log.info(ctx, `webhook sink "${sink.name}" delivers again`)
    } else if (outcome.result === 'gone') {
      this.#deliveries.inc({ sink: sink.name, outcome: 'gone' })
      this.#log.warn(
        ctx,
        `webhook sink "${sink.name}" answered 410 Gone: disabled until Governor restarts; its events stay pending`,
      )
    } else if (status === 'failed') {
      this.#deliveries.inc({ sink: sink.name, outcome: 'gave_up' })
      this.#log.warn({ ...ctx, error }, `webhook delivery to sink "${sink.name}" given up`)
    } else {
      this.#deliveries.inc({ sink: sink.name, outcome: 'retried' })
      if (this.#failingSinks.has(sink.name)) {
        this.#log.debug({ ...ctx, error }, `webhook delivery to sink "${sink.name}" failed again`)
      } else {
        this.#failingSinks.add(sink.name)
        this.#log.warn(
          { ...ctx, error },
          `webhook delivery to sink "${sink.name}" failed; retrying (further failures of this sink are logged at debug level until one succeeds)`,
        )
      }
    }
  }

  /** A failure of the sender itself: counted every time, logged the first time. */
  failure(stage: SenderStage, err: unknown, message: string): void {
    this.#errors.inc({ stage })
    if (!this.#failingStages.has(stage) || stage === 'internal') this.#log.error({ err }, `webhook sender: ${message}`)
    if (stage !== 'internal') this.#failingStages.add(stage)
  }

  /** The stage worked: if it was failing, say it recovered. */
  ok(stage: SenderStage): void {
    if (this.#failingStages.delete(stage)) this.#log.info({}, RECOVERED[stage])
  }
}
