import { gzipSync } from 'node:zlib'
import type { FastifyInstance } from 'fastify'
import protobuf from 'protobufjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { gaugeRequest, nanos } from '../helpers/otlp.ts'
import { startServer } from '../helpers/server.ts'

// Every bad input gets its status and a message that names the problem, and nothing of a
// refused request is stored.

const LIMIT = 64 * 1024
let app: FastifyInstance
let url: string
const now = Date.now()

const Status = protobuf
  .parse(`syntax = "proto3"; message Status { int32 code = 1; string message = 2; }`)
  .root.lookupType('Status')

beforeAll(async () => {
  ;({ app, url } = await startServer({ maxBodyBytes: LIMIT }))
})
afterAll(async () => {
  await app?.close()
})

function post(body: string | Uint8Array, headers: Record<string, string>) {
  return fetch(`${url}/v1/metrics`, { method: 'POST', body, headers })
}

async function storedMetrics(): Promise<string[]> {
  await app.governor.pipeline.sync()
  const rs = await app.governor.store.client.query({
    query:
      'SELECT DISTINCT metric FROM governor.series WHERE series_id IN (SELECT series_id FROM governor.samples) ORDER BY metric',
    format: 'JSONCompactEachRow',
  })
  return (await rs.json<[string]>()).map((r) => r[0])
}

describe('OTLP bad input', () => {
  it('malformed protobuf: 400 with a google.rpc.Status naming the problem', async () => {
    const res = await post(new Uint8Array([0x0a, 0xff, 0xff, 0x01, 0x02]), { 'content-type': 'application/x-protobuf' })
    expect(res.status).toBe(400)
    expect(res.headers.get('content-type')).toContain('application/x-protobuf')
    const status = Status.toObject(Status.decode(new Uint8Array(await res.arrayBuffer()))) as {
      code: number
      message: string
    }
    expect(status.code).toBe(3)
    expect(status.message).toMatch(/byte|length|truncat|end/i)
  })

  it('malformed JSON: 400 in JSON with the parse error', async () => {
    const res = await post('{"resourceMetrics": [', { 'content-type': 'application/json' })
    expect(res.status).toBe(400)
    const body = (await res.json()) as { message: string; error: string }
    expect(body.error).toBe('GOV_ERR_OTLP_MALFORMED')
    expect(body.message).toMatch(/not valid JSON/)
  })

  it('JSON of the wrong shape: 400 naming the field', async () => {
    const res = await post(JSON.stringify({ resourceMetrics: { not: 'an array' } }), {
      'content-type': 'application/json',
    })
    expect(res.status).toBe(400)
    expect(((await res.json()) as { message: string }).message).toMatch(/resourceMetrics/)
  })

  it('unsupported content type: 415', async () => {
    const res = await post('hello', { 'content-type': 'text/plain' })
    expect(res.status).toBe(415)
    expect(await res.text()).toMatch(/text\/plain/)
  })

  it('unsupported content encoding: 415', async () => {
    const res = await post(JSON.stringify(gaugeRequest('bad', { 'bad.br': [{ ts: now, value: 1 }] })), {
      'content-type': 'application/json',
      'content-encoding': 'br',
    })
    expect(res.status).toBe(415)
  })

  it('a body over the limit as sent: 413', async () => {
    const big = JSON.stringify(
      gaugeRequest('bad', { 'bad.big': [{ ts: now, value: 1, attrs: { pad: 'x'.repeat(LIMIT) } }] }),
    )
    const res = await post(big, { 'content-type': 'application/json' })
    expect(res.status).toBe(413)
  })

  it('a gzip bomb: 413 without inflating it all', async () => {
    const bomb = gzipSync(Buffer.alloc(50 * 1024 * 1024, 0x20))
    expect(bomb.length).toBeLessThan(LIMIT)
    const res = await post(bomb, { 'content-type': 'application/json', 'content-encoding': 'gzip' })
    expect(res.status).toBe(413)
    expect(((await res.json()) as { message: string }).message).toMatch(/decompresses to more than/)
  })

  it('gzip that is not gzip: 400', async () => {
    const res = await post('not gzip at all', { 'content-type': 'application/json', 'content-encoding': 'gzip' })
    expect(res.status).toBe(400)
  })

  it('a gzip body within the limit is decoded and stored', async () => {
    const body = gzipSync(JSON.stringify(gaugeRequest('good', { 'good.gzip': [{ ts: now, value: 4 }] })))
    const res = await post(body, { 'content-type': 'application/json', 'content-encoding': 'gzip' })
    expect(res.status).toBe(200)
    expect(await storedMetrics()).toContain('good.gzip')
  })

  it('points that cannot be stored: 200 with partial success, the rest stored', async () => {
    const body = {
      resourceMetrics: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'partial' } }] },
          scopeMetrics: [
            {
              metrics: [
                { name: '', gauge: { dataPoints: [{ timeUnixNano: nanos(now), asDouble: 1 }] } },
                {
                  name: 'partial.no_time',
                  gauge: { dataPoints: [{ asDouble: 1 }, { timeUnixNano: nanos(now), asDouble: 2 }] },
                },
                {
                  name: 'partial.hist',
                  histogram: {
                    aggregationTemporality: 2,
                    dataPoints: [
                      {
                        timeUnixNano: nanos(now),
                        count: '3',
                        sum: 3,
                        bucketCounts: ['1', '2'],
                        explicitBounds: [1, 2, 3],
                      },
                    ],
                  },
                },
                { name: 'partial.ok', gauge: { dataPoints: [{ timeUnixNano: nanos(now), asDouble: 42 }] } },
              ],
            },
          ],
        },
      ],
    }
    const res = await post(JSON.stringify(body), { 'content-type': 'application/json' })
    expect(res.status).toBe(200)
    const answer = (await res.json()) as { partialSuccess: { rejectedDataPoints: string; errorMessage: string } }
    expect(Number(answer.partialSuccess.rejectedDataPoints)).toBe(3)
    expect(answer.partialSuccess.errorMessage).toMatch(/name/)
    expect(answer.partialSuccess.errorMessage).toMatch(/bucket/)
    const q = (await (await fetch(`${url}/api/v1/query?metric=partial.ok`)).json()) as {
      series: { points: number[][] }[]
    }
    expect(q.series[0]!.points).toEqual([[now, 42]])
    const t = (await (await fetch(`${url}/api/v1/query?metric=partial.no_time`)).json()) as {
      series: { points: number[][] }[]
    }
    expect(t.series[0]!.points).toEqual([[now, 2]])
  })

  it('rejects points older than the retention instead of acknowledging them into a TTL', async () => {
    const old = now - 31 * 86_400_000
    const body = gaugeRequest('partial', {
      'partial.old': [{ ts: old, value: 1 }],
      'partial.recent': [{ ts: now, value: 2 }],
    })
    const res = await post(JSON.stringify(body), { 'content-type': 'application/json' })
    const answer = (await res.json()) as { partialSuccess: { rejectedDataPoints: string; errorMessage: string } }
    expect(answer.partialSuccess.rejectedDataPoints).toBe('1')
    expect(answer.partialSuccess.errorMessage).toMatch(/older than the retention/)
    expect(await storedMetrics()).toContain('partial.recent')
    expect(await storedMetrics()).not.toContain('partial.old')
  })

  it('stores nothing of the requests it refused', async () => {
    expect((await storedMetrics()).filter((m) => m.startsWith('bad.'))).toEqual([])
  })
})
