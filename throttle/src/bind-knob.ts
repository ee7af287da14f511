/**
 * Bindings between live knobs and the things they turn: a limiter's bounds, a token bucket's
 * rate, a worker pool's size. Each applies the knob's value at once and on every change, and
 * returns a function that unbinds.
 */

/** The part of a number knob a binding uses (a `Knob<number>` from `client.knob()` is one). */
export interface NumberKnobLike {
  readonly value: number
  /** The knob's name (a `Knob` has one): `bindBounds` passes it on to a `Limiter`'s metrics. */
  readonly name?: string
  on(event: 'change', listener: (value: number) => void): unknown
  off(event: 'change', listener: (value: number) => void): unknown
}

/**
 * Calls `apply(knob.value)` now and after each change; returns the unbinding. An `apply` that
 * throws on a change is reported by the knob's client (THROTTLE_ERR_LISTENER), not thrown.
 *
 * ```ts
 * bindKnob(governor.knob('export-rate', { type: 'float', default: 50, min: 1, max: 1000 }), (r) => bucket.setRate(r))
 * ```
 */
export function bindKnob(knob: NumberKnobLike, apply: (value: number) => void): () => void {
  apply(knob.value)
  const listener = (value: number) => apply(value)
  knob.on('change', listener)
  return () => {
    knob.off('change', listener)
  }
}

/** Something with bounds a knob can set: a `Limiter`, a `Limit`. */
export interface Bounded {
  setBounds(min: number, max: number): void
  /** Set by `bindBounds` to the name of the knob bound to `max`, when the target has this field (a `Limiter` has). */
  maxKnob?: string | undefined
}

/**
 * Binds `target`'s bounds to knobs (or fixed numbers): `max` is usually the knob ops and the
 * slow loop turn ("max concurrency"), `min` a floor. Values are made whole (min up, max down),
 * and a min above the max is taken as the max, so that ops moving both knobs one after the
 * other never see an error in between. A `Limiter` learns the max knob's name (`maxKnob`), so
 * that its metrics name the knob the collector's controller turns.
 *
 * ```ts
 * const maxConcurrency = governor.knob('max-concurrency', { type: 'int', default: 200, min: 1, max: 2000 })
 * const unbind = bindBounds(limiter, { min: 4, max: maxConcurrency })
 * ```
 */
export function bindBounds(
  target: Bounded,
  bounds: { min?: NumberKnobLike | number; max: NumberKnobLike | number },
): () => void {
  const read = (b: NumberKnobLike | number | undefined, fallback: number) =>
    b === undefined ? fallback : typeof b === 'number' ? b : b.value
  const apply = () => {
    const max = Math.max(0, Math.floor(read(bounds.max, 0)))
    const min = Math.min(max, Math.max(0, Math.ceil(read(bounds.min, 1))))
    target.setBounds(min, max)
  }
  const max = bounds.max
  if ('maxKnob' in target && typeof max === 'object' && typeof max.name === 'string') target.maxKnob = max.name
  const unbinds: (() => void)[] = []
  for (const b of [bounds.min, bounds.max])
    if (b !== undefined && typeof b !== 'number') unbinds.push(bindKnob(b, apply))
  if (unbinds.length === 0) apply()
  return () => {
    for (const u of unbinds) u()
  }
}
