import type { NewEvent } from '../changelog/change-log.ts'
import { allowedBadRatio } from './definition.ts'
import type { Slo } from './slo-service.ts'
import type { SloStatus } from './slo-status.ts'

/** The change-log kind of a denied deploy. */
export const GATE_KIND = 'gate'

/** The deploy gate's answer: `allowed` is what a CI script reads. */
export interface GateDecision {
  allowed: boolean
  service: string
  /** Why not, one sentence per SLO whose budget is spent; empty when allowed. */
  reasons: string[]
  slos: { name: string; error_budget_remaining: number; alert: string; error?: string }[]
}

/**
 * Whether a deploy of `service` may go out: not while any of its SLOs has its error budget
 * spent (remaining ≤ 0). An SLO that cannot be read (its `error` is set) or that has no
 * events does not block. A service with no SLOs is always allowed. Pure.
 */
export function gateDecision(service: string, slos: ReadonlyArray<{ slo: Slo; status: SloStatus }>): GateDecision {
  const reasons: string[] = []
  for (const { slo, status } of slos) {
    if (status.error !== undefined || status.budgetRemaining > 0) continue
    const def = slo.definition
    const badShare = status.events.total > 0 ? status.events.bad / status.events.total : 0
    reasons.push(`${service}/${slo.name}: error budget spent (${pct(1 - status.budgetRemaining)} used): ${pct(badShare)} of events bad over ${def.window}, ${def.objective} % allows ${pct(allowedBadRatio(def))}`)
  }
  return {
    allowed: reasons.length === 0,
    service,
    reasons,
    slos: slos.map(({ slo, status }) => ({
      name: slo.name, error_budget_remaining: status.budgetRemaining, alert: status.alert, ...(status.error !== undefined ? { error: status.error } : {}),
    })),
  }
}

/** The change-log event of a denial. */
export function denialEvent(d: GateDecision, actor: string, version: string, now: number): NewEvent {
  const spent = d.slos.filter((s) => s.error === undefined && s.error_budget_remaining <= 0).map((s) => s.name)
  return {
    kind: GATE_KIND, time: now, timeEnd: now, service: d.service, environment: '', actor,
    title: `deploy of ${d.service}${version !== '' ? ` ${version}` : ''} denied: error budget spent (${spent.join(', ')})`,
    text: d.reasons.join('\n'), tags: ['denied', ...spent], version: '',
    data: { allowed: false, ...(version !== '' ? { version } : {}), reasons: d.reasons, slos: d.slos },
  }
}

/** A share as a percentage for people: `1.52 %`, `0.1 %`, `152 %`. */
export function pct(share: number): string {
  return `${Number((share * 100).toPrecision(3))} %`
}
