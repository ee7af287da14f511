import type { SliReads } from '../store/sli-reads.ts'
import {
  alertState,
  budgetRemaining,
  burnPairs,
  burnRate,
  fires,
  LONG_PER_SHORT,
  MIN_SHORT_WINDOW_MILLIS,
  type AlertState,
  type BurnPair,
  type EventCount,
} from './burn-windows.ts'
import { formatDuration } from './duration.ts'
import { allowedBadRatio, windowMillis, type SloDefinition } from './definition.ts'
import { countQuery, resolveSli, SliUnreadableError, type SliSeriesSource } from './sli-series.ts'

/** One pair of burn windows with the burn rate over each. */
export interface BurnReading {
  pair: BurnPair
  /** Burn rate over the long window; undefined without events. */
  long: number | undefined
  short: number | undefined
  firing: boolean
  /**
   * What a reader must know of this pair: that its windows were floored (scaled any
   * shorter, they would hold no data point), and that its short window holds no events
   * while the long one does (the data comes less often than the window is long, so the
   * pair cannot fire). Empty when nothing is to be said.
   */
  notes: string[]
}

/** Where an SLO stands now. */
export interface SloStatus {
  /** Events over the SLO window. */
  events: EventCount
  /** Percentage of good events over the window; undefined without events. */
  sli: number | undefined
  /** 1 − bad share / allowed share; 1 without events, 0 or below when the budget is spent. */
  budgetRemaining: number
  burns: BurnReading[]
  alert: AlertState
  /** Set when the SLI cannot be read (its metric has another type); nothing else is then computed. */
  error?: string
}

/**
 * Where an SLO stands, in one word that never contradicts the gate: `error` (unreadable),
 * `no_data` (no events over its window: it guards nothing), `spent` (budget remaining ≤ 0,
 * whatever the burn rates say), else `ok`. The alert (`page`, `ticket`) is told beside it.
 */
export type SloState = 'ok' | 'spent' | 'no_data' | 'error'

export function sloState(status: SloStatus): SloState {
  if (status.error !== undefined) return 'error'
  if (status.events.total === 0) return 'no_data'
  return status.budgetRemaining <= 0 ? 'spent' : 'ok'
}

/**
 * The status from the counts of the SLO window and of each pair's windows: `windowCounts`
 * over the SLO window, `counts.get(ms)` over each burn window. Pure.
 */
export function sloStatus(
  def: SloDefinition,
  windowCounts: EventCount,
  counts: ReadonlyMap<number, EventCount>,
): SloStatus {
  const allowed = allowedBadRatio(def)
  const window = windowMillis(def)
  const burns = burnPairs(window).map((pair): BurnReading => {
    const longCount = counts.get(pair.longMillis) ?? { bad: 0, total: 0 }
    const shortCount = counts.get(pair.shortMillis) ?? { bad: 0, total: 0 }
    const long = burnRate(longCount, allowed)
    const short = burnRate(shortCount, allowed)
    return {
      pair,
      long,
      short,
      firing: fires(pair, long, short),
      notes: pairNotes(pair, window, longCount, shortCount),
    }
  })
  const { bad, total } = windowCounts
  return {
    events: windowCounts,
    sli: total > 0 ? (1 - bad / total) * 100 : undefined,
    budgetRemaining: budgetRemaining(windowCounts, allowed),
    burns,
    alert: alertState(burns),
  }
}

function pairNotes(pair: BurnPair, window: number, long: EventCount, short: EventCount): string[] {
  const notes: string[] = []
  const f = formatDuration
  if (pair.floored !== undefined) {
    notes.push(
      `windows floored to ${f(pair.longMillis)}/${f(pair.shortMillis)} (scaled to this ${f(window)} SLO they would be ` +
        `${f(pair.floored.longMillis)}/${f(pair.floored.shortMillis)}, too short to hold data points: short windows are at least ` +
        `${f(MIN_SHORT_WINDOW_MILLIS)}, long ones ${LONG_PER_SHORT} times their short one)`,
    )
  }
  if (short.total === 0 && long.total > 0) {
    notes.push(
      `no events in the ${f(pair.shortMillis)} window while the ${f(pair.longMillis)} window has some: ` +
        `the data comes less often than every ${f(pair.shortMillis)}, so this pair cannot fire (send points more often)`,
    )
  }
  return notes
}

/** Reads SLO statuses from the store: the counting is ClickHouse's (see `countEvents`). */
export class SloEvaluator {
  readonly #reads: SliReads
  readonly #series: SliSeriesSource

  constructor(reads: SliReads, series: SliSeriesSource) {
    this.#reads = reads
    this.#series = series
  }

  /** Bad and total events of the SLI over each window ending at `now`. Throws `SliUnreadableError`. */
  async counts(service: string, def: SloDefinition, now: number, windows: readonly number[]): Promise<EventCount[]> {
    const series = await resolveSli(this.#series, service, def.sli)
    return this.#reads.countEvents(countQuery(series, now, windows))
  }

  /** The SLO's status at `now`: one query for the window and every burn window. */
  async status(service: string, def: SloDefinition, now: number): Promise<SloStatus> {
    const windowMs = windowMillis(def)
    const windows = [...new Set([windowMs, ...burnPairs(windowMs).flatMap((p) => [p.longMillis, p.shortMillis])])]
    let counts: EventCount[]
    try {
      counts = await this.counts(service, def, now, windows)
    } catch (err) {
      if (!(err instanceof SliUnreadableError)) throw err
      const none = { bad: 0, total: 0 }
      return { ...sloStatus(def, none, new Map()), error: err.message }
    }
    const byWindow = new Map(windows.map((w, i) => [w, counts[i]!]))
    return sloStatus(def, byWindow.get(windowMs)!, byWindow)
  }
}
