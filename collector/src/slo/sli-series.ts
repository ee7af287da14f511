import { attr } from '../query/groups.ts'
import type { SeriesRow } from '../store/queries.ts'
import { matchesValue, passesFilter, type AttributeFilter, type ErrorFilter, type SliSpec } from './definition.ts'
import type { CountKind, CountQuery } from '../store/sli-reads.ts'

/** Where an SLI finds its series; `StoreQueries` is one. */
export interface SliSeriesSource {
  series(metric: string, service?: string): Promise<SeriesRow[]>
}

/** The series an SLI reads and how its points count (see `countEvents`). */
export interface SliSeries {
  kind: CountKind
  table: CountQuery['table']
  /** Every series of the metric and service that the SLI's `filter` admits. */
  all: SeriesRow[]
  /** `error_ratio`: the series that match the error filter. */
  bad: SeriesRow[]
  /** `latency`: the threshold in the histogram's unit; `gauge_max`: the max. */
  threshold: number | undefined
  /** Milliseconds per unit of the metric (latency: 1000 for a histogram in seconds). */
  millisPerUnit: number
}

/** The SLI cannot be read as defined: the metric has a type it does not apply to. */
export class SliUnreadableError extends Error {
  override name = 'SliUnreadableError'
}

/**
 * Milliseconds per unit of a duration metric, from its UCUM unit: `s` (what the OTel HTTP
 * conventions use), `ms`, `us`, `ns`, `min`. Any other unit (or none) is read as milliseconds.
 */
export function millisPerUnit(unit: string): number {
  switch (unit.trim()) {
    case 's':
      return 1000
    case 'us':
    case 'µs':
    case 'μs':
      return 1e-3
    case 'ns':
      return 1e-6
    case 'min':
      return 60_000
    default:
      return 1
  }
}

/**
 * The series of the SLI's metric for `service`, checked against the SLI type:
 * latency reads explicit-bucket histograms, an error ratio a counter (monotonic sum) or a
 * histogram's count, gauge_max a gauge (or a non-monotonic sum). No series is not an error:
 * the SLI then has no events. Throws `SliUnreadableError` for a type that does not apply.
 * Only the series the SLI's `filter` admits are read.
 */
export async function resolveSli(source: SliSeriesSource, service: string, sli: SliSpec): Promise<SliSeries> {
  const stored = await source.series(sli.metric, service)
  const all = sli.filter === undefined ? stored : stored.filter((s) => admits(s, sli.filter!))
  const first = stored[0]
  const unit = first?.unit ?? ''
  const type = first?.type
  const wrong = (wants: string) =>
    new SliUnreadableError(
      `${sli.metric} of ${service} is a ${type === 'sum' && first?.monotonic ? 'counter' : type}: a ${sli.type} SLI reads ${wants}`,
    )
  switch (sli.type) {
    case 'latency': {
      if (type !== undefined && type !== 'histogram') throw wrong('an explicit-bucket histogram')
      const perUnit = millisPerUnit(unit)
      return {
        kind: 'latency',
        table: 'histograms',
        all,
        bad: [],
        threshold: sli.threshold_ms / perUnit,
        millisPerUnit: perUnit,
      }
    }
    case 'error_ratio': {
      if (type !== undefined && type !== 'histogram' && !(type === 'sum' && first?.monotonic === true))
        throw wrong('a counter (a monotonic sum) or a histogram')
      return {
        kind: 'errors',
        table: type === 'histogram' ? 'histograms' : 'samples',
        all,
        bad: all.filter((s) => isError(s, sli.errors)),
        threshold: undefined,
        millisPerUnit: 1,
      }
    }
    case 'gauge_max': {
      if (type !== undefined && type !== 'gauge' && !(type === 'sum' && first?.monotonic !== true))
        throw wrong('a gauge')
      return { kind: 'above_max', table: 'samples', all, bad: [], threshold: sli.max, millisPerUnit: 1 }
    }
  }
}

/** Whether a series passes every attribute of an SLI's filter (see `AttributeFilter`). */
export function admits(s: SeriesRow, filter: AttributeFilter): boolean {
  return Object.entries(filter).every(([k, wanted]) => passesFilter(attr(s, k), wanted))
}

/** Whether a series matches every attribute of the error filter. */
export function isError(s: SeriesRow, errors: ErrorFilter): boolean {
  return Object.entries(errors).every(([k, wanted]) => {
    const actual = attr(s, k)
    if (actual === undefined) return false
    return (Array.isArray(wanted) ? wanted : [wanted]).some((w) => matchesValue(actual, w))
  })
}

/** The count query of the resolved SLI over `windows` ending at `now`. */
export function countQuery(s: SliSeries, now: number, windows: readonly number[]): CountQuery {
  return {
    kind: s.kind,
    table: s.table,
    ids: s.all.map((x) => x.id),
    badIds: s.bad.map((x) => x.id),
    deltaIds: s.all.filter((x) => x.temporality === 'delta').map((x) => x.id),
    ...(s.threshold !== undefined ? { threshold: s.threshold } : {}),
    now,
    windows,
  }
}
