import { Ajv } from 'ajv'
import addFormats from 'ajv-formats'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { KNOB_DETAIL_JSON_SCHEMA, KNOB_JSON_SCHEMA, KNOB_LIST_JSON_SCHEMA } from '../../../throttle/src/wire.ts'
import { declared } from '../../throttle/fake-collector.ts'
import { checkAnswers } from '../../helpers/answer-schemas.ts'
import { startServer } from '../../helpers/server.ts'

// The knob resource has one contract, @governor/throttle's wire schemas: every answer of the
// collector must match it field for field, and so must the stand-in the library's own wire
// tests run against.

const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true })
addFormats.default(ajv, ['date-time'])

let app: FastifyInstance
let url: string

beforeAll(async () => {
  ;({ app, url } = await startServer({}, { instrument: checkAnswers() }))
})
afterAll(async () => {
  await app?.close()
})

/** The body, after checking it against `schema` and naming every place it does not fit. */
function fits(schema: object, body: unknown): unknown {
  const validate = ajv.compile(schema)
  validate(body)
  expect((validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`)).toEqual([])
  return body
}

async function call(method: string, path: string, body?: unknown) {
  const res = await app.inject({ method: method as 'GET', url: `/api/v1${path}`, payload: body as object })
  expect(res.statusCode, res.body).toBeLessThan(300)
  return res.json() as unknown
}

const who = { actor: 'alice', reason: 'wire check' }

describe('the knob wire format', () => {
  it('is what every knob answer carries, for every type of knob', async () => {
    fits(
      KNOB_JSON_SCHEMA,
      await call('PUT', '/knobs/wire/workers', { type: 'int', default: 4, min: 1, max: 64, unit: '{worker}' }),
    )
    fits(KNOB_JSON_SCHEMA, await call('PUT', '/knobs/wire/ratio', { type: 'float', default: 0.5 }))
    fits(KNOB_JSON_SCHEMA, await call('PUT', '/knobs/wire/canary', { type: 'percent', default: 0 }))
    fits(
      KNOB_JSON_SCHEMA,
      await call('PUT', '/knobs/wire/search', { type: 'enum', values: ['off', 'dark', 'on'], default: 'off' }),
    )
    fits(KNOB_JSON_SCHEMA, await call('PUT', '/knobs/wire/kill', { type: 'bool', default: false }))
    fits(KNOB_JSON_SCHEMA, await call('PUT', '/knobs/wire/banner', { type: 'string', default: '' }))
    fits(KNOB_JSON_SCHEMA, await call('POST', '/knobs/wire/workers/value', { value: 8, ...who }))
    fits(KNOB_JSON_SCHEMA, await call('POST', '/knobs/wire/workers/mode', { mode: 'auto', ...who }))
    fits(KNOB_JSON_SCHEMA, await call('POST', '/knobs/wire/workers/pin', { value: 2, ...who }))
    fits(KNOB_JSON_SCHEMA, await call('DELETE', '/knobs/wire/workers/pin?actor=alice&reason=done'))
    fits(KNOB_JSON_SCHEMA, await call('POST', '/knobs/wire/workers/revert', { version: 1, ...who }))
    // A definition that no longer admits the value: the conflict is a string, not null.
    const narrowed = fits(
      KNOB_JSON_SCHEMA,
      await call('PUT', '/knobs/wire/workers', { type: 'int', default: 2, min: 1, max: 3 }),
    ) as { conflict: unknown }
    expect(narrowed.conflict).toBe('value 4 is outside the bounds [1, 3]')
  })

  it('is what the list and a knob with its history carry', async () => {
    const list = fits(KNOB_LIST_JSON_SCHEMA, await call('GET', '/knobs?service=wire')) as { knobs: unknown[] }
    expect(list.knobs).toHaveLength(6)
    const detail = fits(KNOB_DETAIL_JSON_SCHEMA, await call('GET', '/knobs/wire/workers')) as { history: unknown[] }
    expect(detail.history.length).toBeGreaterThan(4)
  })

  it("is what the live stream's snapshot and changes carry", async () => {
    const ac = new AbortController()
    const res = await fetch(`${url}/api/v1/knobs/stream?service=wire`, { signal: ac.signal })
    const reader = res.body!.getReader()
    let text = ''
    const events = () => text.split('\n\n').filter((e) => e.includes('data: '))
    while (events().length < 1) text += new TextDecoder().decode((await reader.read()).value)
    await call('POST', '/knobs/wire/ratio/value', { value: 0.75, ...who })
    while (events().length < 2) text += new TextDecoder().decode((await reader.read()).value)
    ac.abort()
    const [snapshot, change] = events().map((e) => JSON.parse(/data: (.*)/.exec(e)![1]!) as unknown)
    fits(KNOB_LIST_JSON_SCHEMA, snapshot)
    expect(fits(KNOB_JSON_SCHEMA, change)).toMatchObject({ name: 'ratio', value: 0.75 })
  })

  it("is what the library's stand-in collector answers a declaration with", () => {
    fits(KNOB_JSON_SCHEMA, declared('app', 'workers', { type: 'int', default: 4, min: 1, max: 64 }))
    fits(KNOB_JSON_SCHEMA, declared('app', 'mode', { type: 'enum', values: ['a', 'b'], default: 'a' }))
  })
})
