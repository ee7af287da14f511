import { describe, expect, it } from 'vitest'
import { PromqlEngine } from '../../../collector/src/promql/engine.ts'
import { MemoryQuerier } from '../../../collector/src/promql/memory-querier.ts'
import { PromqlError, isPromqlError } from '../../../collector/src/promql/errors.ts'
import { formatFloat } from '../../../collector/src/promql/literals.ts'
import type { Querier, RollupRequest, StepSeries } from '../../../collector/src/promql/querier.ts'
import { engineOver, series } from './fixtures.ts'

const data = [
  series({ __name__: 'm', job: 'b' }, 10, (i) => i),
  series({ __name__: 'm', job: 'a' }, 10, (i) => i / 3),
  series({ __name__: 'm', job: 'c' }, 1, () => 1, 15_000, 1_000_000),
]

describe('PromqlEngine answers', () => {
  it('gives Prometheus data objects: times in seconds, values as Go formats them', async () => {
    const e = engineOver(data)
    expect(await e.instantQuery('m{job="a"}', 45_000)).toEqual({
      resultType: 'vector',
      result: [{ metric: { __name__: 'm', job: 'a' }, value: [45, '1'] }],
    })
    expect(await e.instantQuery('1 / 3', 1_500)).toEqual({ resultType: 'scalar', result: [1.5, '0.3333333333333333'] })
    expect(await e.instantQuery('"x"', 0)).toEqual({ resultType: 'string', result: [0, 'x'] })
  })
  it('sorts range query series by labels and leaves out series with no point', async () => {
    const e = engineOver(data)
    const d = await e.rangeQuery('m', 0, 30_000, 15_000)
    expect(d).toEqual({
      resultType: 'matrix',
      result: [
        {
          metric: { __name__: 'm', job: 'a' },
          values: [
            [0, '0'],
            [15, '0.3333333333333333'],
            [30, '0.6666666666666666'],
          ],
        },
        {
          metric: { __name__: 'm', job: 'b' },
          values: [
            [0, '0'],
            [15, '1'],
            [30, '2'],
          ],
        },
      ],
    })
  })
  it('turns a scalar range query into one series without labels', async () => {
    expect(await engineOver([]).rangeQuery('time() * 2', 0, 2_000, 1_000)).toEqual({
      resultType: 'matrix',
      result: [
        {
          metric: {},
          values: [
            [0, '0'],
            [1, '2'],
            [2, '4'],
          ],
        },
      ],
    })
  })
  it('answers a query asked again as it answers it the first time, at other times and ranges', async () => {
    const kept = engineOver(data)
    const queries = ['m{job="b"} @ start()', 'sum(m offset 15s)', 'rate(m[1m])', 'm{job="a"} + 1']
    for (const [start, end] of [
      [30_000, 60_000],
      [90_000, 135_000],
      [30_000, 60_000],
    ] as const) {
      for (const q of queries) {
        expect(await kept.rangeQuery(q, start, end, 15_000), `${q} over ${start}…${end}`).toEqual(
          await engineOver(data).rangeQuery(q, start, end, 15_000),
        )
        expect(await kept.instantQuery(q, end), `${q} at ${end}`).toEqual(await engineOver(data).instantQuery(q, end))
      }
    }
    // A query that does not parse fails every time, and more distinct queries than are kept all answer.
    for (let i = 0; i < 2; i++)
      await expect(kept.instantQuery('sum(', 0)).rejects.toMatchObject({ errorType: 'bad_data' })
    for (let i = 0; i < 300; i++)
      expect(await kept.instantQuery(`m{job="b"} * ${i}`, 45_000)).toEqual({
        resultType: 'vector',
        result: [{ metric: { job: 'b' }, value: [45, String(3 * i)] }],
      })
  })
  it('fails past maxSamples with Prometheus words', async () => {
    const e = engineOver(data, { maxSamples: 15 })
    await expect(e.rangeQuery('m', 0, 135_000, 15_000)).rejects.toMatchObject({
      errorType: 'execution',
      message: 'query processing would load too many samples into memory in query execution',
    })
    await expect(engineOver(data, { maxSamples: 25 }).rangeQuery('m', 0, 135_000, 15_000)).resolves.toMatchObject({
      resultType: 'matrix',
    })
  })
  it('times out by its own clock and stops when the caller aborts', async () => {
    let now = 0
    const q = new MemoryQuerier(data)
    const slow: Querier = {
      select: async (...args) => {
        now += 10_000
        return q.select(...args)
      },
      series: (...a) => q.series(...a),
      labelNames: (...a) => q.labelNames(...a),
      labelValues: (...a) => q.labelValues(...a),
    }
    const e = new PromqlEngine(slow, { maxSamples: 1e6, maxSeries: 100, timeoutMillis: 5_000, clock: () => now })
    await expect(e.instantQuery('m + m', 0)).rejects.toMatchObject({
      errorType: 'timeout',
      message: 'query timed out in expression evaluation',
    })
    const ac = new AbortController()
    ac.abort()
    await expect(engineOver(data).instantQuery('m', 0, ac.signal)).rejects.toMatchObject({ errorType: 'canceled' })
  })
  it('passes a store error through untouched', async () => {
    const boom = new Error('store down')
    const failing: Querier = {
      select: async () => {
        throw boom
      },
      series: async () => [],
      labelNames: async () => [],
      labelValues: async () => [],
    }
    const e = new PromqlEngine(failing, { maxSamples: 1e6, maxSeries: 100, timeoutMillis: 1_000 })
    await expect(e.instantQuery('sum(rate(m[5m]))', 0)).rejects.toBe(boom)
  })
  it('refuses bad ranges and options', async () => {
    await expect(engineOver(data).rangeQuery('m', 10, 0, 1)).rejects.toMatchObject({ errorType: 'bad_data' })
    await expect(engineOver(data).rangeQuery('m', 0, 10, 0)).rejects.toMatchObject({ errorType: 'bad_data' })
    expect(() => new PromqlEngine(new MemoryQuerier([]), { maxSamples: 0, maxSeries: 1, timeoutMillis: 1 })).toThrow(
      'EngineOptions.maxSamples must be a positive number, got 0',
    )
  })
  it('refuses a selector matching more series than maxSeries', async () => {
    const e = new PromqlEngine(new MemoryQuerier(data), { maxSamples: 1e6, maxSeries: 2, timeoutMillis: 1_000 })
    await expect(e.instantQuery('m', 0)).resolves.toBeDefined()
    await expect(e.instantQuery('m', 1_000_000)).resolves.toBeDefined()
    await expect(e.rangeQuery('m', 0, 1_000_000, 100_000)).rejects.toMatchObject({ errorType: 'execution' })
  })
})

describe('store rollups', () => {
  it('uses the store rollup of a range function when it answers, and computes itself when not', async () => {
    const mem = new MemoryQuerier(data)
    const asked: RollupRequest[] = []
    let answer: StepSeries[] | undefined
    const querier: Querier = {
      select: (...a) => mem.select(...a),
      series: (...a) => mem.series(...a),
      labelNames: (...a) => mem.labelNames(...a),
      labelValues: (...a) => mem.labelValues(...a),
      rollup: async (req) => {
        asked.push(req)
        return answer
      },
    }
    const e = new PromqlEngine(querier, { maxSamples: 1e6, maxSeries: 100, timeoutMillis: 1_000 })
    const own = await e.rangeQuery('rate(m[1m] offset 15s)', 60_000, 120_000, 30_000)
    expect(asked).toEqual([
      {
        fn: 'rate',
        matchers: [{ name: '__name__', type: '=', value: 'm' }],
        range: 60_000,
        offset: 15_000,
        start: 60_000,
        end: 120_000,
        step: 30_000,
      },
    ])
    expect(own).toMatchObject({ resultType: 'matrix', result: [{ metric: { job: 'a' } }, { metric: { job: 'b' } }] })
    answer = [
      { labels: { __name__: 'm', job: 'z' }, values: Float64Array.of(1, NaN, 3), present: Uint8Array.of(1, 0, 1) },
    ]
    expect(await e.rangeQuery('rate(m[1m] offset 15s)', 60_000, 120_000, 30_000)).toEqual({
      resultType: 'matrix',
      result: [
        {
          metric: { job: 'z' },
          values: [
            [60, '1'],
            [120, '3'],
          ],
        },
      ],
    })
    // Not for functions with more arguments, @, or instant queries.
    asked.length = 0
    await e.rangeQuery('quantile_over_time(0.5, m[1m])', 60_000, 120_000, 30_000)
    await e.rangeQuery('rate(m[1m] @ 60)', 60_000, 120_000, 30_000)
    await e.instantQuery('rate(m[1m])', 60_000)
    expect(asked).toEqual([])
  })
})

describe('errors and formatting', () => {
  it('brands errors so a second copy of the module recognises them', () => {
    const err = new PromqlError('bad_data', 'x')
    expect(isPromqlError(err)).toBe(true)
    expect(isPromqlError(Object.assign(new Error('x'), { [Symbol.for('governor.promql.error')]: true }))).toBe(true)
    expect(isPromqlError(new Error('x'))).toBe(false)
  })
  it('formats floats as Go FormatFloat(f, f, -1, 64)', () => {
    expect(formatFloat(1e21)).toBe('1000000000000000000000')
    expect(formatFloat(1.5e-7)).toBe('0.00000015')
    expect(formatFloat(-2.5e22)).toBe('-25000000000000000000000')
    expect(formatFloat(0.1 + 0.2)).toBe('0.30000000000000004')
    expect(formatFloat(NaN)).toBe('NaN')
    expect(formatFloat(-Infinity)).toBe('-Inf')
    expect(formatFloat(Infinity)).toBe('+Inf')
  })
})
