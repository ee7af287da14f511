import { describe, expect, it } from 'vitest'
import type { SloDefinition } from '../../../collector/src/slo/definition.ts'
import { SloEvaluator } from '../../../collector/src/slo/slo-status.ts'
import type { SeriesRow } from '../../../collector/src/store/queries.ts'
import { MemorySliReads, type SliRow } from '../../../collector/src/store/sli-reads.ts'

// The SLO evaluator over the in-memory SLI reads (held to the same contract as the SQL ones in
// test/collector/store/sli-reads.test.ts): what an SLO says of its events, with no store.

const M = 60_000
const NOW = 1_800_000_000_000

function counter(id: string, status: string): SeriesRow {
  return {
    id,
    type: 'sum',
    temporality: 'cumulative',
    monotonic: true,
    unit: '1',
    description: '',
    service: 'checkout',
    resource: { 'service.name': 'checkout' },
    attributes: { 'http.response.status_code': status },
  }
}

/** A counter of `perMinute` requests a minute, a point every minute over the last `hours`. */
function minutes(id: string, hours: number, perMinute: (ago: number) => number): SliRow[] {
  const rows: SliRow[] = []
  let total = 0
  for (let ago = hours * 60; ago >= 0; ago--) {
    total += perMinute(ago)
    rows.push({ seriesId: id, ts: NOW - ago * M, start: NOW - (hours * 60 + 1) * M, flags: 0, value: total })
  }
  return rows
}

const series = { series: async () => [counter('200', '200'), counter('500', '500')] }
const ERROR_RATIO: SloDefinition = {
  sli: { type: 'error_ratio', metric: 'http.server.requests', errors: { 'http.response.status_code': '5xx' } },
  objective: 99,
  window: '1d',
  description: '',
}

describe('SloEvaluator over the in-memory SLI reads', () => {
  it('reads an error ratio SLO: its SLI, what is left of its budget, and which burn-rate pairs fire', async () => {
    const reads = new MemorySliReads()
    // 100 requests a minute for a day; errors: 1 a minute until the last 10 minutes, then 20.
    reads.add(
      'samples',
      minutes('200', 24, (ago) => (ago < 10 ? 80 : 99)),
    )
    reads.add(
      'samples',
      minutes('500', 24, (ago) => (ago < 10 ? 20 : 1)),
    )
    const status = await new SloEvaluator(reads, series).status('checkout', ERROR_RATIO, NOW)

    // A window is (now − length, now]: the points of the last 1,440 minutes, each the growth
    // of its minute. Bad: 1,430 × 1 + 10 × 20 = 1,630.
    expect(status.events).toEqual({ bad: 1630, total: 144_000 })
    expect(status.sli).toBeCloseTo(100 * (1 - 1630 / 144_000), 9)
    expect(status.budgetRemaining).toBeCloseTo(1 - 1630 / 144_000 / 0.01, 9)
    // Burn = error share / 1 %. 1 h: (50 + 200) / 6,000; 5 min: 100 / 500; 2.4 h: (134 + 200) /
    // 14,400; 12 min: (2 + 200) / 1,200. The 1 h / 5 min pairs at 14.4 and 6 hold (the hour
    // burns 4.17), the one at 3 fires, and so does the 2.4 h / 12 min pair at 1: a ticket.
    expect(
      status.burns.map((b) => [b.pair.threshold, Number(b.long!.toFixed(4)), Number(b.short!.toFixed(4)), b.firing]),
    ).toEqual([
      [14.4, 4.1667, 20, false],
      [6, 4.1667, 20, false],
      [3, 4.1667, 20, true],
      [1, 2.3194, 16.8333, true],
    ])
    expect(status.alert).toBe('ticket')
  })

  it('says there are no events when the series have no points in the window', async () => {
    const status = await new SloEvaluator(new MemorySliReads(), series).status('checkout', ERROR_RATIO, NOW)
    expect(status.events).toEqual({ bad: 0, total: 0 })
    expect(status.sli).toBeUndefined()
    expect(status.budgetRemaining).toBe(1)
  })

  it('reports an SLI that reads a metric of the wrong type instead of counting it', async () => {
    const gauges = { series: async () => [{ ...counter('g', '200'), type: 'gauge' as const, monotonic: false }] }
    const status = await new SloEvaluator(new MemorySliReads(), gauges).status(
      'checkout',
      { ...ERROR_RATIO, sli: { type: 'latency', metric: 'x', percentile: 99, threshold_ms: 300 } },
      NOW,
    )
    expect(status.error).toMatch(/histogram/)
  })
})
