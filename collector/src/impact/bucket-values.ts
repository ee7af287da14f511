import type { StepPoint } from '../query/eval/index.ts'
import { evaluateGroup } from '../query/evaluate-group.ts'
import { sliceBySeries, type Slice } from '../query/groups.ts'
import { toNumber, type PointRows, type SeriesRow } from '../store/queries.ts'
import { counterRates, type CounterSeries } from './counter-rates.ts'
import type { ResolvedSignal } from './signals.ts'
import type { Range } from './types.ts'

/**
 * One value per step bucket of a signal over `range`. Distributions and gauges go through
 * the query API's own evaluators, so such a bucket reads as `GET /api/v1/query` shows it:
 *
 * - `p99`: `histogram_quantile(0.99, …)` over the bucket's increase of every `le` counter,
 *   the signal's series pooled (`agg=p99`);
 * - `value`: the average of the raw points (`agg=avg`);
 *
 * and counters by `counterRates`, which loses no growth at bucket edges:
 *
 * - `throughput`, `rate`: the summed per-second rate (for a histogram, of its count);
 * - `error_ratio`: rate of the 5xx series / rate of all series, for buckets where the latter
 *   is above 0; a bucket where no 5xx series grew has ratio 0.
 *
 * Pure: `rows` are the raw points of (at least) the signal's series, ordered by series then time.
 */
export function bucketValues(signal: ResolvedSignal, rows: PointRows, range: Range, stepMs: number): StepPoint[] {
  const slices = sliceBySeries(rows)
  const members = (series: readonly SeriesRow[]) =>
    series.flatMap((s) => {
      const slice = slices.get(s.id)
      return slice === undefined ? [] : [{ slice }]
    })
  const all = members(signal.series)
  const meta = signal.series[0]
  if (meta === undefined || all.length === 0) return []
  const rates = (m: { slice: Slice }[]) =>
    counterRates(
      m.map(({ slice }) => counterSeries(rows, slice, meta.temporality !== 'delta')),
      stepMs,
    )
  const run = (agg: string, m: { slice: Slice }[]) =>
    evaluateGroup(meta, rows, m, {
      metric: signal.spec.metric,
      service: undefined,
      match: [],
      from: range.from,
      to: range.to,
      stepMs,
      agg,
      by: undefined,
    })
  switch (signal.spec.kind) {
    case 'p99':
      return run('p99', all)
    case 'throughput':
    case 'rate':
      return rates(all)
    case 'value':
      return run('avg', all)
    case 'error_ratio': {
      const errors = members(signal.errorSeries ?? [])
      const errorRate = new Map(rates(errors))
      const out: StepPoint[] = []
      for (const [ts, total] of rates(all)) if (total > 0) out.push([ts, Math.min(1, (errorRate.get(ts) ?? 0) / total)])
      return out
    }
  }
}

/** A histogram's count, or a sum's value, as a counter. */
function counterSeries(rows: PointRows, { begin, end }: Slice, cumulative: boolean): CounterSeries {
  const column = (rows.columns.count ?? rows.columns.value)!
  return {
    ts: rows.ts.slice(begin, end),
    start: rows.start.slice(begin, end),
    value: column.slice(begin, end).map(toNumber),
    cumulative,
  }
}
