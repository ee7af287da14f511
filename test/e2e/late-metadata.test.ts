import type { FastifyInstance } from 'fastify'
import protobuf from 'protobufjs'
import { compressSync } from 'snappy'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Settings } from '../../collector/src/settings.ts'
import { startServer } from '../helpers/server.ts'

// Remote write 1.0 through a listening server, metadata in requests of its own as Prometheus
// sends it: metadata that comes after a family's first samples re-types the series stored on
// a guess (recorded in the change log), metadata that comes first types them from the start,
// and a restarted collector keeps the declared types.

const WriteRequest = protobuf
  .parse(
    `syntax = "proto3"; package prometheus;
  message WriteRequest { repeated TimeSeries timeseries = 1; repeated MetricMetadata metadata = 3; }
  message MetricMetadata { int32 type = 1; string metric_family_name = 2; string help = 4; string unit = 5; }
  message TimeSeries { repeated Label labels = 1; repeated Sample samples = 2; }
  message Label { string name = 1; string value = 2; }
  message Sample { double value = 1; int64 timestamp = 2; }
`,
  )
  .root.lookupType('prometheus.WriteRequest')

const COUNTER = 1
const GAUGE = 2
// Whole minutes, ten minutes ago: inside the query API's default hour.
const B = Math.floor((Date.now() - 10 * 60_000) / 60_000) * 60_000

let app: FastifyInstance
let url: string
let settings: Settings

function body(series: [string, string, number][], metadata: [string, number][] = []): Buffer {
  const request = {
    timeseries: series.map(([name, job, v]) => ({
      labels: [
        { name: '__name__', value: name },
        { name: 'job', value: job },
      ],
      samples: [{ value: v, timestamp: B + v * 1000 }],
    })),
    metadata: metadata.map(([family, type]) => ({ type, metricFamilyName: family, help: `${family} help.` })),
  }
  return compressSync(WriteRequest.encode(WriteRequest.fromObject(request)).finish())
}

async function send(b: Buffer): Promise<void> {
  const res = await fetch(`${url}/api/v1/write`, {
    method: 'POST',
    body: b,
    headers: { 'content-type': 'application/x-protobuf', 'content-encoding': 'snappy' },
  })
  expect(res.status, await res.text()).toBe(204)
}

async function stored(metric: string): Promise<{ types: string[]; points: number }> {
  await app.governor.pipeline.sync()
  const { client, db } = app.governor.store
  const types = await client.query({
    query: `SELECT DISTINCT concat(type, '/', temporality, '/', toString(monotonic)) FROM ${db}.series FINAL WHERE metric = {m:String} ORDER BY 1`,
    query_params: { m: metric },
    format: 'JSONCompactEachRow',
  })
  const points = await client.query({
    query: `SELECT count() FROM ${db}.samples WHERE series_id IN (SELECT series_id FROM ${db}.series WHERE metric = {m:String})`,
    query_params: { m: metric },
    format: 'JSONCompactEachRow',
  })
  return {
    types: (await types.json<[string]>()).map(([t]) => t),
    points: Number((await points.json<[string]>())[0]![0]),
  }
}

type Event = { id: string; service: string; title: string; data: Record<string, unknown> }

async function retypedEvents(): Promise<Event[]> {
  const res = await fetch(`${url}/api/v1/events?kind=metric_retyped`)
  expect(res.status).toBe(200)
  return ((await res.json()) as { events: Event[] }).events
}

/** Waits for `check` to hold: the re-typing runs beside the answer (the test's deadline ends a wait that never ends). */
async function until<T>(get: () => Promise<T>, check: (v: T) => boolean): Promise<T> {
  for (;;) {
    const v = await get()
    if (check(v)) return v
    await new Promise((r) => setTimeout(r, 20))
  }
}

const COUNTER_TYPE = 'sum/cumulative/true'
const GAUGE_TYPE = 'gauge/unspecified/false'

describe('Prometheus metadata applied whenever it arrives', { timeout: 60_000 }, () => {
  beforeAll(async () => {
    ;({ app, url, settings } = await startServer())
  })
  afterAll(async () => {
    await app?.close()
  })

  it('metadata after the samples: the guessed series are re-typed, the change recorded, every read sees the type', async () => {
    // A counter without _total and a gauge named as a counter's part, stored on a guess.
    await send(
      body([
        ['legacy_hits', 'shop', 1],
        ['legacy_hits', 'cart', 1],
        ['pool_count', 'shop', 1],
      ]),
    )
    expect(await stored('legacy_hits')).toEqual({ types: [GAUGE_TYPE], points: 2 })
    expect(await stored('pool_count')).toEqual({ types: [COUNTER_TYPE], points: 1 })

    await send(
      body(
        [],
        [
          ['legacy_hits', COUNTER],
          ['pool_count', GAUGE],
        ],
      ),
    )
    // Samples right after the metadata: stored as the declared type, a new series too.
    await send(
      body([
        ['legacy_hits', 'shop', 2],
        ['legacy_hits', 'books', 2],
        ['pool_count', 'shop', 2],
      ]),
    )

    const events = await until(retypedEvents, (e) => e.length === 3)
    expect(events.map((e) => [e.service, e.title]).sort()).toEqual([
      ['cart', 'legacy_hits re-typed from gauge to counter'],
      ['shop', 'legacy_hits re-typed from gauge to counter'],
      ['shop', 'pool_count re-typed from counter to gauge'],
    ])
    expect(events.find((e) => e.service === 'cart')?.data).toEqual({
      metric: 'legacy_hits',
      family: 'legacy_hits',
      from: 'gauge',
      to: 'counter',
      series: 1,
    })
    expect(await stored('legacy_hits')).toEqual({ types: [COUNTER_TYPE], points: 4 })
    expect(await stored('pool_count')).toEqual({ types: [GAUGE_TYPE], points: 2 })

    // Governor's own API: a counter, so its rate can be asked (a gauge's cannot).
    const q = await fetch(
      `${url}/api/v1/query?metric=legacy_hits&agg=rate&step=60s&from=${B - 60_000}&to=${B + 120_000}`,
    )
    expect(q.status, await q.clone().text()).toBe(200)
    expect(((await q.json()) as { metric: { type: string } }).metric.type).toBe('sum')
    const g = await fetch(
      `${url}/api/v1/query?metric=pool_count&agg=rate&step=60s&from=${B - 60_000}&to=${B + 120_000}`,
    )
    expect(g.status).toBe(400)
    // The metadata endpoint of the PromQL API.
    const meta = (await (await fetch(`${url}/prometheus/api/v1/metadata?metric=legacy_hits`)).json()) as {
      data: Record<string, { type: string }[]>
    }
    expect(meta.data.legacy_hits).toEqual([{ type: 'counter', help: 'legacy_hits help.', unit: '' }])
  })

  it('metadata before the samples: typed from the start, nothing to re-type', async () => {
    await send(body([], [['early_hits', COUNTER]]))
    await send(body([['early_hits', 'shop', 1]]))
    expect(await stored('early_hits')).toEqual({ types: [COUNTER_TYPE], points: 1 })
    // The same metadata again, as Prometheus sends it every minute: no re-typing, no event.
    await send(body([], [['early_hits', COUNTER]]))
    await app.governor.pipeline.sync()
    expect((await retypedEvents()).filter((e) => e.data.metric === 'early_hits')).toEqual([])
  })

  it('a restarted collector keeps the declared type: a guess yields to it', async () => {
    await app.close()
    ;({ app, url } = await startServer({ dataDir: settings.dataDir }))
    // No metadata since the start: the sample is typed on a guess (a gauge), and yields.
    await send(
      body([
        ['legacy_hits', 'shop', 3],
        ['legacy_hits', 'new', 3],
      ]),
    )
    expect(await stored('legacy_hits')).toEqual({ types: [COUNTER_TYPE], points: 6 })
    expect((await retypedEvents()).length).toBe(3)
  })
})
