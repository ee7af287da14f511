import { describe, expect, it } from 'vitest'
import {
  alertState,
  budgetRemaining,
  burnPairs,
  burnRate,
  fires,
  WORKBOOK_PAIRS,
} from '../../../collector/src/slo/burn-windows.ts'
import { matchesValue } from '../../../collector/src/slo/definition.ts'
import { formatDuration, parseWindow } from '../../../collector/src/slo/duration.ts'

const H = 3_600_000,
  D = 24 * H

describe('burn windows', () => {
  it('keeps the workbook pairs for a 30-day SLO and scales them by window / 30d otherwise, floored', () => {
    expect(burnPairs(30 * D)).toEqual(WORKBOOK_PAIRS)
    // 28d: 1h × 28/30 = 56m; 5m × 28/30 = 4m40s, floored to 5m (and the long to 12 × 5m); 3d × 28/30 = 2d19h12m.
    expect(
      burnPairs(28 * D).map((p) => [formatDuration(p.longMillis), formatDuration(p.shortMillis), p.threshold]),
    ).toEqual([
      ['1h', '5m', 14.4],
      ['5h36m', '28m', 6],
      ['22h24m', '1h52m', 3],
      ['2d19h12m', '5h36m', 1],
    ])
    expect(burnPairs(28 * D)[0]!.floored).toEqual({ longMillis: 56 * 60_000, shortMillis: 280_000 })
    expect(burnPairs(28 * D)[1]!.floored).toBeUndefined()
    // 1h: 1h/720 = 5 s; 5m/720 = 0.4167 s, rounded to whole seconds and at least one; floored to 1h/5m.
    expect(burnPairs(H)[0]).toMatchObject({
      longMillis: H,
      shortMillis: 300_000,
      floored: { longMillis: 5_000, shortMillis: 1_000 },
    })
  })

  it('reads budget and burn as shares of the allowed bad ratio', () => {
    // 5 bad of 1000 = 0.5 % against 1 % allowed: burn 0.5, half the budget left.
    expect(burnRate({ bad: 5, total: 1000 }, 0.01)).toBeCloseTo(0.5, 12)
    expect(budgetRemaining({ bad: 5, total: 1000 }, 0.01)).toBeCloseTo(0.5, 12)
    expect(budgetRemaining({ bad: 30, total: 1000 }, 0.01)).toBeCloseTo(-2, 12)
    expect(burnRate({ bad: 0, total: 0 }, 0.01)).toBeUndefined()
    expect(budgetRemaining({ bad: 0, total: 0 }, 0.01)).toBe(1)
  })

  it('fires a pair only when both windows burn above its threshold', () => {
    const [page, , ticket] = WORKBOOK_PAIRS
    expect(fires(page!, 15, 20)).toBe(true)
    expect(fires(page!, 14.4, 20)).toBe(false)
    expect(fires(page!, 20, undefined)).toBe(false)
    expect(
      alertState([
        { pair: page!, firing: false },
        { pair: ticket!, firing: true },
      ]),
    ).toBe('ticket')
    expect(
      alertState([
        { pair: page!, firing: true },
        { pair: ticket!, firing: true },
      ]),
    ).toBe('page')
    expect(alertState([{ pair: page!, firing: false }])).toBe('ok')
  })
})

describe('SLO definitions', () => {
  it('matches status families and exact values in error filters', () => {
    expect(['500', '503', '599', '5xx', '5XX'].every((v) => matchesValue(v, '5xx'))).toBe(true)
    expect(['200', '404', '50', '5000', 'error'].some((v) => matchesValue(v, '5xx'))).toBe(false)
    expect(matchesValue('ERROR', 'ERROR')).toBe(true)
    expect(matchesValue('error', 'ERROR')).toBe(false)
  })

  it('reads windows in minutes, hours, days and weeks', () => {
    expect(parseWindow('30d')).toBe(30 * D)
    expect(parseWindow('4w')).toBe(28 * D)
    expect(parseWindow('90m')).toBe(1.5 * H)
    expect([parseWindow('30'), parseWindow('1.5d'), parseWindow('0d'), parseWindow(30)]).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
    ])
  })
})
