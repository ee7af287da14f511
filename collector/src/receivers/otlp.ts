import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { INGEST } from '../auth/roles.ts'
import { GovernorError, isGovernorError } from '../errors.ts'
import { decodedBody } from './body.ts'
import { exportOtlp } from './otlp-export.ts'
import { exportResponseJson, exportResponseProto, statusJson, statusProto, type OtlpSignal } from './otlp-response.ts'
import { otlpErrorStatus, REQUEST_REJECT_REASONS } from './otlp-status.ts'

const PROTOBUF = 'application/x-protobuf'
const JSON_TYPE = 'application/json'
const RECEIVER = 'otlp'
const SIGNALS: readonly OtlpSignal[] = ['metrics', 'traces', 'logs']

/**
 * OTLP/HTTP receiver, `POST /v1/metrics`, `/v1/traces` and `/v1/logs`, per the OTLP
 * specification: protobuf or JSON, optionally gzip or zstd; answers in the request's content
 * type; 200 only once every stored point is acknowledged; invalid points are reported as
 * partial success and the rest kept. Spans and log records are taken and not kept: a partial
 * success rejects them all and says so (see `exportOtlp`). Every error, the refusals of the
 * hooks before the handler included, is a google.rpc.Status in the request's encoding.
 */
export async function otlpReceiver(app: FastifyInstance): Promise<void> {
  const { settings } = app.governor
  // Bodies arrive as raw bytes whatever their type: decoding and decompression happen in
  // the handler, where an error can be answered in the OTLP shape.
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: settings.maxBodyBytes }, (_req, body, done) =>
    done(null, body),
  )

  // Errors raised before the handler: Governor's (a missing token, throttling, admission)
  // and fastify's own 4xx (a body over the limit, a bad Content-Length).
  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (isGovernorError(err)) return sendError(req, reply, err)
    if (err.statusCode === 413)
      return sendError(
        req,
        reply,
        new GovernorError(
          'GOV_ERR_BODY_TOO_LARGE',
          `the body is over ${settings.maxBodyBytes} bytes (GOVERNOR_MAX_BODY_BYTES)`,
        ),
      )
    if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
      return sendStatus(req, reply, err.statusCode, err.message, err.code ?? 'FST_ERR')
    }
    return sendError(req, reply, err)
  })
  // The adaptive limiter (@governor/throttle/fastify) answers a shed request itself, in JSON;
  // a protobuf sender is given a Status instead.
  app.addHook('onSend', async (req, reply, payload) => {
    if (reply.statusCode < 400 || !wantsProtobuf(req) || String(reply.getHeader('content-type')).startsWith(PROTOBUF))
      return payload
    const { code, retryAfterSeconds } = otlpErrorStatus(reply.statusCode, retryAfterOf(reply))
    reply.type(PROTOBUF)
    return statusProto(code, messageOf(payload), retryAfterSeconds)
  })

  for (const signal of SIGNALS) {
    app.post(`/v1/${signal}`, { bodyLimit: settings.maxBodyBytes, config: { roles: INGEST } }, async (req, reply) => {
      const type = mediaType(req.headers['content-type'])
      const json = type === JSON_TYPE
      try {
        if (type !== PROTOBUF && !json) {
          throw new GovernorError(
            'GOV_ERR_OTLP_CONTENT_TYPE',
            `unsupported Content-Type ${JSON.stringify(req.headers['content-type'] ?? '')}: send ${PROTOBUF} or ${JSON_TYPE}`,
          )
        }
        const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0)
        const body = await decodedBody(raw, req.headers['content-encoding'], settings.maxBodyBytes, () =>
          req.ingestTurn(),
        )
        const { rejected, message } = await exportOtlp(app.governor, RECEIVER, signal, body, json)
        return json
          ? reply.type(JSON_TYPE).send(exportResponseJson(rejected, message, signal))
          : reply.type(PROTOBUF).send(exportResponseProto(rejected, message))
      } catch (err) {
        return sendError(req, reply, err)
      }
    })
  }
}

function mediaType(header: string | undefined): string {
  return (header ?? '').split(';', 1)[0]!.trim().toLowerCase()
}

/** Whether errors are answered in protobuf: every request but a JSON one. */
function wantsProtobuf(req: FastifyRequest): boolean {
  return mediaType(req.headers['content-type']) !== JSON_TYPE
}

/** The `message` of a JSON error body sent by another plugin, else the body as it is. */
function messageOf(payload: unknown): string {
  const text = Buffer.isBuffer(payload) ? payload.toString('utf8') : typeof payload === 'string' ? payload : ''
  try {
    const message = (JSON.parse(text) as { message?: unknown }).message
    if (typeof message === 'string') return message
  } catch {
    /* not JSON: sent as it is */
  }
  return text
}

/** The seconds of a Retry-After already set (the rate limiter's: the rest of its window), else 1. */
function retryAfterOf(reply: FastifyReply): number {
  const seconds = Number(reply.getHeader('retry-after'))
  return Number.isSafeInteger(seconds) && seconds >= 0 ? seconds : 1
}

/** An error as google.rpc.Status, counted when it refuses the request whole. */
function sendError(req: FastifyRequest, reply: FastifyReply, err: unknown): FastifyReply {
  const gov = isGovernorError(err) ? err : undefined
  if (gov === undefined) req.log.error({ err }, 'OTLP request failed')
  const reason = gov !== undefined ? REQUEST_REJECT_REASONS[gov.code] : undefined
  if (reason !== undefined) req.server.governor.metrics.requestsRejected.inc({ receiver: RECEIVER, reason })
  return sendStatus(req, reply, gov?.statusCode ?? 500, gov?.message ?? 'internal error', gov?.code ?? 'internal')
}

/** A Status in the request's encoding, with Retry-After when retryable. */
function sendStatus(
  req: FastifyRequest,
  reply: FastifyReply,
  httpStatus: number,
  message: string,
  error: string,
): FastifyReply {
  // A 429 of the rate limiter carries its own Retry-After: the seconds left in its window.
  const { code, retryAfterSeconds } = otlpErrorStatus(httpStatus, retryAfterOf(reply))
  if (retryAfterSeconds !== undefined) reply.header('retry-after', String(retryAfterSeconds))
  reply.code(httpStatus)
  return wantsProtobuf(req)
    ? reply.type(PROTOBUF).send(statusProto(code, message, retryAfterSeconds))
    : reply.type(JSON_TYPE).send(statusJson(code, message, error))
}
