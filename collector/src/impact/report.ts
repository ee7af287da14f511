import type { NewEvent } from '../changelog/change-log.ts'
import { iso } from '../changelog/change-log.ts'
import type { ChangeEvent, DeployPlan } from '../changelog/types.ts'
import type { ImpactReport, ImpactWindows, MetricImpact, Verdict } from './types.ts'

/** The change-log kind of a stored analysis. */
export const ANALYSIS_KIND = 'analysis'
const ID_PREFIX = 'impact:'
const MAX_TITLE = 1_000

/** The id of a deploy's stored analysis: one per deploy, so storing twice stores once. */
export function impactEventId(deployId: string): string {
  return `${ID_PREFIX}${deployId}`
}

/** The deploy id of an impact analysis event, undefined for any other event. */
export function deployIdOf(e: ChangeEvent): string | undefined {
  return e.kind === ANALYSIS_KIND && e.id.startsWith(ID_PREFIX) ? e.id.slice(ID_PREFIX.length) : undefined
}

const ORDER: readonly Verdict[] = ['worse', 'better', 'unchanged', 'not_enough_data']

/**
 * A deploy's verdict from its metrics': the first of worse, better, unchanged found, else
 * not_enough_data (also without metrics).
 */
export function overallVerdict(metrics: readonly Pick<MetricImpact, 'verdict'>[]): Verdict {
  return ORDER.find((v) => metrics.some((m) => m.verdict === v)) ?? 'not_enough_data'
}

/** `not enough data` for `not_enough_data`: a verdict as people read it. */
export function verdictText(v: Verdict): string {
  return v.replace(/_/g, ' ')
}

/** `52 %`, `4.5 %`. */
export function percent(rel: number): string {
  const p = Math.abs(rel) * 100
  return `${p >= 10 ? Math.round(p) : Number(p.toFixed(1))} %`
}

/** `p = 0.0003`, `p < 0.0001`. */
export function pText(p: number): string {
  return p < 0.0001 ? 'p < 0.0001' : `p = ${Number(p.toPrecision(2))}`
}

/** The long name of what was compared: `p99 of http.server.request.duration`. */
export function describe(m: MetricImpact): string {
  switch (m.signal) {
    case 'p99':
      return `p99 of ${m.metric}`
    case 'error_ratio':
      return `error ratio of ${m.metric}`
    case 'throughput':
      return `throughput of ${m.metric}`
    case 'rate':
      return `rate of ${m.metric}`
    case 'value':
      return m.metric
  }
}

function size(m: MetricImpact): string {
  return m.relative_change === null
    ? `(from 0 to ${num(m.median_after === 0 ? m.mean_after : m.median_after)})`
    : `by ${percent(m.relative_change)}`
}

/** One line: `checkout 1.4.2: p99 latency worse by 52 %`. */
export function summarise(deploy: ChangeEvent, metrics: readonly MetricImpact[]): string {
  const head = `${deploy.service} ${deploy.version}`
  const pick = (v: MetricImpact['verdict']) => metrics.filter((m) => m.verdict === v)
  const worse = pick('worse'),
    better = pick('better')
  let what: string
  if (metrics.length === 0) what = 'no request or watched metrics found'
  else if (worse.length > 0)
    what = worse.map((m) => `${m.label} ${m.bad_direction === 'any' ? 'changed' : 'worse'} ${size(m)}`).join(', ')
  else if (better.length > 0) what = better.map((m) => `${m.label} better ${size(m)}`).join(', ')
  else if (pick('unchanged').length > 0)
    what = `no significant change in ${pick('unchanged').length} of ${metrics.length} metrics`
  else what = 'not enough data to judge'
  const line = `${head}: ${what}`
  return line.length > MAX_TITLE ? `${line.slice(0, MAX_TITLE - 1)}…` : line
}

/**
 * What to do about the metrics that got worse: with contingency knobs in the plan,
 * `p99 of http.server.request.duration is 52 % worse (p = 0.0003): consider turning off cart_cache`.
 */
export function hintsFor(plan: DeployPlan | null, metrics: readonly MetricImpact[]): string[] {
  const knobs = plan?.contingency ?? []
  if (knobs.length === 0) return []
  const turnOff = knobs.length === 1 ? knobs[0]! : `${knobs.slice(0, -1).join(', ')} or ${knobs.at(-1)!}`
  return metrics
    .filter((m) => m.verdict === 'worse')
    .map((m) => {
      const how =
        m.relative_change === null
          ? `rose from 0 (${pText(m.p_value ?? 1)})`
          : `is ${percent(m.relative_change)} ${m.bad_direction === 'any' ? 'different' : 'worse'} (${pText(m.p_value ?? 1)})`
      return `${describe(m)} ${how}: consider turning off ${turnOff}`
    })
}

/** The details, as the stored event's text. */
export function details(r: ImpactReport): string {
  const lines = [
    `Impact of ${r.service} ${r.version} (deploy ${r.deploy_id}): ${r.window.before.from} – ${r.window.before.to} against ` +
      `${r.window.after.from} – ${r.window.after.to}, in ${r.bucket_seconds} s buckets. Two-sided Mann-Whitney U test; worse or better ` +
      `at p < ${r.thresholds.p_value} with a change of at least ${percent(r.thresholds.min_relative_change)}.`,
  ]
  for (const m of r.metrics) {
    const unit = m.unit === '' ? '' : `, ${m.unit}`
    let line = `- ${describe(m)}${unit}: ${m.verdict.replace(/_/g, ' ')}; median ${num(m.median_before)} → ${num(m.median_after)}`
    if (m.relative_change !== null && m.median_before !== null)
      line += ` (${m.relative_change >= 0 ? '+' : '−'}${percent(m.relative_change)})`
    if (m.p_value !== null) line += `, ${pText(m.p_value)}, rank-biserial ${num(m.rank_biserial)}`
    line += `; ${m.samples_before} buckets before, ${m.samples_after} after`
    if (m.note !== '') line += `. ${m.note.charAt(0).toUpperCase()}${m.note.slice(1)}`
    lines.push(line)
  }
  if (r.metrics.length === 0)
    lines.push('No watched metric in the plan, and no request metric recognised for the service.')
  for (const h of r.hints) lines.push(`Hint: ${h}`)
  return lines.join('\n')
}

function num(v: number | null): string {
  return v === null ? 'none' : String(Number(v.toPrecision(3)))
}

/** The analysis as a change-log event, kind `analysis`, spanning the window after the deploy. */
export function analysisEvent(deploy: ChangeEvent, report: ImpactReport, windows: ImpactWindows): NewEvent {
  const verdicts = [...new Set(report.metrics.map((m) => m.verdict).filter((v) => v === 'worse' || v === 'better'))]
  return {
    id: impactEventId(deploy.id),
    kind: ANALYSIS_KIND,
    time: windows.after.from,
    timeEnd: Math.max(windows.after.from, windows.after.to),
    service: deploy.service,
    environment: deploy.environment,
    actor: 'governor',
    title: report.summary,
    text: details(report),
    tags: ['impact', ...verdicts],
    version: '',
    data: { ...report },
  }
}

/** Window times as the report shows them. */
export function windowJson(w: ImpactWindows): ImpactReport['window'] {
  return {
    before: { from: iso(w.before.from), to: iso(w.before.to) },
    after: { from: iso(w.after.from), to: iso(w.after.to) },
  }
}
