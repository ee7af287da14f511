import { describe, expect, it } from 'vitest'
import { MemoryQuerier } from '../../../collector/src/promql/memory-querier.ts'
import { PromqlEngine } from '../../../collector/src/promql/engine.ts'
import type { RawSeries } from '../../../collector/src/promql/querier.ts'
import { asMap, engineOver, matrixOf, series } from './fixtures.ts'

const at = (labels: Record<string, string>, v: number) => series({ __name__: 'm', ...labels }, 1, () => v)
const engine = engineOver([
  at({ job: 'a', inst: '1' }, 1),
  at({ job: 'a', inst: '2' }, 4),
  at({ job: 'a', inst: '3' }, 4),
  at({ job: 'b', inst: '1' }, 10),
  at({ job: 'b', inst: '2' }, NaN),
  at({ job: 'c', inst: '1' }, Infinity),
  at({ job: 'c', inst: '2' }, 5),
])
const q = async (query: string) => asMap(await engine.instantQuery(query, 0))

describe('aggregations', () => {
  it('sum, avg, count, group by a label, NaN spreading into sum and avg', async () => {
    expect(await q('sum by (job) (m)')).toEqual({ '{job="a"}': 9, '{job="b"}': NaN, '{job="c"}': Infinity })
    expect(await q('avg by (job) (m)')).toEqual({ '{job="a"}': 3, '{job="b"}': NaN, '{job="c"}': Infinity })
    expect(await q('count by (job) (m)')).toEqual({ '{job="a"}': 3, '{job="b"}': 2, '{job="c"}': 2 })
    expect(await q('group by (job) (m)')).toEqual({ '{job="a"}': 1, '{job="b"}': 1, '{job="c"}': 1 })
    expect(await q('sum(m{job="a"})')).toEqual({ '{}': 9 })
  })
  it('min and max let a number replace NaN, and NaN stays only when all are NaN', async () => {
    expect(await q('max by (job) (m)')).toEqual({ '{job="a"}': 4, '{job="b"}': 10, '{job="c"}': Infinity })
    expect(await q('min by (job) (m)')).toEqual({ '{job="a"}': 1, '{job="b"}': 10, '{job="c"}': 5 })
    expect(await q('min(m{job="b", inst="2"})')).toEqual({ '{}': NaN })
  })
  it('stddev and stdvar are population statistics', async () => {
    // job a: 1 4 4, mean 3, squared deviations 4 1 1 → 2.
    expect(await q('stdvar by (job) (m{job="a"})')).toEqual({ '{job="a"}': 2 })
    const sd = await q('stddev by (job) (m{job="a"})')
    expect(sd['{job="a"}']).toBeCloseTo(Math.SQRT2, 14)
    expect(await q('stddev(m{job="b"})')).toEqual({ '{}': NaN })
  })
  it('without drops the listed labels and the metric name; by keeps only its labels', async () => {
    expect(await q('sum without (inst) (m{job="a"})')).toEqual({ '{job="a"}': 9 })
    expect(await q('max without () (m{job="a", inst="1"})')).toEqual({ '{inst="1",job="a"}': 1 })
    expect(await q('sum by (__name__) (m{job="a"})')).toEqual({ '{__name__="m"}': 9 })
    expect(await q('sum by (nope) (m{job="a"})')).toEqual({ '{}': 9 })
  })
  it('topk and bottomk keep whole series, prefer numbers over NaN, and keep the first of equals', async () => {
    expect(await q('topk(1, m{job="a"})')).toEqual({ '{__name__="m",inst="2",job="a"}': 4 })
    expect(await q('topk by (job) (1, m)')).toEqual({
      '{__name__="m",inst="2",job="a"}': 4,
      '{__name__="m",inst="1",job="b"}': 10,
      '{__name__="m",inst="1",job="c"}': Infinity,
    })
    expect(await q('bottomk(1, m{job="b"})')).toEqual({ '{__name__="m",inst="1",job="b"}': 10 })
    expect(await q('bottomk(2, m{job="a"})')).toEqual({
      '{__name__="m",inst="1",job="a"}': 1,
      '{__name__="m",inst="2",job="a"}': 4,
    })
    expect(await q('topk(0, m)')).toEqual({})
    expect(Object.keys(await q('topk(100, m)'))).toHaveLength(7)
  })
  it('topk of an instant query lists the highest first', async () => {
    const d = await engine.instantQuery('topk(3, m{job=~"a|b"})', 0)
    if (d.resultType !== 'vector') throw new Error('vector expected')
    expect(d.result.map((s) => s.value[1])).toEqual(['10', '4', '4'])
  })
  it('topk with k that is no integer fails as Prometheus does', async () => {
    await expect(engine.instantQuery('topk(NaN, m)', 0)).rejects.toMatchObject({
      errorType: 'execution',
      message: 'Scalar value NaN overflows int64',
    })
  })
  it('quantile interpolates between ranks; outside [0, 1] it is ±Inf', async () => {
    // job a sorted 1 4 4: rank 0.25 · 2 = 0.5 → 1 + 0.5 · 3.
    expect(await q('quantile by (job) (0.25, m{job="a"})')).toEqual({ '{job="a"}': 2.5 })
    expect(await q('quantile(1.5, m{job="a"})')).toEqual({ '{}': Infinity })
    expect(await q('quantile(-0.5, m{job="a"})')).toEqual({ '{}': -Infinity })
  })
  it('count_values counts each value under a label, formatted as Go does', async () => {
    expect(await q('count_values("v", m)')).toEqual({
      '{v="1"}': 1,
      '{v="4"}': 2,
      '{v="10"}': 1,
      '{v="NaN"}': 1,
      '{v="+Inf"}': 1,
      '{v="5"}': 1,
    })
    expect(await q('count_values by (job) ("v", m{job="a"})')).toEqual({ '{job="a",v="1"}': 1, '{job="a",v="4"}': 2 })
    await expect(engine.instantQuery('count_values("a-b", m)', 0)).rejects.toMatchObject({
      message: 'invalid label name "a-b"',
    })
  })
  it('aggregates every step of a range query, with groups appearing and going', async () => {
    const e = engineOver(
      [
        series({ __name__: 'x', k: '1' }, 4, (i) => i),
        series({ __name__: 'x', k: '2' }, 2, (i) => 10 * i, 15_000, 30_000),
      ],
      { lookbackDeltaMillis: 15_000 },
    )
    // k=1 at 0 15 30 45 s: 0 1 2 3; k=2 at 30 45 s: 0 10.
    expect(matrixOf(await e.rangeQuery('sum(x)', 0, 45_000, 15_000))).toEqual({
      '{}': [
        [0, 0],
        [15, 1],
        [30, 2],
        [45, 13],
      ],
    })
    expect(matrixOf(await e.rangeQuery('topk(1, x)', 0, 45_000, 15_000))).toEqual({
      '{__name__="x",k="1"}': [
        [0, 0],
        [15, 1],
        [30, 2],
      ],
      '{__name__="x",k="2"}': [[45, 10]],
    })
  })
})

describe('evaluation order of selected series', () => {
  // A store that hands series over in reverse label order, as ClickHouse may (by series id).
  class ReversedQuerier extends MemoryQuerier {
    override async select(...args: Parameters<MemoryQuerier['select']>): Promise<RawSeries[]> {
      return (await super.select(...args)).reverse()
    }
  }
  const tie = [at({ inst: 'a' }, 7), at({ inst: 'b' }, 7), at({ inst: 'c' }, 9)]
  const reversed = new PromqlEngine(new ReversedQuerier(tie), {
    maxSamples: 1e6,
    maxSeries: 1e4,
    timeoutMillis: 10_000,
  })

  it('breaks topk/bottomk ties in label order whatever order the store answers in', async () => {
    // Prometheus sees series sorted by labels: bottomk(1) keeps the first of equals, inst="a".
    expect(asMap(await reversed.instantQuery('bottomk(1, m)', 0))).toEqual({ '{__name__="m",inst="a"}': 7 })
    // topk(2): a and b fill the heap; c pops a (the heap's root) and is pushed: b and c stay.
    expect(asMap(await reversed.instantQuery('topk(2, m)', 0))).toEqual({
      '{__name__="m",inst="b"}': 7,
      '{__name__="m",inst="c"}': 9,
    })
    expect(Object.keys(matrixOf(await reversed.rangeQuery('bottomk(1, m)', 0, 0, 1000)))).toEqual([
      '{__name__="m",inst="a"}',
    ])
  })
  it('breaks the ties in label order over range selectors too', async () => {
    expect(Object.keys(matrixOf(await reversed.rangeQuery('bottomk(1, last_over_time(m[1m]))', 0, 0, 1000)))).toEqual([
      '{__name__="m",inst="a"}',
    ])
  })
})
