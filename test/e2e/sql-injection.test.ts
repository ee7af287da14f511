import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { nanos } from '../helpers/otlp.ts'
import { startServer } from '../helpers/server.ts'

// SQL injection through every value that reaches a query: metric names, label names and
// values, service names, match filters, `by` names, event search text and filters, deploy
// fields, knob names and values, delivery filters. Each is either stored and answered back
// exactly as sent, or refused with a 4xx; the tables are all there afterwards, none emptied.

const HOSTILE = [
  "'",
  '"',
  '`',
  '\\',
  "\\'",
  "''",
  "'; DROP TABLE governor.series; --",
  "x'); DROP TABLE governor.samples; --",
  '{name:String}',
  '{metric:String}',
  '{service:Array(String)}',
  "' OR 1=1 --",
  "' UNION SELECT * FROM system.users --",
  'a\u0000b',
  '\u0000',
  '\t\n\r',
  '\\N',
  'NULL',
  '%',
  '_',
  '*/ /*',
  '-- ',
  '#',
  '$$',
  '\\x27',
  'é\u{1F600}\u200b\u202e',
  '\u2028',
  "concat('a', 'b')",
  "file('/etc/passwd')",
]
const now = Date.now()

let app: FastifyInstance
let tablesBefore: Record<string, number>

async function tables(): Promise<Record<string, number>> {
  const rs = await app.governor.store.client.query({
    query: "SELECT name, total_rows FROM system.tables WHERE database = 'governor' ORDER BY name",
    format: 'JSONEachRow',
  })
  return Object.fromEntries(
    (await rs.json<{ name: string; total_rows: string | null }>()).map((r) => [r.name, Number(r.total_rows ?? 0)]),
  )
}

const get = async (path: string, query: Record<string, string | string[]>) => {
  const qs = new URLSearchParams()
  for (const [k, v] of Object.entries(query)) for (const x of [v].flat()) qs.append(k, x)
  const res = await app.inject({ method: 'GET', url: `${path}?${qs.toString()}` })
  return { status: res.statusCode, body: res.json() as Record<string, any> }
}
const send = async (method: 'POST' | 'PUT', path: string, payload: unknown) => {
  const res = await app.inject({ method, url: path, payload: payload as object })
  return { status: res.statusCode, body: res.json() as Record<string, any> }
}

beforeAll(async () => {
  ;({ app } = await startServer({ rateLimitApiPerMinute: 0, rateLimitIngestPerMinute: 0 }))
  // Something in every table an attack could aim at.
  await send('POST', '/api/v1/deploys', { service: 'base', version: '1', actor: 'ci' })
  expect((await send('PUT', '/api/v1/knobs/base/workers', { type: 'int', default: 1 })).status).toBe(201)
  const seed = await app.inject({
    method: 'POST',
    url: '/v1/metrics',
    payload: otlp('base', 'base.metric', { a: 'b' }),
  })
  expect(seed.statusCode).toBe(200)
  tablesBefore = await tables()
})
afterAll(async () => {
  await app?.close()
})

function otlp(service: string, metric: string, attrs: Record<string, string>): object {
  return {
    resourceMetrics: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
        scopeMetrics: [
          {
            metrics: [
              {
                name: metric,
                gauge: {
                  dataPoints: [
                    {
                      timeUnixNano: nanos(now - 1000),
                      asDouble: 1,
                      attributes: Object.entries(attrs).map(([key, v]) => ({ key, value: { stringValue: v } })),
                    },
                  ],
                },
              },
            ],
          },
        ],
      },
    ],
  }
}

describe('hostile strings as metric names, labels and services', () => {
  it.each(HOSTILE.map((s, i) => [i, s] as const))('#%i %j is stored and answered back literally', async (i, s) => {
    const metric = `m${i}.${s}`
    const service = `svc${i}${s}`
    const label = `l${i}${s}`
    const ingest = await app.inject({
      method: 'POST',
      url: '/v1/metrics',
      payload: otlp(service, metric, { [label]: s, plain: s }),
    })
    expect(ingest.statusCode, ingest.body).toBe(200)
    expect(ingest.json()).toEqual({})

    const listed = await get('/api/v1/metrics', {})
    expect(listed.body.metrics.find((m: { name: string }) => m.name === metric)).toMatchObject({
      name: metric,
      services: [service],
    })

    const series = await get('/api/v1/series', { metric, service })
    expect(series.status).toBe(200)
    expect(series.body.series).toEqual([
      expect.objectContaining({ service, labels: { 'service.name': service, [label]: s, plain: s } }),
    ])

    const from = String(now - 60_000),
      to = String(now + 1)
    // match splits at the first "=": a label whose name holds one is matched by value alone.
    const match = label.includes('=') ? [`plain=${s}`] : [`${label}=${s}`, `plain=${s}`]
    const raw = await get('/api/v1/query', { metric, service, match, from, to })
    expect(raw.status).toBe(200)
    expect(raw.body.series).toEqual([
      { labels: { 'service.name': service, [label]: s, plain: s }, points: [[now - 1000, 1]] },
    ])
    const grouped = await get('/api/v1/query', {
      metric,
      from,
      to,
      step: '60',
      agg: 'max',
      by: `${label.replace(/,/g, '')},plain`,
    })
    expect(grouped.status).toBe(200)
    expect(grouped.body.series).toHaveLength(1)
    // A match that differs by one character finds nothing.
    expect((await get('/api/v1/query', { metric, match: `plain=${s}x`, from, to })).body.series).toEqual([])
  })

  it('finds nothing, and breaks nothing, for hostile names that were never stored', async () => {
    for (const s of HOSTILE) {
      const q = await get('/api/v1/query', { metric: `never${s}`, service: s, match: `${s || 'k'}=${s}` })
      expect(q.status, s).toBe(404)
      expect(q.body.error.code).toBe('GOV_ERR_QUERY_UNKNOWN_METRIC')
      expect((await get('/api/v1/series', { metric: s || 'x', service: s })).status).toBe(404)
    }
  })
})

describe('hostile strings in the change log', () => {
  it.each(HOSTILE.map((s, i) => [i, s] as const))(
    '#%i %j as deploy fields and event text, search and filters',
    async (i, s) => {
      const deploy = await send('POST', '/api/v1/deploys', {
        service: `svc${s}`,
        version: `v${i}${s}`,
        actor: `a${s}`,
        environment: `env${s}`,
        commit: s,
        description: s,
        repo_url: s,
        url: s,
        id: `id-${i}-${s}`,
        plan: { expect: [{ metric: s || 'm', change: 'down', note: s }], risks: s, watch: [s], contingency: [s] },
      })
      expect(deploy.status).toBe(201)
      expect(deploy.body).toMatchObject({
        id: `id-${i}-${s}`,
        service: `svc${s}`,
        version: `v${i}${s}`,
        actor: `a${s}`,
        environment: `env${s}`,
        commit: s,
        description: s,
      })
      const byId = await app.inject({ method: 'GET', url: `/api/v1/deploys/${encodeURIComponent(`id-${i}-${s}`)}` })
      expect(byId.statusCode).toBe(200)
      expect(byId.json()).toMatchObject({ id: `id-${i}-${s}`, version: `v${i}${s}`, commit: s })
      const last = await get('/api/v1/deploys/last', { service: `svc${s}`, environment: `env${s}` })
      expect(last.body.deploys.map((d: { version: string }) => d.version)).toContain(`v${i}${s}`)

      const event = await send('POST', '/api/v1/events', {
        kind: `k${s}`,
        title: `t${i} ${s}`,
        text: s,
        actor: `a${s}`,
        service: `svc${s}`,
        tags: [s, `${s}${s}`],
      })
      expect(event.status).toBe(201)
      expect(event.body).toMatchObject({ kind: `k${s}`, title: `t${i} ${s}`, text: s, tags: [s, `${s}${s}`] })
      const found = await get('/api/v1/events', { q: `t${i}`, service: `svc${s}`, kind: `k${s}` })
      expect(found.status).toBe(200)
      expect(found.body.events.map((e: { title: string }) => e.title)).toEqual([`t${i} ${s}`])
      const search = await get('/api/v1/events', { q: s, kind: `k${s}`, environment: s })
      expect(search.status).toBe(200)
      const none = await get('/api/v1/deploys', { service: s, environment: s, limit: '5' })
      expect(none.status).toBe(200)
    },
  )

  it('refuses hostile limits and times with 400', async () => {
    for (const s of HOSTILE) {
      expect((await get('/api/v1/events', { limit: s })).status, s).toBe(400)
      expect((await get('/api/v1/events', { from: s || 'x' })).status, s).toBe(400)
      expect((await get('/api/v1/query', { metric: 'base.metric', step: s || 'x' })).status, s).toBe(400)
    }
  })
})

describe('hostile strings as knob names and values, and delivery filters', () => {
  it('refuses hostile knob and service names with a 4xx, or stores the harmless ones literally', async () => {
    for (const s of HOSTILE) {
      for (const [service, name] of [
        ['base', `w${s}`],
        [`s${s}`, 'workers'],
      ] as const) {
        const put = await app.inject({
          method: 'PUT',
          url: `/api/v1/knobs/${encodeURIComponent(service)}/${encodeURIComponent(name)}`,
          payload: { type: 'int', default: 1 },
        })
        if (put.statusCode === 201) expect(put.json(), JSON.stringify(s)).toMatchObject({ service, name })
        else expect([400, 404], `${JSON.stringify(s)}: ${put.body}`).toContain(put.statusCode)
      }
      expect((await get('/api/v1/knobs', { service: `${s}x` })).body.knobs).toEqual([])
    }
  })

  it('stores hostile string knob values, reasons and actors literally', async () => {
    expect((await send('PUT', '/api/v1/knobs/base/banner', { type: 'string', default: "it's" })).status).toBe(201)
    for (const s of HOSTILE) {
      const set = await send('POST', '/api/v1/knobs/base/banner/value', { value: s, actor: `a${s}`, reason: `r${s}` })
      expect(set.status, JSON.stringify(s)).toBe(200)
      expect(set.body).toMatchObject({ value: s, changed_by: `a${s}`, reason: `r${s}` })
    }
    const knob = await app.inject({ method: 'GET', url: '/api/v1/knobs/base/banner' })
    expect(knob.json().history.map((h: { value: string }) => h.value)).toEqual(expect.arrayContaining(HOSTILE))
  })

  it('answers hostile delivery filters with 400 or an empty list', async () => {
    for (const s of HOSTILE) {
      const res = await get('/api/v1/webhooks/deliveries', { sink: s, status: s })
      expect([200, 400]).toContain(res.status)
      if (res.status === 200) expect(res.body.deliveries).toEqual([])
    }
  })
})

describe('afterwards', () => {
  it('every table is still there and none lost rows', async () => {
    const after = await tables()
    expect(Object.keys(after)).toEqual(Object.keys(tablesBefore))
    for (const [name, rows] of Object.entries(tablesBefore)) expect(after[name], name).toBeGreaterThanOrEqual(rows)
    expect(after.series).toBeGreaterThan(HOSTILE.length)
    const q = await get('/api/v1/query', { metric: 'base.metric', from: String(now - 60_000), to: String(now + 1) })
    expect(q.body.series).toHaveLength(1)
  })
})
