import type { EventCount } from '../store/sli-reads.ts'

/**
 * Multi-window, multi-burn-rate alerting, as the Google SRE workbook sets it out
 * ("Alerting on SLOs", table 5-8) for a 30-day SLO:
 *
 *   severity  long window  short window  burn rate  budget spent when it fires
 *   page      1h           5m            14.4       2 % in an hour
 *   page      6h           30m           6          5 % in six hours
 *   ticket    1d           2h            3          10 % in a day
 *   ticket    3d           6h            1          10 % in three days
 *
 * A pair fires when the burn rate over both its windows is above its threshold: the long
 * window makes it significant, the short one makes it stop soon after the burning does.
 *
 * For an SLO window W other than 30 days, both windows of each pair are scaled by W / 30d
 * and the thresholds kept: a burn rate is relative to the window, so a pair still fires when
 * the same share of the budget is spent in the same share of the window (7d: 1h24m/7m at 6,
 * 5h36m/28m at 3, 16h48m/1h24m at 1). Scaled windows are rounded to whole seconds.
 *
 * Floors: a short window is never below `MIN_SHORT_WINDOW_MILLIS` (5 minutes) and a long one
 * never below `LONG_PER_SHORT` (12, the workbook's ratio) times its short one. Scaled
 * further, a window holds no data point at the usual export intervals (a 1h SLO would get a
 * 1 s short window, below any SDK's 60 s, and a 50× burn would never page). So the 7d SLO's
 * first pair is 1h/5m (scaled: 14m/1m10s), and every pair of a 1h SLO is 1h/5m. A floored
 * pair says so (`floored`), and the status tells it in the pair's notes.
 *
 *   scaled        1s ───── 5s                      (1h SLO, first pair)
 *   floored       5m ───────────────────── 1h      (short ≥ 5m, long ≥ 12 × short)
 */

export type Severity = 'page' | 'ticket'
export type AlertState = 'ok' | Severity

/** One pair of windows and its threshold. */
export interface BurnPair {
  longMillis: number
  shortMillis: number
  threshold: number
  severity: Severity
  /** The scaled windows, when the floors lengthened them (see `burnPairs`). */
  floored?: { longMillis: number; shortMillis: number }
}

/** The shortest short window: five exports at the OTel SDKs' default interval (60 s). */
export const MIN_SHORT_WINDOW_MILLIS = 5 * 60_000
/** A long window is at least this many times its short one (the workbook's ratio). */
export const LONG_PER_SHORT = 12

const H = 3_600_000
const M = 60_000
/** The workbook's windows for a 30-day SLO. */
export const WORKBOOK_PAIRS: readonly BurnPair[] = [
  { longMillis: H, shortMillis: 5 * M, threshold: 14.4, severity: 'page' },
  { longMillis: 6 * H, shortMillis: 30 * M, threshold: 6, severity: 'page' },
  { longMillis: 24 * H, shortMillis: 2 * H, threshold: 3, severity: 'ticket' },
  { longMillis: 72 * H, shortMillis: 6 * H, threshold: 1, severity: 'ticket' },
]
const WORKBOOK_WINDOW_MILLIS = 30 * 24 * H

/**
 * The pairs for an SLO window of `windowMillis`: the workbook's, scaled by window / 30d, then
 * floored (short ≥ `MIN_SHORT_WINDOW_MILLIS`, long ≥ `LONG_PER_SHORT` × short).
 */
export function burnPairs(windowMillis: number): BurnPair[] {
  const f = windowMillis / WORKBOOK_WINDOW_MILLIS
  const scale = (ms: number) => Math.max(1000, Math.round((ms * f) / 1000) * 1000)
  return WORKBOOK_PAIRS.map((p) => {
    const longMillis = scale(p.longMillis),
      shortMillis = scale(p.shortMillis)
    const short = Math.max(shortMillis, MIN_SHORT_WINDOW_MILLIS)
    const long = Math.max(longMillis, LONG_PER_SHORT * short)
    return short === shortMillis && long === longMillis
      ? { ...p, longMillis, shortMillis }
      : { ...p, longMillis: long, shortMillis: short, floored: { longMillis, shortMillis } }
  })
}

export type { EventCount } from '../store/sli-reads.ts'

/**
 * How fast the budget burns over a window: the bad share of events over the share the
 * objective allows (1: the budget lasts exactly the window). Undefined without events.
 */
export function burnRate(c: EventCount, allowedBadRatio: number): number | undefined {
  return c.total > 0 ? c.bad / c.total / allowedBadRatio : undefined
}

/**
 * The share of the error budget left over the SLO window: 1 − bad share / allowed share.
 * 1 without events (nothing spent); 0 or below when spent.
 */
export function budgetRemaining(c: EventCount, allowedBadRatio: number): number {
  return 1 - (burnRate(c, allowedBadRatio) ?? 0)
}

/** Whether a pair fires: both burn rates above the threshold. */
export function fires(pair: BurnPair, long: number | undefined, short: number | undefined): boolean {
  return long !== undefined && short !== undefined && long > pair.threshold && short > pair.threshold
}

/** `page` when a page pair fires, else `ticket` when a ticket pair fires, else `ok`. */
export function alertState(firing: ReadonlyArray<{ pair: BurnPair; firing: boolean }>): AlertState {
  if (firing.some((f) => f.firing && f.pair.severity === 'page')) return 'page'
  if (firing.some((f) => f.firing && f.pair.severity === 'ticket')) return 'ticket'
  return 'ok'
}
