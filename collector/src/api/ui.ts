import type { FastifyInstance } from 'fastify'
import { buildUiBundle, type UiBundle } from '../ui/ui-bundle.ts'

/** Hashed asset names never change content: cached for a year. */
const IMMUTABLE = 'public, max-age=31536000, immutable'

/**
 * The web UI: the page at `/` and its assets at `/ui/<name>`. Both are open: they hold no
 * data, and every call the page makes to the API carries the token the user gives it.
 *
 * The bundle is built once, at the first request, and kept for the life of the app: an app
 * that never serves the UI (a test, a headless collector) never starts esbuild. Concurrent
 * first requests share the one build.
 */
export async function uiRoutes(app: FastifyInstance): Promise<void> {
  let bundle: Promise<UiBundle> | undefined
  const get = (): Promise<UiBundle> => {
    bundle ??= buildUiBundle().then(
      (b) => {
        const sizes = [...b.assets.values()].map((a) => `${a.name} ${kB(a.body)} (${kB(a.gzipped)} gzipped)`).join(', ')
        app.log.info(`web UI built in ${Math.round(b.buildMillis)} ms: ${sizes}`)
        return b
      },
      (err: unknown) => {
        bundle = undefined // the next request tries again
        throw err
      },
    )
    return bundle
  }

  app.get('/', { config: { roles: 'open' } }, async (req, reply) => {
    const b = await get()
    reply.header('etag', b.etag).header('cache-control', 'no-cache')
    if (req.headers['if-none-match'] === b.etag) return reply.code(304).send()
    return reply.type('text/html; charset=utf-8').send(b.html)
  })

  app.get<{ Params: { name: string } }>('/ui/:name', { config: { roles: 'open' } }, async (req, reply) => {
    const asset = (await get()).assets.get(req.params.name)
    if (asset === undefined) return reply.callNotFound() // an old page asks for a build gone by: 404 as any path
    reply.type(asset.contentType).header('cache-control', IMMUTABLE).header('vary', 'accept-encoding')
    if (!/\bgzip\b/.test(req.headers['accept-encoding'] ?? '')) return reply.send(asset.body)
    return reply.header('content-encoding', 'gzip').send(asset.gzipped)
  })
}

function kB(b: Buffer): string {
  return `${(b.length / 1024).toFixed(1)} kB`
}
