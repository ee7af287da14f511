import type { ClickHouseClient } from '@clickhouse/client'

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
