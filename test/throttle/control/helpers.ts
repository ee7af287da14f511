import { ManualClock } from '../../../throttle/src/clock.ts'
import type { Bounds, Controller, Decision, Observation } from '../../../throttle/src/control/types.ts'

/** Bounds of the tests: whole numbers in [1, 200], no step limit, no cooldown, ±5 % dead band. */
export function bounds(b: Partial<Bounds> = {}): Bounds {
  return { min: 1, max: 200, maxStep: 1000, cooldownMillis: 0, deadBand: 0.05, integer: true, ...b }
}

/**
 * Drives a controller tick by tick with a manual clock, as the runner would: each `tick`
 * moves the clock, steps with the knob's current value, and applies the decision.
 */
export class Drive<S> {
  readonly clock = new ManualClock(1_700_000_000_000)
  value: number
  state: S
  readonly decisions: Decision[] = []

  constructor(
    readonly controller: Controller<S>,
    value: number,
    readonly tickMillis = 10_000,
  ) {
    this.value = value
    this.state = controller.init(value, this.clock.now())
  }

  tick(sli: number | undefined, b: Bounds = bounds(), extra: Partial<Observation> = {}): Decision {
    this.clock.advance(this.tickMillis)
    const obs: Observation = { now: this.clock.now(), sli, target: 300, value: this.value, ...extra }
    const { state, decision } = this.controller.step(this.state, obs, b)
    this.state = state
    this.value = decision.value
    this.decisions.push(decision)
    return decision
  }
}
