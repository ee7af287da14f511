import { describe, expect, it } from 'vitest'
import { quantileOf } from '../../../collector/src/promql/quantile.ts'

// Prometheus' definition, written plainly: sort (NaN first), interpolate between ranks.
function reference(q: number, values: number[]): number {
  if (values.length === 0 || Number.isNaN(q)) return NaN
  if (q < 0) return -Infinity
  if (q > 1) return Infinity
  const s = [...values].sort((a, b) => (Number.isNaN(a) ? -1 : Number.isNaN(b) ? 1 : a - b))
  const rank = q * (s.length - 1)
  const lo = Math.max(0, Math.floor(rank))
  const hi = Math.min(s.length - 1, lo + 1)
  const w = rank - Math.floor(rank)
  return s[lo]! * (1 - w) + s[hi]! * w
}

describe('quantileOf', () => {
  it('selects the same ranks a full sort gives, NaN first, duplicates and infinities included', () => {
    let seed = 3
    const rnd = (): number => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648
    for (let trial = 0; trial < 2000; trial++) {
      const n = 1 + Math.floor(rnd() * 40)
      const values = Array.from({ length: n }, () => {
        const r = rnd()
        return r < 0.1 ? NaN : r < 0.15 ? Infinity : r < 0.2 ? -Infinity : Math.floor(r * 10)
      })
      for (const q of [0, 0.1, 0.5, 0.75, 0.99, 1, rnd()]) {
        const got = quantileOf(q, values)
        const want = reference(q, values)
        expect(Number.isNaN(got) ? 'NaN' : got, `q=${q} of ${values.join(',')}`).toEqual(
          Number.isNaN(want) ? 'NaN' : want,
        )
      }
    }
  })
})
