import { decodeOtlpJson } from '../decode/otlp-json.ts'
import { decodeOtlpProto } from '../decode/otlp-proto.ts'
import { GovernorError, isGovernorError } from '../errors.ts'
import type { RejectReason } from '../self-metrics.ts'
import type { Services } from '../services.ts'
import { oldestAcceptedMillis } from '../settings.ts'
import { countOtlpItemsJson, countOtlpItemsProto } from './otlp-count.ts'
import type { OtlpSignal } from './otlp-response.ts'

/** What an export request's answer says: items rejected, and why (empty when all were taken). */
export interface ExportOutcome {
  rejected: number
  message: string
}

/** The `receiver` label of the self-metrics: one per transport. */
export type OtlpReceiverName = 'otlp' | 'otlp_grpc'

/** What OTLP calls the items of each signal, in the messages it sends back. */
const ITEMS: Record<Exclude<OtlpSignal, 'metrics'>, string> = { traces: 'spans', logs: 'log records' }

/**
 * Handles one OTLP export request whose body is complete and decompressed, the same on every
 * transport; call it in the request's decoding turn (it decodes synchronously, before its
 * first await). Metrics are decoded and stored: the outcome resolves once they are
 * acknowledged, with the invalid points rejected. Spans and log records are counted and not
 * kept, all rejected with a message that says so, so that an SDK sending every signal by
 * default succeeds, and what it sent shows in governor_otlp_items_not_kept_total. Throws
 * GOV_ERR_OTLP_MALFORMED, or the pipeline's refusal.
 */
export async function exportOtlp(
  services: Services,
  receiver: OtlpReceiverName,
  signal: OtlpSignal,
  body: Buffer,
  json: boolean,
): Promise<ExportOutcome> {
  const { metrics } = services
  if (signal !== 'metrics') {
    const count = json ? countOtlpItemsJson(signal, parseJson(body)) : countOtlpItemsProto(body)
    metrics.itemsNotKept.inc({ receiver, signal }, count)
    return {
      rejected: count,
      message: `Governor keeps metrics only: the ${count} ${ITEMS[signal]} of this request were received and not kept; send ${signal} to a ${signal === 'traces' ? 'tracing' : 'logging'} backend`,
    }
  }
  const { settings, seriesCache, pipeline } = services
  const oldest = oldestAcceptedMillis(settings, Date.now())
  const result = json
    ? decodeOtlpJson(parseJson(body), seriesCache, oldest)
    : decodeOtlpProto(body, seriesCache, oldest)
  if (result.rejected > 0) metrics.pointsRejected.inc({ receiver, reason: 'invalid_point' }, result.rejected)
  const points = result.batch.pointCount
  try {
    await pipeline.submit(result.batch)
  } catch (err) {
    const reason: RejectReason =
      isGovernorError(err) && err.code === 'GOV_ERR_PIPELINE_FULL' ? 'pipeline_full' : 'store_error'
    metrics.pointsRejected.inc({ receiver, reason }, points)
    throw err
  }
  metrics.pointsAccepted.inc({ receiver }, points)
  return { rejected: result.rejected, message: result.errors.join('; ') }
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'))
  } catch (err) {
    throw new GovernorError('GOV_ERR_OTLP_MALFORMED', `the body is not valid JSON: ${(err as Error).message}`)
  }
}
