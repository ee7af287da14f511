import type { KnobDefinition, KnobValue } from './declaration.ts'
import { ThrottleError } from './errors.ts'
import type { KnobMode } from './remote-knob.ts'

/**
 * Where a knob's value comes from: its declared `default` (nothing heard yet), the
 * `state-file` (the last known good value of an earlier run), the `collector`, or `memory`
 * (set by hand on an in-memory client).
 */
export type KnobSource = 'default' | 'state-file' | 'collector' | 'memory'

/** What the collector said about the knob's current value. Undefined fields: not heard yet. */
export interface KnobInfo {
  source: KnobSource
  mode: KnobMode | undefined
  /** The collector's version number of the knob (1 at its declaration). */
  version: number | undefined
  /** Id of the change-log event that produced the value: cite it in logs. */
  changeId: string | undefined
  changedBy: string | undefined
  reason: string | undefined
  /** ISO 8601. */
  changedAt: string | undefined
}

/** A change of a knob's value, with who changed it and why. */
export interface KnobChange<T extends KnobValue = KnobValue> extends KnobInfo {
  name: string
  value: T
  previous: T
}

export type KnobListener<T extends KnobValue> = (value: T, change: KnobChange<T>) => void

/** Library-internal: sets a knob's value and tells its listeners (see `Knob`'s static block). */
export let updateKnob: <T extends KnobValue>(knob: Knob<T>, value: T, info: KnobInfo) => KnobChange<T> | undefined

/**
 * A live knob. `value` is a plain field, rewritten when the value changes, so reading it on
 * a hot path costs a property load: no getter, no lookup, no allocation.
 */
export class Knob<T extends KnobValue = KnobValue> {
  /** The current value. Read it where it is used, each time: it changes under you. */
  readonly value: T
  readonly name: string
  /** The declaration, in the collector's form. */
  readonly definition: Readonly<KnobDefinition>
  #info: KnobInfo
  // Copied on write, so a listener that adds or removes listeners does not disturb the loop.
  #listeners: readonly KnobListener<T>[] = []
  readonly #report: (err: ThrottleError) => void

  /** Library-internal: apps get knobs from `client.knob()`. */
  constructor(
    name: string,
    definition: KnobDefinition,
    value: T,
    info: KnobInfo,
    report: (err: ThrottleError) => void,
  ) {
    this.value = value
    this.name = name
    this.definition = definition
    this.#info = info
    this.#report = report
  }

  /** Where the value comes from and the change that produced it. */
  get info(): Readonly<KnobInfo> {
    return this.#info
  }

  /** Calls `listener(value, change)` after each change of the value (not for the same value again). */
  on(event: 'change', listener: KnobListener<T>): this {
    if (event === 'change') this.#listeners = [...this.#listeners, listener]
    return this
  }

  off(event: 'change', listener: KnobListener<T>): this {
    if (event === 'change') this.#listeners = this.#listeners.filter((l) => l !== listener)
    return this
  }

  static {
    updateKnob = <V extends KnobValue>(knob: Knob<V>, value: V, info: KnobInfo): KnobChange<V> | undefined => {
      knob.#info = info
      const previous = knob.value
      if (previous === value) return undefined
      ;(knob as { value: V }).value = value
      const change: KnobChange<V> = { ...info, name: knob.name, value, previous }
      for (const listener of knob.#listeners) {
        try {
          listener(value, change)
        } catch (err) {
          knob.#report(
            new ThrottleError(
              'THROTTLE_ERR_LISTENER',
              `a change listener of knob ${knob.name} threw: ${(err as Error)?.message ?? String(err)}`,
              { cause: err, knob: knob.name },
            ),
          )
        }
      }
      return change
    }
  }
}
