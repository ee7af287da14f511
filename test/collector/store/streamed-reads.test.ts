import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Store } from '../../../collector/src/store/store.ts'
import { testSettings } from '../../helpers/settings.ts'

// A large PromQL read streams in the engine's blocks. chDB keeps one streaming cursor per
// connection and any other query on that connection ends it, so a streamed read must survive
// the queries the rest of Governor runs meanwhile (flushes, controller ticks, other reads).
describe('streamed reads on the embedded engine', () => {
  let store: Store
  beforeAll(async () => {
    store = await Store.open(testSettings())
  })
  afterAll(async () => {
    await store?.close()
  })

  const QUERY = 'SELECT number AS n, toFloat64(number) * 0.5 AS v FROM numbers(2000000) SETTINGS max_block_size = 8192'

  it('answers whole while other queries and other streamed reads run', async () => {
    let others = 0,
      stop = false
    const traffic = (async () => {
      while (!stop) {
        await (
          await store.client.query({ query: 'SELECT count() FROM system.one', format: 'JSONCompactEachRow' })
        ).json()
        await store.readBinary('SELECT 1', 'Native')
        others++
      }
    })()
    const reads = await Promise.all([0, 1, 2].map(() => store.readBinaryChunks(QUERY, 'RowBinary')))
    stop = true
    await traffic
    expect(others).toBeGreaterThan(0)
    for (const chunks of reads) {
      expect(chunks.length).toBeGreaterThan(10) // really streamed, in many pieces
      const bytes = Buffer.concat(chunks)
      expect(bytes.length).toBe(2_000_000 * 16)
      // Every row in order: n, then n / 2.
      for (const i of [0, 1, 999_999, 1_999_999]) {
        expect(bytes.readBigUInt64LE(i * 16)).toBe(BigInt(i))
        expect(bytes.readDoubleLE(i * 16 + 8)).toBe(i * 0.5)
      }
    }
  })

  it('sees what was written before it, and is refused as a query is', async () => {
    await store.client.command({
      query: 'CREATE TABLE IF NOT EXISTS streamed_seen (x UInt64) ENGINE = MergeTree ORDER BY x',
    })
    await store.client.command({ query: 'INSERT INTO streamed_seen SELECT number FROM numbers(100000)' })
    const chunks = await store.readBinaryChunks('SELECT count() FROM streamed_seen', 'TSV')
    expect(Buffer.concat(chunks).toString().trim()).toBe('100000')
    await expect(store.readBinaryChunks('SELECT no_such_column FROM streamed_seen', 'Native')).rejects.toThrow(
      /no_such_column|Unknown/i,
    )
    // A refused read leaves the next one working.
    expect(
      Buffer.concat(await store.readBinaryChunks('SELECT 7', 'TSV'))
        .toString()
        .trim(),
    ).toBe('7')
  })
})
