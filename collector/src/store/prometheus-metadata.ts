import type { ClickHouseClient } from '@clickhouse/client'
import { CHANGE_METRIC } from './change-series.ts'
import { isPrometheusNative, prometheusMetricName, unitWords, type StoredSeries } from './prometheus-names.ts'

/** One metric family as `/api/v1/metadata` describes it. */
export interface MetricMetadata {
  type: 'counter' | 'gauge' | 'histogram' | 'summary' | 'unknown'
  help: string
  unit: string
}

type Row = [string, string, string, boolean | number, string, string, string, Record<string, string>]

/**
 * `/api/v1/metadata`: every metric family by its Prometheus name (see prometheus-names.ts), or
 * the one named `metric`; at most `limit` families (Infinity: all).
 */
export async function readMetadata(
  client: ClickHouseClient,
  db: string,
  metric: string | undefined,
  limit: number,
): Promise<Record<string, MetricMetadata[]>> {
  const rs = await client.query({
    query: `SELECT metric, any(type), any(temporality), any(monotonic), any(unit), any(description), any(scope), any(resource)
FROM ${db}.series GROUP BY metric ORDER BY metric`,
    format: 'JSONCompactEachRow',
  })
  const out: Record<string, MetricMetadata[]> = {}
  const add = (name: string, m: MetricMetadata): void => {
    if (metric !== undefined && metric !== '' && name !== metric) return
    if (Object.keys(out).length >= limit && out[name] === undefined) return
    const list = out[name] ?? (out[name] = [])
    if (!list.some((x) => x.type === m.type && x.help === m.help && x.unit === m.unit)) list.push(m)
  }
  for (const [name, type, temporality, monotonic, unit, help, scope, resource] of await rs.json<Row>()) {
    const s: Pick<StoredSeries, 'metric' | 'type' | 'temporality' | 'monotonic' | 'unit' | 'scope' | 'resource'> = {
      metric: name,
      type,
      temporality,
      monotonic: monotonic === true || monotonic === 1,
      unit,
      scope,
      resource,
    }
    const counter = s.type === 'sum' && s.monotonic && s.temporality === 'cumulative'
    const promType =
      s.type === 'histogram'
        ? 'histogram'
        : s.type === 'summary'
          ? 'summary'
          : counter
            ? 'counter'
            : s.type === 'exponential_histogram'
              ? 'histogram'
              : 'gauge'
    if (isPrometheusNative(s)) add(name, { type: promType, help, unit })
    else add(prometheusMetricName(s), { type: promType, help, unit: unitWords(unit).join('_') })
  }
  add(CHANGE_METRIC, {
    type: 'gauge',
    help: "Governor's change log: 1 at the time of each deploy, knob change and event.",
    unit: '',
  })
  return out
}
