/**
 * The contract between the slow loop's algorithms (here, pure) and the runner that feeds
 * them (in the collector): `step(state, observation, bounds) → { state, decision }`.
 *
 * The knob a controller turns is capacity-like: a higher value admits more work (worker
 * concurrency, request rate, a feature's percentage) and so raises the SLI (latency, error
 * ratio, queue depth). Over the target the controller lowers the knob; well under it, it
 * raises it again. The target is the operator's SLO threshold: the setpoint. Time comes in
 * with the observation; no algorithm reads a clock. A knob that works the other way (more
 * queue workers, less lag) and a guard SLO are `steered`'s: it maps them into this contract.
 */

/** What the runner measured for one tick. */
export interface Observation {
  /** When the observation was taken, epoch ms. */
  now: number
  /** The SLI over the controller's short window (e.g. p99 latency in ms, an error ratio); undefined when there is no data. */
  sli: number | undefined
  /** The setpoint: the SLO threshold in the SLI's unit (e.g. 300 ms, 0.001). */
  target: number
  /** The knob's current value (what the app runs with now). */
  value: number
  /** Optional secondary signals: the SLO's fast burn rate, the offered load, a self-estimated baseline. */
  burnRate?: number
  /** Set when the data is older than the runner accepts: the controller must hold. */
  stale?: boolean
  /**
   * Optional: how much of the knob's value is in use (busy workers, requests in flight). When
   * given, a controller raises only while the value is really used (`inUse * 2 >= value`).
   */
  inUse?: number
  /**
   * Optional: the limit the app's fast loop (an adaptive limiter whose max bound this knob
   * sets) reached in the window, at its highest. When given, a controller raises only while
   * it reaches the value (`limit >= value`): a bound the fast loop stays under is not binding,
   * and raising it changes nothing but the room the app has to overload itself.
   */
  limit?: number
  /**
   * Optional: the guard SLO's reading (see `steered`): an SLO the controller must not break
   * while it raises the knob, e.g. a downstream latency. `sli` and `target` in its own unit.
   */
  guard?: GuardReading
  /**
   * Optional: how reasons state the reading, in place of `SLI 412 over target 300 (+37 %)`.
   * Set by `steered` when the SLI the algorithm sees is not the one measured (an inverse
   * effect) or when a guard's reading belongs in the reason.
   */
  sliText?: string
  /** Optional: set when raises must wait (a guard near its limit), as the clause a hold states. */
  raiseHold?: string
}

/** The reading of a guard SLO for one tick. */
export interface GuardReading {
  /** The guard's SLI over the controller's window; undefined when there is none. */
  sli: number | undefined
  /** The guard SLO's threshold, in the SLI's unit. */
  target: number
  /** Set when its data is older than the runner accepts. */
  stale?: boolean
}

/** The limits every decision stays inside. */
export interface Bounds {
  min: number
  max: number
  /** Largest change of one step, in the knob's unit. */
  maxStep: number
  /** Least time between two changes, ms. */
  cooldownMillis: number
  /** Relative band around the target in which nothing changes (0.05: within ±5 %). */
  deadBand: number
  /** Round decisions to whole numbers (int knobs). */
  integer: boolean
}

export type DecisionKind = 'raise' | 'lower' | 'hold'

/** What a step decided, with the reason as a sentence the change log can show. */
export interface Decision {
  kind: DecisionKind
  /** The value to set (equal to the observation's value when holding). */
  value: number
  reason: string
}

/** A controller algorithm. `S` is its own state, opaque to the runner (kept in memory, JSON-serialisable). */
export interface Controller<S = unknown> {
  readonly name: string
  init(value: number, now: number): S
  step(state: S, obs: Observation, bounds: Bounds): { state: S; decision: Decision }
}

/** The algorithms a controller binding may name, with their parameters. */
export type AlgorithmName = 'aimd' | 'gradient' | 'pid'
