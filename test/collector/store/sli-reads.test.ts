import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  ClickHouseSliReads,
  MemorySliReads,
  type CountQuery,
  type SliReads,
  type SliRow,
} from '../../../collector/src/store/sli-reads.ts'
import { Store } from '../../../collector/src/store/store.ts'
import { testSettings } from '../../helpers/settings.ts'

// One contract, two implementations: the in-memory SLI reads that unit tests use must count as
// the SQL over the point tables does, or the tests that use them prove nothing about Governor.

const M = 60_000,
  H = 60 * M
const NOW = Math.floor(Date.now() / H) * H
const row = (seriesId: string, ago: number, value: number, over: Partial<SliRow> = {}): SliRow => ({
  seriesId,
  ts: NOW - ago,
  start: 0,
  flags: 0,
  value,
  ...over,
})
const hist = (seriesId: string, ago: number, counts: number[]): SliRow => ({
  seriesId,
  ts: NOW - ago,
  start: 0,
  flags: 0,
  count: counts.reduce((a, b) => a + b, 0),
  bounds: [100, 200, 300],
  counts,
})

const SAMPLES: SliRow[] = [
  // A counter read from before the longest window (the lookback), with a reset at 3 h.
  row('1', 6 * H + 10 * M, 100),
  row('1', 5 * H, 130),
  row('1', 3 * H, 20),
  row('1', 30 * M, 45),
  row('1', 10 * M, 60),
  // The bad counter: a stale marker in between, which is never read.
  row('2', 6 * H + 5 * M, 10),
  row('2', 2 * H, 14),
  row('2', 40 * M, 0, { flags: 1 }),
  row('2', 20 * M, 19),
  // A counter that began inside the range read: its first point counts whole.
  row('3', 90 * M, 5, { start: NOW - 2 * H }),
  row('3', 15 * M, 9, { start: NOW - 2 * H }),
  // A delta series: each point its own count; one older than every window.
  row('4', 7 * H, 50),
  row('4', 4 * H, 3),
  row('4', 50 * M, 2),
  // Gauges, for the max SLI.
  row('5', 3 * H, 12),
  row('5', 30 * M, 8),
  row('6', 45 * M, 11),
  row('6', 5 * M, 9),
]
const HISTOGRAMS: SliRow[] = [
  hist('7', 6 * H + 1 * M, [0, 0, 0, 0]),
  hist('7', 4 * H, [90, 8, 2, 0]),
  hist('7', 40 * M, [95, 10, 6, 1]),
  hist('7', 5 * M, [100, 10, 8, 3]),
]

const ERRORS: CountQuery = {
  kind: 'errors',
  table: 'samples',
  ids: ['1', '2', '3', '4'],
  badIds: ['2'],
  deltaIds: ['4'],
  now: NOW,
  windows: [H, 6 * H],
}
const LATENCY: CountQuery = {
  kind: 'latency',
  table: 'histograms',
  ids: ['7'],
  deltaIds: [],
  threshold: 250,
  now: NOW,
  windows: [H, 6 * H],
}
const ABOVE: CountQuery = {
  kind: 'above_max',
  table: 'samples',
  ids: ['5', '6'],
  deltaIds: [],
  threshold: 10,
  now: NOW,
  windows: [H, 6 * H],
}

/** Counts rounded to 9 decimals: the two add the same numbers in different orders. */
const rounded = (counts: { bad: number; total: number }[]) =>
  counts.map((c) => ({ bad: Number(c.bad.toFixed(9)), total: Number(c.total.toFixed(9)) }))

function contract(name: string, open: () => Promise<{ reads: SliReads; close(): Promise<void> }>): void {
  describe(name, () => {
    let reads: SliReads
    let close: () => Promise<void>
    beforeAll(async () => {
      ;({ reads, close } = await open())
    })
    afterAll(async () => {
      await close?.()
    })

    it('counts a counter by its growth, resets and a start inside the range included, and a delta series point by point', async () => {
      // Growth counts at the point that ends its interval.
      // 1 h: series 1 grows 25 (20 → 45) and 15 (→ 60); 2 grows 5 (14 → 19, the stale marker
      //      skipped), all bad; 3 grows 4 (5 → 9); 4 adds 2.
      // 6 h: series 1 30 + 20 (the reset) + 25 + 15; 2 4 + 5; 3 5 (began inside) + 4; 4 3 + 2.
      expect(rounded(await reads.countEvents(ERRORS))).toEqual([
        { bad: 5, total: 51 },
        { bad: 9, total: 113 },
      ])
    })

    it('counts a histogram SLI by the observations above the threshold, interpolated inside its bucket', async () => {
      // Growth [90,8,2,0] (4 h ago), [5,2,4,1] (40 min), [5,0,2,2] (5 min); above 250 ms: half
      // of (200, 300] and all of what is above it.
      expect(rounded(await reads.countEvents(LATENCY))).toEqual([
        { bad: 3 + 3, total: 12 + 9 },
        { bad: 1 + 3 + 3, total: 100 + 12 + 9 },
      ])
    })

    it('counts a max SLI point by point', async () => {
      expect(rounded(await reads.countEvents(ABOVE))).toEqual([
        { bad: 1, total: 3 },
        { bad: 2, total: 4 },
      ])
    })

    it('counts nothing for no series', async () => {
      expect(await reads.countEvents({ ...ERRORS, ids: [] })).toEqual([
        { bad: 0, total: 0 },
        { bad: 0, total: 0 },
      ])
    })

    it('gives the newest recorded point and the highest last value, nothing for a range without points', async () => {
      expect(await reads.newest('samples', ['1', '2'], NOW - 6 * H, NOW)).toBe(NOW - 10 * M)
      expect(await reads.newest('samples', ['2'], NOW - 30 * M, NOW)).toBe(NOW - 20 * M)
      expect(await reads.newest('histograms', ['7'], NOW - 2 * M, NOW)).toBeUndefined()
      expect(await reads.lastValue(['5', '6'], NOW - H, NOW)).toBe(9)
      expect(await reads.lastValue(['5', '6'], NOW - 6 * H, NOW - 40 * M)).toBe(12)
      expect(await reads.lastValue(['5'], NOW - M, NOW)).toBeUndefined()
    })
  })
}

contract('SLI reads in SQL over the point tables', async () => {
  const store = await Store.open(testSettings())
  const values = (rows: SliRow[], columns: (r: SliRow) => Record<string, unknown>) =>
    rows.map((r) => ({ series_id: r.seriesId, ts: r.ts, start: r.start, flags: r.flags, ...columns(r) }))
  await store.client.insert({
    table: `${store.db}.samples`,
    values: values(SAMPLES, (r) => ({ value: r.value })),
    format: 'JSONEachRow',
  })
  await store.client.insert({
    table: `${store.db}.histograms`,
    values: values(HISTOGRAMS, (r) => ({ count: r.count, sum: 0, min: 0, max: 0, bounds: r.bounds, counts: r.counts })),
    format: 'JSONEachRow',
  })
  return { reads: new ClickHouseSliReads(store.client, store.db), close: () => store.close() }
})

contract('SLI reads in memory', async () => {
  const reads = new MemorySliReads()
  reads.add('samples', SAMPLES)
  reads.add('histograms', HISTOGRAMS)
  return { reads, close: async () => {} }
})
