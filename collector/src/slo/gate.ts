import type { NewEvent } from '../changelog/change-log.ts'
import { allowedBadRatio } from './definition.ts'
import type { Slo } from './slo-service.ts'
import { sloState, type SloState, type SloStatus } from './slo-status.ts'

/** The change-log kind of a gate decision worth recording: a denial, an override, a rollback let through. */
export const GATE_KIND = 'gate'

/** Where one SLO stands for the gate (the same word as its status). */
export type GateSloState = SloState

/** What the gate knows besides the SLOs (see `gateDecision`). */
export interface GateContext {
  service: string
  /** Whether Governor knows the service at all: it sent metrics, was deployed, has knobs, SLOs or controllers. */
  known: boolean
  /** Deny a service that no SLO with data guards (`require_slo=1`, `governor gate --require-slo`). */
  requireSlo: boolean
  /** The version asked for is one the service ran before, not the live one: a rollback. */
  rollback: boolean
  /** A recorded break-glass override: allowed whatever the SLOs say. */
  override?: { actor: string; reason: string }
}

/** The deploy gate's answer: `allowed` is what a CI script reads. */
export interface GateDecision {
  allowed: boolean
  service: string
  /** `allowed`, `denied`, or `overridden` (allowed by a recorded break-glass override). */
  outcome: 'allowed' | 'denied' | 'overridden'
  /** Why not, one sentence each; empty when allowed. */
  reasons: string[]
  /** What the caller should know even when allowed: nothing guards it, an SLO has no data, a rollback went through. */
  warnings: string[]
  rollback: boolean
  override: { actor: string; reason: string } | null
  slos: { name: string; state: GateSloState; error_budget_remaining: number; alert: string; error?: string }[]
}

/**
 * Whether a deploy of `service` may go out. The gate fails loud, never open:
 *
 * - a service Governor does not know (a typo, most often) is denied, naming it;
 * - an SLO whose budget is spent (remaining ≤ 0) denies, unless the deploy is a rollback
 *   (policy: going back to a version that ran before lowers the risk; it is recorded);
 * - an SLO that cannot be evaluated denies: the gate does not guess;
 * - an SLO with no events over its window guards nothing: a warning, and with `requireSlo`
 *   a service that no SLO with data guards is denied (as is one without SLOs);
 * - a break-glass override allows whatever the rest says; it is recorded with who and why.
 *
 * Pure: the statuses and the context are computed by the caller.
 */
export function gateDecision(ctx: GateContext, slos: ReadonlyArray<{ slo: Slo; status: SloStatus }>): GateDecision {
  const { service } = ctx
  const reasons: string[] = []
  const warnings: string[] = []
  const states = slos.map(({ slo, status }) => ({ slo, status, state: sloState(status) }))
  if (!ctx.known) {
    reasons.push(
      `no service named ${JSON.stringify(service)} is known to Governor (it sent no metrics, was never deployed, has no knobs or SLOs): check the name`,
    )
  }
  for (const { slo, status, state } of states) {
    const def = slo.definition
    if (state === 'error')
      reasons.push(`${service}/${slo.name}: cannot be evaluated (${status.error}); the gate does not guess`)
    if (state === 'no_data')
      warnings.push(
        `${service}/${slo.name}: no events over ${def.window}, so it guards nothing (is ${def.sli.metric} being sent?)`,
      )
    if (state !== 'spent') continue
    const badShare = status.events.total > 0 ? status.events.bad / status.events.total : 0
    const why = `${service}/${slo.name}: error budget spent (${pct(1 - status.budgetRemaining)} used): ${pct(badShare)} of events bad over ${def.window}, ${def.objective} % allows ${pct(allowedBadRatio(def))}`
    if (ctx.rollback) warnings.push(`${why}; allowed because the deploy is a rollback`)
    else reasons.push(why)
  }
  const guarded = states.some((s) => s.state === 'ok' || s.state === 'spent')
  if (ctx.known && !guarded) {
    const none = slos.length === 0 ? `${service} has no SLOs` : `no SLO of ${service} has data`
    if (ctx.requireSlo) reasons.push(`${none}, and require_slo is set`)
    else warnings.push(`${none}: nothing guards this deploy`)
  }
  let outcome: GateDecision['outcome'] = reasons.length === 0 ? 'allowed' : 'denied'
  if (ctx.override !== undefined) {
    if (outcome === 'denied') warnings.push(...reasons.map((r) => `overridden: ${r}`))
    outcome = 'overridden'
  }
  return {
    allowed: outcome !== 'denied',
    service,
    outcome,
    reasons: outcome === 'denied' ? reasons : [],
    warnings,
    rollback: ctx.rollback,
    override: ctx.override ?? null,
    slos: states.map(({ slo, status, state }) => ({
      name: slo.name,
      state,
      error_budget_remaining: status.budgetRemaining,
      alert: status.alert,
      ...(status.error !== undefined ? { error: status.error } : {}),
    })),
  }
}

/**
 * The change-log event of a decision worth keeping (a denial, an override, a rollback let
 * through a spent budget), or undefined for a plain allowed deploy.
 */
export function gateEvent(d: GateDecision, actor: string, version: string, now: number): NewEvent | undefined {
  const spent = d.slos.filter((s) => s.state === 'spent').map((s) => s.name)
  const what = `deploy of ${d.service}${version !== '' ? ` ${version}` : ''}`
  let title: string
  let tags: string[]
  if (d.outcome === 'denied') {
    title = `${what} denied: ${spent.length > 0 && d.reasons.every((r) => r.includes('error budget spent')) ? `error budget spent (${spent.join(', ')})` : d.reasons[0]}`
    tags = ['denied', ...spent]
  } else if (d.outcome === 'overridden') {
    title = `${what} allowed by override of ${d.override!.actor}: ${d.override!.reason}`
    tags = ['override', ...spent]
  } else if (d.rollback && spent.length > 0) {
    title = `${what} allowed as a rollback through a spent error budget (${spent.join(', ')})`
    tags = ['rollback', ...spent]
  } else {
    return undefined
  }
  return {
    kind: GATE_KIND,
    time: now,
    timeEnd: now,
    service: d.service,
    environment: '',
    actor: d.override?.actor ?? actor,
    title,
    text: [...d.reasons, ...d.warnings].join('\n'),
    tags,
    version: '',
    data: {
      allowed: d.allowed,
      outcome: d.outcome,
      ...(version !== '' ? { version } : {}),
      reasons: d.reasons,
      warnings: d.warnings,
      rollback: d.rollback,
      override: d.override,
      slos: d.slos,
    },
  }
}

/** A share as a percentage for people: `1.52 %`, `0.1 %`, `152 %`. */
export function pct(share: number): string {
  return `${Number((share * 100).toPrecision(3))} %`
}
