import type { Clock } from '../../throttle/src/clock.ts'
import type { Limit } from '../../throttle/src/limit/limit.ts'
import { Limiter, type LimiterListener } from '../../throttle/src/limit/limiter.ts'
import { TooBusy } from './toobusy.ts'

/** How the simulated server decides whether to take a request: one per algorithm compared. */
export interface Admission {
  /** The concurrency limit now; NaN for an admission without one. */
  readonly limit: number
  /** A listener to report the outcome to, or undefined: shed (503). */
  acquire(): LimiterListener | undefined
  /** Called every simulator tick with the wait of the oldest queued job, ms. */
  tick(now: number, queueDelayMillis: number): void
  /** The knob that bounds the limit from above (the slow loop's output); absent when there is no limit to bound. */
  setMax?(max: number): void
}

const NOOP: LimiterListener = Object.freeze({ onSuccess() {}, onIgnore() {}, onDropped() {} })

/** Admits everything. */
export function noAdmission(): Admission {
  return { limit: NaN, acquire: () => NOOP, tick() {} }
}

/**
 * The real `Limiter` of the throttle library around `limit`, on the simulation's clock. Every
 * simulated request is of one class, so no share is reserved for critical ones.
 */
export function limiterAdmission(limit: Limit, clock: Clock): Admission {
  const limiter = new Limiter({ limit, clock, criticalReserve: 0 })
  return {
    get limit() {
      return limiter.limit
    },
    acquire: () => limiter.acquire(),
    tick() {},
    setMax(max) {
      limiter.setBounds(Math.min(limit.min, max), max)
    },
  }
}

/** toobusy-style shedding on the queueing delay (see `TooBusy`). */
export function tooBusyAdmission(random: () => number): Admission {
  const busy = new TooBusy({ random })
  return {
    limit: NaN,
    acquire: () => (busy.tooBusy() ? undefined : NOOP),
    tick(now, delay) {
      busy.measure(now, delay)
    },
  }
}
