import { gunzipSync } from 'node:zlib'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../../collector/src/app.ts'
import { buildUiBundle } from '../../../collector/src/ui/index.ts'
import { testSettings } from '../../helpers/settings.ts'

// The web UI's bundle is built in memory from collector/ui/ and served at / and /ui/*, with
// the Content-Security-Policy every answer carries, and cache headers that cannot go stale.

let app: FastifyInstance
beforeAll(async () => {
  app = await buildApp(testSettings({ impactIntervalMillis: 0, controllerTickMillis: 0 }), { logger: false })
})
afterAll(async () => {
  await app?.close()
})

const assetNames = (html: string) => [...html.matchAll(/(?:src|href)="\/ui\/([^"]+)"/g)].map((m) => m[1]!)

describe('the web UI bundle', () => {
  it('builds one minified script and one stylesheet (uPlot included), small and fast', async () => {
    const bundle = await buildUiBundle()
    const assets = [...bundle.assets.values()]
    expect(assets.map((a) => a.contentType).sort()).toEqual([
      'text/css; charset=utf-8',
      'text/javascript; charset=utf-8',
    ])
    const js = assets.find((a) => a.name.endsWith('.js'))!
    const css = assets.find((a) => a.name.endsWith('.css'))!
    expect(js.name).toMatch(/^app-[A-Za-z0-9_-]{16}\.js$/)
    expect(js.body.toString()).toContain('uplot') // uPlot's class names
    expect(css.body.toString()).toContain('.u-over') // uPlot's stylesheet
    expect(css.body.toString()).toContain('prefers-color-scheme:dark')
    expect(js.body.length).toBeLessThan(150 * 1024)
    expect(js.gzipped.length).toBeLessThan(50 * 1024)
    expect(gunzipSync(js.gzipped).equals(js.body)).toBe(true)
    expect(bundle.buildMillis).toBeLessThan(5000)
    // Built from the same sources, the names are the same: they name the content.
    expect([...(await buildUiBundle()).assets.keys()].sort()).toEqual([...bundle.assets.keys()].sort())
  })
})

describe('GET / and /ui/*', () => {
  it('answers the page with the Content-Security-Policy, no inline script, and a validator', async () => {
    const res = await app.inject({ method: 'GET', url: '/' })
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8')
    const csp = String(res.headers['content-security-policy'])
    expect(csp).toContain("default-src 'self'")
    expect(csp).toContain("script-src 'self'")
    expect(csp).toContain("style-src 'self'")
    expect(csp).toContain("frame-ancestors 'none'")
    expect(csp).not.toContain('unsafe-inline')
    expect(res.headers['x-content-type-options']).toBe('nosniff')
    expect(res.headers['cache-control']).toBe('no-cache')
    expect(res.body).not.toMatch(/<script>|<style|style=/)
    expect(assetNames(res.body)).toHaveLength(2)
    const again = await app.inject({ method: 'GET', url: '/', headers: { 'if-none-match': String(res.headers.etag) } })
    expect(again.statusCode).toBe(304)
    expect(again.body).toBe('')
  })

  it('serves the assets it names with their content type, cached for good, gzipped when asked', async () => {
    const page = await app.inject({ method: 'GET', url: '/' })
    for (const name of assetNames(page.body)) {
      const plain = await app.inject({ method: 'GET', url: `/ui/${name}` })
      expect(plain.statusCode, name).toBe(200)
      expect(plain.headers['content-type']).toBe(
        name.endsWith('.js') ? 'text/javascript; charset=utf-8' : 'text/css; charset=utf-8',
      )
      expect(plain.headers['cache-control']).toBe('public, max-age=31536000, immutable')
      expect(plain.headers['content-encoding']).toBeUndefined()
      expect(plain.headers['content-security-policy']).toContain("default-src 'self'")
      const gz = await app.inject({ method: 'GET', url: `/ui/${name}`, headers: { 'accept-encoding': 'gzip, br' } })
      expect(gz.headers['content-encoding']).toBe('gzip')
      expect(gz.headers.vary).toContain('accept-encoding')
      expect(gunzipSync(gz.rawPayload).toString()).toBe(plain.body)
    }
  })

  it('answers 404 for a file the build does not have, and leaves other paths 404', async () => {
    expect((await app.inject({ method: 'GET', url: '/ui/app-0000000000000000.js' })).statusCode).toBe(404)
    expect((await app.inject({ method: 'GET', url: '/ui/../package.json' })).statusCode).toBe(404)
    expect((await app.inject({ method: 'GET', url: '/index.html' })).statusCode).toBe(404)
  })
})
