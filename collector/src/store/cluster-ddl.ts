import { MIGRATIONS, type Migration, type TableLayout } from './migrations.ts'
import { SINGLE_NODE, type SchemaDialect } from './schema-dialect.ts'

/** Suffix of the table on each node that stores a sharded table's rows. */
export const LOCAL_SUFFIX = '_local'

/**
 * The keeper path of every replicated table: the one ClickHouse itself uses by default
 * (`default_replica_path`). `{uuid}` is the table's UUID, the same on every node because the
 * table is created ON CLUSTER in an Atomic database (the default engine), so a table dropped
 * and created again never meets the replication metadata of the old one. `{shard}` and
 * `{replica}` are each node's macros.
 */
export const SHARDED_PATH = "'/clickhouse/tables/{uuid}/{shard}', '{replica}'"
/** Keeper path of a table every node holds whole: one replication group across all shards. */
export const EVERYWHERE_PATH = "'/clickhouse/tables/{uuid}/all', '{replica}'"

// Every CREATE of the migrations has this shape (a test holds every migration to it):
//   CREATE TABLE IF NOT EXISTS <db>.<name> (<columns>
//   ) ENGINE = <Engine>[(<args>)]<rest: PARTITION BY, ORDER BY, TTL, SETTINGS>
const CREATE = /^CREATE TABLE IF NOT EXISTS (\w+)\.(\w+) \(([\s\S]*)\n\) ENGINE = (\w+)(?:\(([^)]*)\))?(\s[\s\S]*)$/
// …and every ALTER this one: `ALTER TABLE <db>.<name> <what>`.
const ALTER = /^ALTER TABLE (\w+)\.(\w+) ([\s\S]*)$/
// What changes columns: the Distributed table's columns must change with the local table's.
const COLUMN_CHANGE = /^(ADD|DROP|MODIFY|RENAME|COMMENT) COLUMN\b/

/**
 * The DDL of a ClickHouse cluster, derived from the migrations' own statements:
 *
 *   sharded table t (layout `{ shardBy }`):
 *     t_local ON CLUSTER   Replicated<Engine>('/clickhouse/tables/{uuid}/{shard}', '{replica}', <args>)
 *     t       ON CLUSTER   Distributed(<cluster>, <db>, t_local, <shardBy>)   ← every read and write
 *   small table t (layout `everywhere`: leases, schema_migrations):
 *     t       ON CLUSTER   Replicated<Engine>('/clickhouse/tables/{uuid}/all', '{replica}', <args>)
 *
 * Queries keep naming `t`, so every read and write of the collector goes through the
 * Distributed table without a line of query code knowing about the cluster.
 */
export function clusterDialect(cluster: string): SchemaDialect {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(cluster))
    throw new Error(`cluster name ${JSON.stringify(cluster)}: expected letters, digits and underscores`)
  return {
    cluster,
    prelude: (ctx) => {
      const [database, migrations] = SINGLE_NODE.prelude(ctx) as [string, string]
      return [`${database} ON CLUSTER ${cluster}`, ...clusterCreate(migrations, 'everywhere', cluster)]
    },
    statements: (m, ctx) =>
      m
        .statements(ctx)
        .flatMap((s) => (ALTER.test(s) ? clusterAlter(s, cluster) : clusterCreate(s, layoutOf(m, s), cluster))),
    storageTable: (table) => `${table}${LOCAL_SUFFIX}`,
    modifyTtl: (ctx, table, ttl) => `ALTER TABLE ${ctx.db}.${table} ON CLUSTER ${cluster} MODIFY TTL ${ttl}`,
  }
}

/** The layout the migration declares for the table a statement creates; throws when it declares none. */
function layoutOf(m: Migration, statement: string): TableLayout {
  const table = CREATE.exec(statement)?.[2]
  const layout = table === undefined ? undefined : m.layout[table]
  if (layout === undefined)
    throw new Error(
      `migration ${m.version} (${m.name}): no cluster layout for ${table ?? 'a statement that is not a CREATE TABLE'}`,
    )
  return layout
}

/**
 * One ALTER of the migrations on a cluster: on the table that stores the rows (the local one
 * of a sharded table), and on the Distributed table too when it changes columns.
 */
export function clusterAlter(statement: string, cluster: string): string[] {
  const [, db, table, what] = ALTER.exec(statement) as unknown as [string, string, string, string]
  const layout = MIGRATIONS.map((m) => m.layout[table]).find((l) => l !== undefined)
  if (layout === undefined) throw new Error(`ALTER of ${table}: no migration declares its cluster layout`)
  if (layout === 'everywhere') return [`ALTER TABLE ${db}.${table} ON CLUSTER ${cluster} ${what}`]
  const local = `ALTER TABLE ${db}.${table}${LOCAL_SUFFIX} ON CLUSTER ${cluster} ${what}`
  return COLUMN_CHANGE.test(what) ? [local, `ALTER TABLE ${db}.${table} ON CLUSTER ${cluster} ${what}`] : [local]
}

/** One CREATE TABLE of the migrations as the statements that make it on a cluster. */
export function clusterCreate(statement: string, layout: TableLayout, cluster: string): string[] {
  const m = CREATE.exec(statement)
  if (m === null) throw new Error(`not a CREATE TABLE the cluster DDL can rewrite:\n${statement}`)
  const [, db, table, columns, engine, args, rest] = m as unknown as [
    string,
    string,
    string,
    string,
    string,
    string | undefined,
    string,
  ]
  const everywhere = layout === 'everywhere'
  const stored = everywhere ? table : `${table}${LOCAL_SUFFIX}`
  const engineArgs = [
    everywhere ? EVERYWHERE_PATH : SHARDED_PATH,
    ...(args !== undefined && args !== '' ? [args] : []),
  ].join(', ')
  const local = `CREATE TABLE IF NOT EXISTS ${db}.${stored} ON CLUSTER ${cluster} (${columns}\n) ENGINE = Replicated${engine}(${engineArgs})${rest}`
  if (everywhere) return [local]
  return [
    local,
    `CREATE TABLE IF NOT EXISTS ${db}.${table} ON CLUSTER ${cluster} AS ${db}.${stored}
ENGINE = Distributed(${cluster}, ${db}, ${stored}, ${layout.shardBy})`,
  ]
}
