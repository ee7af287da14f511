/**
 * The query with which Grafana's ClickHouse data source (grafana-clickhouse-datasource)
 * shows the change log as annotations: the plugin reads the columns `time`, `timeEnd`,
 * `text` and `tags`. `$__timeFilter` and `${service}` are Grafana's; `db` is Governor's
 * database. Dashboards as code and the README use this one text.
 */
export function grafanaAnnotationSql(db: string): string {
  return `SELECT
  time,
  time_end AS timeEnd,
  if(text = '', title, concat(title, '\\n', text)) AS text,
  arrayFilter(t -> t != '', arrayConcat([kind, service, version], tags)) AS tags
FROM ${db}.events FINAL
WHERE $__timeFilter(time) AND (service IN (\${service:singlequote}) OR service = '')
ORDER BY time`
}

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
