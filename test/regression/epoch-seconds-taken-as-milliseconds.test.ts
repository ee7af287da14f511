import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../collector/src/app.ts'
import { unitMistake } from '../../collector/src/util/time-units.ts'
import { testSettings } from '../helpers/settings.ts'

// Epoch seconds were taken as milliseconds in every time field: 201, a deploy in 1970, a
// service that stayed in the list for good. And a deploy with a past started_at and no
// finished_at got finished_at = now, so backfilled deploys overlapped.

let app: FastifyInstance
const SECONDS = Math.floor(Date.now() / 1000) - 3600
beforeAll(async () => {
  app = await buildApp(testSettings(), { logger: false })
})
afterAll(async () => {
  await app?.close()
})

const post = (url: string, payload: object) => app.inject({ method: 'POST', url, payload })

describe('a time in the wrong unit is refused with 400, naming the field and the likely unit', () => {
  it.each(['started_at', 'finished_at'])('deploy %s', async (field) => {
    const res = await post('/api/v1/deploys', { service: 'shop', version: '1', actor: 'ci', [field]: SECONDS })
    expect(res.statusCode).toBe(400)
    expect(res.json().error.code).toBe('GOV_ERR_CHANGE_INVALID')
    expect(res.json().error.message).toContain(`${field}=${SECONDS} looks like epoch seconds`)
    expect(res.json().error.message).toContain(`send ${SECONDS * 1000} (milliseconds)`)
  })

  it('deploy started_at as a string of seconds (as the CLI sends --started-at)', async () => {
    const res = await post('/api/v1/deploys', {
      service: 'shop',
      version: '1',
      actor: 'ci',
      started_at: String(SECONDS),
    })
    expect(res.statusCode).toBe(400)
    expect(res.json().error.message).toContain('looks like epoch seconds')
  })

  it('event time, in nanoseconds', async () => {
    const res = await post('/api/v1/events', {
      kind: 'note',
      service: 'shop',
      actor: 'ops',
      title: 'x',
      time: SECONDS * 1e9,
    })
    expect(res.statusCode).toBe(400)
    expect(res.json().error.message).toContain('looks like epoch nanoseconds')
  })

  it.each(['/api/v1/query?metric=m&from=SEC', '/api/v1/query?metric=m&to=SEC', '/api/v1/events?from=SEC'])(
    '%s',
    async (url) => {
      const res = await app.inject({ method: 'GET', url: url.replace('SEC', String(SECONDS)) })
      expect(res.statusCode).toBe(400)
      expect(res.json().error.message).toMatch(/(from|to)=\d+ looks like epoch seconds/)
    },
  )

  it('and nothing is stored', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/v1/deploys?service=shop' })
    expect(res.json()).toMatchObject({ deploys: [] })
  })
})

describe('a deploy with only a past start', () => {
  it('is a point in time: finished_at = started_at, not now', async () => {
    const started = Date.now() - 6 * 3_600_000
    const res = await post('/api/v1/deploys', { service: 'backfill', version: '1', actor: 'ci', started_at: started })
    expect(res.statusCode).toBe(201)
    expect(res.json()).toMatchObject({
      started_at: new Date(started).toISOString(),
      finished_at: new Date(started).toISOString(),
    })
  })
})

describe('unitMistake', () => {
  it('passes plausible milliseconds and names the other units', () => {
    expect(unitMistake('t', Date.now())).toBeUndefined()
    expect(unitMistake('t', 1_700_000_000)).toMatch(/epoch seconds \(2023-11-14T22:13:20.000Z\)/)
    expect(unitMistake('t', 1_700_000_000_000_000)).toMatch(/epoch microseconds/)
    expect(unitMistake('t', 1.7e18)).toMatch(/epoch nanoseconds/)
    expect(unitMistake('t', 5)).toMatch(/not a plausible time/)
  })
})
