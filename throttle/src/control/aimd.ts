import type { ParamSpecs } from './params.ts'
import { formatNumber } from './format.ts'
import { BURN_SPEEDUP, RAISE_BELOW_BURN_RATE } from './params.ts'
import { begin, isDecision, lastChange, settle, speedupText, urgency } from './rules.ts'
import type { Controller } from './types.ts'

/** Parameters of `aimd`: see `AIMD_PARAMS`. */
export interface AimdParams {
  decrease: number
  increase: number
  raiseBelowBurnRate: number
  burnSpeedup: number
}

/** The parameters of `aimd`: default, bounds, doc line. */
export const AIMD_PARAMS = {
  decrease: {
    default: 0.8,
    min: 0,
    minExclusive: true,
    max: 1,
    maxExclusive: true,
    doc: 'factor the value is multiplied by when the SLI is over the target',
  },
  increase: {
    default: 1,
    min: 0,
    minExclusive: true,
    max: Infinity,
    doc: "amount added when the SLI is under the target, in the knob's unit",
  },
  raiseBelowBurnRate: RAISE_BELOW_BURN_RATE,
  burnSpeedup: BURN_SPEEDUP,
} as const satisfies ParamSpecs

/** What `aimd` remembers between ticks (JSON-serialisable). */
export interface AimdState {
  /** When the value last changed, epoch ms; null before the first change. */
  lastChangeAt: number | null
}

/**
 * Additive increase, multiplicative decrease: over the target (beyond the dead band) the value
 * is multiplied by `decrease`; under it, `increase` is added. The loss-based rule of TCP and of
 * concurrency-limits' AIMDLimit, with the SLO target in place of packet loss: it backs off fast
 * and probes slowly, so it saws gently under the target. While the SLO burns fast a decrease
 * is `decrease^s` after a cooldown ÷ s (s: the burn rate, up to `burnSpeedup`).
 */
export function aimd(params: AimdParams): Controller<AimdState> {
  const name = 'aimd'
  return {
    name,
    init: () => ({ lastChangeAt: null }),
    step(state, obs, bounds) {
      const start = begin(name, state.lastChangeAt, obs, bounds, params.burnSpeedup)
      let decision
      if (isDecision(start)) decision = start
      else if (start.over) {
        const s = urgency(obs, start, params.burnSpeedup)
        const factor = params.decrease ** s
        decision = settle(
          name,
          `×${formatNumber(factor)}${speedupText(obs, s)}`,
          obs,
          bounds,
          start,
          obs.value * factor,
          params,
        )
      } else decision = settle(name, `+${params.increase}`, obs, bounds, start, obs.value + params.increase, params)
      return { state: { lastChangeAt: lastChange(state.lastChangeAt, decision, obs.now) }, decision }
    },
  }
}
