import { describe, expect, it } from 'vitest'
import { exactMannWhitney, smallestPValue } from '../../../collector/src/impact/exact-rank-test.ts'

/** The exact two-sided p by brute force: every split of the pooled values, ranked with mid-ranks. */
function bruteForce(before: number[], after: number[]): number {
  const pooled = [...before, ...after]
  const sorted = [...pooled].sort((a, b) => a - b)
  const rank = (v: number) => {
    const first = sorted.indexOf(v) + 1,
      last = sorted.lastIndexOf(v) + 1
    return (first + last) / 2
  }
  const ranks = pooled.map(rank)
  const n = pooled.length,
    n2 = after.length
  const mean = (n2 * (n + 1)) / 2
  const observed = ranks.slice(before.length).reduce((a, b) => a + b, 0)
  let extreme = 0,
    total = 0
  for (let mask = 0; mask < 1 << n; mask++) {
    let bits = 0,
      sum = 0
    for (let i = 0; i < n; i++)
      if (mask & (1 << i)) {
        bits++
        sum += ranks[i]!
      }
    if (bits !== n2) continue
    total++
    if (Math.abs(sum - mean) >= Math.abs(observed - mean) - 1e-9) extreme++
  }
  return extreme / total
}

describe('exactMannWhitney', () => {
  it('reaches 2/252 with 5 buckets a side wholly apart (the normal approximation stops at 0.0122)', () => {
    const r = exactMannWhitney([0.09, 0.091, 0.092, 0.089, 0.09], [0.24, 0.25, 0.249, 0.26, 0.245])!
    expect(r.p).toBeCloseTo(2 / 252, 12)
    expect(r.p).toBeLessThan(0.01)
    expect(r.u).toBe(0) // no before value is above an after value
    expect(exactMannWhitney([5, 6, 7, 8, 9], [1, 2, 3, 4, 0])!.u).toBe(25)
  })

  it('equals the brute-force permutation p-value, ties included', () => {
    const cases: [number[], number[]][] = [
      [
        [1, 2, 3, 4],
        [2, 3, 5, 6, 7],
      ],
      [
        [1, 1, 2, 2, 3],
        [1, 2, 3, 3, 3],
      ],
      [
        [0, 0, 0, 1, 0],
        [0, 1, 1, 0, 2, 3],
      ],
      [
        [4.5, 3.2, 8.8, 1.1, 6.0, 2.2],
        [7.7, 9.9, 5.5, 8.1, 6.6],
      ],
      [
        [1, 1, 1],
        [1, 1, 2],
      ],
    ]
    for (const [a, b] of cases) expect(exactMannWhitney(a, b)!.p).toBeCloseTo(bruteForce(a, b), 12)
  })

  it('gives p = 1 when the groups are exchangeable, and undefined past its size or for an empty side', () => {
    expect(exactMannWhitney([1, 2, 3], [1, 2, 3])!.p).toBe(1)
    expect(
      exactMannWhitney(
        Array.from({ length: 21 }, (_, i) => i),
        Array.from({ length: 20 }, (_, i) => i),
      ),
    ).toBeUndefined()
    expect(exactMannWhitney([], [1])).toBeUndefined()
  })
})

describe('smallestPValue', () => {
  it('is 2 / C(n1 + n2, n1)', () => {
    expect(smallestPValue(5, 5)).toBeCloseTo(2 / 252, 15)
    expect(smallestPValue(4, 4)).toBeCloseTo(2 / 70, 15)
    expect(smallestPValue(1, 1)).toBe(1)
  })
})
