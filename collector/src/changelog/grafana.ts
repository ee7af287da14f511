/**
 * The change log as Grafana shows it: the annotation query of Grafana's ClickHouse data source
 * (its text lives with the store's other SQL) and the expansion of the macros it uses.
 */
export { grafanaAnnotationSql } from '../store/grafana-annotation-sql.ts'

/**
 * Expands the two Grafana macros the annotation query uses, as the data source does, so the
 * text can be run and tested without Grafana.
 */
export function expandGrafanaMacros(sql: string, fromMillis: number, toMillis: number, services: string[]): string {
  const quoted = services.map((s) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`).join(',')
  return sql
    .replace(
      /\$__timeFilter\((\w+)\)/g,
      (_m, col: string) =>
        `${col} >= toDateTime(${Math.floor(fromMillis / 1000)}) AND ${col} <= toDateTime(${Math.ceil(toMillis / 1000)})`,
    )
    .replace(/\$\{service:singlequote\}/g, quoted)
}
