import { gunzipSync } from 'node:zlib'
import type { FastifyInstance } from 'fastify'
import { request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { prefersOpenMetrics } from '../../../collector/src/api/metrics-exposition.ts'
import { startServer } from '../../helpers/server.ts'

// What Prometheus 2.42 sends when it scrapes.
const PROMETHEUS_ACCEPT =
  'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1'

describe('GET /metrics', () => {
  let app: FastifyInstance
  let url: string
  beforeAll(async () => {
    ;({ app, url } = await startServer({ walDir: 'off' }))
  })
  afterAll(async () => {
    await app?.close()
  })

  it('answers the text format 0.0.4 by default, uncompressed', async () => {
    const res = await fetch(`${url}/metrics`, { headers: { 'accept-encoding': 'identity' } })
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/)
    expect(res.headers.get('content-encoding')).toBeNull()
    const text = await res.text()
    expect(text).toMatch(/^# TYPE governor_points_accepted_total counter$/m)
    expect(text).not.toContain('# EOF')
  })

  it('answers OpenMetrics, gzipped, to what Prometheus asks for', async () => {
    // undici's request, not fetch: fetch would inflate the body itself.
    const res = await request(`${url}/metrics`, { headers: { accept: PROMETHEUS_ACCEPT, 'accept-encoding': 'gzip' } })
    expect(res.headers['content-type']).toMatch(/^application\/openmetrics-text; version=1\.0\.0/)
    expect(res.headers['content-encoding']).toBe('gzip')
    expect(res.headers.vary).toBe('accept, accept-encoding')
    const text = gunzipSync(Buffer.from(await res.body.arrayBuffer())).toString('utf8')
    // OpenMetrics names a counter's family without _total and ends with # EOF.
    expect(text).toMatch(/^# TYPE governor_points_accepted counter$/m)
    expect(text.endsWith('# EOF\n')).toBe(true)
  })

  it('follows the q-values of Accept', () => {
    expect(prefersOpenMetrics(PROMETHEUS_ACCEPT)).toBe(true)
    expect(prefersOpenMetrics('text/plain;version=0.0.4;q=0.9,application/openmetrics-text;q=0.5')).toBe(false)
    expect(prefersOpenMetrics('application/openmetrics-text;q=0')).toBe(false)
    expect(prefersOpenMetrics(undefined)).toBe(false)
    expect(prefersOpenMetrics('*/*')).toBe(false)
  })
})
