import type { Migration, MigrationContext } from './migrations.ts'

/**
 * How the migrations' DDL is spoken to a store: as written (the embedded engine or one
 * server), or rewritten for a cluster (`cluster-ddl.ts`). Both come from the same
 * `MIGRATIONS`; there is no second copy of any table.
 */
export interface SchemaDialect {
  /** The cluster name, '' when the DDL runs on one node. */
  readonly cluster: string
  /** The database and the `schema_migrations` table, before any migration. */
  prelude(ctx: MigrationContext): string[]
  /** The statements of one migration, as they run. */
  statements(m: Migration, ctx: MigrationContext): string[]
  /** The table that stores the rows of `table` (and carries its TTL). */
  storageTable(table: string): string
  /** The statement that sets a stored table's TTL. */
  modifyTtl(ctx: MigrationContext, storageTable: string, ttl: string): string
}

/** The DDL as the migrations write it: one node. */
export const SINGLE_NODE: SchemaDialect = {
  cluster: '',
  prelude: (ctx) => [
    `CREATE DATABASE IF NOT EXISTS ${ctx.db}`,
    `CREATE TABLE IF NOT EXISTS ${ctx.db}.schema_migrations (
  version UInt32, name String, applied_at DateTime64(3, 'UTC') DEFAULT now64(3)
) ENGINE = MergeTree ORDER BY version`,
  ],
  statements: (m, ctx) => m.statements(ctx),
  storageTable: (table) => table,
  modifyTtl: (ctx, table, ttl) => `ALTER TABLE ${ctx.db}.${table} MODIFY TTL ${ttl}`,
}
