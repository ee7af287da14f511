import type { Histogram } from '@opentelemetry/api'
import { AimdLimit, bindBounds, Limiter, type Knob } from '@governor/throttle'

/** The knobs ops turn in Governor while the demo runs. */
export interface ShopKnobs {
  /** Most requests handled at once: the adaptive limiter's upper bound. */
  workers: Knob<number>
  /** Share of requests that fail with a 500, to watch an error budget burn. */
  errorPercent: Knob<number>
  /** Extra latency added to every request, ms, to watch latency SLOs and controllers react. */
  extraLatencyMillis: Knob<number>
}

/** What one request ended with. */
export type Outcome = 200 | 500 | 503

/**
 * A pretend checkout endpoint behind an adaptive concurrency limit (AIMD) whose upper bound
 * is the `workers` knob: requests over the limit are shed with a 503 at once; admitted ones
 * take `base + extra` ms and fail with `errorPercent` probability. Each request is recorded
 * in `http.server.request.duration` with its route and status, as OTel HTTP instrumentation would.
 */
export class Shop {
  readonly limiter: Limiter
  readonly #knobs: ShopKnobs
  readonly #duration: Histogram
  readonly #random: () => number
  readonly #unbind: () => void

  constructor(knobs: ShopKnobs, duration: Histogram, random: () => number = Math.random) {
    this.#knobs = knobs
    this.#duration = duration
    this.#random = random
    this.limiter = new Limiter({ limit: new AimdLimit({ initialLimit: knobs.workers.value, minLimit: 1, maxLimit: knobs.workers.value }) })
    this.#unbind = bindBounds(this.limiter, { max: knobs.workers })
  }

  /** Handles one request; resolves to its status. */
  async checkout(): Promise<Outcome> {
    const started = performance.now()
    const listener = this.limiter.acquire()
    let status: Outcome = 503
    if (listener !== undefined) {
      const millis = 20 + this.#random() * 60 + this.#knobs.extraLatencyMillis.value
      await new Promise((r) => setTimeout(r, millis))
      status = this.#random() * 100 < this.#knobs.errorPercent.value ? 500 : 200
      if (status === 200) listener.onSuccess()
      else listener.onIgnore()
    }
    this.#duration.record((performance.now() - started) / 1000, {
      'http.request.method': 'POST', 'http.route': '/checkout', 'http.response.status_code': status,
    })
    return status
  }

  /** Stops following the `workers` knob. */
  close(): void {
    this.#unbind()
  }
}
