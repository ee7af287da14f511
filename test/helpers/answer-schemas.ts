import { Ajv, type ValidateFunction } from 'ajv'
import addFormats from 'ajv-formats'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'

// fastify serializes an answer by its route's response schema and silently drops any property
// the schema does not list. So that a schema missing a field fails a test instead of losing
// the field, every answer is checked against its schema before it is serialized, field for
// field (the schemas allow no field they do not name).

const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true })
addFormats.default(ajv, ['date-time'])

const compiled = new WeakMap<object, ValidateFunction>()

/** The problems of `payload` against `schema`, one line each; empty when it fits. */
export function schemaProblems(schema: object, payload: unknown): string[] {
  let validate = compiled.get(schema)
  if (validate === undefined) {
    validate = ajv.compile(schema)
    compiled.set(schema, validate)
  }
  if (validate(payload)) return []
  return (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`)
}

/**
 * Every answer that does not fit its route's response schema (the first problems of each), as
 * `GET /api/v1/slos 200: /slos/0 must NOT have additional properties …`. Tests expect it empty.
 */
export type AnswerProblems = string[]

/**
 * For `buildApp`'s `instrument`: checks every JSON answer against the response schema its route
 * declares for the status sent. A misfit is recorded in `problems` and fails the request (500),
 * so that a test that does not look at `problems` fails too.
 */
export function checkAnswers(problems: AnswerProblems = []): (app: FastifyInstance) => void {
  return (app) => {
    app.addHook('preSerialization', async (req: FastifyRequest, reply: FastifyReply, payload: unknown) => {
      const responses = req.routeOptions.schema?.response as Record<string, object> | undefined
      const schema = responses?.[String(reply.statusCode)]
      if (schema === undefined) return payload
      const found = schemaProblems(schema, payload)
      if (found.length > 0) {
        const line = `${req.method} ${req.url} ${reply.statusCode}: ${found.slice(0, 5).join('; ')}`
        problems.push(line)
        process.stderr.write(`${line}\n`)
        throw new Error(`the answer does not fit its schema: ${line}`)
      }
      return payload
    })
  }
}
