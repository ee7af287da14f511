import { CHANGE_METRIC } from './change-series.ts'
import type { FamilyMetadata, MetricMetadata } from './prometheus-metadata.ts'
import { isPrometheusNative, prometheusMetricName, unitWords, type StoredSeries } from './prometheus-names.ts'

/** What the metadata API reads of one metric: one of its series rows. */
export type MetricDescription = Pick<
  StoredSeries,
  'metric' | 'type' | 'temporality' | 'monotonic' | 'unit' | 'scope' | 'resource'
> & { readonly description: string }

/**
 * `/api/v1/metadata` from what is stored: one series row per metric (sorted by metric) and
 * the families senders stated (sorted by family, the latest of each). Every family by its
 * Prometheus name (see prometheus-names.ts), or the one named `metric`; at most `limit`
 * families (Infinity: all). The change-log metric is always described.
 */
export function familyMetadata(
  metrics: readonly MetricDescription[],
  stated: readonly FamilyMetadata[],
  metric: string | undefined,
  limit: number,
): Record<string, MetricMetadata[]> {
  const out: Record<string, MetricMetadata[]> = {}
  const add = (name: string, m: MetricMetadata): void => {
    if (metric !== undefined && metric !== '' && name !== metric) return
    if (Object.keys(out).length >= limit && out[name] === undefined) return
    const list = out[name] ?? (out[name] = [])
    if (!list.some((x) => x.type === m.type && x.help === m.help && x.unit === m.unit)) list.push(m)
  }
  for (const s of metrics) {
    const type = prometheusType(s)
    if (isPrometheusNative(s)) add(s.metric, { type, help: s.description, unit: s.unit })
    else add(prometheusMetricName(s), { type, help: s.description, unit: unitWords(s.unit).join('_') })
  }
  // What senders stated of their families wins over what the series rows say: it may have come
  // after a family's first samples, and it names a histogram or summary by its family's name.
  for (const { family, type, help, unit } of stated) {
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

function prometheusType(s: MetricDescription): MetricMetadata['type'] {
  if (s.type === 'histogram' || s.type === 'exponential_histogram') return 'histogram'
  if (s.type === 'summary') return 'summary'
  return s.type === 'sum' && s.monotonic && s.temporality === 'cumulative' ? 'counter' : 'gauge'
}
