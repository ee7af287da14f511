import { backoffDelayMillis, type BackoffPolicy } from './backoff.ts'
import { ThrottleError } from './errors.ts'
import { requestSignal } from './request-signal.ts'
import { SseParser, type SseEvent } from './sse-parser.ts'

/** Where the client's values come from now. */
export type ConnectionStatus = 'connecting' | 'streaming' | 'polling' | 'disconnected' | 'closed'

export interface LiveConnectionOptions {
  baseUrl: string
  service: string
  headers: Record<string, string>
  fetch: typeof globalThis.fetch
  random: () => number
  backoff: BackoffPolicy
  requestTimeoutMillis: number
  streamIdleTimeoutMillis: number
  pollAfterStreamFailures: number
  pollIntervalMillis: number
  streamRetryIntervalMillis: number
  /** Every knob of the service (a stream snapshot, or a poll's list). */
  onSnapshot: (knobs: unknown[]) => void
  /** One knob that changed. */
  onKnob: (knob: unknown) => void
  onStatus: (status: ConnectionStatus) => void
  report: (err: ThrottleError) => void
}

/**
 * The live link to the collector: the SSE stream `GET /api/v1/knobs/stream?service=`, reopened
 * after a jittered, capped exponential backoff with `Last-Event-ID` (the collector then sends
 * only what was missed, or a new snapshot). After `pollAfterStreamFailures` failed stream
 * attempts in a row (a proxy that buffers or cuts streams), it polls `GET /api/v1/knobs?service=`
 * with `If-None-Match` every `pollIntervalMillis`, trying the stream again every
 * `streamRetryIntervalMillis`. Never throws: failures are reported once per outage.
 *
 *   stream ──events──▶ streaming ──ends──▶ backoff ──▶ stream …
 *      └─fails × N──▶ poll ──ok──▶ polling (poll every interval, stream again now and then)
 *                       └─fails──▶ backoff ──▶ stream …
 */
export class LiveConnection {
  readonly #o: LiveConnectionOptions
  readonly #abort = new AbortController()
  #closed = false
  #status: ConnectionStatus = 'connecting'
  #lastEventId = ''
  #etag = ''
  #wake: (() => void) | undefined

  constructor(options: LiveConnectionOptions) {
    this.#o = options
  }

  get status(): ConnectionStatus {
    return this.#status
  }

  start(): void {
    void this.#run()
  }

  close(): void {
    if (this.#closed) return
    this.#closed = true
    this.#abort.abort()
    this.#wake?.()
    this.#setStatus('closed')
  }

  async #run(): Promise<void> {
    const o = this.#o
    let failures = 0 // stream attempts failed in a row
    let attempt = 0 // backoff step
    let polling = false
    let lastStreamTry = -Infinity
    while (!this.#closed) {
      if (!polling || performance.now() - lastStreamTry >= o.streamRetryIntervalMillis) {
        lastStreamTry = performance.now()
        const { delivered, error } = await this.#stream()
        if (this.#closed) return
        if (delivered) {
          failures = 0
          attempt = 0
          polling = false
        } else failures++
        if (!polling) this.#lost(error ?? 'the stream ended')
      }
      if (failures >= o.pollAfterStreamFailures) {
        const wasPolling = polling
        polling = await this.#poll()
        if (this.#closed) return
        if (polling) {
          if (!wasPolling)
            o.report(
              new ThrottleError(
                'THROTTLE_ERR_CONNECTION',
                `the knob stream failed ${failures} times in a row; polling ${o.baseUrl}/api/v1/knobs every ${o.pollIntervalMillis} ms instead`,
              ),
            )
          attempt = 0
          await this.#sleep(o.pollIntervalMillis)
          continue
        }
        this.#lost('polling failed too')
      }
      await this.#sleep(backoffDelayMillis(attempt++, o.backoff, o.random))
    }
  }

  /** Reads the stream until it ends; `delivered` when it brought at least one knob event. */
  async #stream(): Promise<{ delivered: boolean; error?: string }> {
    const o = this.#o
    const ac = new AbortController()
    const onClose = () => ac.abort()
    this.#abort.signal.addEventListener('abort', onClose)
    const headers: Record<string, string> = { ...o.headers, accept: 'text/event-stream', 'cache-control': 'no-cache' }
    if (this.#lastEventId !== '') headers['last-event-id'] = this.#lastEventId
    let delivered = false
    let lastActivity = performance.now()
    const openTimer = setTimeout(() => ac.abort(), o.requestTimeoutMillis)
    // One coarse watchdog per stream rather than a timer re-armed per chunk (cheap with
    // thousands of streams); it catches a half-open connection that never errors.
    const watchdog = setInterval(
      () => {
        if (performance.now() - lastActivity > o.streamIdleTimeoutMillis) ac.abort()
      },
      Math.max(50, o.streamIdleTimeoutMillis / 4),
    )
    openTimer.unref()
    watchdog.unref()
    try {
      const res = await o.fetch(`${o.baseUrl}/api/v1/knobs/stream?service=${encodeURIComponent(o.service)}`, {
        headers,
        signal: ac.signal,
      })
      clearTimeout(openTimer)
      if (!res.ok || !(res.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
        await res.body?.cancel().catch(() => {})
        return { delivered, error: `the stream answered ${res.status} ${res.headers.get('content-type') ?? ''}`.trim() }
      }
      const parser = new SseParser((event) => {
        if (this.#event(event)) delivered = true
      })
      const decoder = new TextDecoder()
      const reader = res.body!.getReader()
      for (;;) {
        const { done, value } = await reader.read()
        if (done) break
        lastActivity = performance.now()
        parser.push(decoder.decode(value, { stream: true }))
      }
      return { delivered }
    } catch (err) {
      const idle = performance.now() - lastActivity > o.streamIdleTimeoutMillis
      return {
        delivered,
        error: idle
          ? `the stream was silent for ${o.streamIdleTimeoutMillis} ms`
          : ((err as Error).message ?? String(err)),
      }
    } finally {
      clearTimeout(openTimer)
      clearInterval(watchdog)
      this.#abort.signal.removeEventListener('abort', onClose)
      ac.abort()
    }
  }

  /** Applies one event; true when it carried knobs. */
  #event(event: SseEvent): boolean {
    if (event.type !== 'snapshot' && event.type !== 'knob') return false
    let data: unknown
    try {
      data = JSON.parse(event.data)
    } catch {
      this.#o.report(
        new ThrottleError(
          'THROTTLE_ERR_PROTOCOL',
          `a ${event.type} event of the knob stream is not JSON: ${event.data.slice(0, 200)}`,
        ),
      )
      return false
    }
    const knobs = event.type === 'snapshot' ? (data as { knobs?: unknown } | null)?.knobs : undefined
    if (event.type === 'snapshot' && !Array.isArray(knobs)) {
      this.#o.report(
        new ThrottleError('THROTTLE_ERR_PROTOCOL', 'a snapshot event of the knob stream has no knobs array'),
      )
      return false
    }
    // The status first: whoever the values wake up sees where they came from.
    this.#setStatus('streaming')
    if (event.type === 'snapshot') this.#o.onSnapshot(knobs as unknown[])
    else this.#o.onKnob(data)
    // Only once applied: a reconnect resumes after the last event the client holds.
    this.#lastEventId = event.id
    return true
  }

  /** One poll of the list; true when the collector answered (200 or 304). */
  async #poll(): Promise<boolean> {
    const o = this.#o
    const headers: Record<string, string> = { ...o.headers, accept: 'application/json' }
    if (this.#etag !== '') headers['if-none-match'] = this.#etag
    const { signal, done } = requestSignal(this.#abort.signal, o.requestTimeoutMillis)
    try {
      const res = await o.fetch(`${o.baseUrl}/api/v1/knobs?service=${encodeURIComponent(o.service)}`, {
        headers,
        signal,
      })
      if (res.status === 304) {
        this.#setStatus('polling')
        return true
      }
      if (!res.ok) {
        await res.body?.cancel().catch(() => {})
        return false
      }
      const body = (await res.json()) as { knobs?: unknown }
      if (!Array.isArray(body?.knobs)) {
        o.report(new ThrottleError('THROTTLE_ERR_PROTOCOL', 'the knob list has no knobs array'))
        return false
      }
      this.#setStatus('polling')
      o.onSnapshot(body.knobs)
      this.#etag = res.headers.get('etag') ?? ''
      return true
    } catch {
      return false
    } finally {
      done()
    }
  }

  #lost(why: string): void {
    if (this.#status === 'disconnected' || this.#closed) return
    const was = this.#status
    this.#setStatus('disconnected')
    this.#o.report(
      new ThrottleError(
        'THROTTLE_ERR_CONNECTION',
        `${was === 'connecting' ? 'cannot reach' : 'lost'} the collector at ${this.#o.baseUrl} (${why}); keeping the values held and retrying`,
      ),
    )
  }

  #setStatus(status: ConnectionStatus): void {
    if (this.#status === status || (this.#closed && status !== 'closed')) return
    this.#status = status
    this.#o.onStatus(status)
  }

  #sleep(millis: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#wake = undefined
        resolve()
      }, millis)
      timer.unref()
      this.#wake = () => {
        clearTimeout(timer)
        resolve()
      }
    })
  }
}
