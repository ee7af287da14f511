import type { ClickHouseClient } from '@clickhouse/client'
import { MIGRATIONS, pointTtl, RETAINED_TABLES, type MigrationContext } from './migrations.ts'
import { SINGLE_NODE, type SchemaDialect } from './schema-dialect.ts'

/**
 * Creates the database, applies every migration newer than the recorded version, and
 * brings the point tables' TTL in line with the retention setting. A migration is recorded
 * only once all its statements ran (on a cluster: on every node, as ON CLUSTER waits for
 * them), so an interrupted one runs again, whole, at the next start.
 */
export async function applyMigrations(
  client: ClickHouseClient,
  ctx: MigrationContext,
  dialect: SchemaDialect = SINGLE_NODE,
): Promise<number[]> {
  for (const statement of dialect.prelude(ctx)) await client.command({ query: statement })
  const rs = await client.query({
    query: `SELECT max(version) FROM ${ctx.db}.schema_migrations`,
    format: 'JSONCompactEachRow',
  })
  const [[current = 0] = []] = await rs.json<[number]>()
  const applied: number[] = []
  for (const m of MIGRATIONS) {
    if (m.version <= current) continue
    for (const statement of dialect.statements(m, ctx)) await client.command({ query: statement })
    await client.insert({
      table: `${ctx.db}.schema_migrations`,
      values: [{ version: m.version, name: m.name }],
      format: 'JSONEachRow',
    })
    applied.push(m.version)
  }
  await alignRetention(client, ctx, dialect)
  return applied
}

/** Every statement a fresh store would run, in order: what `governor schema` prints. */
export function schemaStatements(ctx: MigrationContext, dialect: SchemaDialect = SINGLE_NODE): string[] {
  return [...dialect.prelude(ctx), ...MIGRATIONS.flatMap((m) => dialect.statements(m, ctx))]
}

/** Rewrites a point table's TTL only when it differs, since MODIFY TTL rewrites old parts. */
async function alignRetention(client: ClickHouseClient, ctx: MigrationContext, dialect: SchemaDialect): Promise<void> {
  const wanted = pointTtl(ctx.retentionDays)
  const rs = await client.query({
    query: `SELECT name, create_table_query FROM system.tables WHERE database = {db:String} AND name IN ({tables:Array(String)})`,
    query_params: { db: ctx.db, tables: RETAINED_TABLES.map((t) => dialect.storageTable(t)) },
    format: 'JSONEachRow',
  })
  for (const t of await rs.json<{ name: string; create_table_query: string }>()) {
    if (!t.create_table_query.includes(`toIntervalDay(${ctx.retentionDays})`)) {
      await client.command({ query: dialect.modifyTtl(ctx, t.name, wanted) })
    }
  }
}
