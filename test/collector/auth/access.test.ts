import Fastify, { type FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AccessControl } from '../../../collector/src/auth/access-control.ts'
import { TokenVerifier } from '../../../collector/src/auth/token-verifier.ts'
import { buildApp } from '../../../collector/src/app.ts'
import { testSettings } from '../../helpers/settings.ts'

// One collector with tokens of every role: who may call what, in each route's error shape,
// which actor the change log records, and that no token reaches the logs.

const TOKENS = {
  app: 'ingest-8c1d2e3f4a5b6c7d',
  ci: 'deploy-3f9a4b5c6d7e8f90',
  ops: 'operate-77aa88bb99cc00dd',
  dev: 'read-1a2b3c4d5e6f7a8b9c',
}
const env = `app-checkout=ingest:${TOKENS.app},ci=deploy:${TOKENS.ci},ops=operate:${TOKENS.ops},dev=read:${TOKENS.dev}`

let app: FastifyInstance
let url: string
let logs = ''

beforeAll(async () => {
  app = await buildApp(testSettings({ tokens: env }), {
    logger: {
      level: 'debug',
      stream: {
        write: (line: string) => {
          logs += line
        },
      },
    },
  })
  await app.listen({ host: '127.0.0.1', port: 0 })
  url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`
})
afterAll(async () => {
  await app?.close()
})

type Who = keyof typeof TOKENS | 'none'
async function call(who: Who, method: string, path: string, payload?: unknown, headers: Record<string, string> = {}) {
  const auth: Record<string, string> = who === 'none' ? {} : { authorization: `Bearer ${TOKENS[who]}` }
  const res = await app.inject({
    method: method as 'GET',
    url: path,
    payload: payload as object,
    headers: { ...auth, ...headers },
  })
  const json =
    String(res.headers['content-type'] ?? '').startsWith('application/json') && res.body !== ''
      ? (res.json() as Record<string, any>)
      : undefined
  return { status: res.statusCode, headers: res.headers, body: json, raw: res.rawPayload }
}

describe('every route declares who may call it', () => {
  // The whole table: a new route must be added here, with the roles it needs.
  const expected: Record<string, string> = {
    'GET /healthz': 'open',
    'GET /readyz': 'open',
    'GET /metrics': 'read',
    'POST /v1/metrics': 'ingest',
    'POST /v1/traces': 'ingest',
    'POST /v1/logs': 'ingest',
    'POST /api/v1/write': 'ingest',
    'GET /api/v1/metrics': 'read',
    'GET /api/v1/series': 'read',
    'GET /api/v1/query': 'read',
    'GET /': 'open',
    'GET /ui/:name': 'open',
    'GET /api/v1/services': 'read',
    'GET /api/v1/services/:service': 'read',
    'GET /api/v1/whoami': 'ingest+deploy+operate+read',
    'POST /api/v1/deploys': 'deploy',
    'GET /api/v1/deploys': 'read',
    'GET /api/v1/deploys/last': 'read',
    'GET /api/v1/deploys/:id': 'read',
    'POST /api/v1/events': 'deploy',
    'GET /api/v1/events': 'read',
    'GET /api/v1/deploys/:id/impact': 'read',
    'PUT /api/v1/slos/:service/:name': 'operate',
    'GET /api/v1/slos': 'read',
    'GET /api/v1/slos/:service/:name': 'read',
    'DELETE /api/v1/slos/:service/:name': 'operate',
    'GET /api/v1/gate': 'read',
    'GET /api/v1/quarantine': 'read',
    'POST /api/v1/quarantine/replay': 'operate',
    // The Prometheus HTTP API: GET and form-encoded POST (as Grafana sends them), read role.
    'GET /prometheus/api/v1/alerts': 'read',
    'GET /prometheus/api/v1/label/:name/values': 'read',
    'GET /prometheus/api/v1/labels': 'read',
    'GET /prometheus/api/v1/metadata': 'read',
    'GET /prometheus/api/v1/query': 'read',
    'GET /prometheus/api/v1/query_exemplars': 'read',
    'GET /prometheus/api/v1/query_range': 'read',
    'GET /prometheus/api/v1/rules': 'read',
    'GET /prometheus/api/v1/series': 'read',
    'GET /prometheus/api/v1/status/buildinfo': 'read',
    'GET /prometheus/api/v1/status/flags': 'read',
    'GET /prometheus/api/v1/status/runtimeinfo': 'read',
    'POST /prometheus/api/v1/alerts': 'read',
    'POST /prometheus/api/v1/labels': 'read',
    'POST /prometheus/api/v1/metadata': 'read',
    'POST /prometheus/api/v1/query': 'read',
    'POST /prometheus/api/v1/query_exemplars': 'read',
    'POST /prometheus/api/v1/query_range': 'read',
    'POST /prometheus/api/v1/rules': 'read',
    'POST /prometheus/api/v1/series': 'read',
    'POST /prometheus/api/v1/status/buildinfo': 'read',
    'POST /prometheus/api/v1/status/flags': 'read',
    'POST /prometheus/api/v1/status/runtimeinfo': 'read',
    'PUT /api/v1/controllers/:service/:name': 'operate',
    'GET /api/v1/controllers': 'read',
    'GET /api/v1/controllers/:service/:name': 'read',
    'DELETE /api/v1/controllers/:service/:name': 'operate',
    'GET /api/v1/knobs': 'read+ingest',
    'GET /api/v1/knobs/stream': 'read+ingest',
    'GET /api/v1/knobs/:service/:name': 'read+ingest',
    'PUT /api/v1/knobs/:service/:name': 'ingest',
    'POST /api/v1/knobs/:service/:name/value': 'operate',
    'POST /api/v1/knobs/:service/:name/mode': 'operate',
    'POST /api/v1/knobs/:service/:name/pin': 'operate',
    'DELETE /api/v1/knobs/:service/:name/pin': 'operate',
    'POST /api/v1/knobs/:service/:name/revert': 'operate',
    'POST /api/v1/changesets/revert': 'operate',
    'GET /api/v1/webhooks/deliveries': 'read',
    'GET /api/v1/webhooks/sinks': 'read',
    'POST /api/v1/sql': 'read',
  }

  it('declares roles on every route but /healthz and /readyz, as the table says', () => {
    const routes = app.governor.access.routes
    const declared = Object.fromEntries(
      routes
        .filter((r) => r.method !== 'HEAD')
        .map((r) => [`${r.method} ${r.url}`, r.roles === 'open' ? 'open' : r.roles.join('+')]),
    )
    expect(declared).toEqual(expected)
    // HEAD routes fastify adds for GET routes carry the same declaration.
    for (const r of routes.filter((r) => r.method === 'HEAD'))
      expect(r.roles === 'open' ? 'open' : r.roles.join('+')).toBe(expected[`GET ${r.url}`])
    // The hook saw every route the router holds.
    for (const key of Object.keys(expected)) {
      const [method, path] = key.split(' ') as [string, string]
      expect(app.hasRoute({ method: method as 'GET', url: path }), key).toBe(true)
    }
    const printed = app.printRoutes({ commonPrefix: false })
    const methods = [...printed.matchAll(/\(([A-Z, ]+)\)/g)].flatMap((m) => m[1]!.split(', '))
    expect(methods.length).toBe(routes.length)
  })

  it('refuses to register a route that declares nothing', async () => {
    const bare = Fastify()
    new AccessControl(new TokenVerifier([])).install(bare)
    expect(() => bare.get('/api/v1/secrets', async () => 'x')).toThrow(
      'route GET /api/v1/secrets declares no access: give it config: { roles: [...] }',
    )
    expect(() => bare.get('/x', { config: { roles: ['admin' as 'read'] } }, async () => 'x')).toThrow(
      'declares no access',
    )
    expect(() => bare.get('/y', { config: { roles: [] } }, async () => 'x')).toThrow('declares no access')
    await bare.close()
  })
})

describe('with tokens', () => {
  it('leaves /healthz and /readyz open, and answers 404 on unknown paths', async () => {
    expect((await call('none', 'GET', '/healthz')).status).toBe(200)
    expect((await call('none', 'GET', '/readyz')).status).toBe(200)
    expect((await call('none', 'GET', '/api/v1/nothing')).status).toBe(404)
  })

  it("OTLP: 401 and 403 as a google.rpc.Status in the request's encoding, 200 with an ingest token", async () => {
    const body = { resourceMetrics: [] }
    const json = { 'content-type': 'application/json' }
    const missing = await call('none', 'POST', '/v1/metrics', body, json)
    expect(missing.status).toBe(401)
    expect(missing.headers['www-authenticate']).toBe('Bearer realm="governor"')
    expect(missing.body).toEqual({
      code: 16,
      message: 'POST /v1/metrics needs a token with the ingest role: send Authorization: Bearer <token>',
      error: 'GOV_ERR_AUTH_MISSING',
    })
    const proto = await call('none', 'POST', '/v1/metrics', Buffer.alloc(0), {
      'content-type': 'application/x-protobuf',
    })
    expect(proto.status).toBe(401)
    expect(proto.headers['content-type']).toBe('application/x-protobuf')
    expect([...proto.raw.subarray(0, 2)]).toEqual([0x08, 16]) // Status.code = UNAUTHENTICATED
    expect(proto.raw.toString('utf8')).toContain('needs a token with the ingest role')
    const forbidden = await call('dev', 'POST', '/v1/metrics', body, json)
    expect(forbidden.status).toBe(403)
    expect(forbidden.body).toEqual({
      code: 7,
      message: 'token "dev" (read) may not POST /v1/metrics: that needs the ingest role',
      error: 'GOV_ERR_AUTH_FORBIDDEN',
    })
    expect((await call('app', 'POST', '/v1/metrics', body, json)).status).toBe(200)
  })

  it('remote write: 401 and 403 as plain text, 204 with an ingest token', async () => {
    const rw = { 'content-type': 'application/x-protobuf' }
    const missing = await call('none', 'POST', '/api/v1/write', Buffer.alloc(0), rw)
    expect(missing.status).toBe(401)
    expect(missing.headers['www-authenticate']).toBe('Bearer realm="governor"')
    expect(missing.headers['content-type']).toBe('text/plain; charset=utf-8')
    expect(missing.raw.toString()).toBe(
      'GOV_ERR_AUTH_MISSING: POST /api/v1/write needs a token with the ingest role: send Authorization: Bearer <token>',
    )
    const forbidden = await call('ci', 'POST', '/api/v1/write', Buffer.alloc(0), rw)
    expect(forbidden.status).toBe(403)
    expect(forbidden.raw.toString()).toBe(
      'GOV_ERR_AUTH_FORBIDDEN: token "ci" (deploy) may not POST /api/v1/write: that needs the ingest role',
    )
    expect((await call('app', 'POST', '/api/v1/write', Buffer.alloc(0), rw)).status).toBe(204)
  })

  it('refuses a token that is none of the configured ones, saying so in WWW-Authenticate', async () => {
    const res = await app.inject({
      method: 'GET',
      url: '/api/v1/deploys',
      headers: { authorization: `Bearer ${TOKENS.dev}x` },
    })
    expect(res.statusCode).toBe(401)
    expect(res.headers['www-authenticate']).toBe('Bearer realm="governor", error="invalid_token"')
    expect(res.json()).toEqual({
      error: {
        code: 'GOV_ERR_AUTH_MISSING',
        message: 'the bearer token is not valid: it is none of the tokens of GOVERNOR_TOKENS or GOVERNOR_TOKENS_FILE',
      },
    })
    const basic = await app.inject({
      method: 'GET',
      url: '/api/v1/deploys',
      headers: { authorization: `Basic ${Buffer.from(`x:${TOKENS.dev}`).toString('base64')}` },
    })
    expect(basic.statusCode).toBe(401)
  })

  it('deploys and events: deploy tokens only', async () => {
    const deploy = { service: 'checkout', version: '1.0.0' }
    const missing = await call('none', 'POST', '/api/v1/deploys', deploy)
    expect(missing.status).toBe(401)
    expect(missing.headers['www-authenticate']).toBe('Bearer realm="governor"')
    expect(missing.body).toEqual({
      error: {
        code: 'GOV_ERR_AUTH_MISSING',
        message: 'POST /api/v1/deploys needs a token with the deploy role: send Authorization: Bearer <token>',
      },
    })
    const app403 = await call('app', 'POST', '/api/v1/deploys', deploy)
    expect(app403.status).toBe(403)
    expect(app403.body).toEqual({
      error: {
        code: 'GOV_ERR_AUTH_FORBIDDEN',
        message: 'token "app-checkout" (ingest) may not POST /api/v1/deploys: that needs the deploy role',
      },
    })
    expect((await call('ops', 'POST', '/api/v1/deploys', deploy)).status).toBe(403)
    expect((await call('dev', 'POST', '/api/v1/events', { kind: 'note', title: 'hi' })).status).toBe(403)
    expect((await call('ci', 'POST', '/api/v1/deploys', deploy)).status).toBe(201)
    expect((await call('ci', 'POST', '/api/v1/events', { kind: 'note', title: 'cache warmed' })).status).toBe(201)
  })

  it('reading: read tokens, and deploy and operate tokens too; not ingest tokens', async () => {
    const missing = await call('none', 'GET', '/api/v1/deploys/last')
    expect(missing.status).toBe(401)
    expect(missing.body!.error.code).toBe('GOV_ERR_AUTH_MISSING')
    const ingest = await call('app', 'GET', '/api/v1/deploys/last')
    expect(ingest.status).toBe(403)
    expect(ingest.body!.error.message).toBe(
      'token "app-checkout" (ingest) may not GET /api/v1/deploys/last: that needs the read role',
    )
    for (const who of ['dev', 'ci', 'ops'] as const) {
      const res = await call(who, 'GET', '/api/v1/deploys/last')
      expect(res.status, who).toBe(200)
      expect(res.body!.deploys[0]).toMatchObject({ service: 'checkout', version: '1.0.0' })
    }
    expect((await call('app', 'GET', '/api/v1/query?metric=x')).status).toBe(403)
    expect((await call('dev', 'GET', '/api/v1/webhooks/sinks')).status).toBe(200)
  })

  it('/metrics needs a read token', async () => {
    expect((await call('none', 'GET', '/metrics')).status).toBe(401)
    expect((await call('app', 'GET', '/metrics')).status).toBe(403)
    const res = await call('dev', 'GET', '/metrics')
    expect(res.status).toBe(200)
    expect(res.raw.toString()).toContain('governor_http_request_duration_seconds')
  })

  it('knobs: apps declare and read with their ingest token, operators change them', async () => {
    const def = { type: 'int', default: 20, min: 1, max: 200 }
    expect((await call('ops', 'PUT', '/api/v1/knobs/checkout/workers', def)).status).toBe(403)
    const declared = await call('app', 'PUT', '/api/v1/knobs/checkout/workers', def)
    expect(declared.status).toBe(201)
    expect(declared.body!.changed_by).toBe('app-checkout')
    expect((await call('app', 'GET', '/api/v1/knobs?service=checkout')).status).toBe(200)
    expect((await call('app', 'GET', '/api/v1/knobs/checkout/workers')).status).toBe(200)
    expect((await call('dev', 'GET', '/api/v1/knobs/checkout/workers')).status).toBe(200)
    expect((await call('none', 'GET', '/api/v1/knobs')).status).toBe(401)
    const change = { value: 40, reason: 'queue backing up' }
    const byApp = await call('app', 'POST', '/api/v1/knobs/checkout/workers/value', change)
    expect(byApp.status).toBe(403)
    expect(byApp.body!.error.message).toBe(
      'token "app-checkout" (ingest) may not POST /api/v1/knobs/:service/:name/value: that needs the operate role',
    )
    expect((await call('ci', 'POST', '/api/v1/knobs/checkout/workers/value', change)).status).toBe(403)
    expect((await call('dev', 'DELETE', '/api/v1/knobs/checkout/workers/pin?reason=x')).status).toBe(403)
    const set = await call('ops', 'POST', '/api/v1/knobs/checkout/workers/value', change)
    expect(set.status).toBe(200)
    expect(set.body).toMatchObject({ value: 40, changed_by: 'ops' })
  })

  it('streams knobs to an app with its ingest token, and to no one without a token', async () => {
    const refused = await fetch(`${url}/api/v1/knobs/stream?service=checkout`)
    expect(refused.status).toBe(401)
    expect(await refused.json()).toMatchObject({ error: { code: 'GOV_ERR_AUTH_MISSING' } })
    const ac = new AbortController()
    const res = await fetch(`${url}/api/v1/knobs/stream?service=checkout`, {
      headers: { authorization: `Bearer ${TOKENS.app}` },
      signal: ac.signal,
    })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('text/event-stream')
    const reader = res.body!.getReader()
    let text = ''
    while (!/event: snapshot\ndata: .*\n\n/.test(text)) text += new TextDecoder().decode((await reader.read()).value)
    expect(text).toContain('"name":"workers"')
    ac.abort()
  })
})

describe('actors from token names', () => {
  const events = async (q: string) =>
    (await call('dev', 'GET', `/api/v1/events?${q}`)).body!.events as { actor: string; title: string; text: string }[]

  it('records the token name for a deploy without an actor, "<actor> via <token>" with one, and the actor when it is the token', async () => {
    const bare = await call('ci', 'POST', '/api/v1/deploys', { service: 'cart', version: '2.0', id: 'd-bare' })
    expect(bare.body!.actor).toBe('ci')
    const alice = await call('ci', 'POST', '/api/v1/deploys', {
      service: 'cart',
      version: '2.1',
      actor: 'alice',
      id: 'd-alice',
    })
    expect(alice.body!.actor).toBe('alice via ci')
    const same = await call('ci', 'POST', '/api/v1/deploys', {
      service: 'cart',
      version: '2.2',
      actor: 'ci',
      id: 'd-same',
    })
    expect(same.body!.actor).toBe('ci')
    const stored = await events('kind=deploy&service=cart')
    expect(stored.map((e) => [e.actor, e.title])).toEqual([
      ['ci', 'ci deployed cart 2.2 to production'],
      ['alice via ci', 'alice via ci deployed cart 2.1 to production'],
      ['ci', 'ci deployed cart 2.0 to production'],
    ])
  })

  it('does the same for events, still refusing a body actor that is not a string', async () => {
    expect(
      (
        await call('ci', 'POST', '/api/v1/events', {
          kind: 'incident',
          title: 'cart slow',
          service: 'cart',
          actor: 'bob',
        })
      ).body!.actor,
    ).toBe('bob via ci')
    expect(
      (await call('ci', 'POST', '/api/v1/events', { kind: 'incident', title: 'cart slow again', service: 'cart' }))
        .body!.actor,
    ).toBe('ci')
    expect((await call('ci', 'POST', '/api/v1/events', { kind: 'note', title: 'x', actor: 42 })).status).toBe(400)
  })

  it('records knob changes, pins and unpins with the token name', async () => {
    expect(
      (
        await call('ops', 'POST', '/api/v1/knobs/checkout/workers/pin', {
          value: 5,
          actor: 'carol',
          reason: 'incident 42',
        })
      ).body,
    ).toMatchObject({ mode: 'pinned', changed_by: 'carol via ops' })
    expect((await call('ops', 'DELETE', '/api/v1/knobs/checkout/workers/pin?reason=resolved')).body).toMatchObject({
      mode: 'manual',
      changed_by: 'ops',
    })
    const missingReason = await call('ops', 'POST', '/api/v1/knobs/checkout/workers/value', { value: 6 })
    expect(missingReason.status).toBe(400)
    expect(missingReason.body!.error.message).toBe('reason is required')
    const log = await events('kind=knob&service=checkout')
    expect(log.slice(0, 4).map((e) => e.actor)).toEqual(['ops', 'carol via ops', 'ops', 'app-checkout'])
    expect(log[1]!.title).toBe('carol via ops pinned checkout/workers at 5')
  })

  it('records a changeset revert with the token name', async () => {
    const deploy = (await call('ci', 'POST', '/api/v1/deploys', { service: 'checkout', version: '3.0' })).body!
    await call('ops', 'POST', '/api/v1/knobs/checkout/workers/value', { value: 60, reason: 'more' })
    const res = await call('ops', 'POST', '/api/v1/changesets/revert', {
      since_deploy: deploy.id,
      reason: 'roll forward',
    })
    expect(res.status).toBe(200)
    expect((await events('q=changeset&service=checkout'))[0]!.title).toBe(
      'ops reverted 1 knob of checkout to before deploy checkout 3.0',
    )
  })
})

describe('logs', () => {
  it('say which tokens are configured by name and never contain a token or the Authorization header', async () => {
    expect(logs).toContain(
      'bearer tokens required; tokens: app-checkout (ingest), ci (deploy), ops (operate), dev (read)',
    )
    // Requests were logged (so the check below looks at real request logs)...
    expect(logs).toContain('"url":"/api/v1/deploys/last"')
    // ...and none of them carries a token or the header.
    for (const token of Object.values(TOKENS)) expect(logs).not.toContain(token)
    expect(logs.toLowerCase()).not.toContain('authorization')
    expect(logs).not.toMatch(/Bearer \S/)
  })
})
