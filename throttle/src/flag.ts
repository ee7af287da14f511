import { BUCKETS, bucketFromSeed, bucketsFor, flagSeed } from './bucketing.ts'
import type { Knob, KnobListener } from './knob.ts'

/**
 * A feature flag on a `percent` knob (a rollout: the first `percent` % of the buckets are in,
 * see `bucketing.ts`) or a `bool` knob (on or off for everyone).
 */
export class Flag {
  readonly name: string
  readonly knob: Knob<number> | Knob<boolean>
  readonly #seed: number
  /** Buckets that are in, kept up to date by a change listener so that `enabled` only hashes. */
  #buckets = 0

  /** Library-internal: apps get flags from `client.flag()`. */
  constructor(knob: Knob<number> | Knob<boolean>) {
    this.name = knob.name
    this.knob = knob
    this.#seed = flagSeed(knob.name)
    const update = (v: number | boolean) => {
      this.#buckets = typeof v === 'boolean' ? (v ? BUCKETS : 0) : bucketsFor(v)
    }
    update(knob.value)
    // Registered first, so that `enabled()` already answers with the new value in the
    // listeners added by `on()`.
    ;(knob as Knob<number | boolean>).on('change', update)
  }

  /** The knob's current value: the percentage of a percent flag, on or off of a bool flag. */
  get value(): number | boolean {
    return this.knob.value
  }

  /**
   * Calls `listener(value, change)` after each change of the flag's value, with who changed it
   * and why. A listener that throws is reported (`onError`) and does not stop the others.
   */
  on(event: 'change', listener: KnobListener<number | boolean>): this {
    ;(this.knob as Knob<number | boolean>).on(event, listener)
    return this
  }

  /** Removes a listener added with `on()`. */
  off(event: 'change', listener: KnobListener<number | boolean>): this {
    ;(this.knob as Knob<number | boolean>).off(event, listener)
    return this
  }

  /**
   * True when `key` (a user, account, request id…) is in: the same key gets the same answer
   * while the percentage stays, and stays in when it grows. A bool flag ignores the key.
   */
  enabled(key: string): boolean {
    const buckets = this.#buckets
    if (buckets >= BUCKETS) return true
    if (buckets <= 0) return false
    return bucketFromSeed(this.#seed, key) < buckets
  }

  /** The percentage that is in (a bool flag: 0 or 100). */
  get percent(): number {
    return this.#buckets / 100
  }
}

/** The three states of a dark launch: `dark` runs the new code and does not show its result. */
export const LAUNCH_MODES = ['off', 'dark', 'on'] as const
export type LaunchMode = (typeof LAUNCH_MODES)[number]

/**
 * A dark launch on an enum knob `off | dark | on`, optionally with a rollout (a percent knob
 * `<name>.rollout`): when the knob is `on`, the keys in the rollout's buckets see `on` and
 * the others `dark`. A kill switch is the knob pinned at `off` in the collector.
 */
export class Launch {
  readonly name: string
  readonly knob: Knob<LaunchMode>
  readonly rollout: Knob<number> | undefined
  readonly #seed: number
  #buckets = BUCKETS

  /** Library-internal: apps get launches from `client.launch()`. */
  constructor(knob: Knob<LaunchMode>, rollout?: Knob<number>) {
    this.name = knob.name
    this.knob = knob
    this.rollout = rollout
    this.#seed = flagSeed(knob.name)
    if (rollout !== undefined) {
      this.#buckets = bucketsFor(rollout.value)
      rollout.on('change', (v) => {
        this.#buckets = bucketsFor(v)
      })
    }
  }

  /** `off`, `dark` (run the new code, do not show it) or `on` for `key`. */
  mode(key?: string): LaunchMode {
    const mode = this.knob.value
    if (mode !== 'on') return mode
    const buckets = this.#buckets
    if (buckets >= BUCKETS) return 'on'
    if (buckets <= 0 || key === undefined) return 'dark'
    return bucketFromSeed(this.#seed, key) < buckets ? 'on' : 'dark'
  }

  /** True when the new code should run for `key` (`dark` or `on`). */
  runs(key?: string): boolean {
    return this.mode(key) !== 'off'
  }

  /** True when the new code's result should be shown to `key` (`on`). */
  shows(key?: string): boolean {
    return this.mode(key) === 'on'
  }
}
