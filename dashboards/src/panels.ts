import * as common from '@grafana/grafana-foundation-sdk/common'
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard'
import * as stat from '@grafana/grafana-foundation-sdk/stat'
import * as table from '@grafana/grafana-foundation-sdk/table'
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries'
import { grafanaAnnotationSql } from '../../collector/src/changelog/grafana.ts'
import { clickhouse, ClickHouseQueryBuilder } from './clickhouse-query.ts'
import { DB } from './queries.ts'

/** Size of a panel on Grafana's 24-column grid. */
export interface Size {
  w: number
  h: number
}

/**
 * A time-series panel of one ClickHouse query; every one shows the change-log annotations.
 * Its step (`$__interval_s`) is at least a minute: a step needs two points of a counter to
 * have a rate, and SDKs export every 10 to 60 s.
 */
export function timeSeriesPanel(
  title: string,
  sql: string,
  unit: string,
  size: Size = { w: 12, h: 8 },
): timeseries.PanelBuilder {
  const panel = new timeseries.PanelBuilder()
    .title(title)
    .datasource(clickhouse)
    .withTarget(new ClickHouseQueryBuilder(sql).refId('A'))
  return timeSeriesStyle(panel, unit, size)
}

/** The look every time-series panel shares, whatever its data source: minute steps, thin lines, gaps shown. */
export function timeSeriesStyle(panel: timeseries.PanelBuilder, unit: string, size: Size): timeseries.PanelBuilder {
  return panel.interval('1m').unit(unit).span(size.w).height(size.h).lineWidth(1).fillOpacity(10).spanNulls(false)
}

/** A table panel of one ClickHouse query. */
export function tablePanel(title: string, sql: string, size: Size = { w: 24, h: 8 }): table.PanelBuilder {
  return new table.PanelBuilder()
    .title(title)
    .datasource(clickhouse)
    .withTarget(new ClickHouseQueryBuilder(sql).refId('A').table())
    .span(size.w)
    .height(size.h)
}

/** Units of the SLO columns of the SLO and fleet tables. */
export function sloUnits(panel: table.PanelBuilder): table.PanelBuilder {
  return panel
    .overrideByName('sli_percent', [
      { id: 'unit', value: 'percent' },
      { id: 'decimals', value: 3 },
    ])
    .overrideByName('budget_remaining', [{ id: 'unit', value: 'percentunit' }])
    .overrideByName('burn_rate', [{ id: 'decimals', value: 2 }])
}

/** A stat panel showing every field of the query's first row (version, who, when…). */
export function statPanel(title: string, sql: string, size: Size): stat.PanelBuilder {
  return new stat.PanelBuilder()
    .title(title)
    .datasource(clickhouse)
    .withTarget(new ClickHouseQueryBuilder(sql).refId('A').table())
    .reduceOptions(new common.ReduceDataOptionsBuilder().values(false).calcs(['lastNotNull']).fields('/.*/'))
    .textMode(common.BigValueTextMode.ValueAndName)
    .colorMode(common.BigValueColorMode.None)
    .graphMode(common.BigValueGraphMode.None)
    .span(size.w)
    .height(size.h)
}

/** The `service` variable: services that sent metrics or have changes; `multi` for fleet views. */
export function serviceVariable(multi: boolean, db = DB): dashboard.QueryVariableBuilder {
  const sql = `SELECT service FROM (
  SELECT DISTINCT service FROM ${db}.series WHERE service != ''
  UNION DISTINCT SELECT DISTINCT service FROM ${db}.events WHERE service != '')
ORDER BY service`
  return new dashboard.QueryVariableBuilder('service')
    .label('Service')
    .datasource(clickhouse)
    .query(sql)
    .definition(sql)
    .refresh(dashboard.VariableRefresh.OnDashboardLoad)
    .sort(dashboard.VariableSort.AlphabeticalAsc)
    .multi(multi)
    .includeAll(multi)
}

/** The `environment` variable: environments of deploys and events, and of series' resources. */
export function environmentVariable(db = DB): dashboard.QueryVariableBuilder {
  const sql = `SELECT environment FROM (
  SELECT DISTINCT environment FROM ${db}.events WHERE environment != ''
  UNION DISTINCT SELECT DISTINCT resource['deployment.environment.name'] AS environment FROM ${db}.series WHERE environment != '')
ORDER BY environment`
  return new dashboard.QueryVariableBuilder('environment')
    .label('Environment')
    .datasource(clickhouse)
    .query(sql)
    .definition(sql)
    .refresh(dashboard.VariableRefresh.OnDashboardLoad)
    .current({ text: 'production', value: 'production' })
    .multi(true)
    .includeAll(true)
}

/** The `latency_metric` variable: the selected service's histograms, OTel's HTTP server duration first. */
export function latencyMetricVariable(db = DB): dashboard.QueryVariableBuilder {
  const sql = `SELECT DISTINCT metric FROM ${db}.series
WHERE type = 'histogram' AND service IN (\${service:singlequote})
ORDER BY metric != 'http.server.request.duration', metric`
  return new dashboard.QueryVariableBuilder('latency_metric')
    .label('Latency histogram')
    .datasource(clickhouse)
    .query(sql)
    .definition(sql)
    .refresh(dashboard.VariableRefresh.OnDashboardLoad)
    .current({ text: 'http.server.request.duration', value: 'http.server.request.duration' })
}

/**
 * The change log (deploys, knob and SLO changes, controller decisions, incidents) as
 * annotations on every time-series panel of the dashboard: a dashboard annotation without a
 * panel filter applies to all of them. The SQL is the collector's own, tested text.
 */
export function changeAnnotation(db = DB): dashboard.AnnotationQueryBuilder {
  return new dashboard.AnnotationQueryBuilder()
    .name('Changes')
    .datasource(clickhouse)
    .enable(true)
    .hide(false)
    .iconColor('#F2495C')
    .target(new ClickHouseQueryBuilder(grafanaAnnotationSql(db)).refId('Anno').table())
}

/** Marks a dashboard as generated, in the one free-text field Grafana keeps. */
export const GENERATED = 'Generated by `npm run dashboards` from dashboards/src: edit the source, not this JSON.'
