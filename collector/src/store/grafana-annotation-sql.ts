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
