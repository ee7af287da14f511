import type { ClickHouseClient } from '@clickhouse/client'
import { MIGRATIONS, pointTtl, POINT_TABLES, type MigrationContext } from './migrations.ts'

/**
 * Creates the database, applies every migration newer than the recorded version, and
 * brings the point tables' TTL in line with the retention setting.
 */
export async function applyMigrations(client: ClickHouseClient, ctx: MigrationContext): Promise<number[]> {
  await client.command({ query: `CREATE DATABASE IF NOT EXISTS ${ctx.db}` })
  await client.command({
    query: `CREATE TABLE IF NOT EXISTS ${ctx.db}.schema_migrations (
  version UInt32, name String, applied_at DateTime64(3, 'UTC') DEFAULT now64(3)
) ENGINE = MergeTree ORDER BY version`,
  })
  const rs = await client.query({ query: `SELECT max(version) FROM ${ctx.db}.schema_migrations`, format: 'JSONCompactEachRow' })
  const [[current = 0] = []] = await rs.json<[number]>()
  const applied: number[] = []
  for (const m of MIGRATIONS) {
    if (m.version <= current) continue
    for (const statement of m.statements(ctx)) await client.command({ query: statement })
    await client.insert({ table: `${ctx.db}.schema_migrations`, values: [{ version: m.version, name: m.name }], format: 'JSONEachRow' })
    applied.push(m.version)
  }
  await alignRetention(client, ctx)
  return applied
}

/** Rewrites a point table's TTL only when it differs, since MODIFY TTL rewrites old parts. */
async function alignRetention(client: ClickHouseClient, ctx: MigrationContext): Promise<void> {
  const wanted = pointTtl(ctx.retentionDays)
  const rs = await client.query({
    query: `SELECT name, create_table_query FROM system.tables WHERE database = {db:String} AND name IN ({tables:Array(String)})`,
    query_params: { db: ctx.db, tables: [...POINT_TABLES] },
    format: 'JSONEachRow',
  })
  for (const t of await rs.json<{ name: string; create_table_query: string }>()) {
    if (!t.create_table_query.includes(`toIntervalDay(${ctx.retentionDays})`)) {
      await client.command({ query: `ALTER TABLE ${ctx.db}.${t.name} MODIFY TTL ${wanted}` })
    }
  }
}
