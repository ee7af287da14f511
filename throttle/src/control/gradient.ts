import { formatNumber } from './format.ts'
import type { ParamSpecs } from './params.ts'
import { BURN_SPEEDUP, RAISE_BELOW_BURN_RATE } from './params.ts'
import { begin, isDecision, lastChange, settle, speedupText, urgency } from './rules.ts'
import type { Controller } from './types.ts'

/** Parameters of `gradient`: see `GRADIENT_PARAMS`. */
export interface GradientParams {
  maxDown: number
  maxUp: number
  smoothing: number
  raiseBelowBurnRate: number
  burnSpeedup: number
}

/** The parameters of `gradient`: default, bounds, doc line. */
export const GRADIENT_PARAMS = {
  maxDown: {
    default: 0.5,
    min: 0,
    minExclusive: true,
    max: 1,
    maxExclusive: true,
    doc: 'largest relative decrease the gradient may ask for (0.5: at most halve), before smoothing',
  },
  maxUp: {
    default: 0.2,
    min: 0,
    minExclusive: true,
    max: Infinity,
    doc: 'largest relative increase the gradient may ask for (0.2: at most +20 %), before smoothing',
  },
  smoothing: {
    default: 0.5,
    min: 0,
    minExclusive: true,
    max: 1,
    doc: 'share of the gradient applied per step (1: all of it, 0.5: half the way)',
  },
  raiseBelowBurnRate: RAISE_BELOW_BURN_RATE,
  burnSpeedup: BURN_SPEEDUP,
} as const satisfies ParamSpecs

/** What `gradient` remembers between ticks (JSON-serialisable). */
export interface GradientState {
  /** When the value last changed, epoch ms; null before the first change. */
  lastChangeAt: number | null
}

/**
 * SLO-anchored gradient: the value moves by the ratio of the target to the SLI.
 *
 *   g     = clamp(target / sli, 1 − maxDown, 1 + maxUp)
 *   value = value × (1 + smoothing × (g − 1))       // = value × (1 − s) + value × g × s
 *
 * Unlike Gradient2 or Envoy's gradient controller, which compare the latency with a baseline
 * they estimate themselves (a long average, a periodic minimum RTT), the setpoint here is the
 * operator's target: the loop settles where the SLI meets the SLO, not where latency stops
 * rising. A latency twice the target asks for half the capacity (bounded by maxDown); a
 * latency at half the target asks for more (bounded by maxUp). While the SLO burns fast a
 * lowering step applies more of the gradient (smoothing × s, at most all of it, s the burn
 * rate up to `burnSpeedup`) after a cooldown ÷ s. Multiplicative: keep `min` above 0, or a
 * value of 0 stays 0.
 */
export function gradient(params: GradientParams): Controller<GradientState> {
  const name = 'gradient'
  return {
    name,
    init: () => ({ lastChangeAt: null }),
    step(state, obs, bounds) {
      const start = begin(name, state.lastChangeAt, obs, bounds, params.burnSpeedup)
      let decision
      if (isDecision(start)) decision = start
      else {
        const ratio = start.sli === 0 ? Infinity : start.target / start.sli
        const g = Math.min(1 + params.maxUp, Math.max(1 - params.maxDown, ratio))
        const s = urgency(obs, start, params.burnSpeedup)
        const factor = 1 + Math.min(1, params.smoothing * s) * (g - 1)
        decision = settle(
          name,
          `×${formatNumber(factor)}${speedupText(obs, s)}`,
          obs,
          bounds,
          start,
          obs.value * factor,
          params,
        )
      }
      return { state: { lastChangeAt: lastChange(state.lastChangeAt, decision, obs.now) }, decision }
    },
  }
}
