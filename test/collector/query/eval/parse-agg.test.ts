import { describe, expect, it } from 'vitest'
import { isGovernorError } from '../../../../collector/src/errors.ts'
import { parseAgg } from '../../../../collector/src/query/eval/parse-agg.ts'

describe('parseAgg', () => {
  it('accepts the plain names', () => {
    for (const name of ['avg', 'min', 'max', 'sum', 'count', 'last', 'rate', 'increase']) {
      expect(parseAgg(name)).toEqual({ kind: name, name })
    }
  })

  it('accepts pNN and pNN.N quantiles up to p99.99, exactly', () => {
    expect(parseAgg('p50')).toEqual({ kind: 'quantile', name: 'p50', q: 0.5 })
    expect(parseAgg('p99.9')).toMatchObject({ q: 0.999 })
    expect(parseAgg('p99.99')).toMatchObject({ q: 0.9999 })
    expect(parseAgg('p5')).toMatchObject({ q: 0.05 })
    expect(parseAgg('p0')).toMatchObject({ q: 0 })
  })

  it('rejects anything else with GOV_ERR_QUERY_PARAM naming the value and the valid ones', () => {
    for (const bad of ['median', 'p100', 'p99.999', 'p05', 'P50', 'p', '', 'avg ']) {
      let caught: unknown
      try {
        parseAgg(bad)
      } catch (err) {
        caught = err
      }
      expect(isGovernorError(caught), bad).toBe(true)
      expect((caught as { code: string }).code).toBe('GOV_ERR_QUERY_PARAM')
      expect((caught as Error).message).toContain(JSON.stringify(bad))
      expect((caught as Error).message).toContain('avg, min, max, sum, count, last, rate, increase')
      expect((caught as Error).message).toContain('p99.9')
    }
  })
})
