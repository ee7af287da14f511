import { describe, expect, it } from 'vitest'
import { backoffDelayMillis } from '../../throttle/src/backoff.ts'

const policy = { initialDelayMillis: 250, maxDelayMillis: 30_000, multiplier: 2 }

describe('backoffDelayMillis', () => {
  it('doubles the bound per attempt up to the cap, drawing between half the bound and the bound', () => {
    const low = (a: number) => backoffDelayMillis(a, policy, () => 0)
    const high = (a: number) => backoffDelayMillis(a, policy, () => 0.999999)
    expect([0, 1, 2, 3].map(low)).toEqual([125, 250, 500, 1000])
    expect(high(0)).toBeCloseTo(250, 2)
    expect(high(3)).toBeCloseTo(2000, 2)
    expect(low(7)).toBe(15_000) // 250 × 2^7 = 32000, capped at 30000
    expect(high(7)).toBeCloseTo(30_000, 1)
    expect(backoffDelayMillis(0, policy, () => 0.5)).toBe(187.5)
  })

  it('stays at the cap through a long outage', () => {
    expect(backoffDelayMillis(5_000, policy, () => 0)).toBe(15_000)
    expect(backoffDelayMillis(5_000, policy, () => 1)).toBe(30_000)
  })

  it('spreads clients that failed at once', () => {
    let seed = 1
    const random = () => ((seed = Math.imul(seed, 48271) % 0x7fffffff) & 0x7fffffff) / 0x7fffffff
    const delays = Array.from({ length: 1000 }, () => backoffDelayMillis(4, policy, random))
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(2000)
    expect(Math.max(...delays)).toBeLessThanOrEqual(4000)
    expect(new Set(delays.map((d) => Math.floor(d / 100))).size).toBeGreaterThan(15)
  })
})
