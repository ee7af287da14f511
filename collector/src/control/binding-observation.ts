import type { KnobState } from '../knobs/knob-service.ts'
import type { SloService } from '../slo/slo-service.ts'
import type { Bounds, Observation } from '@governor/throttle'
import type { ControllerDefinition } from './definition.ts'
import { observationWindowMillis } from './definition.ts'
import type { SliObserver, SliReading } from './sli-observer.ts'

/** Why a controller holds without asking its algorithm. */
export type HoldKind =
  | 'no_data'
  | 'stale'
  | 'unreadable'
  | 'store_error'
  | 'pinned'
  | 'manual'
  | 'knob_missing'
  | 'slo_missing'
  | 'invalid'
  | 'apply_failed'
  | 'stale_term'
  | 'guard_missing'
  | 'guard_no_data'
  | 'guard_stale'
  | 'guard_unreadable'
  | 'off'

/** A data point older than this many intervals makes the observation stale. */
export const STALE_INTERVALS = 3

/** What one step observed: the observation for the algorithm, or why the controller holds. */
export type BindingObservation =
  | {
      ok: true
      obs: Observation
      /** The primary SLI as the observer states it (`p99 of … 999 ms over the last 30 s, target 300 ms`). */
      text: string
      /** The guard's, when the binding has one. */
      guardText: string | undefined
      /** Both, with their SLOs: what a change's reason ends with. */
      explain: string
    }
  | { ok: false; kind: HoldKind; reason: string; failed?: { metric: string; err: unknown } }

/**
 * Reads a binding's SLO (and its guard SLO, when it has one) over the observation window
 * (6 intervals, at least 30 s), data older than `STALE_INTERVALS` intervals being stale.
 * Every reason to hold is a `HoldKind` with a sentence: an SLO that no longer exists, no data,
 * stale data, an unreadable metric, a store error (with the error, for the runner to count).
 * The guard's are the primary's with a `guard_` prefix: no guard data, no step.
 */
export async function observeBinding(
  observer: Pick<SliObserver, 'read'>,
  slos: Pick<SloService, 'find'>,
  service: string,
  def: ControllerDefinition,
  value: number,
  now: number,
): Promise<BindingObservation> {
  const slo = slos.find(service, def.slo)
  if (slo === undefined) return { ok: false, kind: 'slo_missing', reason: `SLO ${service}/${def.slo} no longer exists` }
  const guardSlo = def.guard === null ? undefined : slos.find(service, def.guard.slo)
  if (def.guard !== null && guardSlo === undefined)
    return { ok: false, kind: 'guard_missing', reason: `guard SLO ${service}/${def.guard.slo} no longer exists` }

  const read = async (
    d: NonNullable<typeof slo>['definition'],
  ): Promise<SliReading | Extract<BindingObservation, { ok: false }>> => {
    try {
      return await observer.read(
        service,
        d,
        now,
        observationWindowMillis(def.interval_ms),
        STALE_INTERVALS * def.interval_ms,
      )
    } catch (err) {
      return {
        ok: false,
        kind: 'store_error',
        reason: `the store could not be read: ${(err as Error).message}`,
        failed: { metric: d.sli.metric, err },
      }
    }
  }
  const primary = await read(slo.definition)
  if ('kind' in primary) return primary
  if (!primary.ok) return { ok: false, kind: primary.why, reason: primary.text }
  let explain = `${primary.text} (SLO ${service}/${def.slo})`
  const obs: Observation = {
    now,
    sli: primary.sli,
    target: primary.target,
    value,
    ...(primary.burnRate !== undefined ? { burnRate: primary.burnRate } : {}),
  }
  if (guardSlo === undefined) return { ok: true, obs, text: primary.text, guardText: undefined, explain }

  const guard = await read(guardSlo.definition)
  if ('kind' in guard) return guard
  if (!guard.ok)
    return { ok: false, kind: `guard_${guard.why}`, reason: `guard SLO ${service}/${guardSlo.name}: ${guard.text}` }
  explain += ` · guard: ${guard.text} (SLO ${service}/${guardSlo.name})`
  return {
    ok: true,
    obs: { ...obs, guard: { sli: guard.sli, target: guard.target } },
    text: primary.text,
    guardText: guard.text,
    explain,
  }
}

/** The binding's limits, narrowed to the knob's current bounds (ops may have narrowed them since). */
export function bounds(def: ControllerDefinition, knob: KnobState): Bounds {
  const k = knob.definition
  return {
    min: Math.max(def.min, k.min ?? -Infinity),
    max: Math.min(def.max, k.max ?? Infinity),
    maxStep: def.max_step,
    cooldownMillis: def.cooldown_ms,
    deadBand: def.dead_band,
    integer: k.type === 'int',
  }
}
