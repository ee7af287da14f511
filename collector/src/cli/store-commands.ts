import { parseArgs } from 'node:util'
import { clusterDialect } from '../store/cluster-ddl.ts'
import {
  copyStore,
  storeSource,
  storeTarget,
  type CopySource,
  type CopyTarget,
  type TableCount,
} from '../store/copy-store.ts'
import { isGovernorError } from '../errors.ts'
import type { Settings } from '../settings.ts'
import { schemaStatements } from '../store/migrate.ts'
import { SINGLE_NODE } from '../store/schema-dialect.ts'
import { Store } from '../store/store.ts'
import { progressBar } from './progress-bar.ts'

/** The `schema` and `migrate` lines of `governor --help`. */
export const STORE_USAGE = `  schema          Print the DDL a fresh store runs: governor schema [--cluster NAME]
                    (default: GOVERNOR_CLICKHOUSE_CLUSTER; without a cluster, the single-node DDL)
  migrate         Copy the embedded store (GOVERNOR_DATA_DIR) to a ClickHouse server:
                    governor migrate --to http://clickhouse:8123 [--cluster NAME] [--batch-rows N]
                    stop the collector first; the server's database must be empty;
                    exits 1 when a table's count differs after the copy`

/** Where a command writes, and whether stderr is a terminal (the progress bar). */
export interface StoreOut {
  stdout: (s: string) => void
  stderr: (s: string) => void
  stderrIsTTY: boolean
}

/** `governor schema`: prints every statement, each ended by `;`. Resolves to the exit code. */
export function runSchema(args: string[], settings: Settings, out: StoreOut): number {
  const { values } = parseArgs({ args, strict: true, options: { cluster: { type: 'string' } } })
  const cluster = values.cluster ?? settings.clickhouseCluster
  const dialect = cluster === '' ? SINGLE_NODE : clusterDialect(cluster)
  out.stdout(
    `${schemaStatements({ db: settings.clickhouseDatabase, retentionDays: settings.retentionDays }, dialect).join(';\n\n')};\n`,
  )
  return 0
}

/** Opens both stores of a migration; tests pass a target of their own. */
export interface MigrateStores {
  source: CopySource
  target: CopyTarget
  close(): Promise<void>
}

/** The embedded store of `settings` and the server at `to`. */
export async function openMigrateStores(settings: Settings, to: string, cluster: string): Promise<MigrateStores> {
  const source = await Store.open({ ...settings, clickhouseUrl: '', clickhouseCluster: '' })
  let target: Store
  try {
    target = await Store.open({ ...settings, clickhouseUrl: to, clickhouseCluster: cluster })
  } catch (err) {
    await source.close()
    throw err
  }
  return {
    source: storeSource(source),
    target: storeTarget(target),
    close: async () => {
      await target.close()
      await source.close()
    },
  }
}

/**
 * `governor migrate --to URL`: copies every table, then checks the counts. Exit 0 when every
 * count matches, 1 when one does not or the copy failed, 2 on a wrong command line.
 */
export async function runMigrate(
  args: string[],
  settings: Settings,
  out: StoreOut,
  open = openMigrateStores,
): Promise<number> {
  const { values } = parseArgs({
    args,
    strict: true,
    options: { to: { type: 'string' }, cluster: { type: 'string' }, 'batch-rows': { type: 'string' } },
  })
  if (values.to === undefined || !/^https?:\/\//.test(values.to)) {
    out.stderr(
      'governor: migrate needs --to http(s)://host:8123, the ClickHouse server to copy the embedded store to\n',
    )
    return 2
  }
  const batchRows = Number(values['batch-rows'] ?? 100_000)
  if (!Number.isInteger(batchRows) || batchRows < 1) {
    out.stderr(`governor: --batch-rows ${values['batch-rows']}: expected a whole number above 0\n`)
    return 2
  }
  let stores: MigrateStores
  try {
    stores = await open(settings, values.to, values.cluster ?? settings.clickhouseCluster)
  } catch (err) {
    out.stderr(`governor: migrate: ${isGovernorError(err) ? `${err.code}: ${err.message}` : (err as Error).message}\n`)
    return 1
  }
  const bar = progressBar(out.stderr, out.stderrIsTTY)
  let counts: TableCount[]
  try {
    counts = await copyStore(stores.source, stores.target, { batchRows, onProgress: bar.update })
  } catch (err) {
    bar.done()
    out.stderr(`governor: migrate: ${(err as Error).message}\n`)
    return 1
  } finally {
    await stores.close()
  }
  bar.done()
  const bad = counts.filter((c) => c.source !== c.target)
  for (const c of counts)
    out.stdout(`${c.table}\t${c.source}\t${c.target}\t${c.source === c.target ? 'ok' : 'MISMATCH'}\n`)
  if (bad.length > 0) {
    out.stderr(
      `governor: migrate: counts differ in ${bad.map((c) => `${c.table} (${c.source} here, ${c.target} there)`).join(', ')}\n`,
    )
    return 1
  }
  out.stderr(`governor: copied ${counts.length} tables to ${values.to}; every count matches\n`)
  return 0
}
