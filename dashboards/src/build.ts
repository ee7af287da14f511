import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard'
import { fleetDashboard } from './fleet.ts'
import { governorDashboard } from './governor.ts'
import {
  fleetPrometheusDashboard,
  governorPrometheusDashboard,
  servicePrometheusDashboard,
} from './prometheus-dashboards.ts'
import { serviceDashboard } from './service.ts'

/** Where the generated JSON goes: `dashboards/generated/`, mounted into Grafana by the compose stack. */
export const GENERATED_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'generated')

/** The ClickHouse flavour: SQL over Governor's tables, through Grafana's ClickHouse data source. */
export interface SqlDashboardFiles {
  'service.json': Dashboard
  'fleet.json': Dashboard
  'governor.json': Dashboard
}

/** The Prometheus flavour: PromQL through Grafana's Prometheus data source at Governor's `/prometheus`. */
export interface PrometheusDashboardFiles {
  'service-prometheus.json': Dashboard
  'fleet-prometheus.json': Dashboard
  'governor-prometheus.json': Dashboard
}

/** The generated files: each dashboard by the name it is written under. */
export type DashboardFiles = SqlDashboardFiles & PrometheusDashboardFiles

/** The ClickHouse-flavoured dashboards, by file name. */
export function buildSqlDashboards(): SqlDashboardFiles {
  return {
    'service.json': serviceDashboard(),
    'fleet.json': fleetDashboard(),
    'governor.json': governorDashboard(),
  }
}

/** The Prometheus-flavoured dashboards, by file name. */
export function buildPrometheusDashboards(): PrometheusDashboardFiles {
  return {
    'service-prometheus.json': servicePrometheusDashboard(),
    'fleet-prometheus.json': fleetPrometheusDashboard(),
    'governor-prometheus.json': governorPrometheusDashboard(),
  }
}

/** Every dashboard of both flavours, by the file name it is written to. */
export function buildDashboards(): DashboardFiles {
  return { ...buildSqlDashboards(), ...buildPrometheusDashboards() }
}

/** A dashboard's file text: stable two-space JSON with a trailing newline. */
export function renderDashboard(d: Dashboard): string {
  return `${JSON.stringify(d, null, 2)}\n`
}

/** Writes every dashboard to `dir`; returns the paths written. */
export function writeDashboards(dir = GENERATED_DIR): string[] {
  mkdirSync(dir, { recursive: true })
  return Object.entries(buildDashboards()).map(([name, d]) => {
    const path = join(dir, name)
    writeFileSync(path, renderDashboard(d))
    return path
  })
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  for (const path of writeDashboards()) console.log(`wrote ${path}`)
}
