import { mkdirSync } from 'node:fs'
import { resolve } from 'node:path'
import { createClient, type ClickHouseClient } from '@clickhouse/client'
import type { Settings } from '../settings.ts'

/** How a raw, pre-encoded TSV payload reaches the engine. */
export type RawInsert = (table: string, columns: readonly string[], tsv: Buffer) => Promise<void>

/** A ClickHouse client, and where it points. */
export interface StoreConnection {
  client: ClickHouseClient
  /** True for the in-process engine (chDB), false for a ClickHouse server. */
  embedded: boolean
  /** Human-readable location: the data directory or the server URL. */
  location: string
  insertTsv: RawInsert
}

/**
 * The connection decides where data lives: with GOVERNOR_CLICKHOUSE_URL a ClickHouse server,
 * otherwise chDB in this process with its data under `dataDir`. Everything above this
 * function speaks the same SQL to both.
 */
export async function connectStore(settings: Settings): Promise<StoreConnection> {
  if (settings.clickhouseUrl !== '') {
    const client = createClient({
      url: settings.clickhouseUrl,
      username: settings.clickhouseUser,
      password: settings.clickhousePassword,
      request_timeout: 60_000,
    })
    const { Readable } = await import('node:stream')
    return {
      client,
      embedded: false,
      location: settings.clickhouseUrl,
      insertTsv: async (table, columns, tsv) => {
        await client.insert({ table, columns: [...columns] as [string, ...string[]], values: Readable.from([tsv], { objectMode: false }), format: 'TabSeparated' })
      },
    }
  }
  const dir = resolve(settings.dataDir)
  mkdirSync(dir, { recursive: true })
  // chdb is loaded only in embedded mode: a server deployment never maps the engine.
  const { createChdbConnection } = await import('chdb/connection')
  const connection = createChdbConnection({ path: dir })
  const client = createClient({ connection } as Parameters<typeof createClient>[0])
  return {
    client,
    embedded: true,
    location: dir,
    // The raw path hands the Buffer to the engine's parser without copying it into a string.
    insertTsv: async (table, columns, tsv) => {
      await connection.chdb.rawInsert({ table, columns, values: tsv, format: 'TSV' })
    },
  }
}
