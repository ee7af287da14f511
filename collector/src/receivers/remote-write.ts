import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { INGEST } from '../auth/roles.ts'
import { RemoteWriteDecoding } from '../decode/remote-write.ts'
import { RemoteWriteV2Decoding } from '../decode/remote-write-v2.ts'
import { FAMILY_TYPE_NAMES, MetricFamilies } from '../decode/remote-write-typing.ts'
import { GovernorError, isGovernorError, type ErrorCode } from '../errors.ts'
import type { RejectReason } from '../self-metrics.ts'
import { applyLateMetadata } from './late-metadata.ts'
import { snappyBlock } from './snappy.ts'
import { oldestAcceptedMillis } from '../settings.ts'

const PROTOBUF = 'application/x-protobuf'
const V1_PROTO = 'prometheus.WriteRequest'
const V2_PROTO = 'io.prometheus.write.v2.Request'
const RECEIVER = 'remote_write'

/** The answer headers of remote write 2.0: what of the request was stored. */
const WRITTEN_HEADERS = {
  samples: 'x-prometheus-remote-write-samples-written',
  histograms: 'x-prometheus-remote-write-histograms-written',
  exemplars: 'x-prometheus-remote-write-exemplars-written',
} as const

/**
 * Prometheus remote write receiver, `POST /api/v1/write`: a snappy-compressed (block format)
 * or uncompressed protobuf, a 1.0 `WriteRequest` or a 2.0 `io.prometheus.write.v2.Request` as
 * the Content-Type's `proto` parameter says (none: 1.0). Answers 204 once every stored sample
 * is logged. Remote write has no partial success: samples that cannot be stored are dropped,
 * counted and logged at debug, and the request still answered 204; only a request that
 * cannot be read at all is refused. A 2.0 answer, refusals included, says in its
 * X-Prometheus-Remote-Write-*-Written headers how many samples, histograms and exemplars were
 * stored, so that the sender sees what was dropped. Error bodies are plain text starting with
 * the error code, since Prometheus logs them as they are.
 */
export async function remoteWriteReceiver(app: FastifyInstance): Promise<void> {
  const { settings } = app.governor
  // Metadata arrives in requests of its own; remembered for the samples that follow.
  const families = new MetricFamilies()
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: settings.maxBodyBytes }, (_req, body, done) =>
    done(null, body),
  )
  // Errors raised before the handler (a body over the limit, a missing token) are answered
  // as plain text too.
  app.setErrorHandler((err: FastifyError, req, reply) => {
    const gov =
      err.statusCode === 413
        ? new GovernorError(
            'GOV_ERR_BODY_TOO_LARGE',
            `the body is over ${settings.maxBodyBytes} bytes (GOVERNOR_MAX_BODY_BYTES)`,
          )
        : err
    return sendError(req, reply, gov)
  })

  app.post('/api/v1/write', { bodyLimit: settings.maxBodyBytes, config: { roles: INGEST } }, async (req, reply) => {
    try {
      const version = protoVersion(req.headers['content-type'])
      if (version === 2) reply.headers(written(0))
      const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0)
      await req.ingestTurn()
      let sliceEnd = req.ingestSliceEnd()
      const body = decompressed(raw, req.headers['content-encoding'], settings.maxBodyBytes)
      const { seriesCache, pipeline, metrics } = app.governor
      // Decoded a slice per turn; logged as one record once every slice is: nothing of a
      // request refused part way (malformed further on, pipeline full) is written.
      const oldest = oldestAcceptedMillis(settings, Date.now())
      const decoding =
        version === 2
          ? new RemoteWriteV2Decoding(body, seriesCache, oldest)
          : new RemoteWriteDecoding(body, seriesCache, families, oldest)
      const rows = pipeline.begin()
      let histograms = 0
      let exemplars = 0
      for (;;) {
        const slice = decoding.next(sliceEnd)
        histograms += slice.expHistograms.length
        exemplars += slice.exemplars.length
        rows.add(slice)
        if (decoding.done) break
        await req.ingestResume()
        sliceEnd = req.ingestSliceEnd()
      }
      if (decoding instanceof RemoteWriteDecoding) recordStated(req, families, decoding.stated)
      if (decoding.rejected > 0) {
        metrics.pointsRejected.inc({ receiver: RECEIVER, reason: 'invalid_point' }, decoding.rejected)
        req.log.debug({ rejected: decoding.rejected, reasons: decoding.errors }, 'remote write: samples dropped')
      }
      const points = rows.points
      try {
        await rows.submit()
      } catch (err) {
        const reason: RejectReason =
          isGovernorError(err) && err.code === 'GOV_ERR_PIPELINE_FULL' ? 'pipeline_full' : 'store_error'
        metrics.pointsRejected.inc({ receiver: RECEIVER, reason }, points)
        throw err
      }
      metrics.pointsAccepted.inc({ receiver: RECEIVER }, points)
      if (version === 2) reply.headers(written(points - histograms, histograms, exemplars))
      return reply.code(204).send()
    } catch (err) {
      return sendError(req, reply, err)
    }
  })
}

/**
 * Records the metadata a request brought new or changed, and re-types the series stored on a
 * guess that it contradicts (see late-metadata.ts), without holding its answer: the request's
 * samples are acknowledged whatever becomes of it. A family whose recording or re-typing
 * fails is forgotten, so that the same metadata sent again (Prometheus sends it every minute)
 * is applied then.
 */
function recordStated(req: FastifyRequest, families: MetricFamilies, stated: readonly string[]): void {
  const list = stated.flatMap((family) => {
    const f = families.get(family)
    return f === undefined ? [] : [{ family, type: f.type, help: f.help, unit: f.unit }]
  })
  if (list.length === 0) return
  const { store, seriesCache, pipeline, changeLog } = req.server.governor
  const forget = (err: unknown, what: string): void => {
    for (const f of list) families.forget(f.family)
    req.log.warn({ err }, `remote write: ${what}; it will be when the metadata is sent again`)
  }
  store
    .recordMetricFamilies(list.map((f) => ({ ...f, type: FAMILY_TYPE_NAMES[f.type] ?? 'unknown' })))
    .catch((err: unknown) => forget(err, 'metric metadata not recorded'))
  applyLateMetadata(list, {
    types: seriesCache.types,
    sync: () => pipeline.sync(),
    retype: (r) => store.retypeSeries(r),
    record: (e) => changeLog.append(e),
    now: Date.now,
  }).catch((err: unknown) => forget(err, 'series stored before their metadata not re-typed'))
}

/** The remote write version a Content-Type names: `application/x-protobuf` with the 1.0 `proto` (or none) or the 2.0 one. */
function protoVersion(header: string | undefined): 1 | 2 {
  const [type, ...params] = (header ?? '').split(';')
  const media = type!.trim().toLowerCase()
  const proto = params
    .map((p) => p.split('='))
    .find(([k]) => k!.trim().toLowerCase() === 'proto')?.[1]
    ?.trim()
    .replace(/^"(.*)"$/, '$1')
  if (media === PROTOBUF && (proto === undefined || proto === V1_PROTO)) return 1
  if (media === PROTOBUF && proto === V2_PROTO) return 2
  throw new GovernorError(
    'GOV_ERR_RW_CONTENT_TYPE',
    `unsupported Content-Type ${JSON.stringify(header ?? '')}: send ${PROTOBUF};proto=${V1_PROTO} or ${PROTOBUF};proto=${V2_PROTO}`,
  )
}

/** The 2.0 answer headers for a request of which `samples` samples, `histograms` native histograms and `exemplars` exemplars were stored. */
function written(samples: number, histograms = 0, exemplars = 0): Record<string, string> {
  return {
    [WRITTEN_HEADERS.samples]: String(samples),
    [WRITTEN_HEADERS.histograms]: String(histograms),
    [WRITTEN_HEADERS.exemplars]: String(exemplars),
  }
}

/** The body as protobuf bytes: snappy block decompressed, or as sent when not encoded. */
function decompressed(raw: Buffer, contentEncoding: string | undefined, maxBytes: number): Buffer {
  const encoding = (contentEncoding ?? '').trim().toLowerCase()
  if (encoding === 'snappy') return snappyBlock(raw, maxBytes)
  if (encoding === '' || encoding === 'identity') return raw
  throw new GovernorError(
    'GOV_ERR_RW_CONTENT_ENCODING',
    `unsupported Content-Encoding ${JSON.stringify(contentEncoding)}: send snappy or none`,
  )
}

const REASONS: Partial<Record<ErrorCode, RejectReason>> = {
  GOV_ERR_RW_MALFORMED: 'malformed',
  GOV_ERR_RW_CONTENT_TYPE: 'unsupported_media',
  GOV_ERR_RW_CONTENT_ENCODING: 'unsupported_media',
  GOV_ERR_BODY_TOO_LARGE: 'too_large',
}

/** `CODE: message` as plain text, with Retry-After when the sender should retry. */
function sendError(req: FastifyRequest, reply: FastifyReply, err: unknown): FastifyReply {
  const gov = isGovernorError(err) ? err : undefined
  let status = gov?.statusCode ?? 500
  let text = gov !== undefined ? `${gov.code}: ${gov.message}` : 'internal error'
  if (gov === undefined) {
    // A fastify error from before the handler (say, an invalid Content-Length) keeps its 4xx.
    const fst = err as Partial<FastifyError>
    if (typeof fst.statusCode === 'number' && fst.statusCode >= 400 && fst.statusCode < 500) {
      status = fst.statusCode
      text = `${fst.code ?? 'FST_ERR'}: ${fst.message ?? ''}`
    } else req.log.error({ err }, 'remote write request failed')
  }
  const reason = gov !== undefined ? REASONS[gov.code] : undefined
  if (reason !== undefined) req.server.governor.metrics.requestsRejected.inc({ receiver: RECEIVER, reason })
  // A 429 of the rate limiter carries its own Retry-After: the seconds left in its window.
  if ((status === 503 || status === 429) && !reply.hasHeader('retry-after')) reply.header('retry-after', '1')
  return reply.code(status).type('text/plain; charset=utf-8').send(text)
}
