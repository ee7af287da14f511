import type { ClickHouseClient } from '@clickhouse/client'
import type { Dashboard, Panel } from '@grafana/grafana-foundation-sdk/dashboard'
import { expandMacros, type MacroContext } from './grafana-macros.ts'

/** A panel of a generated dashboard with the SQL of its one query. */
export interface PanelSql {
  dashboard: string
  title: string
  type: string
  sql: string
}

/** Every panel (rows left out) of `d` that runs a query, with its SQL. */
export function panelQueries(d: Dashboard): PanelSql[] {
  return (d.panels ?? [])
    .filter((p): p is Panel => p.type !== 'row')
    .map((p) => {
      const target = (p.targets ?? [])[0] as { rawSql?: string } | undefined
      if (target?.rawSql === undefined) throw new Error(`${d.title} / ${p.title}: no rawSql`)
      return { dashboard: d.title ?? '', title: p.title ?? '', type: p.type, sql: target.rawSql }
    })
}

/** The panel titled `title` in `d`. */
export function panel(d: Dashboard, title: string): PanelSql {
  const found = panelQueries(d).find((p) => p.title === title)
  if (found === undefined) throw new Error(`${d.title}: no panel ${title}`)
  return found
}

/** A result as Grafana receives it: column names and rows (times as epoch ms, NaN and nulls as null). */
export interface Result {
  columns: string[]
  rows: Record<string, unknown>[]
}

/**
 * Runs dashboard SQL on the engine after expanding Grafana's macros and variables. Times
 * (DateTime, DateTime64) come back as epoch milliseconds.
 */
export async function runSql(client: ClickHouseClient, sql: string, ctx: MacroContext): Promise<Result> {
  const rs = await client.query({
    query: expandMacros(sql, ctx),
    format: 'JSON',
    clickhouse_settings: { date_time_output_format: 'unix_timestamp', output_format_json_quote_64bit_integers: 0 },
  })
  const out = await rs.json<Record<string, unknown>>()
  const timeCols = new Set(out.meta?.filter((m) => /DateTime/.test(m.type)).map((m) => m.name))
  const rows = out.data.map((r) =>
    Object.fromEntries(
      Object.entries(r).map(([k, v]) => [k, timeCols.has(k) && v !== null ? Math.round(Number(v) * 1000) : v]),
    ),
  )
  return { columns: (out.meta ?? []).map((m) => m.name), rows }
}

/**
 * The macro context of a test: the range from `t0` to now, a one-minute interval, and the
 * seeded service `checkout` in production unless `vars` says otherwise.
 */
export function context(
  t0: number,
  over: Partial<MacroContext> = {},
  vars: Record<string, string[]> = {},
): MacroContext {
  return {
    fromMillis: t0,
    toMillis: Date.now(),
    intervalMillis: 60_000,
    variables: {
      service: ['checkout'],
      environment: ['production'],
      latency_metric: ['http.server.request.duration'],
      ...vars,
    },
    ...over,
  }
}
