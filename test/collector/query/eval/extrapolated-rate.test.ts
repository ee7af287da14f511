import { describe, expect, it } from 'vitest'
import { extrapolatedRate, isStartTimestampReset } from '../../../../collector/src/query/eval/extrapolated-rate.ts'

// All windows here are the step bucket [0, 60s) or [60s, 120s), i.e. the Prometheus range
// (b − 1ms, b + 60s − 1ms]: rangeStart = b − 1, rangeEnd = b + 59 999.
const bucket0 = { rangeStartMs: -1, rangeEndMs: 59_999 }
const bucket1 = { rangeStartMs: 59_999, rangeEndMs: 119_999 }

describe('extrapolatedRate', () => {
  it('corrects a counter reset and extrapolates to both edges when the samples reach them', () => {
    const input = {
      ts: [5_000, 15_000, 25_000, 35_000, 45_000, 55_000],
      value: [10, 20, 30, 5, 15, 25],
      ...bucket0,
      isCounter: true,
    }
    // raw = 25 − 10 = 15, plus 30 for the drop 30 → 5: 45
    // sampled 50 s over 5 intervals: average 10 s, threshold 11 s
    // toStart = 5 000 − (−1) = 5.001 s < 11 → kept; toZero = 50 × 10 / 45 = 11.1 s, not shorter
    // toEnd = 59 999 − 55 000 = 4.999 s < 11 → kept
    // increase = 45 × (50 + 5.001 + 4.999) / 50 = 45 × 1.2 = 54; rate = 54 / 60 s = 0.9
    expect(extrapolatedRate({ ...input, isRate: false })).toBeCloseTo(54, 9)
    expect(extrapolatedRate({ ...input, isRate: true })).toBeCloseTo(0.9, 9)
  })

  it('extrapolates only half an interval on a side where the samples stop well inside the window', () => {
    // raw = 120 − 100 = 20 over 20 s, average 10 s, threshold 11 s
    // toStart = 20.001 s ≥ 11 → 5 s (toZero = 20 × 100 / 20 = 100 s does not cap it)
    // toEnd = 59 999 − 40 000 = 19.999 s ≥ 11 → 5 s
    // increase = 20 × (20 + 5 + 5) / 20 = 30  (extrapolating to both edges would give 60)
    const v = extrapolatedRate({
      ts: [20_000, 30_000, 40_000],
      value: [100, 110, 120],
      ...bucket0,
      isCounter: true,
      isRate: false,
    })
    expect(v).toBeCloseTo(30, 9)
  })

  it('does not extrapolate a counter below zero', () => {
    // raw = 21 − 1 = 20 over 20 s, average 10 s, threshold 11 s
    // toStart = 30.001 s ≥ 11 → 5 s, but toZero = 20 × 1 / 20 = 1 s → 1 s
    // toEnd = 59 999 − 50 000 = 9.999 s < 11 → kept
    // increase = 20 × (20 + 1 + 9.999) / 20 = 30.999
    const v = extrapolatedRate({
      ts: [30_000, 40_000, 50_000],
      value: [1, 11, 21],
      ...bucket0,
      isCounter: true,
      isRate: false,
    })
    expect(v).toBeCloseTo(30.999, 9)
    // Without counter semantics (Prometheus delta()) the 5 s stands: 20 × 34.999 / 20
    const g = extrapolatedRate({
      ts: [30_000, 40_000, 50_000],
      value: [1, 11, 21],
      ...bucket0,
      isCounter: false,
      isRate: false,
    })
    expect(g).toBeCloseTo(34.999, 9)
  })

  it('treats a start time after the previous sample as a reset even when the value went up', () => {
    // 100 at 70 s (started long ago), restart at 75 s, 150 at 80 s, 160 at 90 s
    // raw = 160 − 100 = 60, plus 100 for the start-time reset: 160 (150 + 10, the real growth)
    // sampled 20 s, average 10 s, threshold 11 s
    // toStart = 70 000 − 59 999 = 10.001 s < 11 → kept; toZero = 20 × 100 / 160 = 12.5 s, not shorter
    // toEnd = 119 999 − 90 000 = 29.999 s ≥ 11 → 5 s
    // increase = 160 × (20 + 10.001 + 5) / 20 = 280.008
    const v = extrapolatedRate({
      ts: [70_000, 80_000, 90_000],
      value: [100, 150, 160],
      start: [1_000, 75_000, 75_000],
      ...bucket1,
      isCounter: true,
      isRate: false,
    })
    expect(v).toBeCloseTo(280.008, 9)
  })

  it('needs two samples, unless the first one started inside the window', () => {
    const one = { ts: [70_000], value: [7], ...bucket1, isCounter: true, isRate: false }
    expect(extrapolatedRate(one)).toBeNaN()
    expect(extrapolatedRate({ ...one, start: [1_000] })).toBeNaN()
    // Started at 65 s inside (59 999, 119 999]: a zero sample is assumed at 65 s → increase 7
    expect(extrapolatedRate({ ...one, start: [65_000] })).toBe(7)
  })

  it('reads only the [lo, hi) slice', () => {
    const v = extrapolatedRate({
      ts: [0, 20_000, 30_000, 40_000, 99_000],
      value: [0, 100, 110, 120, 0],
      lo: 1,
      hi: 4,
      ...bucket0,
      isCounter: true,
      isRate: false,
    })
    expect(v).toBeCloseTo(30, 9)
  })
})

describe('isStartTimestampReset', () => {
  it('follows the Prometheus rules', () => {
    expect(isStartTimestampReset(1, 10, 0, 20)).toBe(false) // unset
    expect(isStartTimestampReset(1, 10, 20, 20)).toBe(false) // OTel unknown start (= own ts)
    expect(isStartTimestampReset(1, 10, 25, 20)).toBe(false) // invalid: after its sample
    expect(isStartTimestampReset(1, 10, 5, 20)).toBe(false) // began before the previous sample
    expect(isStartTimestampReset(1, 10, 15, 20)).toBe(true) // began after the previous sample
    expect(isStartTimestampReset(5, 10, 10, 20)).toBe(true) // delta pattern, known previous start
    expect(isStartTimestampReset(0, 10, 10, 20)).toBe(false) // previous start unknown
  })
})
