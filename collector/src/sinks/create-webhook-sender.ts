import type { Registry } from 'prom-client'
import type { Settings } from '../settings.ts'
import { createGuardedFetch } from './guarded-fetch.ts'
import type { ChangeLog } from '../changelog/change-log.ts'
import type { OutboxStore } from './outbox.ts'
import type { SinkConfig } from './sink-config.ts'
import { WebhookSender, type SinkLog } from './webhook-sender.ts'

/** What the collector hands the sender: its store, its change log, its metrics and logger. */
export interface WebhookSenderDeps {
  /** Where delivery states are kept and pending deliveries found. */
  outbox: OutboxStore
  changes: ChangeLog
  registry: Registry
  log: SinkLog
}

/**
 * The production sender: outbox in the store, settings from GOVERNOR_WEBHOOK_*, the system
 * clock, Math.random and fetch: global with GOVERNOR_WEBHOOK_ALLOW_PRIVATE=1, otherwise one
 * that refuses private addresses (guarded-fetch). `sinks` come from `loadSinks`, validated
 * before the store is opened.
 */
export function createWebhookSender(
  settings: Settings,
  sinks: readonly SinkConfig[],
  deps: WebhookSenderDeps,
): WebhookSender {
  // Unless private targets are allowed, every connection goes through the address check.
  const guarded = settings.webhookAllowPrivate === 1 ? undefined : createGuardedFetch()
  return new WebhookSender({
    fetch: guarded?.fetch,
    onClose: guarded?.close,
    sinks,
    outbox: deps.outbox,
    changes: deps.changes,
    registry: deps.registry,
    log: deps.log,
    timeoutMillis: settings.webhookTimeoutMillis,
    scanIntervalMillis: settings.webhookScanIntervalMillis,
    backoffBaseMillis: settings.webhookBackoffBaseMillis,
    backoffMaxMillis: settings.webhookBackoffMaxMillis,
    maxRetryMillis: settings.webhookMaxRetryMillis,
  })
}
