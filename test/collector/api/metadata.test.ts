import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../../collector/src/app.ts'
import { checkAnswers } from '../../helpers/answer-schemas.ts'
import { nanos } from '../../helpers/otlp.ts'
import { testSettings } from '../../helpers/settings.ts'

// What is stored, and the health routes, through their response schemas: every answer is checked
// against its schema before fastify serializes it (checkAnswers), so a field the schema forgot
// fails here instead of vanishing.

let app: FastifyInstance
const problems: string[] = []
const T0 = Math.floor((Date.now() - 600_000) / 1000) * 1000

beforeAll(async () => {
  app = await buildApp(testSettings(), { logger: false, instrument: checkAnswers(problems) })
  const res = await app.inject({
    method: 'POST',
    url: '/v1/metrics',
    headers: { 'content-type': 'application/json' },
    payload: {
      resourceMetrics: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'shop' } }] },
          scopeMetrics: [
            {
              metrics: [
                {
                  name: 'queue_depth',
                  unit: '{message}',
                  description: 'Messages waiting',
                  gauge: {
                    dataPoints: [
                      {
                        timeUnixNano: nanos(T0),
                        asDouble: 3,
                        attributes: [{ key: 'queue', value: { stringValue: 'orders' } }],
                      },
                      // An app may send NaN: answers write it null, as JSON.stringify does.
                      {
                        timeUnixNano: nanos(T0 + 1000),
                        asDouble: 'NaN',
                        attributes: [{ key: 'queue', value: { stringValue: 'orders' } }],
                      },
                    ],
                  },
                },
              ],
            },
          ],
        },
      ],
    },
  })
  expect(res.statusCode, res.body).toBe(200)
})
afterAll(async () => {
  await app?.close()
  expect(problems).toEqual([])
})

async function get(url: string): Promise<{ status: number; body: unknown }> {
  const res = await app.inject(url)
  return { status: res.statusCode, body: res.json() }
}

describe('the metadata routes', () => {
  it('list the stored metrics with their type, unit, description, services and series', async () => {
    expect(await get('/api/v1/metrics')).toEqual({
      status: 200,
      body: {
        metrics: [
          {
            name: 'queue_depth',
            type: 'gauge',
            unit: '{message}',
            description: 'Messages waiting',
            services: ['shop'],
            series: 1,
          },
        ],
      },
    })
  })

  it("list a metric's series with their labels", async () => {
    const { status, body } = await get('/api/v1/series?metric=queue_depth')
    expect(status).toBe(200)
    expect(body).toMatchObject({
      metric: { name: 'queue_depth', type: 'gauge', unit: '{message}' },
      series: [{ service: 'shop', labels: { 'service.name': 'shop', queue: 'orders' } }],
    })
  })

  it('write a NaN point as null, as before the answer had a schema', async () => {
    const { status, body } = await get(`/api/v1/query?metric=queue_depth&from=${T0 - 1000}&to=${T0 + 5000}`)
    expect(status).toBe(200)
    const points = (body as { series: { points: unknown[] }[] }).series[0]!.points
    expect(points).toEqual([
      [T0, 3],
      [T0 + 1000, null],
    ])
  })
})

describe('the health routes', () => {
  it('answer liveness and readiness by their schemas', async () => {
    expect(await get('/healthz')).toEqual({ status: 200, body: { status: 'ok' } })
    expect(await get('/readyz')).toEqual({
      status: 200,
      body: { status: 'ready', store: 'up', pipelineFill: expect.any(Number) as number },
    })
  })
})
