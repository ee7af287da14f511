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

/** What an admitted request ended with (a shed one is the throttle plugin's 503). */
export type Outcome = 200 | 500

/**
 * A pretend checkout endpoint behind an adaptive concurrency limit (AIMD) whose upper bound
 * is the `workers` knob. The limiter admits or sheds in the fastify plugin of
 * `@governor/throttle` (see demo.ts); an admitted request takes `base + extra` ms and fails
 * with `errorPercent` probability.
 */
export class Shop {
  readonly limiter: Limiter
  readonly #knobs: ShopKnobs
  readonly #random: () => number
  readonly #unbind: () => void

  constructor(knobs: ShopKnobs, random: () => number = Math.random) {
    this.#knobs = knobs
    this.#random = random
    this.limiter = new Limiter({
      limit: new AimdLimit({ initialLimit: knobs.workers.value, minLimit: 1, maxLimit: knobs.workers.value }),
    })
    // Also names the knob on the limiter's metrics, so Governor's controller on `workers` sees how much of it is used.
    this.#unbind = bindBounds(this.limiter, { max: knobs.workers })
  }

  /** Handles one admitted request; resolves to its status. */
  async checkout(): Promise<Outcome> {
    const millis = 20 + this.#random() * 60 + this.#knobs.extraLatencyMillis.value
    await new Promise((r) => setTimeout(r, millis))
    return this.#random() * 100 < this.#knobs.errorPercent.value ? 500 : 200
  }

  /** Stops following the `workers` knob. */
  close(): void {
    this.#unbind()
  }
}
