import helmet from '@fastify/helmet'
import type { FastifyInstance } from 'fastify'

/**
 * Security headers on every response (helmet): nosniff, no framing, no referrer, same-origin
 * resource policy, and a Content-Security-Policy ready for a web UI served by Governor itself:
 * its own scripts, styles, fonts and API only, images also as data: URLs, no plugins, no
 * inline scripts, never framed.
 *
 * HSTS is left to whatever terminates TLS in front of Governor (it listens on plain HTTP,
 * and HSTS sent from here would bind every subdomain of the name it is reached by), and so is
 * upgrade-insecure-requests, which would break a UI opened over plain HTTP.
 */
export async function installSecurityHeaders(app: FastifyInstance): Promise<void> {
  await app.register(helmet, {
    global: true,
    hsts: false,
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        baseUri: ["'self'"],
        connectSrc: ["'self'"],
        fontSrc: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        imgSrc: ["'self'", 'data:'],
        objectSrc: ["'none'"],
        scriptSrc: ["'self'"],
        scriptSrcAttr: ["'none'"],
        styleSrc: ["'self'"],
        workerSrc: ["'self'"],
      },
    },
  })
}
