import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { clusterDialect } from '../../collector/src/store/cluster-ddl.ts'
import { schemaStatements } from '../../collector/src/store/migrate.ts'

// The `governor` command as an operator runs it, for the cluster parts that need no server.

const BIN = fileURLToPath(new URL('../../collector/bin/governor.js', import.meta.url))

function governor(args: string[], env: Record<string, string> = {}) {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('GOVERNOR_')))
  return spawnSync(process.execPath, [BIN, ...args], { env: { ...clean, ...env }, encoding: 'utf8', timeout: 60_000 })
}

describe('governor schema and cluster settings, from the command line', () => {
  it('prints the cluster DDL for --cluster, and for GOVERNOR_CLICKHOUSE_CLUSTER with a server', () => {
    const expected = `${schemaStatements({ db: 'metrics', retentionDays: 7 }, clusterDialect('main')).join(';\n\n')};\n`
    const flag = governor(['schema', '--cluster', 'main'], {
      GOVERNOR_CLICKHOUSE_DATABASE: 'metrics',
      GOVERNOR_RETENTION_DAYS: '7',
    })
    expect([flag.status, flag.stdout]).toEqual([0, expected])
    const env = governor(['schema'], {
      GOVERNOR_CLICKHOUSE_DATABASE: 'metrics',
      GOVERNOR_RETENTION_DAYS: '7',
      GOVERNOR_CLICKHOUSE_URL: 'http://ch:8123',
      GOVERNOR_CLICKHOUSE_CLUSTER: 'main',
    })
    expect([env.status, env.stdout]).toEqual([0, expected])
  })

  it('prints the single-node DDL without a cluster', () => {
    const r = governor(['schema'])
    expect([r.status, r.stdout]).toEqual([
      0,
      `${schemaStatements({ db: 'governor', retentionDays: 30 }).join(';\n\n')};\n`,
    ])
  })

  it('refuses a cluster name that is not an identifier, and a cluster on the embedded store', () => {
    const bad = governor(['schema', '--cluster', 'a b'])
    expect(bad.status).toBe(1)
    expect(bad.stderr).toMatch(/cluster name "a b": expected letters, digits and underscores/)
    const embedded = governor(['start'], { GOVERNOR_CLICKHOUSE_CLUSTER: 'main' })
    expect(embedded.status).toBe(1)
    expect(embedded.stderr).toMatch(
      /GOV_ERR_SETTINGS_INVALID: GOVERNOR_CLICKHOUSE_CLUSTER="main": a cluster needs a ClickHouse server/,
    )
  })
})
