import { describe, expect, it } from 'vitest'
import { asMap, engineOver, series } from './fixtures.ts'

const at = (labels: Record<string, string>, v: number) => series(labels, 1, () => v)
const engine = engineOver([
  at({ __name__: 'req', job: 'a', code: '200' }, 10),
  at({ __name__: 'req', job: 'a', code: '500' }, 2),
  at({ __name__: 'req', job: 'b', code: '200' }, 6),
  at({ __name__: 'limit', job: 'a' }, 8),
  at({ __name__: 'limit', job: 'b' }, 4),
  at({ __name__: 'info', job: 'a', team: 'x' }, 1),
  at({ __name__: 'info', job: 'b', team: 'y' }, 1),
  at({ __name__: 'errs', job: 'a', code: '500' }, 1),
  at({ __name__: 'dup', job: 'a', i: '1' }, 1),
  at({ __name__: 'dup', job: 'a', i: '2' }, 2),
])
const q = async (query: string) => asMap(await engine.instantQuery(query, 0))

describe('vector and scalar operands', () => {
  it('applies arithmetic to every sample and drops the metric name', async () => {
    expect(await q('limit * 2')).toEqual({ '{job="a"}': 16, '{job="b"}': 8 })
    expect(await q('100 - limit')).toEqual({ '{job="a"}': 92, '{job="b"}': 96 })
    expect(await q('2 ^ limit{job="b"}')).toEqual({ '{job="b"}': 16 })
    expect(await q('limit % 3')).toEqual({ '{job="a"}': 2, '{job="b"}': 1 })
    expect(await q('-limit')).toEqual({ '{job="a"}': -8, '{job="b"}': -4 })
  })
  it('filters with a comparison, keeping the name and the vector value (also with the scalar on the left)', async () => {
    expect(await q('limit > 5')).toEqual({ '{__name__="limit",job="a"}': 8 })
    expect(await q('5 < limit')).toEqual({ '{__name__="limit",job="a"}': 8 })
    expect(await q('limit > bool 5')).toEqual({ '{job="a"}': 1, '{job="b"}': 0 })
  })
})

describe('vector matching', () => {
  it('matches one-to-one on all labels but the name', async () => {
    // One-to-one results lose the ignored labels too.
    expect(await q('req{code="200"} / ignoring(code) limit')).toEqual({ '{job="a"}': 1.25, '{job="b"}': 1.5 })
    expect(await q('req{code="500"} - errs')).toEqual({ '{code="500",job="a"}': 1 })
  })
  it('keeps only the on() labels in one-to-one results, comparisons included', async () => {
    expect(await q('req{code="200"} / on(job) limit')).toEqual({ '{job="a"}': 1.25, '{job="b"}': 1.5 })
    expect(await q('req{code="200"} > on(job) limit')).toEqual({ '{job="a"}': 10, '{job="b"}': 6 })
    expect(await q('req{code="200"} > bool on(job) limit')).toEqual({ '{job="a"}': 1, '{job="b"}': 1 })
  })
  it('group_left matches many to one and copies labels from the one side', async () => {
    expect(await q('req / on(job) group_left limit')).toEqual({
      '{code="200",job="a"}': 1.25,
      '{code="500",job="a"}': 0.25,
      '{code="200",job="b"}': 1.5,
    })
    expect(await q('req * on(job) group_left(team) info')).toEqual({
      '{code="200",job="a",team="x"}': 10,
      '{code="500",job="a",team="x"}': 2,
      '{code="200",job="b",team="y"}': 6,
    })
    // A filter keeps the many side's labels, name included.
    expect(await q('req > on(job) group_left limit')).toEqual({
      '{__name__="req",code="200",job="a"}': 10,
      '{__name__="req",code="200",job="b"}': 6,
    })
  })
  it('group_right swaps the sides, the left operand still giving the comparison value', async () => {
    expect(await q('limit / on(job) group_right req')).toEqual({
      '{code="200",job="a"}': 0.8,
      '{code="500",job="a"}': 4,
      '{code="200",job="b"}': 4 / 6,
    })
    expect(await q('limit < on(job) group_right req')).toEqual({
      '{__name__="req",code="200",job="a"}': 8,
      '{__name__="req",code="200",job="b"}': 4,
    })
  })
  it('refuses many-to-many matching, naming the duplicates', async () => {
    await expect(q('limit + on(job) dup')).rejects.toMatchObject({
      errorType: 'execution',
      message:
        'found duplicate series for the match group {job="a"} on the right hand-side of the operation: [{__name__="dup", i="2", job="a"}, {__name__="dup", i="1", job="a"}];many-to-many matching not allowed: matching labels must be unique on one side',
    })
    await expect(q('dup + on(job) group_right limit')).rejects.toMatchObject({
      message: /on the left hand-side of the operation/,
    })
  })
  it('refuses an implicit many-to-one match', async () => {
    await expect(q('dup + on(job) limit')).rejects.toMatchObject({
      errorType: 'execution',
      message: 'multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)',
    })
  })
  it('refuses group_left results that are not unique', async () => {
    // req and errs with code 500 both give {code="500", job="a"} once the name is dropped.
    await expect(q('{__name__=~"req|errs", code="500"} + on(job) group_left limit')).rejects.toMatchObject({
      message: 'multiple matches for labels: grouping labels must ensure unique matches',
    })
  })
  it('refuses results with the same label set', async () => {
    await expect(q('{__name__=~"req|errs", code="500"} * 2')).rejects.toMatchObject({
      message: 'vector cannot contain metrics with the same labelset',
    })
  })
})

describe('set operators', () => {
  it('and keeps the left series that match, with their values and names', async () => {
    expect(await q('req and on(job) limit > 5')).toEqual({
      '{__name__="req",code="200",job="a"}': 10,
      '{__name__="req",code="500",job="a"}': 2,
    })
    expect(await q('req and errs')).toEqual({ '{__name__="req",code="500",job="a"}': 2 })
  })
  it('or adds the right series whose signature the left lacks', async () => {
    expect(await q('limit{job="a"} or on(job) info')).toEqual({
      '{__name__="limit",job="a"}': 8,
      '{__name__="info",job="b",team="y"}': 1,
    })
  })
  it('unless keeps the left series that do not match', async () => {
    expect(await q('req unless errs')).toEqual({
      '{__name__="req",code="200",job="a"}': 10,
      '{__name__="req",code="200",job="b"}': 6,
    })
    expect(await q('req unless on(job) limit < 5')).toEqual({
      '{__name__="req",code="200",job="a"}': 10,
      '{__name__="req",code="500",job="a"}': 2,
    })
  })
})

describe('scalar arithmetic follows Go', () => {
  it('Pow, Mod and division by zero', async () => {
    const s = async (query: string) => {
      const d = await engine.instantQuery(query, 0)
      if (d.resultType !== 'scalar') throw new Error('scalar expected')
      return d.result[1]
    }
    expect(await s('1 ^ NaN')).toBe('1')
    expect(await s('NaN ^ 0')).toBe('1')
    expect(await s('-7 % 3')).toBe('-1')
    expect(await s('1 / 0')).toBe('+Inf')
    expect(await s('-1 / 0')).toBe('-Inf')
    expect(await s('0 / 0')).toBe('NaN')
    expect(await s('5 % 0')).toBe('NaN')
  })
})
