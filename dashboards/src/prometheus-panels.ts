import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard'
import * as prometheus from '@grafana/grafana-foundation-sdk/prometheus'
import * as table from '@grafana/grafana-foundation-sdk/table'
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries'
import { timeSeriesStyle, type Size } from './panels.ts'
import { CHANGE_ANNOTATION, HTTP_DURATION } from './promql-queries.ts'

/** The uid the provisioned data source is given (`provisioning/datasources/governor-promql.yaml`). */
export const PROMQL_UID = 'governor-promql'

/** Governor's `/prometheus` as Grafana's Prometheus data source, as panels, variables and annotations reference it. */
export const promql = { type: 'prometheus', uid: PROMQL_UID }

/** One PromQL query of a panel: its expression and the legend of each series it returns. */
export interface PanelQuery {
  expr: string
  legend: string
}

/** A range query (one line per series) with its `refId` and legend. */
function rangeQuery(q: PanelQuery, refId: string): prometheus.DataqueryBuilder {
  return new prometheus.DataqueryBuilder()
    .datasource(promql)
    .editorMode(prometheus.QueryEditorMode.Code)
    .expr(q.expr)
    .legendFormat(q.legend)
    .range()
    .refId(refId)
}

/**
 * A time-series panel of one or more PromQL range queries (`A`, `B`, …). Its minimum step is
 * a minute, as in the SQL flavour: SDKs export every 10 to 60 s, and `$__rate_interval` (the
 * step plus the data source's scrape interval, at least four of those) then holds two points.
 */
export function promTimeSeries(
  title: string,
  queries: readonly PanelQuery[],
  unit: string,
  size: Size = { w: 12, h: 8 },
): timeseries.PanelBuilder {
  const panel = new timeseries.PanelBuilder()
    .title(title)
    .datasource(promql)
    .targets(queries.map((q, i) => rangeQuery(q, String.fromCharCode(65 + i))))
  return timeSeriesStyle(panel, unit, size)
}

/** A table of one instant PromQL query at the end of the range: a row per series, its labels as columns. */
export function promTable(title: string, expr: string, size: Size = { w: 24, h: 8 }): table.PanelBuilder {
  return (
    new table.PanelBuilder()
      .title(title)
      .datasource(promql)
      .withTarget(
        new prometheus.DataqueryBuilder()
          .datasource(promql)
          .editorMode(prometheus.QueryEditorMode.Code)
          .expr(expr)
          .format(prometheus.PromQueryFormat.Table)
          .instant()
          .refId('A'),
      )
      // The evaluation time, the value (1) and the metric name say nothing of a row.
      .withTransformation({ id: 'organize', options: { excludeByName: { Time: true, Value: true, __name__: true } } })
      .span(size.w)
      .height(size.h)
  )
}

/**
 * The `service` variable: every `job` (OpenTelemetry's `service.name`, or
 * `service.namespace/service.name`); `multi` for fleet views, where All matches every job.
 */
export function promServiceVariable(multi: boolean): dashboard.QueryVariableBuilder {
  const builder = new dashboard.QueryVariableBuilder('service')
    .label('Service')
    .datasource(promql)
    .query('label_values(job)')
    .definition('label_values(job)')
    .refresh(dashboard.VariableRefresh.OnTimeRangeChanged)
    .sort(dashboard.VariableSort.AlphabeticalAsc)
    .multi(multi)
    .includeAll(multi)
  return multi ? builder.allValue('.*') : builder
}

/** The `latency_metric` variable: the selected service's histograms (without `_bucket`), OTel's HTTP server duration by default. */
export function promLatencyMetricVariable(): dashboard.QueryVariableBuilder {
  const query = 'label_values({job=~"$service"}, __name__)'
  return new dashboard.QueryVariableBuilder('latency_metric')
    .label('Latency histogram')
    .datasource(promql)
    .query(query)
    .definition(query)
    .regex('/^(.+)_bucket$/')
    .refresh(dashboard.VariableRefresh.OnTimeRangeChanged)
    .sort(dashboard.VariableSort.AlphabeticalAsc)
    .current({ text: HTTP_DURATION, value: HTTP_DURATION })
}

/** The `objective` variable: the SLO objective (percent of good requests) the burn rate is measured against. */
export function objectiveVariable(): dashboard.CustomVariableBuilder {
  return new dashboard.CustomVariableBuilder('objective')
    .label('SLO objective, %')
    .values('99,99.5,99.9,99.95,99.99')
    .current({ text: '99.9', value: '99.9' })
}

/**
 * The change log (deploys, knob and SLO changes, controller decisions, incidents) as
 * annotations on every time-series panel, from `governor_change` as the docs give it: a
 * dashboard annotation without a panel filter applies to all of them.
 */
export function promChangeAnnotation(): dashboard.AnnotationQueryBuilder {
  return new dashboard.AnnotationQueryBuilder()
    .name('Changes')
    .datasource(promql)
    .enable(true)
    .hide(false)
    .iconColor('#F2495C')
    .target(new prometheus.DataqueryBuilder().datasource(promql).expr(CHANGE_ANNOTATION).interval('1m').refId('Anno'))
    .titleFormat('{{kind}} {{service}} {{version}}')
    .textFormat('{{title}}')
    .tagKeys('kind,service')
    .useValueForTime(false)
}
