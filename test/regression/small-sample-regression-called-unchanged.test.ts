import { describe, expect, it } from 'vitest'
import { exactMannWhitney } from '../../collector/src/impact/exact-rank-test.ts'
import type { SignalSpec } from '../../collector/src/impact/types.ts'
import { judge } from '../../collector/src/impact/verdict.ts'

// A deploy took p99 from 0.091 s to 0.249 s (+174 %, every bucket after above every bucket
// before) and was stored as `unchanged`, p = 0.0122: with 5 buckets a side the normal
// approximation cannot go below that, so it could never reach p < 0.01.

const latency: SignalSpec = {
  metric: 'http.server.request.duration',
  kind: 'p99',
  label: 'p99 latency',
  bad: 'up',
  intrinsic: true,
  source: 'default',
  unit: 's',
}

describe('a regression with 5 buckets a side', () => {
  const before = [0.091, 0.089, 0.093, 0.09, 0.092]
  const after = [0.249, 0.251, 0.247, 0.25, 0.248]

  it('is worse, by the exact test', () => {
    const r = judge(latency, before, after, exactMannWhitney(before, after))
    expect(r.verdict).toBe('worse')
    expect(r.p_value).toBeCloseTo(2 / 252, 12)
    expect(r.rank_biserial).toBe(1)
  })

  it('with 4 a side (which no outcome can make significant) says so, never "unchanged"', () => {
    const r = judge(
      latency,
      before.slice(0, 4),
      after.slice(0, 4),
      exactMannWhitney(before.slice(0, 4), after.slice(0, 4)),
      { p_value: 0.01, min_relative_change: 0.05, min_buckets: 4 },
    )
    expect(r.verdict).toBe('not_enough_data')
    expect(r.note).toBe(
      'cannot reach significance with 4 buckets before and 4 after: the smallest possible p is 0.029, the threshold 0.01',
    )
  })
})
