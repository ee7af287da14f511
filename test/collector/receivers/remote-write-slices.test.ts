import Fastify, { type FastifyInstance } from 'fastify'
import { Registry } from 'prom-client'
import { afterEach, describe, expect, it } from 'vitest'
import { seriesIdsOf } from '../../../collector/src/store/encoded-batch.ts'
import { WritePipeline, type CommitGroup } from '../../../collector/src/batch/write-pipeline.ts'
import { installArrivalClock } from '../../../collector/src/http/arrival-clock.ts'
import { installIngestAdmission } from '../../../collector/src/http/ingest-admission.ts'
import { SeriesCache } from '../../../collector/src/model/series-cache.ts'
import { remoteWriteReceiver } from '../../../collector/src/receivers/remote-write.ts'
import { SelfMetrics } from '../../../collector/src/self-metrics.ts'
import type { Services } from '../../../collector/src/services.ts'
import { loadSettings } from '../../../collector/src/settings.ts'
import { encodeWriteRequest } from '../../helpers/remote-write.ts'

// A remote-write request of many series is decoded over several event-loop turns (a slice a
// turn, IngestAdmission.sliceMillis; 0 here: a slice ends at the decoder's first look at the
// clock), and still reaches the pipeline whole: one submit with every point, or nothing.

const T = Date.now() - 60_000
const request = (metric: string, series: number) =>
  Buffer.from(
    encodeWriteRequest(
      Array.from({ length: series }, (_, n) => ({
        labels: { __name__: metric, job: 'slices', n: String(n) },
        samples: [[T, n]] as const,
      })),
    ),
  )

let app: FastifyInstance | undefined
afterEach(async () => {
  await app?.close()
})

/** The receiver behind admission, over a pipeline that records each commit (one per submit). */
async function receiver(sliceMillis: number) {
  const groups: CommitGroup[] = []
  const pipeline = new WritePipeline({
    commit: async (g) => {
      groups.push(g)
    },
    isStored: () => false,
    onSeriesStored: () => {},
    maxBatchPoints: 1_000_000,
    flushIntervalMillis: 0,
    maxPendingPoints: 1_000_000,
  })
  app = Fastify()
  installArrivalClock(app)
  app.decorate('governor', {
    settings: loadSettings({}, {}),
    pipeline,
    seriesCache: new SeriesCache(),
    metrics: new SelfMetrics(() => ({ pending: 0, fill: 0 })),
  } as unknown as Services)
  let resumed = 0
  await app.register(async (ingest) => {
    const admission = installIngestAdmission(
      ingest,
      { ingestMaxWaitMillis: 0, maxInflightIngestBodyBytes: 0 },
      new Registry(),
      { sliceMillis },
    )
    const resume = admission.turns.resume.bind(admission.turns)
    admission.turns.resume = () => {
      resumed++
      return resume()
    }
    await ingest.register(remoteWriteReceiver)
  })
  const post = (body: Buffer) =>
    app!.inject({
      method: 'POST',
      url: '/api/v1/write',
      headers: { 'content-type': 'application/x-protobuf' },
      payload: body,
    })
  return { groups, pipeline, post, resumed: () => resumed }
}

describe('remote write decoded in slices', () => {
  it('decodes a request of 1,000 new series over many turns, and commits it whole, each series row once', async () => {
    const rw = await receiver(0)
    const answer = await rw.post(request('sliced', 1000))
    expect(answer.statusCode).toBe(204)
    expect(rw.resumed()).toBeGreaterThanOrEqual(1000 / 32 - 1)
    expect(rw.groups.map((g) => g.points)).toEqual([1000])
    const ids = seriesIdsOf(rw.groups[0]!.tables[0])
    expect(new Set(ids).size).toBe(1000)
    expect(ids).toHaveLength(1000)
  })

  it('finishes the request it began before the next one starts: each commit holds one whole request', async () => {
    const rw = await receiver(0)
    const [a, b] = await Promise.all([rw.post(request('first', 600)), rw.post(request('second', 400))])
    expect([a.statusCode, b.statusCode]).toEqual([204, 204])
    expect(rw.groups.map((g) => g.points)).toEqual([600, 400])
    expect(rw.groups.map((g) => seriesIdsOf(g.tables[0]).length)).toEqual([600, 400])
  })

  it('decodes a request in one turn when its slice has time enough', async () => {
    const rw = await receiver(60_000)
    expect((await rw.post(request('whole', 1000))).statusCode).toBe(204)
    expect(rw.resumed()).toBe(0)
    expect(rw.groups.map((g) => g.points)).toEqual([1000])
  })

  it('refuses a request found malformed in a later slice with 400 naming the field, and commits nothing of it', async () => {
    const rw = await receiver(0)
    // A last series whose sample value has wire type varint: only decoding its samples finds it.
    const named = [0x0a, 0x0d, 0x0a, 0x08, ...Buffer.from('__name__'), 0x12, 0x01, 0x6d]
    const bad = Buffer.concat([request('broken', 500), Buffer.from([0x0a, 19, ...named, 0x12, 0x02, 0x08, 0x01])])
    const answer = await rw.post(bad)
    expect(answer.statusCode).toBe(400)
    expect(answer.body).toMatch(/^GOV_ERR_RW_MALFORMED: .*Sample\.value/)
    expect(rw.resumed()).toBeGreaterThan(0) // the earlier slices were decoded, in turns of their own
    await rw.pipeline.sync()
    expect(rw.groups).toHaveLength(0)
    expect(rw.pipeline.pendingPoints).toBe(0)
  })
})
