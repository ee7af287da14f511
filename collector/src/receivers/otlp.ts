import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { INGEST } from '../auth/roles.ts'
import { decodeOtlpJson } from '../decode/otlp-json.ts'
import { decodeOtlpProto } from '../decode/otlp-proto.ts'
import { GovernorError, isGovernorError, type ErrorCode } from '../errors.ts'
import type { RejectReason } from '../self-metrics.ts'
import { oldestAcceptedMillis } from '../settings.ts'
import { decodedBody } from './body.ts'
import { exportResponseJson, exportResponseProto, RPC_CODE, statusProto } from './otlp-response.ts'

const PROTOBUF = 'application/x-protobuf'
const JSON_TYPE = 'application/json'

/**
 * OTLP/HTTP metrics receiver, `POST /v1/metrics`, per the OTLP specification: protobuf or
 * JSON, optionally gzip; answers in the request's content type; 200 only once every stored
 * point is committed; invalid points are reported as partial success and the rest kept.
 */
export async function otlpReceiver(app: FastifyInstance): Promise<void> {
  const { settings } = app.governor
  // Bodies arrive as raw bytes whatever their type: decoding and decompression happen in
  // the handler, where an error can be answered in the OTLP shape.
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: settings.maxBodyBytes }, (_req, body, done) => done(null, body))

  // Governor's errors raised before the handler (a missing token) are answered in the OTLP
  // shape too; fastify's own (a body over the limit) go on to the API's error handler.
  app.setErrorHandler((err, req, reply) => {
    if (!isGovernorError(err)) throw err
    return sendError(req, reply, err, mediaType(req.headers['content-type']) === JSON_TYPE)
  })

  app.post('/v1/metrics', { bodyLimit: settings.maxBodyBytes, config: { roles: INGEST } }, async (req, reply) => {
    const type = mediaType(req.headers['content-type'])
    const asJson = type === JSON_TYPE
    try {
      if (type !== PROTOBUF && type !== JSON_TYPE) {
        throw new GovernorError('GOV_ERR_OTLP_CONTENT_TYPE', `unsupported Content-Type ${JSON.stringify(req.headers['content-type'] ?? '')}: send ${PROTOBUF} or ${JSON_TYPE}`)
      }
      const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0)
      const body = await decodedBody(raw, req.headers['content-encoding'], settings.maxBodyBytes)
      await req.ingestTurn()
      const { seriesCache, pipeline, metrics } = app.governor
      const oldest = oldestAcceptedMillis(settings, Date.now())
      const result = asJson ? decodeOtlpJson(parseJson(body), seriesCache, oldest) : decodeOtlpProto(body, seriesCache, oldest)
      if (result.rejected > 0) metrics.pointsRejected.inc({ receiver: 'otlp', reason: 'invalid_point' }, result.rejected)
      const points = result.batch.pointCount
      try {
        await pipeline.submit(result.batch)
      } catch (err) {
        const reason: RejectReason = isGovernorError(err) && err.code === 'GOV_ERR_PIPELINE_FULL' ? 'pipeline_full' : 'store_error'
        metrics.pointsRejected.inc({ receiver: 'otlp', reason }, points)
        throw err
      }
      metrics.pointsAccepted.inc({ receiver: 'otlp' }, points)
      const message = result.errors.join('; ')
      return asJson
        ? reply.type(JSON_TYPE).send(exportResponseJson(result.rejected, message))
        : reply.type(PROTOBUF).send(exportResponseProto(result.rejected, message))
    } catch (err) {
      return sendError(req, reply, err, asJson)
    }
  })
}

function mediaType(header: string | undefined): string {
  return (header ?? '').split(';', 1)[0]!.trim().toLowerCase()
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'))
  } catch (err) {
    throw new GovernorError('GOV_ERR_OTLP_MALFORMED', `the body is not valid JSON: ${(err as Error).message}`)
  }
}

const REASONS: Partial<Record<ErrorCode, RejectReason>> = {
  GOV_ERR_OTLP_MALFORMED: 'malformed',
  GOV_ERR_OTLP_CONTENT_TYPE: 'unsupported_media',
  GOV_ERR_OTLP_CONTENT_ENCODING: 'unsupported_media',
  GOV_ERR_BODY_TOO_LARGE: 'too_large',
  GOV_ERR_PIPELINE_FULL: 'pipeline_full',
  GOV_ERR_STORE_WRITE: 'store_error',
  GOV_ERR_STORE_UNAVAILABLE: 'store_error',
}

/** Errors as google.rpc.Status in the request's encoding, with Retry-After when retryable. */
function sendError(req: FastifyRequest, reply: FastifyReply, err: unknown, asJson: boolean): FastifyReply {
  const gov = isGovernorError(err) ? err : undefined
  if (gov === undefined) req.log.error({ err }, 'OTLP request failed')
  const status = gov?.statusCode ?? 500
  const message = gov?.message ?? 'internal error'
  const rpc = status === 503 ? RPC_CODE.UNAVAILABLE : status === 429 ? RPC_CODE.RESOURCE_EXHAUSTED : status >= 500 ? RPC_CODE.INTERNAL
    : status === 401 ? RPC_CODE.UNAUTHENTICATED : status === 403 ? RPC_CODE.PERMISSION_DENIED : RPC_CODE.INVALID_ARGUMENT
  const reason = gov !== undefined ? REASONS[gov.code] : undefined
  if (reason !== undefined && reason !== 'pipeline_full' && reason !== 'store_error') {
    req.server.governor.metrics.requestsRejected.inc({ receiver: 'otlp', reason })
  }
  // A 429 of the rate limiter carries its own Retry-After: the seconds left in its window.
  if ((status === 503 || status === 429) && !reply.hasHeader('retry-after')) reply.header('retry-after', '1')
  reply.code(status)
  return asJson
    ? reply.type(JSON_TYPE).send(JSON.stringify({ code: rpc, message, error: gov?.code ?? 'internal' }))
    : reply.type(PROTOBUF).send(statusProto(rpc, message))
}
