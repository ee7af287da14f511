import { GovernorError } from '../../errors.ts'
import type { MetricType } from '../../model/types.ts'
import type { Agg, SimpleAggName } from './types.ts'

const SIMPLE: readonly SimpleAggName[] = ['avg', 'min', 'max', 'sum', 'count', 'last', 'rate', 'increase']

// p0 … p99.99: an integer part without a leading zero, and at most two decimals.
const QUANTILE = /^p(0|[1-9][0-9]?)(?:\.([0-9]{1,2}))?$/

/** The aggregations each metric type accepts; `quantiles` says whether `pNN` does. */
const APPLICABLE: Record<MetricType, { names: readonly SimpleAggName[]; quantiles: boolean }> = {
  gauge: { names: ['avg', 'min', 'max', 'sum', 'count', 'last'], quantiles: false },
  sum: { names: SIMPLE, quantiles: false },
  histogram: { names: ['count', 'sum', 'avg', 'rate'], quantiles: true },
  exponential_histogram: { names: ['count', 'sum', 'avg', 'rate'], quantiles: true },
  summary: { names: ['count', 'sum', 'avg', 'rate'], quantiles: true },
}

/**
 * Validates the `agg` query parameter.
 *
 * Accepts `avg`, `min`, `max`, `sum`, `count`, `last`, `rate`, `increase`, and quantiles
 * written `pNN` or `pNN.N` / `pNN.NN` from `p0` to `p99.99` (`p50`, `p99.9`).
 *
 * @throws GovernorError `GOV_ERR_QUERY_PARAM` naming the bad value and listing the valid ones.
 */
export function parseAgg(name: string): Agg {
  if ((SIMPLE as readonly string[]).includes(name)) {
    const simple = name as SimpleAggName
    return { kind: simple, name: simple }
  }
  const m = QUANTILE.exec(name)
  if (m !== null) {
    // Build the decimal text instead of dividing by 100, so p99.9 is exactly 0.999.
    const whole = (m[1] ?? '0').padStart(2, '0')
    return { kind: 'quantile', name, q: Number(`0.${whole}${m[2] ?? ''}`) }
  }
  throw new GovernorError(
    'GOV_ERR_QUERY_PARAM',
    `agg: unknown aggregation ${JSON.stringify(name)}; valid: ${SIMPLE.join(', ')}, ` +
      'or a quantile p0 to p99.99 such as p50, p95, p99.9',
  )
}

/**
 * Checks that `agg` applies to a metric of type `type`.
 *
 * @throws GovernorError `GOV_ERR_QUERY_AGG_TYPE` naming the aggregations the type accepts.
 */
export function assertAggApplies(agg: Agg, type: MetricType): void {
  const rule = APPLICABLE[type]
  const ok = agg.kind === 'quantile' ? rule.quantiles : rule.names.includes(agg.kind)
  if (ok) return
  const valid = rule.names.join(', ') + (rule.quantiles ? ', pNN' : '')
  const why = agg.kind === 'quantile' ? ': quantiles need a histogram or a summary' : ''
  throw new GovernorError(
    'GOV_ERR_QUERY_AGG_TYPE',
    `agg ${JSON.stringify(agg.name)} does not apply to a ${type} metric${why}; valid for ${type}: ${valid}`,
  )
}

/** `0.999` → `p99.9`: the `agg` name that asks for quantile `q`. */
export function quantileAggName(q: number): string {
  return `p${Number((q * 100).toFixed(4))}`
}
