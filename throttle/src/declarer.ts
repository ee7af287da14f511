import { ThrottleError } from './errors.ts'
import { requestSignal } from './request-signal.ts'

/** Declarations in flight at once: a service with many knobs does not open a connection per knob. */
const CONCURRENCY = 8

export interface DeclarerOptions {
  baseUrl: string
  service: string
  headers: Record<string, string>
  fetch: typeof globalThis.fetch
  requestTimeoutMillis: number
  /** The body to PUT for a knob (its current declaration). */
  bodyOf: (name: string) => Record<string, unknown>
  /** The collector's answer: the knob as it now is. */
  onAnswer: (name: string, knob: unknown) => void
  /** The collector refused the declaration (4xx): it is not sent again. */
  onRefused: (name: string, err: ThrottleError) => void
  /** The collector could not be reached: sent again at the next `retry()`. */
  onUnreachable: (name: string, err: ThrottleError) => void
}

/**
 * Sends declarations (`PUT /api/v1/knobs/{service}/{name}`). The knobs declared in one tick
 * go out together once the tick is over (the collector has no batch endpoint, so "together"
 * is one burst of at most CONCURRENCY requests at a time, before the app's first await returns).
 */
export class Declarer {
  readonly #o: DeclarerOptions
  readonly #queued = new Set<string>()
  readonly #inflight = new Set<string>()
  readonly #unreachable = new Set<string>()
  #scheduled = false
  #closed = false
  readonly #abort = new AbortController()

  constructor(options: DeclarerOptions) {
    this.#o = options
  }

  /** Declarations queued or in flight (not those waiting for a retry). */
  get busy(): boolean {
    return this.#queued.size > 0 || this.#inflight.size > 0
  }

  /** Queues a declaration; the tick's declarations go out together. */
  declare(name: string): void {
    if (this.#closed) return
    this.#unreachable.delete(name)
    this.#queued.add(name)
    if (this.#scheduled) return
    this.#scheduled = true
    // setImmediate: after every knob() call of this tick, and the microtasks they queued.
    setImmediate(() => {
      this.#scheduled = false
      void this.#flush()
    })
  }

  /** Sends again the declarations that found the collector unreachable. */
  retry(): void {
    for (const name of [...this.#unreachable]) this.declare(name)
  }

  close(): void {
    this.#closed = true
    this.#abort.abort()
  }

  async #flush(): Promise<void> {
    const names = [...this.#queued].filter((n) => !this.#inflight.has(n))
    for (const n of names) {
      this.#queued.delete(n)
      this.#inflight.add(n)
    }
    let next = 0
    const worker = async () => {
      while (next < names.length) await this.#send(names[next++]!)
    }
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, names.length) }, worker))
    // A knob declared again while its first declaration was in flight.
    if (this.#queued.size > 0 && !this.#scheduled && !this.#closed) this.declare([...this.#queued][0]!)
  }

  async #send(name: string): Promise<void> {
    const o = this.#o
    const url = `${o.baseUrl}/api/v1/knobs/${encodeURIComponent(o.service)}/${encodeURIComponent(name)}`
    const { signal, done } = requestSignal(this.#abort.signal, o.requestTimeoutMillis)
    try {
      const res = await o.fetch(url, {
        method: 'PUT',
        headers: { ...o.headers, 'content-type': 'application/json' },
        body: JSON.stringify(o.bodyOf(name)),
        signal,
      })
      const text = await res.text()
      if (this.#closed) return
      if (res.ok) {
        let knob: unknown
        try {
          knob = JSON.parse(text)
        } catch {
          o.onUnreachable(
            name,
            new ThrottleError(
              'THROTTLE_ERR_PROTOCOL',
              `the collector answered the declaration of ${name} with something that is not JSON`,
              { knob: name },
            ),
          )
          this.#unreachable.add(name)
          return
        }
        o.onAnswer(name, knob)
      } else if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429) {
        o.onRefused(
          name,
          new ThrottleError(
            'THROTTLE_ERR_DECLARATION_REFUSED',
            `the collector refused the declaration of knob ${name} (${res.status}): ${errorMessage(text)}`,
            { knob: name },
          ),
        )
      } else {
        this.#unreachable.add(name)
        o.onUnreachable(
          name,
          new ThrottleError(
            'THROTTLE_ERR_CONNECTION',
            `declaring knob ${name}: the collector answered ${res.status}; will retry`,
            { knob: name },
          ),
        )
      }
    } catch (err) {
      if (this.#closed) return
      this.#unreachable.add(name)
      o.onUnreachable(
        name,
        new ThrottleError('THROTTLE_ERR_CONNECTION', `declaring knob ${name}: ${(err as Error).message}; will retry`, {
          cause: err,
          knob: name,
        }),
      )
    } finally {
      done()
      this.#inflight.delete(name)
    }
  }
}

function errorMessage(text: string): string {
  try {
    const m = (JSON.parse(text) as { error?: { message?: unknown } }).error?.message
    if (typeof m === 'string') return m
  } catch {
    /* not the collector's error shape */
  }
  return text.slice(0, 200)
}
