import { mkdirSync } from 'node:fs'
import { resolve } from 'node:path'
import { createClient, type ClickHouseClient } from '@clickhouse/client'
import type { Settings } from '../settings.ts'
import { lockDataDir } from './data-dir-lock.ts'

/**
 * How a raw, pre-encoded TSV payload reaches the engine. With a token, the engine stores the
 * same insert once however often it is sent (insert_deduplication_token).
 */
export type RawInsert = (table: string, columns: readonly string[], tsv: Buffer, token?: string) => Promise<void>

/** Whole rows of a streamed result, TabSeparated. */
export interface TsvChunk {
  rows: number
  tsv: Uint8Array
}

/** A ClickHouse client, and where it points. */
export interface StoreConnection {
  client: ClickHouseClient
  /** True for the in-process engine (chDB), false for a ClickHouse server. */
  embedded: boolean
  /** Human-readable location: the data directory or the server URL. */
  location: string
  /** The ClickHouse cluster the tables are spread over; '' for one server or the embedded engine. */
  cluster: string
  insertTsv: RawInsert
  /**
   * Embedded only: the result of a SELECT as TabSeparated chunks of whole rows, fetched as they
   * are read (the query API buffers a whole result; a copy of a store must not).
   */
  streamTsv?: (query: string) => AsyncIterable<TsvChunk>
  /**
   * A SELECT's whole result in a binary format (`RowBinary`, `Native`…), as bytes: the read
   * path of PromQL decodes points from it into typed arrays, never row by row from JSON.
   */
  readBinary: (query: string, format: string, signal?: AbortSignal) => Promise<Uint8Array>
  /**
   * The same result as `readBinary`, in the pieces the engine hands over: embedded, its streamed
   * blocks, about twice as fast as one materialised buffer for a result of tens of MB (a small
   * result pays a millisecond or two more); on a server, the response's chunks.
   */
  readBinaryChunks: (query: string, format: string, signal?: AbortSignal) => Promise<Uint8Array[]>
  /** Closes the client and, embedded, releases the data directory. */
  close(): Promise<void>
}

/**
 * Settings of every query in cluster mode: an insert into a Distributed table returns only
 * once every shard has stored its rows (by default it queues them and sends them later, so
 * an acknowledged point could still be lost, and a knob version read right after its write
 * could be missing).
 */
export const CLUSTER_CLIENT_SETTINGS = { insert_distributed_sync: 1 } as const

/**
 * Settings of every insert. Points are partitioned by day, and the engine refuses an insert
 * that touches more than 100 partitions by default: a commit of valid points over 101 days
 * (a backfill, a sender with a clock far off) would be refused whole, every time it is sent,
 * and hold every commit behind it. Governor commits large groups on purpose, so no limit.
 */
export const INSERT_SETTINGS = { max_partitions_per_insert_block: '0' } as const

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
      ...(settings.clickhouseCluster !== '' ? { clickhouse_settings: CLUSTER_CLIENT_SETTINGS } : {}),
    })
    const { Readable } = await import('node:stream')
    return {
      client,
      embedded: false,
      location: settings.clickhouseUrl,
      cluster: settings.clickhouseCluster,
      close: () => client.close(),
      readBinary: async (query, format, signal) => Buffer.concat(await serverChunks(client, query, format, signal)),
      readBinaryChunks: (query, format, signal) => serverChunks(client, query, format, signal),
      insertTsv: async (table, columns, tsv, token) => {
        await client.insert({
          table,
          columns: [...columns] as [string, ...string[]],
          values: Readable.from([tsv], { objectMode: false }),
          format: 'TabSeparated',
          clickhouse_settings: {
            ...INSERT_SETTINGS,
            ...(token === undefined ? {} : { insert_deduplication_token: token }),
          },
        })
      },
    }
  }
  const dir = resolve(settings.dataDir)
  mkdirSync(dir, { recursive: true })
  // Before the engine: a second process on the same directory is told who holds it.
  const release = lockDataDir(dir)
  try {
    return await openChdb(dir, release)
  } catch (err) {
    release()
    throw err
  }
}

/** A server's answer to a SELECT in a binary format, as the chunks it arrived in. */
async function serverChunks(
  client: ClickHouseClient,
  query: string,
  format: string,
  signal?: AbortSignal,
): Promise<Buffer[]> {
  const rs = await client.exec({
    query: `${query} FORMAT ${format}`,
    ...(signal === undefined ? {} : { abort_signal: signal }),
  })
  const chunks: Buffer[] = []
  for await (const chunk of rs.stream) chunks.push(chunk as Buffer)
  return chunks
}

async function openChdb(dir: string, release: () => void): Promise<StoreConnection> {
  // chdb is loaded only in embedded mode: a server deployment never maps the engine.
  const { createChdbConnection } = await import('chdb/connection')
  const connection = createChdbConnection({ path: dir })
  const client = createClient({ connection } as Parameters<typeof createClient>[0])
  // Streamed reads run on a connection of their own, one at a time: chDB keeps one streaming
  // cursor per connection, and any other query on that connection ends it ("No active
  // streaming query"), while connections on the same directory stream beside each other.
  let streaming: ReturnType<typeof createChdbConnection> | undefined
  let streamed: Promise<unknown> = Promise.resolve()
  return {
    client,
    embedded: true,
    location: dir,
    cluster: '',
    close: async () => {
      try {
        await streamed
        await streaming?.close()
        await client.close()
      } finally {
        release()
      }
    },
    // The raw path hands the Buffer to the engine's parser without copying it into a string.
    insertTsv: async (table, columns, tsv, token) => {
      await connection.chdb.rawInsert({
        table,
        columns,
        values: tsv,
        format: 'TSV',
        settings: { ...INSERT_SETTINGS, ...(token === undefined ? {} : { insert_deduplication_token: token }) },
      })
    },
    readBinary: async (query, format, signal) =>
      (await connection.chdb.queryAsync(query, { format, ...(signal === undefined ? {} : { signal }) })).bytes(),
    readBinaryChunks: (query, format, signal) => {
      const read = streamed.then(async () => {
        streaming ??= createChdbConnection({ path: dir })
        const chunks: Uint8Array[] = []
        for await (const chunk of streaming.chdb.queryStream(query, {
          format,
          ...(signal === undefined ? {} : { signal }),
        }))
          chunks.push(chunk.raw())
        return chunks
      })
      streamed = read.catch(() => undefined)
      return read
    },
    streamTsv: async function* (query) {
      for await (const chunk of connection.chdb.queryStream(query, { format: 'TabSeparated' }))
        yield { rows: chunk.numRows, tsv: chunk.raw() }
    },
  }
}
