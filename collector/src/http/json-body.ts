import type { FastifyInstance } from 'fastify'

/**
 * JSON bodies of the API are parsed as fastify parses them (prototype poisoning refused),
 * then every string and key is made well-formed Unicode: a lone UTF-16 surrogate (`"\ud800"`
 * is valid JSON) becomes U+FFFD, as an invalid UTF-8 byte of the body already does when it is
 * decoded. Stored as it came, such a string fails the store's JSON parser on insert (a 500
 * found by the fuzzer, test/regression/fuzz-corpus/) and cannot be printed as UTF-8 anyway.
 * The receivers parse their own bodies and are not affected.
 */
export function installJsonBodies(app: FastifyInstance): void {
  const parse = app.getDefaultJsonParser('error', 'error')
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    parse(req, body as string, (err, value) => {
      if (err !== null) done(err, undefined)
      else done(null, wellFormed(value))
    })
  })
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g

function fix(s: string): string {
  LONE_SURROGATE.lastIndex = 0
  return LONE_SURROGATE.test(s) ? s.replace(LONE_SURROGATE, '\ufffd') : s
}

/**
 * `v` with every string and object key well-formed, changed in place. Iterative: a body may
 * nest as deep as its size allows, past what a recursive walk's stack would take.
 */
export function wellFormed(v: unknown): unknown {
  if (typeof v === 'string') return fix(v)
  const stack: unknown[] = [v]
  while (stack.length > 0) {
    const x = stack.pop()
    if (Array.isArray(x)) {
      for (let i = 0; i < x.length; i++) {
        const e: unknown = x[i]
        if (typeof e === 'string') x[i] = fix(e)
        else if (typeof e === 'object' && e !== null) stack.push(e)
      }
    } else if (typeof x === 'object' && x !== null) {
      const o = x as Record<string, unknown>
      for (const k of Object.keys(o)) {
        const e = o[k]
        const key = fix(k)
        if (key !== k) {
          delete o[k]
          o[key] = e
        }
        if (typeof e === 'string') o[key] = fix(e)
        else if (typeof e === 'object' && e !== null) stack.push(e)
      }
    }
  }
  return v
}
