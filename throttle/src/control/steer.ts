import { formatDuration, formatNumber, formatRelative } from './format.ts'
import { cooldownLeft, hold, holdForInput, intoBounds, read, settle, type Reading } from './rules.ts'
import type { Bounds, Controller, Decision, Observation } from './types.ts'

/**
 * How the knob moves the SLI. `raises`: a higher value admits more work and raises the SLI
 * (workers and request latency): over the target the controller lowers the knob. `lowers`: a
 * higher value lowers the SLI (workers and queue lag): over the target it raises the knob.
 */
export type Effect = 'raises' | 'lowers'

/** The effects a controller binding may name. */
export const EFFECTS: readonly Effect[] = ['raises', 'lowers']

/** How a guard SLO holds a controller back: see `steered`. */
export interface GuardOptions {
  /** Factor the value is multiplied by at each step while the guard SLO is breached, in (0, 1). */
  decrease: number
  /** Share under the guard's threshold that counts as near its limit, where raises wait, in [0, 1). */
  headroom: number
}

/** Defaults of a guard: ×0.8 while breached, no raise within 10 % of its threshold. */
export const GUARD_DEFAULTS: Readonly<GuardOptions> = { decrease: 0.8, headroom: 0.1 }

/** Options of `steered`. */
export interface SteerOptions {
  effect: Effect
  /** When set, every observation must carry `guard`, the guard SLO's reading. */
  guard?: GuardOptions | undefined
}

/** What `steered` remembers: the algorithm's own state, and when the guard last lowered the value. */
export interface SteeredState<S> {
  inner: S
  /** Epoch ms of the guard's last change; null before it. */
  guardChangedAt: number | null
}

/** Under this share of the target, an SLI mirrors as if it were this share (an empty queue reads as ten times under). */
export const MIRROR_FLOOR = 0.1

/**
 * The observation an algorithm sees for a knob whose effect is `lowers`: the SLI mirrored
 * against the target in ratio, so that a lag five times the target reads as a fifth of it
 * (room to raise) and a lag at half the target as twice it (lower):
 *
 *   sli' = target² / max(sli, MIRROR_FLOOR × target)      so   sli' / target = target / sli
 *
 * Near the target this is the relative error mirrored (e' = −e to first order), it keeps the
 * SLI positive for ratio-based algorithms (gradient), and it needs no change to any of them.
 * The burn rate is dropped: a primary SLO that burns asks for a raise here, so it must not
 * hold raises back. An SLI that is no measurement passes unchanged, for the algorithm to refuse.
 */
export function mirror(obs: Observation): Observation {
  const { burnRate: _burnRate, ...rest } = obs
  const { sli, target } = obs
  if (sli === undefined || !Number.isFinite(sli) || sli < 0 || !(target > 0) || !Number.isFinite(target)) return rest
  return { ...rest, sli: (target * target) / Math.max(sli, MIRROR_FLOOR * target) }
}

/**
 * Wraps an algorithm for a binding with an inverse effect or a guard SLO, keeping the
 * algorithm itself unchanged and pure. Each step:
 *
 *   effect lowers ──► mirror the SLI (see `mirror`); the reason states the measured one
 *   guard over its threshold  (g.sli > g.target) ──► value × decrease, whatever the primary
 *       says: inside the bounds, at most max step, whole numbers for int knobs; the next
 *       guard lowering waits for the cooldown (the window must see the lowered value first)
 *   guard near it  ((1 − headroom) × g.target < g.sli ≤ g.target) ──► the algorithm runs,
 *       but a raise becomes a hold
 *   guard under it ──► the algorithm decides
 *
 * After a guard lowering the algorithm waits for the cooldown too. A guard lowering does
 * not wait for the algorithm's own cooldown: protecting the guard comes first. Without a
 * guard reading (none, stale, not a number) it holds. With effect `raises` and no guard,
 * the algorithm runs exactly as it would alone.
 */
export function steered<S>(inner: Controller<S>, options: SteerOptions): Controller<SteeredState<S>> {
  const { name } = inner
  const lowers = options.effect === 'lowers'
  const guard = options.guard
  return {
    name,
    init: (value, now) => ({ inner: inner.init(value, now), guardChangedAt: null }),
    step(state, obs, bounds) {
      const pass = (seen: Observation) => {
        const r = inner.step(state.inner, seen, bounds)
        return { state: { inner: r.state, guardChangedAt: state.guardChangedAt }, decision: r.decision }
      }
      const keep = (decision: Decision) => ({ state, decision })
      if (!lowers && guard === undefined) return pass(obs)
      const seen = lowers ? mirror(obs) : obs
      // No reading to act on (no data, stale, bad bounds): the algorithm holds and says why.
      if (holdForInput(name, seen, bounds) !== undefined) return pass(seen)
      let text = primaryText(obs, seen, bounds, lowers)
      if (guard === undefined) return pass({ ...seen, sliText: text })

      const g = obs.guard
      if (g === undefined || g.sli === undefined || g.stale === true)
        return keep(
          hold(obs, `${text} but the guard has ${g?.stale === true ? 'stale data' : 'no data'}: ${holding(obs, name)}`),
        )
      if (!Number.isFinite(g.sli) || g.sli < 0 || !(g.target > 0))
        return keep(
          hold(
            obs,
            `${text} but the guard's SLI ${g.sli} or limit ${g.target} is not a measurement: ${holding(obs, name)}`,
          ),
        )
      const level = g.sli > g.target ? 'over' : g.sli > (1 - guard.headroom) * g.target ? 'near' : 'under'
      text += ` · guard SLI ${formatNumber(g.sli)} ${level} limit ${formatNumber(g.target)} (${formatRelative(g.sli, g.target)})`
      const sinceGuard = state.guardChangedAt === null ? undefined : cooldownLeft(state.guardChangedAt, obs.now, bounds)
      const waiting = (who: string) =>
        keep(
          hold(
            obs,
            `${text} but the guard lowered it ${formatDuration(obs.now - (state.guardChangedAt as number))} ago (cooldown ${formatDuration(bounds.cooldownMillis)}): ${holding(obs, who)}`,
          ),
        )

      if (level === 'over') {
        const forced = intoBounds('guard', obs, bounds)
        if (forced !== undefined) return { state: { ...state, guardChangedAt: obs.now }, decision: forced }
        if (sinceGuard !== undefined) return waiting('guard')
        const reading: Reading = { sli: g.sli, target: g.target, over: true, inBand: false, text }
        const decision = settle('guard', `×${guard.decrease}`, obs, bounds, reading, obs.value * guard.decrease, {
          raiseBelowBurnRate: Infinity,
        })
        return {
          state: { ...state, guardChangedAt: decision.kind === 'hold' ? state.guardChangedAt : obs.now },
          decision,
        }
      }
      if (sinceGuard !== undefined) return waiting(name)
      const raiseHold =
        level === 'near'
          ? `the guard is within ${formatNumber(guard.headroom * 100)} % of its limit (no raise)`
          : undefined
      return pass({ ...seen, sliText: text, ...(raiseHold !== undefined ? { raiseHold } : {}) })
    },
  }
}

const holding = (obs: Observation, who: string) => `holding at ${formatNumber(obs.value)} (${who})`

/** The primary reading as measured: "SLI 5400 over target 1000 (+440 %, effect lowers)". */
function primaryText(obs: Observation, seen: Observation, bounds: Bounds, lowers: boolean): string {
  const r = read(seen, bounds)
  if (!lowers) return r.text
  const sli = obs.sli as number
  // The band is the one the algorithm acts on (the mirrored reading's), so text and decision agree.
  const where = r.inBand ? `within ±${formatNumber(bounds.deadBand * 100)} % of` : sli > obs.target ? 'over' : 'under'
  return `SLI ${formatNumber(sli)} ${where} target ${formatNumber(obs.target)} (${formatRelative(sli, obs.target)}, effect lowers)`
}
