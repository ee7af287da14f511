import { promisify } from 'node:util'
import { gzip } from 'node:zlib'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { Registry, type OpenMetricsContentType, type RegistryContentType } from 'prom-client'

const gzipAsync = promisify(gzip)

/**
 * The collector's own metrics as the scraper asks for them: OpenMetrics 1.0 when its Accept
 * header prefers it (Prometheus lists it first), else the text format 0.0.4; gzip when its
 * Accept-Encoding allows (Prometheus always sends it). The metrics live in one registry; an
 * OpenMetrics answer formats the same metric objects through a registry of that format.
 */
export async function sendExposition(
  registry: Registry<RegistryContentType>,
  req: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply> {
  let source: Registry<RegistryContentType> = registry
  if (prefersOpenMetrics(req.headers.accept)) {
    const open = new Registry<OpenMetricsContentType>()
    open.setContentType(Registry.OPENMETRICS_CONTENT_TYPE)
    for (const { name } of registry.getMetricsAsArray()) {
      const metric = registry.getSingleMetric(name)
      if (metric !== undefined) open.registerMetric(metric)
    }
    source = open
  }
  const text = await source.metrics()
  reply.type(source.contentType).header('vary', 'accept, accept-encoding')
  if (!accepts(req.headers['accept-encoding'], 'gzip')) return reply.send(text)
  return reply.header('content-encoding', 'gzip').send(await gzipAsync(text))
}

/** The q-value an Accept-style header gives `token` (matched as a prefix of each entry's value), 0 when absent. */
function quality(header: string | undefined, matches: (value: string) => boolean): number {
  let best = 0
  for (const entry of (header ?? '').split(',')) {
    const [value, ...params] = entry.split(';').map((p) => p.trim().toLowerCase())
    if (value === undefined || !matches(value)) continue
    const q = params.find((p) => p.startsWith('q='))
    best = Math.max(best, q === undefined ? 1 : Number(q.slice(2)) || 0)
  }
  return best
}

/** Whether the scraper ranks OpenMetrics at least as high as the text format (and asks for it at all). */
export function prefersOpenMetrics(accept: string | undefined): boolean {
  const om = quality(accept, (v) => v === 'application/openmetrics-text')
  return om > 0 && om >= quality(accept, (v) => v === 'text/plain')
}

function accepts(acceptEncoding: string | undefined, coding: string): boolean {
  return quality(acceptEncoding, (v) => v === coding) > 0
}
