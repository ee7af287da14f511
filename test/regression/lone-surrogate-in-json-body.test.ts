import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startServer } from '../helpers/server.ts'

// Bug (found by the fuzzer): a JSON body holding a lone UTF-16 surrogate ("\ud800", valid
// JSON, not valid Unicode) in an event's title or a knob change's actor or reason was passed to
// the store as it came, whose JSON parser refused the insert (CANNOT_PARSE_ESCAPE_SEQUENCE):
// 500. API bodies are now made well-formed as they are parsed: the surrogate becomes U+FFFD,
// as an invalid UTF-8 byte already did.

let app: FastifyInstance
beforeAll(async () => {
  ;({ app } = await startServer())
})
afterAll(async () => {
  await app?.close()
})

const json = (payload: string) => ({ headers: { 'content-type': 'application/json' }, payload })

describe('a lone surrogate in a JSON body', () => {
  it('is stored as U+FFFD in an event', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/events',
      ...json('{"kind": "note", "title": "cards\\ud800 failing", "actor": "\\udc00bob", "tags": ["a\\ud800"]}'),
    })
    expect(res.statusCode).toBe(201)
    expect(res.json()).toMatchObject({ title: 'cards\ufffd failing', actor: '\ufffdbob', tags: ['a\ufffd'] })
    const listed = await app.inject({ method: 'GET', url: '/api/v1/events?kind=note' })
    expect(listed.json().events[0]).toMatchObject({ title: 'cards\ufffd failing' })
  })

  it('is stored as U+FFFD in a knob change, and keys are mended too', async () => {
    expect(
      (
        await app.inject({
          method: 'PUT',
          url: '/api/v1/knobs/checkout/workers',
          ...json('{"type": "int", "default": 20, "min": 1, "max": 200}'),
        })
      ).statusCode,
    ).toBe(201)
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/knobs/checkout/workers/pin',
      ...json('{"value": 5, "actor": "\\ud800", "reason": "incident\\ud800", "\\ud800": 1}'),
    })
    expect(res.statusCode).toBe(200)
    expect(res.json()).toMatchObject({ mode: 'pinned', changed_by: '\ufffd', reason: 'incident\ufffd' })
  })

  it('leaves surrogate pairs as they are', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/events',
      ...json('{"kind": "note", "title": "ship it \\ud83d\\ude80", "actor": "a"}'),
    })
    expect(res.json().title).toBe('ship it \u{1F680}')
  })
})
