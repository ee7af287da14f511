import { describe, expect, it } from 'vitest'
import { asMap, engineOver, matrixOf, series } from './fixtures.ts'

// g: a gauge every 15 s from 0 to 285 s with value i (the i-th point), a stale marker at 150 s.
const g = series({ __name__: 'g', job: 'a' }, 20, (i) => (i === 10 ? 'stale' : i))
// h: one point at 0 s only.
const h = series({ __name__: 'h', job: 'b', path: '/x\ny' }, 1, () => 7)
const engine = engineOver([g, h])

describe('instant selectors', () => {
  it('take the latest point within the 5-minute lookback, both ends included (Prometheus 2.x)', async () => {
    expect(asMap(await engine.instantQuery('h', 0))).toEqual({ '{__name__="h",job="b",path="/x\ny"}': 7 })
    expect(asMap(await engine.instantQuery('h', 299_999))).toEqual({ '{__name__="h",job="b",path="/x\ny"}': 7 })
    // A point exactly lookback-delta old is still seen in 2.x.
    expect(asMap(await engine.instantQuery('h', 300_000))).toEqual({ '{__name__="h",job="b",path="/x\ny"}': 7 })
    expect(asMap(await engine.instantQuery('h', 300_001))).toEqual({})
    expect(asMap(await engine.instantQuery('g', 20_000))).toEqual({ '{__name__="g",job="a"}': 1 })
  })
  it('end a series at a stale marker until the next point', async () => {
    expect(asMap(await engine.instantQuery('g', 149_999))).toEqual({ '{__name__="g",job="a"}': 9 })
    expect(asMap(await engine.instantQuery('g', 150_000))).toEqual({})
    expect(asMap(await engine.instantQuery('g', 164_999))).toEqual({})
    expect(asMap(await engine.instantQuery('g', 165_000))).toEqual({ '{__name__="g",job="a"}': 11 })
  })
  it('honour a custom lookback delta', async () => {
    const short = engineOver([h], { lookbackDeltaMillis: 60_000 })
    expect(asMap(await short.instantQuery('h', 60_000))).toEqual({ '{__name__="h",job="b",path="/x\ny"}': 7 })
    expect(asMap(await short.instantQuery('h', 60_001))).toEqual({})
  })
  it('apply offset (also negative) and @ with start()/end()', async () => {
    expect(asMap(await engine.instantQuery('g offset 1m', 120_000))).toEqual({ '{__name__="g",job="a"}': 4 })
    expect(asMap(await engine.instantQuery('g offset -1m', 60_000))).toEqual({ '{__name__="g",job="a"}': 8 })
    expect(asMap(await engine.instantQuery('g @ 45', 1_000_000))).toEqual({ '{__name__="g",job="a"}': 3 })
    expect(asMap(await engine.instantQuery('g @ 60 offset 15s', 0))).toEqual({ '{__name__="g",job="a"}': 3 })
    // In a range query @ end() is the same at every step.
    const m = matrixOf(await engine.rangeQuery('g @ end()', 0, 60_000, 30_000))
    expect(m).toEqual({
      '{__name__="g",job="a"}': [
        [0, 4],
        [30, 4],
        [60, 4],
      ],
    })
    const s = matrixOf(await engine.rangeQuery('g @ start()', 30_000, 60_000, 30_000))
    expect(s).toEqual({
      '{__name__="g",job="a"}': [
        [30, 2],
        [60, 2],
      ],
    })
  })
  it('match with =, !=, =~ and !~ (anchored; . matches a newline; a missing label is "")', async () => {
    const both = ['{__name__="g",job="a"}', '{__name__="h",job="b",path="/x\ny"}']
    const keys = async (q: string): Promise<string[]> => Object.keys(asMap(await engine.instantQuery(q, 10_000))).sort()
    expect(await keys('{job=~"a|b"}')).toEqual(both)
    expect(await keys('{__name__=~"g|h", job=~"a|"}')).toEqual([both[0]])
    expect(await keys('{__name__=~".", job!="c"}')).toEqual(both)
    expect(await keys('{__name__=~"g|h", path=""}')).toEqual([both[0]])
    expect(await keys('{__name__=~"g|h", path!~"/x.y"}')).toEqual([both[0]])
    expect(await keys('{__name__!~"g", job!=""}')).toEqual([both[1]])
    expect(await keys('{job=~"(?i)A"}')).toEqual([both[0]])
    expect(await keys('{job=~"[[:alpha:]]"}')).toEqual(both)
  })
  it('select a range vector as the points in [t - range, t], closed as in Prometheus 2.x, stale markers left out', async () => {
    const d = await engine.instantQuery('g[1m]', 180_000)
    // Points at 120, 135, 150 (stale: left out), 165, 180 s.
    expect(matrixOf(d)).toEqual({
      '{__name__="g",job="a"}': [
        [120, 8],
        [135, 9],
        [165, 11],
        [180, 12],
      ],
    })
    expect(matrixOf(await engine.instantQuery('g[30s] offset 1m', 120_000))).toEqual({
      '{__name__="g",job="a"}': [
        [30, 2],
        [45, 3],
        [60, 4],
      ],
    })
  })
  it('refuse a range vector or a string as a range query result', async () => {
    await expect(engine.rangeQuery('g[1m]', 0, 60_000, 15_000)).rejects.toMatchObject({
      errorType: 'bad_data',
      message: 'invalid expression type "range vector" for range query, must be Scalar or instant Vector',
    })
    await expect(engine.rangeQuery('"a"', 0, 60_000, 15_000)).rejects.toMatchObject({ errorType: 'bad_data' })
  })
  it('evaluate a range query step by step with the same lookback and staleness', async () => {
    const m = matrixOf(await engine.rangeQuery('g', 120_000, 180_000, 15_000))
    expect(m['{__name__="g",job="a"}']).toEqual([
      [120, 8],
      [135, 9],
      [165, 11],
      [180, 12],
    ])
  })
})
