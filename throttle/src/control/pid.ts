import { formatNumber } from './format.ts'
import type { ParamSpecs } from './params.ts'
import { BURN_SPEEDUP, RAISE_BELOW_BURN_RATE } from './params.ts'
import {
  cooldownLeft,
  hold,
  holdForInput,
  holdInBand,
  holdInCooldown,
  intoBounds,
  lastChange,
  read,
  settle,
  urgency,
} from './rules.ts'
import type { Controller } from './types.ts'

/** Parameters of `pid`: see `PID_PARAMS`. */
export interface PidParams {
  kp: number
  ki: number
  kd: number
  raiseBelowBurnRate: number
  burnSpeedup: number
}

/** The parameters of `pid`: default, bounds, doc line. */
export const PID_PARAMS = {
  kp: {
    default: 0.5,
    min: 0,
    max: Infinity,
    doc: 'proportional gain: relative change of the value per unit of relative error',
  },
  ki: {
    default: 0.02,
    min: 0,
    max: Infinity,
    doc: 'integral gain, per second: relative change per second per unit of relative error',
  },
  kd: {
    default: 0,
    min: 0,
    max: Infinity,
    doc: 'derivative gain, in seconds, on the measurement (sli / target per second), not on the error',
  },
  raiseBelowBurnRate: RAISE_BELOW_BURN_RATE,
  burnSpeedup: {
    ...BURN_SPEEDUP,
    doc: "while lowering, the cooldown is divided by the SLO's burn rate, up to this factor (1: fixed cooldown); the terms themselves are not scaled",
  },
} as const satisfies ParamSpecs

/** What `pid` remembers between ticks (JSON-serialisable). */
export interface PidState {
  /** When the value last changed, epoch ms; null before the first change. */
  lastChangeAt: number | null
  /** The value the output is relative to: the value the controller took over (1 when that was 0). */
  anchor: number | null
  /** The integral term, in units of the anchor. */
  integral: number
  /** The proportional and derivative terms of the last tick. */
  lastP: number
  lastD: number
  /** The value as this controller left it; any other value means someone else turned the knob. */
  lastValue: number | null
  /** SLI and time of the last tick with data (the derivative's previous point). */
  prevSli: number | null
  prevAt: number | null
}

/**
 * A PID controller on the relative error e = (target − sli) / target (positive: room to
 * raise), with output relative to an anchor value A:
 *
 *   P = kp · e
 *   I = I + ki · e · dt                       (dt in seconds between ticks with data)
 *   D = −kd · (sli − sli_prev) / target / dt  (on the measurement: a new target is no kick)
 *   value = A · (1 + P + I + D)
 *
 * Anti-windup by back-calculation: after each decision the integral is set to what the value
 * actually applied needs (I = applied / A − 1 − P − D), so a value held at a bound, cut by
 * maxStep, held by a gate or rounded never leaves an integral behind to unwind. During a
 * cooldown it keeps integrating (the cooldown only slows the steps; the first step after it is
 * still capped by maxStep). Inside the dead band it rests: the integral is set to hold the
 * current value. When someone else turns the knob, the controller takes the new value over
 * without a bump (it becomes the anchor). After a tick without data the time base restarts,
 * so a gap is not integrated.
 */
export function pid(params: PidParams): Controller<PidState> {
  const name = 'pid'
  return {
    name,
    init: () => ({
      lastChangeAt: null,
      anchor: null,
      integral: 0,
      lastP: 0,
      lastD: 0,
      lastValue: null,
      prevSli: null,
      prevAt: null,
    }),
    step(state, obs, bounds) {
      const early = holdForInput(name, obs, bounds)
      if (early !== undefined) return { state: { ...state, prevSli: null, prevAt: null }, decision: early }

      const forced = intoBounds(name, obs, bounds)
      if (forced !== undefined) {
        return {
          state: { ...takeOver(forced.value), lastChangeAt: obs.now, prevSli: obs.sli as number, prevAt: obs.now },
          decision: forced,
        }
      }

      // Bumpless takeover: a value this controller did not leave becomes the new anchor.
      let { anchor, integral } = state
      if (anchor === null || state.lastValue !== obs.value)
        ({ anchor, integral } = takeOver(obs.value, state.lastP, state.lastD))

      const reading = read(obs, bounds)
      const { sli, target } = reading
      const after = (decision: ReturnType<typeof hold>, next: Partial<PidState>) => ({
        state: {
          ...state,
          anchor,
          integral,
          lastValue: decision.value,
          prevSli: sli,
          prevAt: obs.now,
          lastChangeAt: lastChange(state.lastChangeAt, decision, obs.now),
          ...next,
        },
        decision,
      })
      if (reading.inBand)
        return after(holdInBand(name, obs, reading), { integral: obs.value / anchor - 1, lastP: 0, lastD: 0 })

      const dt = state.prevAt === null ? 0 : Math.max(0, (obs.now - state.prevAt) / 1000)
      const e = (target - sli) / target
      const p = params.kp * e
      const d = dt > 0 && state.prevSli !== null ? (-params.kd * (sli - state.prevSli)) / target / dt : 0
      const i = integral + params.ki * e * dt

      const speedup = urgency(obs, reading, params.burnSpeedup)
      if (state.lastChangeAt !== null && cooldownLeft(state.lastChangeAt, obs.now, bounds, speedup) !== undefined) {
        return after(holdInCooldown(name, obs, bounds, reading, state.lastChangeAt, speedup), {
          integral: i,
          lastP: p,
          lastD: d,
        })
      }
      const raw = anchor * (1 + p + i + d)
      const decision = settle(
        name,
        `P ${formatNumber(p)}, I ${formatNumber(i)}, D ${formatNumber(d)}`,
        obs,
        bounds,
        reading,
        raw,
        params,
      )
      // Back-calculation: the integral holds exactly what the applied value needs.
      return after(decision, { integral: decision.value / anchor - 1 - p - d, lastP: p, lastD: d })
    },
  }
}

/** Anchor and integral that reproduce `value` with the given P and D terms. */
function takeOver(
  value: number,
  p = 0,
  d = 0,
): { anchor: number; integral: number; lastP: number; lastD: number; lastValue: number } {
  const anchor = value > 0 ? value : 1
  return { anchor, integral: value / anchor - 1 - p - d, lastP: p, lastD: d, lastValue: value }
}
