import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../collector/src/app.ts'
import { decodeRemoteWrite } from '../../collector/src/decode/remote-write.ts'
import { MetricFamilies } from '../../collector/src/decode/remote-write-typing.ts'
import { MetricTypes } from '../../collector/src/model/metric-types.ts'
import { SeriesCache } from '../../collector/src/model/series-cache.ts'
import { encodeWriteRequest } from '../helpers/remote-write.ts'
import { gaugeRequest, nanos } from '../helpers/otlp.ts'
import { testSettings } from '../helpers/settings.ts'

// A gauge name sent again as a sum was accepted, and the old and new points merged into one
// series of two types. Now every point of the contradicting type is refused, with the metric,
// the stored type and the sent type.

let app: FastifyInstance
beforeAll(async () => {
  app = await buildApp(testSettings(), { logger: false })
})
afterAll(async () => {
  await app?.close()
})

const now = Date.now()
const sumRequest = (name: string, values: number[]) => ({
  resourceMetrics: [
    {
      resource: { attributes: [{ key: 'service.name', value: { stringValue: 'shop' } }] },
      scopeMetrics: [
        {
          metrics: [
            {
              name,
              sum: {
                aggregationTemporality: 2,
                isMonotonic: true,
                dataPoints: values.map((v, i) => ({
                  timeUnixNano: nanos(now - 1000 * (values.length - i)),
                  asDouble: v,
                })),
              },
            },
          ],
        },
      ],
    },
  ],
})
const post = async (payload: object) => {
  const res = await app.inject({
    method: 'POST',
    url: '/v1/metrics',
    headers: { 'content-type': 'application/json' },
    payload,
  })
  return {
    status: res.statusCode,
    body: res.json() as { partialSuccess?: { rejectedDataPoints?: string | number; errorMessage?: string } },
  }
}

describe('a metric sent with another type than it is stored with', () => {
  it('is refused over OTLP with a partial success naming the metric, the stored type and the sent type', async () => {
    expect((await post(gaugeRequest('shop', { 'queue.depth': [{ ts: now - 5000, value: 3 }] }))).status).toBe(200)
    const flipped = await post(sumRequest('queue.depth', [1, 2, 3]))
    expect(flipped.status).toBe(200)
    expect(Number(flipped.body.partialSuccess?.rejectedDataPoints)).toBe(3)
    expect(flipped.body.partialSuccess?.errorMessage).toBe(
      'metric "queue.depth": type sum contradicts the stored type gauge: points of another type are refused (send them under another name)',
    )
    // The same type again is taken.
    expect(
      (await post(gaugeRequest('shop', { 'queue.depth': [{ ts: now - 4000, value: 4 }] }))).body.partialSuccess ?? {},
    ).toEqual({})
    // One series, of one type.
    await app.governor.pipeline.sync()
    const rows = await app.governor.store.client.query({
      query: `SELECT DISTINCT type FROM ${app.governor.store.db}.series WHERE metric = 'queue.depth'`,
      format: 'JSONCompactEachRow',
    })
    expect(await rows.json()).toEqual([['gauge']])
  })

  it('takes the stored types from the series table at start', async () => {
    const types = MetricTypes.of(await app.governor.queries.metricTypes())
    expect(types.get('queue.depth')).toBe('gauge')
    expect(types.get('never.sent')).toBeUndefined()
  })

  it('is counted as rejected for remote write, but a gauge or sum yields to a stored gauge or sum, guessed or declared', () => {
    const types = new MetricTypes()
    types.learn('jobs_total', 'histogram')
    types.learn('hits', 'gauge')
    types.learn('queue_depth', 'sum')
    const cache = new SeriesCache(1000, undefined, types)
    const write = (name: string, families = new MetricFamilies()) =>
      decodeRemoteWrite(
        encodeWriteRequest([
          {
            labels: { __name__: name, job: 'worker' },
            samples: [
              [now - 2000, 1],
              [now - 1000, 2],
            ],
          },
        ]),
        cache,
        families,
        0,
      )
    const histogram = write('jobs_total')
    expect([histogram.rejected, histogram.batch.pointCount]).toEqual([2, 0])
    expect(histogram.errors).toEqual([
      'metric "jobs_total": type sum contradicts the stored type histogram: points of another type are refused (send them under another name)',
    ])
    // Metadata says counter, the name is stored as a gauge (its first samples came before its
    // metadata): its samples are the same rows either way, so they are stored, as a gauge.
    const families = new MetricFamilies()
    families.set('hits', { type: 1, help: 'Hits.', unit: '' })
    const declared = write('hits', families)
    expect(declared.rejected).toBe(0)
    expect([...declared.batch.series.values()].map((s) => s.type)).toEqual(['gauge'])
    // No metadata: 'queue_depth' would be guessed a gauge; it is stored as a sum, and stays one.
    const guessed = write('queue_depth')
    expect(guessed.rejected).toBe(0)
    expect([...guessed.batch.series.values()].map((s) => s.type)).toEqual(['sum'])
  })
})
