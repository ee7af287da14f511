import { describe, expect, it } from 'vitest'
import { PointBatch } from '../../../collector/src/model/batch.ts'
import type { SeriesInfo } from '../../../collector/src/model/types.ts'
import { encodePoints } from '../../../collector/src/store/encode-tsv.ts'

const series: SeriesInfo = {
  id: 7n,
  metric: 'm',
  type: 'histogram',
  temporality: 'cumulative',
  monotonic: false,
  unit: '',
  description: '',
  service: 's',
  scope: '',
  resource: {},
  attributes: {},
}
const T = 1_700_000_000_123

/** The columns of the one row `encodePoints` writes for `batch`'s `table`. */
function row(table: 'histograms' | 'exp_histograms' | 'summaries', batch: PointBatch): string[] {
  const text = encodePoints(table, [batch])!.toString()
  expect(text.endsWith('\n')).toBe(true)
  return text.slice(0, -1).split('\t')
}

describe('encodePoints, UInt64 columns', () => {
  // A uint64 past 2^53 reaches a batch as the nearest double: 2^64 - 1 as 2^64, which String()
  // writes 18446744073709552000 (the engine wraps it to 384); from 1e21 up it would write an
  // exponent, which the engine refuses.
  const cases: [number, string][] = [
    [0, '0'],
    [3, '3'],
    [Number.MAX_SAFE_INTEGER, '9007199254740991'],
    [2 ** 53 + 2, '9007199254740994'],
    [2 ** 63, '9223372036854775808'],
    [2 ** 64 - 2048, '18446744073709549568'],
    [2 ** 64, '18446744073709551615'],
  ]

  it.each(cases)('writes the count %d as %s, in every table', (count, text) => {
    const h = new PointBatch()
    h.histograms.push(series, T, 0, 0, count, 1, NaN, NaN, [1], [count, count])
    expect(row('histograms', h).slice(4, 5).concat(row('histograms', h).slice(9))).toEqual([text, `[${text},${text}]`])

    const e = new PointBatch()
    e.expHistograms.push(
      series,
      T,
      0,
      0,
      count,
      1,
      NaN,
      NaN,
      0,
      count,
      0,
      { offset: -1, counts: [count] },
      { offset: 2, counts: [1, count] },
    )
    const er = row('exp_histograms', e)
    expect([er[4], er[9], er[12], er[14]]).toEqual([text, text, `[${text}]`, `[1,${text}]`])

    const s = new PointBatch()
    s.summaries.push(series, T, 0, 0, count, 1, [0.5], [2])
    expect(row('summaries', s)[4]).toBe(text)
  })

  it('leaves Float64 columns in their shortest form, exponents and nan included', () => {
    const h = new PointBatch()
    h.histograms.push(series, T, 0, 1, 2, 1e300, NaN, -Infinity, [1e-300, 1e21], [1, 1, 0])
    expect(row('histograms', h).slice(3)).toEqual(['1', '2', '1e+300', 'nan', '-inf', '[1e-300,1e+21]', '[1,1,0]'])
  })
})
