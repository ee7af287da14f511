import { api, qs } from './api.ts'
import { badge } from './dom.ts'
import type { ChangeEvent, EventList, ImpactVerdict } from './types.ts'

const ORDER: readonly ImpactVerdict[] = ['worse', 'better', 'unchanged', 'not_enough_data']
const TONE: Record<ImpactVerdict, 'bad' | 'ok' | 'muted' | 'warn'> = {
  worse: 'bad',
  better: 'ok',
  unchanged: 'muted',
  not_enough_data: 'warn',
}

/** Deploy id → the verdict of its stored impact analysis. */
export type Verdicts = ReadonlyMap<string, ImpactVerdict>

/** The verdict an `analysis` event holds: its `verdict`, or (reports stored before it) the first of its metrics' by severity. */
function verdictOf(e: ChangeEvent): [string, ImpactVerdict] | undefined {
  const d = e.data as { deploy_id?: unknown; verdict?: unknown; metrics?: { verdict?: unknown }[] }
  if (e.kind !== 'analysis' || typeof d.deploy_id !== 'string') return undefined
  const v = ORDER.includes(d.verdict as ImpactVerdict)
    ? (d.verdict as ImpactVerdict)
    : (ORDER.find((o) => (d.metrics ?? []).some((m) => m.verdict === o)) ?? 'not_enough_data')
  return [d.deploy_id, v]
}

/**
 * The verdicts of the deploys among `events`: from the `analysis` events among them, and for
 * the deploys whose analysis is not, one more request for the analyses since the oldest of them.
 */
export async function impactVerdicts(events: readonly ChangeEvent[], service = ''): Promise<Verdicts> {
  const out = new Map<string, ImpactVerdict>()
  for (const e of events) {
    const v = verdictOf(e)
    if (v !== undefined) out.set(...v)
  }
  const missing = events.filter((e) => e.kind === 'deploy' && !out.has(e.id))
  if (missing.length === 0) return out
  const from = Math.min(...missing.map((e) => Date.parse(e.time)))
  try {
    const { events: analyses } = await api<EventList>(`/events${qs({ kind: 'analysis', service, from, limit: 1000 })}`)
    for (const e of analyses) {
      const v = verdictOf(e)
      if (v !== undefined) out.set(...v)
    }
  } catch {
    // Without the verdicts the rows say "impact pending": the list itself still shows.
  }
  return out
}

/** A deploy row's impact: `impact worse` (red), `better`, `unchanged`, `not enough data`, or `impact pending` before it is analysed. */
export function impactBadge(verdict: ImpactVerdict | undefined): HTMLSpanElement {
  const b =
    verdict === undefined
      ? badge('impact pending', 'muted')
      : badge(`impact ${verdict.replace(/_/g, ' ')}`, TONE[verdict])
  b.classList.add('impact')
  b.dataset.verdict = verdict ?? 'pending'
  b.title =
    verdict === undefined
      ? 'No stored impact analysis yet: it is made once the window after the deploy has passed'
      : 'Deploy impact: the window before against the window after'
  return b
}
