import Fastify, { type FastifyInstance, type RouteOptions } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../../collector/src/app.ts'
import { checkAnswers } from '../../helpers/answer-schemas.ts'
import { testSettings } from '../../helpers/settings.ts'

// Every route of Governor's own JSON API declares the schema of its answers: fastify serializes
// by it, the web UI takes its types from the same module, and the tests check real answers
// against it. A new route without one fails here.

/**
 * Routes that answer no JSON of Governor's own, and why each is exempt. A URL pattern as
 * fastify registers it.
 */
const EXEMPT: Record<string, string> = {
  // Protocol endpoints: the bodies are OTLP's and Prometheus remote write's (protobuf, or OTLP
  // JSON), defined by those protocols and checked by the receivers' tests.
  'POST /v1/metrics': 'OTLP/HTTP receiver',
  'POST /v1/traces': 'OTLP/HTTP receiver',
  'POST /v1/logs': 'OTLP/HTTP receiver',
  'POST /api/v1/write': 'Prometheus remote-write receiver',
  // Text, not JSON.
  'GET /metrics': "the collector's own metrics, Prometheus text exposition",
  'GET /api/v1/knobs/stream': 'Server-Sent Events; its events carry KnobListJson and KnobJson (knob-wire.test.ts)',
  'GET /': 'the web UI page (HTML)',
  'GET /ui/:name': "the web UI's script and stylesheet",
  // JSON whose shape is not Governor's to declare.
  'POST /api/v1/sql': "the columns and rows of the caller's own SELECT",
}

/** Prometheus' HTTP API, as Grafana calls it: its shapes are Prometheus', compared with a real Prometheus. */
const PROMETHEUS = '/prometheus/api/v1/'

let app: FastifyInstance
const routes: RouteOptions[] = []

beforeAll(async () => {
  app = await buildApp(testSettings({ controllerTickMillis: 0, impactIntervalMillis: 0 }), {
    logger: false,
    instrument: (a) => a.addHook('onRoute', (route) => void routes.push(route)),
  })
  await app.ready()
})
afterAll(async () => {
  await app?.close()
})

function methodsOf(route: RouteOptions): string[] {
  return (Array.isArray(route.method) ? route.method : [route.method]).filter((m) => m !== 'HEAD')
}

describe('the response schemas', () => {
  it('are declared by every route that answers JSON, success statuses included', () => {
    const missing: string[] = []
    const seen = new Set<string>()
    for (const route of routes) {
      for (const method of methodsOf(route)) {
        const key = `${method} ${route.url}`
        seen.add(key)
        if (key in EXEMPT || route.url.startsWith(PROMETHEUS)) continue
        const response = (route.schema?.response ?? {}) as Record<string, unknown>
        if (response['200'] === undefined && response['201'] === undefined) missing.push(key)
      }
    }
    expect(missing).toEqual([])
    // The exemptions name routes that exist: a route renamed or removed takes its exemption along.
    expect(Object.keys(EXEMPT).filter((k) => !seen.has(k))).toEqual([])
    // The walk saw the whole API, not an empty table.
    expect(seen.size).toBeGreaterThan(40)
  })

  it('name every field of every object they describe, and allow no other unless the shape is a map', () => {
    const loose: string[] = []
    const walk = (schema: unknown, where: string): void => {
      if (typeof schema !== 'object' || schema === null) return
      const s = schema as Record<string, unknown>
      if (s.properties !== undefined && s.additionalProperties === undefined) loose.push(where)
      for (const [k, v] of Object.entries(s)) {
        if (k === 'properties') for (const [p, ps] of Object.entries(v as object)) walk(ps, `${where}.${p}`)
        else if (typeof v === 'object') walk(v, `${where}/${k}`)
      }
    }
    for (const route of routes) {
      const response = (route.schema?.response ?? {}) as Record<string, unknown>
      for (const [status, schema] of Object.entries(response))
        walk(schema, `${methodsOf(route).join(',')} ${route.url} ${status}`)
    }
    expect(loose).toEqual([])
  })
})

describe('the answer check the route tests install', () => {
  it('fails an answer with a field its schema does not name, which fastify would drop', async () => {
    const problems: string[] = []
    const small = Fastify({ logger: false })
    checkAnswers(problems)(small)
    const schema = {
      type: 'object',
      properties: { name: { type: 'string' } },
      required: ['name'],
      additionalProperties: false,
    }
    small.get('/fits', { schema: { response: { 200: schema } } }, async () => ({ name: 'a' }))
    small.get('/extra', { schema: { response: { 200: schema } } }, async () => ({ name: 'a', forgotten: 1 }))
    small.get('/missing', { schema: { response: { 200: schema } } }, async () => ({}))
    expect((await small.inject('/fits')).json()).toEqual({ name: 'a' })
    expect((await small.inject('/extra')).statusCode).toBe(500)
    expect((await small.inject('/missing')).statusCode).toBe(500)
    expect(problems).toHaveLength(2)
    expect(problems[0]).toMatch(/^GET \/extra 200: \/ must NOT have additional properties .*forgotten/)
    expect(problems[1]).toMatch(/^GET \/missing 200: \/ must have required property 'name'/)
    await small.close()
  })
})
