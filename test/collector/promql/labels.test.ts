import { describe, expect, it } from 'vitest'
import { compareLabels, sortByLabels } from '../../../collector/src/promql/labels.ts'
import type { Labels } from '../../../collector/src/promql/querier.ts'

describe('sortByLabels', () => {
  it('orders label sets as compareLabels (Prometheus labels.Compare) does', () => {
    // Prefix names, prefix values, fewer labels and the metric name, in scrambled order.
    const sets: Labels[] = [
      { __name__: 'm', a: 'x' },
      { __name__: 'm', a: 'x', b: '1' },
      { __name__: 'm', a_: 'x' },
      { __name__: 'm', a: 'x0' },
      { __name__: 'm', a: 'X' },
      { __name__: 'm' },
      { __name__: 'm2', a: 'a' },
      { a: 'z' },
      { __name__: 'm', a: 'x', b: '10' },
      { __name__: 'm', a: '' },
    ]
    const want = sets.slice().sort(compareLabels)
    const got = sortByLabels(sets.map((labels) => ({ labels }))).map((s) => s.labels)
    expect(got).toEqual(want)
    expect(got[0]).toEqual({ __name__: 'm' })
    expect(got[got.length - 1]).toEqual({ a: 'z' })
  })
})
