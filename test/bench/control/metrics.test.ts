import { describe, expect, it } from 'vitest'
import {
  limitCv,
  quantile,
  RunRecorder,
  shareWithinSlo,
  timeToRecover,
  timeToShed,
  type Window,
  windowP99s,
} from '../../../bench/control/metrics.ts'

const win = (o: Partial<Window>): Window => ({
  attempts: 0,
  firsts: 0,
  rejectedLocally: 0,
  shed: 0,
  completed: 0,
  good: 0,
  goodSlo: 0,
  latencies: [],
  ...o,
})

describe('window figures', () => {
  it('takes the nearest-rank quantile: p99 of 100 values is the 99th, of 10 the largest', () => {
    const hundred = Array.from({ length: 100 }, (_, i) => 100 - i) // 100 … 1, unsorted on purpose
    expect(quantile(hundred, 0.99)).toBe(99)
    expect(quantile(hundred, 0.5)).toBe(50)
    expect(quantile([5, 1, 9, 3, 7, 2, 8, 4, 6, 10], 0.99)).toBe(10)
    expect(quantile([], 0.99)).toBeNaN()
  })

  it('records responses in the window they finished in, good within the timeout, goodSlo within the SLO', () => {
    const r = new RunRecorder(3, 200, 1000)
    r.attempt(500, true, true)
    r.attempt(999, false, false)
    r.complete(1500, 150)
    r.complete(1600, 200)
    r.complete(1700, 201)
    r.complete(2100, 1001)
    r.complete(3100, 10) // past the run: ignored
    expect(r.windows[0]).toMatchObject({ attempts: 2, firsts: 1, shed: 1, completed: 0 })
    expect(r.windows[1]).toMatchObject({ completed: 3, good: 3, goodSlo: 2, latencies: [150, 200, 201] })
    expect(r.windows[2]).toMatchObject({ completed: 1, good: 0, goodSlo: 0 })
    expect(windowP99s(r.windows)).toEqual([NaN, 201, 1001])
  })

  it('counts windows within the SLO: one with traffic but no answer is outside, one without traffic is left out', () => {
    const windows = [
      win({ attempts: 10, completed: 10, latencies: [100, 150] }),
      win({ attempts: 10, completed: 0 }), // nothing answered
      win({}), // no traffic
      win({ attempts: 5, completed: 2, latencies: [100, 300] }),
    ]
    expect(shareWithinSlo(windows, 0, 4, 200)).toBeCloseTo(1 / 3, 10)
    expect(shareWithinSlo(windows, 2, 3, 200)).toBeNaN()
  })

  it('times shedding from the onset: the end of the first second shedding ≥ 10 %', () => {
    const windows = [
      win({ attempts: 100, shed: 50 }),
      win({ attempts: 100, shed: 5 }),
      win({ attempts: 100, shed: 10 }),
      win({ attempts: 100 }),
    ]
    expect(timeToShed(windows, 1)).toBe(2) // window 2 ends 2 s after the onset at 1 s
    expect(timeToShed(windows, 3)).toBe(Infinity)
  })

  it('times the recovery: the end of the last second after the overload still shedding over 0.1 %', () => {
    const shedding = (n: number) => win({ attempts: 1000, shed: n })
    expect(timeToRecover([shedding(500), shedding(2), shedding(1), shedding(0), shedding(0)], 1)).toBe(1)
    expect(timeToRecover([shedding(500), shedding(0), shedding(0)], 1)).toBe(0)
    expect(timeToRecover([shedding(500), shedding(0), shedding(5)], 1)).toBe(Infinity)
  })

  it('takes the coefficient of variation of the limit inside the span only', () => {
    const limits: [number, number][] = [
      [0, 1000],
      [1, 90],
      [1.5, 110],
      [2, 90],
      [2.5, 110],
      [3, 5],
    ]
    expect(limitCv(limits, 1, 3)).toBeCloseTo(0.1, 10) // σ 10 / mean 100
    expect(limitCv([[1, NaN]], 0, 2)).toBeNaN()
  })
})
