import type { Registry } from 'prom-client'
import type { ChangeEvent } from '../changelog/types.ts'
import { systemClock, type Clock, type Random } from './clock.ts'
import { sendAttempt, type FetchFn } from './send-attempt.ts'
import {
  isFinal,
  type ChangeSource,
  type DeliveryFilter,
  type DeliveryState,
  type OutboxStore,
  type ScanCursor,
} from './outbox.ts'
import { nextState, type RetryPolicy } from './retry-policy.ts'
import { redactUrl, sinkAccepts, type SinkConfig, type SinkType } from './sink-config.ts'
import { DeliveryReporter, type SinkLog } from './delivery-reporter.ts'

export type { FetchFn } from './send-attempt.ts'
export type { SinkLog } from './delivery-reporter.ts'

export interface WebhookSenderOptions extends RetryPolicy {
  sinks: readonly SinkConfig[]
  outbox: OutboxStore
  /** New events arrive here the moment they are stored. */
  changes: ChangeSource
  /** Registry the sender's metrics are registered on (`app.governor.metrics.registry`). */
  registry: Registry
  log: SinkLog
  /** Longest one attempt may take (connect, answer and the start of the body). */
  timeoutMillis: number
  /** How often the outbox is scanned for due retries and events this process has not heard of. */
  scanIntervalMillis: number
  clock?: Clock | undefined
  random?: Random | undefined
  fetch?: FetchFn | undefined
  /** Longest `close` waits for deliveries in flight before aborting them; default 3000. */
  closeTimeoutMillis?: number | undefined
  /** Runs at the end of `close`, once no delivery is in flight (closes the fetch's connections). */
  onClose?: (() => Promise<void>) | undefined
}

/** A sink as `GET /api/v1/webhooks/sinks` shows it: never its secret, its URL redacted. */
export interface SinkStatus {
  name: string
  type: SinkType
  url: string
  kinds: readonly string[] | null
  services: readonly string[] | null
  signed: boolean
  disabled: boolean
  disabledReason: string | null
  disabledAt: number | null
  /** Deliveries this process holds that are not final yet. */
  pending: number
}

/** One delivery this process is working on: an event for a sink, not final yet. */
interface Job {
  key: string
  sink: SinkConfig
  event: ChangeEvent
  attempts: number
  nextAttemptAt: number
  /** A `disabled` state was recorded for it while its sink is disabled. */
  disabledNoted: boolean
}

/** Events read per outbox query. */
const SCAN_PAGE = 2000
/** Later scans re-read this much before the previous one, for inserts that landed late. */
const SCAN_OVERLAP_MILLIS = 60_000
/** Chat sinks get one request at a time, so that lines arrive in order; webhooks a few. */
const MAX_IN_FLIGHT: Record<SinkType, number> = { slack: 1, webhook: 4 }

/**
 * Delivers change-log events to chat and webhook sinks, at least once.
 *
 * ```
 *  ChangeLog.append ──insert──▶ events ◀──scan (start, then every interval)──┐
 *        │ subscribe                                                            │
 *        ▼                                                                      │
 *  jobs (in memory) ──due?──▶ attempt (fetch) ──▶ nextState ──save──▶ webhook_deliveries
 *        ▲                                            │
 *        └──────── retry at nextAttemptAt ◀───────────┘
 * ```
 *
 * The outbox is the events table itself: a delivery is pending while its event is recent and
 * has no final state for the sink, so nothing separates "stored" from "queued" and a restart
 * finds every undelivered event again. Within the process, a delivery in flight is never
 * started twice, and one that got a 2xx is never sent again even when its state could not be
 * saved. The loop never throws: failures are logged once and counted.
 */
export class WebhookSender {
  readonly #sinks: readonly SinkConfig[]
  readonly #outbox: OutboxStore
  readonly #changes: ChangeSource
  readonly #policy: RetryPolicy
  readonly #timeoutMillis: number
  readonly #scanIntervalMillis: number
  readonly #closeTimeoutMillis: number
  readonly #clock: Clock
  readonly #random: Random
  readonly #fetch: FetchFn
  readonly #onClose: (() => Promise<void>) | undefined

  readonly #jobs = new Map<string, Job>()
  /** Deliveries found final, by key, with their event's recorded time (to forget them later). */
  readonly #done = new Map<string, number>()
  readonly #inFlight = new Set<string>()
  readonly #busy = new Map<string, number>()
  readonly #running = new Set<Promise<void>>()
  readonly #disabled = new Map<string, { reason: string; at: number }>()
  readonly #abort = new AbortController()
  #registered: Map<string, number> | undefined
  #lastScanAt: number | undefined
  #ticking: Promise<void> | undefined
  #lastStamp = 0
  #interval: NodeJS.Timeout | undefined
  #unsubscribe: (() => void) | undefined
  #closing = false
  #closed: Promise<void> | undefined

  readonly #report: DeliveryReporter

  constructor(o: WebhookSenderOptions) {
    this.#sinks = o.sinks
    this.#outbox = o.outbox
    this.#changes = o.changes
    this.#policy = {
      backoffBaseMillis: o.backoffBaseMillis,
      backoffMaxMillis: o.backoffMaxMillis,
      maxRetryMillis: o.maxRetryMillis,
    }
    this.#timeoutMillis = o.timeoutMillis
    this.#scanIntervalMillis = o.scanIntervalMillis
    this.#closeTimeoutMillis = o.closeTimeoutMillis ?? 3000
    this.#clock = o.clock ?? systemClock
    this.#random = o.random ?? Math.random
    this.#fetch = o.fetch ?? ((url, init) => fetch(url, init))
    this.#onClose = o.onClose
    this.#report = new DeliveryReporter(
      o.registry,
      o.log,
      o.sinks.map((x) => x.name),
      (sink) => this.#pendingOf(sink),
    )
  }

  /**
   * Subscribes to new events and scans the outbox once (the promise resolves after that
   * scan); with `timer` (the default) scans again every `scanIntervalMillis`. Tests pass
   * `timer: false` and call `tick()` themselves. Does nothing without sinks.
   */
  start({ timer = true }: { timer?: boolean } = {}): Promise<void> {
    if (this.#sinks.length === 0 || this.#unsubscribe !== undefined || this.#closing) return Promise.resolve()
    this.#unsubscribe = this.#changes.subscribe((event) => this.#onEvent(event))
    if (timer) {
      this.#interval = setInterval(() => {
        void this.tick()
      }, this.#scanIntervalMillis)
      this.#interval.unref()
    }
    return this.tick()
  }

  /**
   * One run of the loop: scan the outbox, then start every delivery that is due. A call
   * while a run is going on joins that run instead of starting another. Never rejects.
   */
  tick(): Promise<void> {
    if (this.#ticking !== undefined) return this.#ticking
    const run = this.#runTick().finally(() => {
      this.#ticking = undefined
    })
    this.#ticking = run
    return run
  }

  /** Resolves when no delivery is in flight (tests: after `tick` or an append). */
  async idle(): Promise<void> {
    while (this.#running.size > 0 || this.#ticking !== undefined)
      await Promise.allSettled([...this.#running, this.#ticking])
  }

  /** Every sink with its state; URLs redacted. */
  sinks(): SinkStatus[] {
    return this.#sinks.map((s) => {
      const d = this.#disabled.get(s.name)
      return {
        name: s.name,
        type: s.type,
        url: redactUrl(s.url),
        kinds: s.kinds ?? null,
        services: s.services ?? null,
        signed: s.key !== undefined,
        disabled: d !== undefined,
        disabledReason: d?.reason ?? null,
        disabledAt: d?.at ?? null,
        pending: this.#pendingOf(s.name),
      }
    })
  }

  /** Delivery states from the outbox, newest event first. */
  deliveries(filter: DeliveryFilter): Promise<DeliveryState[]> {
    return this.#outbox.list(filter)
  }

  /**
   * Stops: no new deliveries start; those in flight get `closeTimeoutMillis` to finish, then
   * are aborted and stay pending in the outbox for the next start.
   */
  close(): Promise<void> {
    if (this.#closed !== undefined) return this.#closed
    this.#closing = true
    clearInterval(this.#interval)
    this.#unsubscribe?.()
    const settled = () => Promise.allSettled([...this.#running, this.#ticking])
    this.#closed = (async () => {
      if (!(await within(settled(), this.#closeTimeoutMillis))) {
        this.#report.log.warn(
          { inFlight: this.#inFlight.size },
          `webhook sender: deliveries still in flight after ${this.#closeTimeoutMillis} ms; aborting them (they stay pending and are sent at the next start)`,
        )
        this.#abort.abort()
        await within(settled(), 1000)
      }
      await this.#onClose?.().catch(() => undefined)
    })()
    return this.#closed
  }

  #onEvent(event: ChangeEvent): void {
    // A change-log listener must not throw: the event is stored whatever happens here.
    try {
      if (this.#closing) return
      const now = this.#clock.now()
      for (const sink of this.#sinks) {
        if (!sinkAccepts(sink, event)) continue
        const key = keyOf(sink.name, event.id)
        if (this.#jobs.has(key) || this.#done.has(key) || this.#inFlight.has(key)) continue
        this.#jobs.set(key, { key, sink, event, attempts: 0, nextAttemptAt: now, disabledNoted: false })
      }
      this.#dispatch()
    } catch (err) {
      this.#report.failure('internal', err, `could not queue event ${event.id} (the periodic scan will find it)`)
    }
  }

  async #runTick(): Promise<void> {
    if (this.#closing) return
    try {
      await this.#scan()
      this.#report.ok('scan')
    } catch (err) {
      this.#report.failure(
        'scan',
        err,
        'scanning the outbox failed; retrying every interval (logged once until it recovers)',
      )
    }
    try {
      this.#dispatch()
    } catch (err) {
      this.#report.failure('internal', err, 'dispatch failed')
    }
  }

  /**
   * Finds deliveries this process does not hold: the first scan reads every event of the
   * retry window (after a restart: everything left undelivered), later ones only the events
   * recorded since the previous scan (another writer's, or one whose notification was lost).
   */
  async #scan(): Promise<void> {
    const now = this.#clock.now()
    const names = this.#sinks.map((s) => s.name)
    this.#registered ??= await this.#outbox.registerSinks(names, now)
    const windowStart = now - this.#policy.maxRetryMillis
    const since =
      this.#lastScanAt === undefined ? windowStart : Math.max(windowStart, this.#lastScanAt - SCAN_OVERLAP_MILLIS)
    for (const [key, recordedAt] of this.#done) if (recordedAt < windowStart) this.#done.delete(key)
    let cursor: ScanCursor = { since }
    for (;;) {
      const { events, states } = await this.#outbox.scan(names, cursor, SCAN_PAGE)
      if (this.#closing) return
      const byKey = new Map(states.map((s) => [keyOf(s.sink, s.eventId), s]))
      for (const event of events) this.#adopt(event, byKey, now)
      const last = events.at(-1)
      if (events.length < SCAN_PAGE || last === undefined) break
      cursor = { since: last.recordedAt, afterId: last.id }
    }
    this.#lastScanAt = now
  }

  #adopt(event: ChangeEvent, states: Map<string, DeliveryState>, now: number): void {
    for (const sink of this.#sinks) {
      if (event.recordedAt < (this.#registered?.get(sink.name) ?? now) || !sinkAccepts(sink, event)) continue
      const key = keyOf(sink.name, event.id)
      if (this.#jobs.has(key) || this.#done.has(key) || this.#inFlight.has(key)) continue
      const s = states.get(key)
      if (s !== undefined && isFinal(s.status)) {
        this.#done.set(key, event.recordedAt)
        continue
      }
      // A delivery held by a 410 in an earlier run is tried again: the restart re-enabled its sink.
      const nextAttemptAt = s === undefined || s.status === 'disabled' ? now : s.nextAttemptAt
      this.#jobs.set(key, { key, sink, event, attempts: s?.attempts ?? 0, nextAttemptAt, disabledNoted: false })
    }
  }

  /** Starts every due delivery, oldest first, within each sink's limit of requests in flight. */
  #dispatch(): void {
    if (this.#closing) return
    const now = this.#clock.now()
    for (const job of this.#jobs.values()) {
      if (this.#inFlight.has(job.key)) continue
      const disabled = this.#disabled.get(job.sink.name)
      if (disabled !== undefined) {
        if (!job.disabledNoted) this.#noteDisabled(job, disabled.reason, now)
        continue
      }
      if (job.nextAttemptAt > now) continue
      if ((this.#busy.get(job.sink.name) ?? 0) >= MAX_IN_FLIGHT[job.sink.type]) continue
      this.#track(this.#attempt(job))
    }
  }

  #track(p: Promise<void>): void {
    const tracked: Promise<void> = p
      .catch((err: unknown) => {
        this.#report.failure('internal', err, 'a delivery failed unexpectedly')
      })
      .finally(() => {
        this.#running.delete(tracked)
      })
    this.#running.add(tracked)
  }

  async #attempt(job: Job): Promise<void> {
    const { sink, event, key } = job
    this.#inFlight.add(key)
    this.#busy.set(sink.name, (this.#busy.get(sink.name) ?? 0) + 1)
    const release = () => {
      this.#inFlight.delete(key)
      this.#busy.set(sink.name, (this.#busy.get(sink.name) ?? 1) - 1)
    }
    const outcome = await sendAttempt(this.#fetch, sink, event, this.#clock, this.#timeoutMillis, this.#abort.signal)
    if (outcome === undefined) {
      // Shutting down: no answer came, so the delivery stays pending in the outbox.
      release()
      return
    }
    const now = this.#clock.now()
    const next = nextState(job.attempts, event.recordedAt, outcome, this.#policy, now, this.#random)
    // Memory first: from here on this process never sends a delivered event again, even if
    // the save below fails.
    if (isFinal(next.status)) {
      this.#jobs.delete(key)
      this.#done.set(key, event.recordedAt)
    } else {
      job.attempts = next.attempts
      job.nextAttemptAt = next.nextAttemptAt
      job.disabledNoted = next.status === 'disabled'
    }
    release()
    if (outcome.result === 'gone') this.#disabled.set(sink.name, { reason: next.lastError, at: now })
    this.#report.attempt(sink, event, outcome, next.status, next.lastError)
    await this.#save({ ...this.#identity(job), ...next, updatedAt: this.#stamp(now) })
    this.#dispatch()
  }

  #noteDisabled(job: Job, reason: string, now: number): void {
    job.disabledNoted = true
    this.#track(
      this.#save({
        ...this.#identity(job),
        attempts: job.attempts,
        status: 'disabled',
        nextAttemptAt: 0,
        lastStatusCode: 0,
        lastError: `not sent: ${reason}`,
        deliveredAt: 0,
        updatedAt: this.#stamp(now),
      }),
    )
  }

  #identity(job: Job): Pick<DeliveryState, 'sink' | 'eventId' | 'kind' | 'service' | 'eventRecordedAt'> {
    return {
      sink: job.sink.name,
      eventId: job.event.id,
      kind: job.event.kind,
      service: job.event.service,
      eventRecordedAt: job.event.recordedAt,
    }
  }

  async #save(state: DeliveryState): Promise<void> {
    try {
      await this.#outbox.save(state)
      this.#report.ok('save')
    } catch (err) {
      this.#report.failure(
        'save',
        err,
        'could not save a delivery state (delivery goes on from memory; logged once until it recovers)',
      )
    }
  }

  #pendingOf(sink: string): number {
    let n = 0
    for (const j of this.#jobs.values()) if (j.sink.name === sink) n++
    return n
  }

  /** A strictly increasing version for the ReplacingMergeTree, so the newest state always wins. */
  #stamp(now: number): number {
    this.#lastStamp = Math.max(now, this.#lastStamp + 1)
    return this.#lastStamp
  }
}

function keyOf(sink: string, eventId: string): string {
  return `${sink}\n${eventId}`
}

/** Resolves true if `p` settles within `millis`, false otherwise. */
async function within(p: Promise<unknown>, millis: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), millis)
  })
  try {
    return await Promise.race([p.then(() => true as const), timeout])
  } finally {
    clearTimeout(timer)
  }
}
