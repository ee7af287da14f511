import { describe, expect, it } from 'vitest'
import { bucketQuantile } from '../../../../collector/src/query/eval/bucket-quantile.ts'

// Per-bucket counts 10, 30, 50, 10 over bounds 0.1, 0.5, 1 → cumulative 10, 40, 90, 100.
const buckets = [
  { upperBound: 0.1, count: 10 },
  { upperBound: 0.5, count: 40 },
  { upperBound: 1, count: 90 },
  { upperBound: Number.POSITIVE_INFINITY, count: 100 },
]

describe('bucketQuantile', () => {
  it('interpolates linearly inside the bucket the rank falls in', () => {
    // p50: rank 50 falls in (0.5, 1] holding 40…90 → 0.5 + 0.5 × (50 − 40) / 50 = 0.6
    expect(bucketQuantile(0.5, buckets)).toBeCloseTo(0.6, 12)
    // p70: rank 70 → 0.5 + 0.5 × 30 / 50 = 0.8
    expect(bucketQuantile(0.7, buckets)).toBeCloseTo(0.8, 12)
  })

  it('starts the lowest bucket at 0 when its upper bound is positive', () => {
    // p5: rank 5 in (0, 0.1] holding 10 → 0.1 × 5 / 10 = 0.05
    expect(bucketQuantile(0.05, buckets)).toBeCloseTo(0.05, 12)
  })

  it('returns the upper bound of the lowest bucket when it is not positive', () => {
    const negative = [
      { upperBound: -1, count: 10 },
      { upperBound: 1, count: 20 },
      { upperBound: Number.POSITIVE_INFINITY, count: 20 },
    ]
    expect(bucketQuantile(0.25, negative)).toBe(-1)
    // p75: rank 15 in (−1, 1] holding 10 → −1 + 2 × 5 / 10 = 0
    expect(bucketQuantile(0.75, negative)).toBeCloseTo(0, 12)
  })

  it('returns the second-highest bound when the rank falls into +Inf', () => {
    // p95: rank 95 > 90 → the +Inf bucket → its lower edge, 1
    expect(bucketQuantile(0.95, buckets)).toBe(1)
  })

  it('sorts its input and envelopes non-monotonic counts', () => {
    const shuffled = [buckets[3]!, buckets[1]!, buckets[0]!, buckets[2]!]
    expect(bucketQuantile(0.5, shuffled)).toBeCloseTo(0.6, 12)
    // 0.5 reads 35 < 40 before it: raised to 40, so p50 is the same as above
    const dip = [
      { upperBound: 0.1, count: 10 },
      { upperBound: 0.3, count: 40 },
      { upperBound: 0.5, count: 35 },
      { upperBound: 1, count: 90 },
      { upperBound: Number.POSITIVE_INFINITY, count: 100 },
    ]
    expect(bucketQuantile(0.5, dip)).toBeCloseTo(0.6, 12)
  })

  it('handles the special cases like Prometheus', () => {
    expect(bucketQuantile(-0.1, buckets)).toBe(Number.NEGATIVE_INFINITY)
    expect(bucketQuantile(1.1, buckets)).toBe(Number.POSITIVE_INFINITY)
    expect(bucketQuantile(Number.NaN, buckets)).toBeNaN()
    expect(
      bucketQuantile(
        0.5,
        buckets.map((b) => ({ ...b, count: 0 })),
      ),
    ).toBeNaN()
    expect(bucketQuantile(0.5, buckets.slice(0, 3))).toBeNaN() // no +Inf bucket
    expect(bucketQuantile(0.5, [{ upperBound: Number.POSITIVE_INFINITY, count: 5 }])).toBeNaN()
  })
})
