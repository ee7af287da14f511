import { readdirSync, readFileSync } from 'node:fs'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { apiSeeds } from '../helpers/fuzz-inputs.ts'
import { startServer } from '../helpers/server.ts'

// Every input that once broke the server under test/e2e/fuzz.test.ts (a crash, a hang, a 5xx),
// kept as a file under fuzz-corpus/ by the fuzzer itself ({found, seed, method, url, headers,
// body (base64)}), replayed here against a server of the fuzzer's settings: each must now be
// answered 2xx, or 4xx with a message.

const CORPUS = new URL('./fuzz-corpus/', import.meta.url)
const files = readdirSync(CORPUS)
  .filter((f) => f.endsWith('.json'))
  .sort()

interface Kept {
  found: string
  method: 'POST' | 'PUT'
  url: string
  headers: Record<string, string>
  body: string
}

let app: FastifyInstance
beforeAll(async () => {
  ;({ app } = await startServer({
    maxBodyBytes: 4 * 1024 * 1024,
    rateLimitApiPerMinute: 0,
    rateLimitIngestPerMinute: 0,
  }))
  // The knobs the fuzzer's knob changes aim at, as its seeds declare them.
  for (const seed of apiSeeds(Date.now()).filter((s) => s.method === 'PUT')) {
    expect((await app.inject({ method: 'PUT', url: seed.url, payload: seed.body as object })).statusCode).toBe(201)
  }
})
afterAll(async () => {
  await app?.close()
})

describe('the fuzz corpus', () => {
  it('holds the inputs that broke something', () => {
    expect(files.length).toBeGreaterThan(0)
  })

  it.each(files)('%s is answered without a 5xx', async (file) => {
    const kept = JSON.parse(readFileSync(new URL(file, CORPUS), 'utf8')) as Kept
    const res = await app.inject({
      method: kept.method,
      url: kept.url,
      headers: kept.headers,
      payload: Buffer.from(kept.body, 'base64'),
    })
    expect(res.statusCode, `${file} (once: ${kept.found}): ${res.body.slice(0, 200)}`).toBeLessThan(500)
    if (res.statusCode >= 400) expect(res.rawPayload.length, `${file}: a refusal with a message`).toBeGreaterThan(0)
  })
})
