import * as common from '@grafana/grafana-foundation-sdk/common'
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard'
import {
  changeAnnotation,
  environmentVariable,
  GENERATED,
  latencyMetricVariable,
  serviceVariable,
  sloUnits,
  statPanel,
  tablePanel,
  timeSeriesPanel,
} from './panels.ts'
import { DB, errorRatioSql, knobValuesSql, lastDeploySql, latencySql, requestRateSql } from './queries.ts'
import { sloStatusSql } from './slo-queries.ts'

/**
 * One service: its last deploy, requests and errors, p50/p99 latency, where its SLOs stand,
 * and its knobs over time, with every change of the service marked on every chart.
 */
export function serviceDashboard(db = DB): dashboard.Dashboard {
  return new dashboard.DashboardBuilder('Governor: service')
    .uid('governor-service')
    .description(GENERATED)
    .tags(['governor', 'generated'])
    .time({ from: 'now-6h', to: 'now' })
    .refresh('30s')
    .timezone('browser')
    .tooltip(dashboard.DashboardCursorSync.Crosshair)
    .withVariable(serviceVariable(false, db))
    .withVariable(environmentVariable(db))
    .withVariable(latencyMetricVariable(db))
    .annotation(changeAnnotation(db))
    .withRow(new dashboard.RowBuilder('What changed'))
    .withPanel(
      statPanel('Last deploy', lastDeploySql(db), { w: 24, h: 4 })
        .description(
          'The last deploy of the service to the selected environments: version, who, when and how long ago.',
        )
        .overrideByName('deployed_at', [{ id: 'unit', value: 'dateTimeAsLocal' }])
        .overrideByName('seconds_ago', [{ id: 'unit', value: 's' }]),
    )
    .withRow(new dashboard.RowBuilder('Traffic'))
    .withPanel(
      timeSeriesPanel('Requests and errors per second', requestRateSql(db), 'reqps').description(
        "Increase of the latency histogram's count per step, per second, as agg=rate; errors are series with a 5xx http.response.status_code.",
      ),
    )
    .withPanel(
      timeSeriesPanel('Error ratio', errorRatioSql(db), 'percentunit').description(
        '5xx answers over all answers, per step.',
      ),
    )
    .withPanel(
      timeSeriesPanel('Latency p50 and p99', latencySql(db), 'ms', { w: 24, h: 8 }).description(
        "histogram_quantile over each step's increase of every bucket, summed over the service's series, as agg=p50 and agg=p99.",
      ),
    )
    .withRow(new dashboard.RowBuilder('SLOs and knobs'))
    .withPanel(
      sloUnits(tablePanel('SLOs: status and error budget', sloStatusSql(db), { w: 24, h: 6 })).description(
        'At the end of the range: SLI over the SLO window, error budget left (1 untouched, 0 or below spent), burn rate over the first page window (1h for 30d), alert state.',
      ),
    )
    .withPanel(
      timeSeriesPanel('Knob values', knobValuesSql(db), 'short', { w: 24, h: 8 })
        .description('Every numeric knob of the service (booleans as 0 and 1), from the knob versions.')
        .lineInterpolation(common.LineInterpolation.StepAfter),
    )
    .build()
}
