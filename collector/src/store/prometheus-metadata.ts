import type { ClickHouseClient } from '@clickhouse/client'
import { CHANGE_METRIC } from './change-series.ts'
import { isPrometheusNative, prometheusMetricName, unitWords, type StoredSeries } from './prometheus-names.ts'

/** One metric family as `/api/v1/metadata` describes it. */
export interface MetricMetadata {
  type: 'counter' | 'gauge' | 'histogram' | 'gaugehistogram' | 'summary' | 'info' | 'stateset' | 'unknown'
  help: string
  unit: string
}

/** A metric family's metadata as a Prometheus remote write sender states it. */
export interface FamilyMetadata extends MetricMetadata {
  family: string
}

/** Records what senders said of metric families (see the metric_metadata table); the latest of each family is kept. */
export async function recordFamilies(
  client: ClickHouseClient,
  db: string,
  families: readonly FamilyMetadata[],
): Promise<void> {
  if (families.length === 0) return
  await client.insert({
    table: `${db}.metric_metadata`,
    values: families.map((f) => ({ family: f.family, type: f.type, help: f.help, unit: f.unit })),
    format: 'JSONEachRow',
  })
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
  // What senders stated of their families wins over what the series rows say: it may have come
  // after a family's first samples, and it names a histogram or summary by its family's name.
  const stated = await client.query({
    query: `SELECT family, type, help, unit FROM ${db}.metric_metadata FINAL ORDER BY family`,
    format: 'JSONCompactEachRow',
  })
  for (const [family, type, help, unit] of await stated.json<[string, MetricMetadata['type'], string, string]>()) {
    if (metric !== undefined && metric !== '' && family !== metric) continue
    if (Object.keys(out).length >= limit && out[family] === undefined) continue
    out[family] = [{ type, help, unit }]
  }
  add(CHANGE_METRIC, {
    type: 'gauge',
    help: "Governor's change log: 1 at the time of each deploy, knob change and event.",
    unit: '',
  })
  return out
}
