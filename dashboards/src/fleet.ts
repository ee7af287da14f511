import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard'
import {
  changeAnnotation,
  environmentVariable,
  GENERATED,
  serviceVariable,
  sloUnits,
  tablePanel,
  timeSeriesPanel,
} from './panels.ts'
import { changesPerStepSql, DB, fleetRequestRateSql } from './queries.ts'
import { fleetSql, sloStatusSql } from './slo-queries.ts'

/** Every service at a glance: its last deploy, the state of its SLOs, how fast budgets burn. */
export function fleetDashboard(db = DB): dashboard.Dashboard {
  return new dashboard.DashboardBuilder('Governor: fleet')
    .uid('governor-fleet')
    .description(GENERATED)
    .tags(['governor', 'generated'])
    .time({ from: 'now-24h', to: 'now' })
    .refresh('1m')
    .timezone('browser')
    .tooltip(dashboard.DashboardCursorSync.Crosshair)
    .withVariable(serviceVariable(true, db))
    .withVariable(environmentVariable(db))
    .annotation(changeAnnotation(db))
    .withPanel(
      sloUnits(tablePanel('Services', fleetSql(db), { w: 24, h: 10 })).description(
        'Per service: the last deploy (version, who, when, how long ago), its SLOs, the worst alert, the least budget left and the fastest burn (first page window).',
      ),
    )
    .withPanel(
      sloUnits(tablePanel('SLOs', sloStatusSql(db), { w: 24, h: 8 })).description(
        'Every SLO of the selected services at the end of the range.',
      ),
    )
    .withPanel(
      timeSeriesPanel('Requests per second by service', fleetRequestRateSql(db), 'reqps').description(
        "Increase of http.server.request.duration's count per step, per second.",
      ),
    )
    .withPanel(
      timeSeriesPanel('Changes by kind', changesPerStepSql(db), 'short').description(
        'Change-log events per step: deploys, knob changes, controller decisions, incidents…',
      ),
    )
    .build()
}
