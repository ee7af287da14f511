import { numberOption } from '../check-option.ts'
import { type Clock, coarseClock } from '../clock.ts'
import type { Limit } from './limit.ts'

/**
 * What the holder of an admitted request reports when it is done: exactly one call, the first
 * counts (later ones are ignored). Only `onSuccess` and `onDropped` are round trips that feed
 * the limit.
 */
export interface LimiterListener {
  /** The request completed: its round-trip time is a sample of the limit. */
  onSuccess(): void
  /** The request ended without a meaningful round trip (a fast failure, a client abort): released, no sample. */
  onIgnore(): void
  /** The request was dropped (timed out, refused downstream for overload): a sample with didDrop. */
  onDropped(): void
}

/** The default context of `acquire`: a request is sheddable unless it says it is critical. */
export interface AcquireContext {
  critical?: boolean
}

/** Options of `Limiter`. */
export interface LimiterOptions<C> {
  /** The algorithm (SloGradientLimit, AimdLimit, Gradient2Limit, VegasLimit, FixedLimit …). */
  limit: Limit
  /**
   * Time source, ms. Default `coarseClock`: `performance.now()` as of the last 1 ms tick, a
   * variable read where each `performance.now()` costs about 40 ns (two a request). Pass
   * `monotonicClock` for round trips of a few ms, a `ManualClock`'s `now` in tests.
   */
  clock?: Clock
  /**
   * Share of the limit kept for critical requests, in [0, 1): sheddable requests are admitted
   * while inflight < limit − floor(limit × criticalReserve), critical ones up to the limit.
   * As load rises the sheddable ones are shed first. Default 0.2.
   */
  criticalReserve?: number
  /** Whether a request is critical. Default: `context?.critical === true`. */
  isCritical?: (context: C | undefined) => boolean
  /** Requests that skip the limiter entirely (health checks): always admitted, never counted, no sample. */
  bypass?: (context: C | undefined) => boolean
}

/** Counts since the limiter was made (plain fields: read them from a metrics callback). */
export interface LimiterCounts {
  admitted: number
  rejectedCritical: number
  rejectedSheddable: number
  succeeded: number
  ignored: number
  dropped: number
  bypassed: number
}

const NOOP_LISTENER: LimiterListener = Object.freeze({ onSuccess() {}, onIgnore() {}, onDropped() {} })

/** Library-internal: ends an admitted request (see Limiter's static block). */
let complete: (limiter: Limiter<never>, listener: Admitted, outcome: 0 | 1 | 2) => void

const SUCCESS = 0
const IGNORE = 1
const DROPPED = 2

/**
 * One admitted request. Allocated per request (a few fields): a pooled handle could be reused
 * while its first holder still holds it, and a late second call would then end another request.
 */
class Admitted implements LimiterListener {
  readonly limiter: Limiter<never>
  readonly start: number
  readonly inflight: number
  done = false

  constructor(limiter: Limiter<never>, start: number, inflight: number) {
    this.limiter = limiter
    this.start = start
    this.inflight = inflight
  }

  onSuccess(): void {
    complete(this.limiter, this, SUCCESS)
  }

  onIgnore(): void {
    complete(this.limiter, this, IGNORE)
  }

  onDropped(): void {
    complete(this.limiter, this, DROPPED)
  }
}

/**
 * Admission for an adaptive concurrency limit: `acquire()` admits a request while the requests
 * in flight are under the limit and returns a listener, or returns undefined (shed it). The
 * listener's report feeds the limit. Critical requests have a reserve of the limit that
 * sheddable ones cannot take, so under load the sheddable ones go first.
 *
 * ```ts
 * const limiter = new Limiter({ limit: new SloGradientLimit({ targetMillis: 250 }) })
 * const listener = limiter.acquire({ critical: false })
 * if (listener === undefined) return reply.code(503).send()
 * try { await handle(); listener.onSuccess() } catch { listener.onIgnore() }
 * ```
 *
 * Cost per request (acquire + onSuccess): two reads of the coarse clock, one small
 * allocation and the limit's update: see bench/results/limiter.md.
 */
export class Limiter<C = AcquireContext> {
  readonly #limit: Limit
  readonly #clock: Clock
  readonly #reserve: number
  readonly #isCritical: (context: C | undefined) => boolean
  readonly #bypass: ((context: C | undefined) => boolean) | undefined
  #inflight = 0
  // The highest #inflight since takePeakInflight last read it: what the slow loop needs to know
  // whether a bound is used, which a gauge read once a minute would mostly miss.
  #peak = 0
  // Cached from the Limit after each sample, so that acquire reads two fields and compares.
  #current = 0
  #sheddable = 0
  /**
   * The name of the knob that sets the max bound, when one does (`bindBounds` sets it): the
   * `governor.knob` attribute of the limiter's metrics, by which the collector's controller on
   * that knob finds how much of it the limiter uses.
   */
  maxKnob: string | undefined = undefined
  readonly #counts: LimiterCounts = {
    admitted: 0,
    rejectedCritical: 0,
    rejectedSheddable: 0,
    succeeded: 0,
    ignored: 0,
    dropped: 0,
    bypassed: 0,
  }

  constructor(options: LimiterOptions<C>) {
    this.#limit = options.limit
    this.#clock = options.clock ?? coarseClock
    this.#reserve = numberOption('Limiter', 'criticalReserve', options.criticalReserve, 0.2, 'share')
    this.#isCritical = options.isCritical ?? ((context) => (context as AcquireContext | undefined)?.critical === true)
    this.#bypass = options.bypass
    this.#refresh()
  }

  /** The current limit. */
  get limit(): number {
    return this.#current
  }

  /** How many sheddable requests may be in flight (the limit less the critical reserve). */
  get sheddableLimit(): number {
    return this.#sheddable
  }

  /** Requests admitted and not yet reported. */
  get inflight(): number {
    return this.#inflight
  }

  /**
   * The most requests in flight at once since the last call (or since the limiter was made),
   * and starts a new span from the current count. Read by one metrics reader.
   */
  takePeakInflight(): number {
    const peak = this.#peak
    this.#peak = this.#inflight
    return peak
  }

  /** The counts so far (a live object: do not modify). */
  get counts(): Readonly<LimiterCounts> {
    return this.#counts
  }

  /** The algorithm. */
  get algorithm(): Limit {
    return this.#limit
  }

  /**
   * Admits the request and returns its listener, or returns undefined when it must be shed.
   * `arrivedAtMillis`, on the limiter's clock, is when the request arrived, if it waited before
   * asking (a queue in front, the event loop, its body being read): its round trip counts from
   * there, so the limit sees the wait too. Default: now.
   */
  acquire(context?: C, arrivedAtMillis?: number): LimiterListener | undefined {
    if (this.#bypass !== undefined && this.#bypass(context)) {
      this.#counts.bypassed++
      return NOOP_LISTENER
    }
    if (this.#isCritical(context)) {
      if (this.#inflight >= this.#current) {
        this.#counts.rejectedCritical++
        return undefined
      }
    } else if (this.#inflight >= this.#sheddable) {
      this.#counts.rejectedSheddable++
      return undefined
    }
    this.#counts.admitted++
    const now = this.#clock()
    // Never later than now: a clock of another origin must not make a round trip negative.
    const start = arrivedAtMillis !== undefined && arrivedAtMillis < now ? arrivedAtMillis : now
    const inflight = ++this.#inflight
    if (inflight > this.#peak) this.#peak = inflight
    return new Admitted(this as Limiter<never>, start, inflight)
  }

  /** Keeps the limit inside [min, max] (whole numbers, 0 ≤ min ≤ max): what a knob sets. Throws THROTTLE_ERR_LIMIT_INVALID. */
  setBounds(min: number, max: number): void {
    this.#limit.setBounds(min, max)
    this.#refresh()
  }

  #refresh(): void {
    const limit = this.#limit.limit
    this.#current = limit
    this.#sheddable = limit - Math.floor(limit * this.#reserve)
  }

  static {
    complete = (limiter, listener, outcome) => {
      if (listener.done) return
      listener.done = true
      limiter.#inflight--
      if (outcome === IGNORE) {
        limiter.#counts.ignored++
        return
      }
      if (outcome === SUCCESS) limiter.#counts.succeeded++
      else limiter.#counts.dropped++
      const limit = limiter.#limit.onSample(
        listener.start,
        limiter.#clock() - listener.start,
        listener.inflight,
        outcome === DROPPED,
      )
      if (limit !== limiter.#current) limiter.#refresh()
    }
  }
}
