import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  clusterAlter,
  clusterCreate,
  clusterDialect,
  EVERYWHERE_PATH,
  SHARDED_PATH,
} from '../../../collector/src/store/cluster-ddl.ts'
import { runSchema } from '../../../collector/src/cli/store-commands.ts'
import { isGovernorError } from '../../../collector/src/errors.ts'
import { loadSettings } from '../../../collector/src/settings.ts'
import { schemaStatements } from '../../../collector/src/store/migrate.ts'
import { MIGRATIONS, POINT_TABLES } from '../../../collector/src/store/migrations.ts'
import { SINGLE_NODE } from '../../../collector/src/store/schema-dialect.ts'
import { Store } from '../../../collector/src/store/store.ts'
import { testSettings } from '../../helpers/settings.ts'

// The cluster DDL is derived from the migrations; these tests hold it to its shape, and have
// ClickHouse's own parser (the embedded engine's formatQuery) read every statement. Running it
// needs a cluster with a keeper, which these tests do not have.

const ctx = { db: 'governor', retentionDays: 30 }
const cluster = clusterDialect('main')
const all = schemaStatements(ctx, cluster)
const TABLES = MIGRATIONS.flatMap((m) => Object.entries(m.layout))

/** The statement that creates `db.name` (local or Distributed), or undefined. */
const creating = (name: string) => all.find((s) => s.startsWith(`CREATE TABLE IF NOT EXISTS governor.${name} `))

let store: Store
beforeAll(async () => {
  store = await Store.open(testSettings())
})
afterAll(async () => {
  await store?.close()
})

describe('the single-node DDL', () => {
  it('is byte for byte the DDL of before cluster mode (migrations 1 to 5)', () => {
    const fixture = readFileSync(new URL('./embedded-ddl.sql', import.meta.url), 'utf8')
    const now =
      `-- prelude\n${SINGLE_NODE.prelude(ctx).join(';\n\n')};\n\n` +
      MIGRATIONS.filter((m) => m.version <= 5)
        .map((m) => `-- migration ${m.version}: ${m.name}\n${SINGLE_NODE.statements(m, ctx).join(';\n\n')};\n`)
        .join('\n')
    expect(now).toBe(fixture)
  })

  it('has no cluster words in it', () => {
    expect(schemaStatements(ctx).join('\n')).not.toMatch(/ON CLUSTER|Replicated|Distributed|_local/)
  })
})

describe('the cluster DDL', () => {
  it('runs every statement ON CLUSTER', () => {
    expect(all.length).toBeGreaterThan(schemaStatements(ctx).length)
    for (const s of all) expect(s.split('\n')[0]).toMatch(/ ON CLUSTER main( |$)/)
  })

  it.each(TABLES)('lays %s out as its migration says', (table, layout) => {
    const single = schemaStatements(ctx).find((s) => s.startsWith(`CREATE TABLE IF NOT EXISTS governor.${table} (`))!
    const engine = /\) ENGINE = (\w+)(?:\(([^)]*)\))?/.exec(single)!
    const args = engine[2] ? `, ${engine[2]}` : ''
    if (layout === 'everywhere') {
      expect(creating(table)).toContain(`ENGINE = Replicated${engine[1]}(${EVERYWHERE_PATH}${args})`)
      expect(creating(`${table}_local`)).toBeUndefined()
    } else {
      const local = creating(`${table}_local`)!
      expect(local).toContain(`ENGINE = Replicated${engine[1]}(${SHARDED_PATH}${args})`)
      // Columns, codecs, partitioning, order, TTL and settings are the single-node ones.
      expect(
        local
          .replace(/^CREATE TABLE IF NOT EXISTS governor\.\w+ ON CLUSTER main/, '')
          .replace(/ENGINE = \w+\([^)]*\)/, 'E'),
      ).toBe(single.replace(/^CREATE TABLE IF NOT EXISTS governor\.\w+/, '').replace(/ENGINE = \w+(\([^)]*\))?/, 'E'))
      expect(creating(table))
        .toBe(`CREATE TABLE IF NOT EXISTS governor.${table} ON CLUSTER main AS governor.${table}_local
ENGINE = Distributed(main, governor, ${table}_local, ${layout.shardBy})`)
    }
  })

  it('shards a series and every point of it by the series id, so they stay on one shard', () => {
    for (const t of ['series', ...POINT_TABLES]) expect(creating(t)).toMatch(/, series_id\)$/)
  })

  it('keeps the migrations bookkeeping and the leases whole on every node', () => {
    expect(all[0]).toBe('CREATE DATABASE IF NOT EXISTS governor ON CLUSTER main')
    expect(creating('schema_migrations')).toContain(`ENGINE = ReplicatedMergeTree(${EVERYWHERE_PATH}) ORDER BY version`)
    expect(creating('leases')).toContain(`ENGINE = ReplicatedReplacingMergeTree(${EVERYWHERE_PATH}, written_at)`)
  })

  it('sets the retention TTL on the local tables, on every node', () => {
    expect(cluster.storageTable('samples')).toBe('samples_local')
    expect(cluster.modifyTtl(ctx, 'samples_local', 'x')).toBe(
      'ALTER TABLE governor.samples_local ON CLUSTER main MODIFY TTL x',
    )
  })

  it('alters the table that stores the rows, and the Distributed one too when columns change', () => {
    expect(clusterAlter('ALTER TABLE governor.samples MODIFY SETTING x = 1', 'main')).toEqual([
      'ALTER TABLE governor.samples_local ON CLUSTER main MODIFY SETTING x = 1',
    ])
    expect(clusterAlter('ALTER TABLE governor.events ADD COLUMN y UInt8', 'main')).toEqual([
      'ALTER TABLE governor.events_local ON CLUSTER main ADD COLUMN y UInt8',
      'ALTER TABLE governor.events ON CLUSTER main ADD COLUMN y UInt8',
    ])
    expect(clusterAlter('ALTER TABLE governor.leases ADD COLUMN y UInt8', 'main')).toEqual([
      'ALTER TABLE governor.leases ON CLUSTER main ADD COLUMN y UInt8',
    ])
    expect(() => clusterAlter('ALTER TABLE governor.nope ADD COLUMN y UInt8', 'main')).toThrow(/no migration declares/)
  })

  it('refuses a table whose migration declares no layout, and a statement it cannot read', () => {
    const m = { ...MIGRATIONS[0]!, layout: {} }
    expect(() => cluster.statements(m, ctx)).toThrow(
      /migration 1 \(series and point tables\): no cluster layout for series/,
    )
    expect(() => clusterCreate('ALTER TABLE x ADD COLUMN y UInt8', 'everywhere', 'main')).toThrow(/not a CREATE TABLE/)
  })

  it("is read by ClickHouse's own parser, every statement", async () => {
    for (const s of all) {
      const rs = await store.client.query({
        query: 'SELECT formatQuery({q:String})',
        query_params: { q: s },
        format: 'JSONCompactEachRow',
      })
      const rows = await rs.json<[string]>()
      expect(rows[0]![0]).toMatch(/ON CLUSTER main/)
    }
  })
})

describe('GOVERNOR_CLICKHOUSE_CLUSTER', () => {
  it.each([
    [
      { GOVERNOR_CLICKHOUSE_CLUSTER: 'main' },
      /GOVERNOR_CLICKHOUSE_CLUSTER="main": a cluster needs a ClickHouse server: set GOVERNOR_CLICKHOUSE_URL/,
    ],
    [
      { GOVERNOR_CLICKHOUSE_CLUSTER: 'x;DROP', GOVERNOR_CLICKHOUSE_URL: 'http://ch:8123' },
      /GOVERNOR_CLICKHOUSE_CLUSTER="x;DROP": expected letters, digits and underscores/,
    ],
  ])('is refused when %j', (env, message) => {
    let caught: unknown
    try {
      loadSettings({}, env)
    } catch (err) {
      caught = err
    }
    expect(isGovernorError(caught) && caught.code).toBe('GOV_ERR_SETTINGS_INVALID')
    expect((caught as Error).message).toMatch(message)
  })

  it('is taken with a server URL', () => {
    expect(
      loadSettings({}, { GOVERNOR_CLICKHOUSE_CLUSTER: 'main', GOVERNOR_CLICKHOUSE_URL: 'http://ch:8123' })
        .clickhouseCluster,
    ).toBe('main')
  })
})

describe('governor schema', () => {
  function run(args: string[]): string {
    let stdout = ''
    expect(
      runSchema(args, loadSettings({}, {}), {
        stdout: (s) => {
          stdout += s
        },
        stderr: () => {},
        stderrIsTTY: false,
      }),
    ).toBe(0)
    return stdout
  }

  it('prints the DDL a fresh store runs, single-node by default and for a cluster with --cluster', () => {
    expect(run([])).toBe(`${schemaStatements(ctx).join(';\n\n')};\n`)
    expect(run(['--cluster', 'main'])).toBe(`${all.join(';\n\n')};\n`)
  })
})
