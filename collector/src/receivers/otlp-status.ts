import type { ErrorCode } from '../errors.ts'
import type { RejectReason } from '../self-metrics.ts'
import { RPC_CODE } from './otlp-response.ts'

/** How an OTLP receiver answers an error, on either transport. */
export interface OtlpErrorStatus {
  /** google.rpc.Code: the gRPC status, and the `code` of the Status body over HTTP. */
  code: number
  /**
   * Seconds to wait before sending again: set when the sender should retry (Retry-After over
   * HTTP, a RetryInfo in the status details over gRPC); undefined when it should not.
   */
  retryAfterSeconds: number | undefined
}

/**
 * The OTLP status of an error answered with `httpStatus`. Overload and throttling are
 * retryable and say when: 503 is UNAVAILABLE (the OTLP/gRPC backpressure signal), 429
 * RESOURCE_EXHAUSTED with a RetryInfo (without one a client must not retry it). A body over
 * the limit is RESOURCE_EXHAUSTED without one, as grpc-js answers a message over its own
 * limit: the same request would be refused again.
 */
export function otlpErrorStatus(httpStatus: number, retryAfterSeconds = 1): OtlpErrorStatus {
  if (httpStatus === 503) return { code: RPC_CODE.UNAVAILABLE, retryAfterSeconds }
  if (httpStatus === 429) return { code: RPC_CODE.RESOURCE_EXHAUSTED, retryAfterSeconds }
  if (httpStatus === 413) return { code: RPC_CODE.RESOURCE_EXHAUSTED, retryAfterSeconds: undefined }
  const code =
    httpStatus >= 500
      ? RPC_CODE.INTERNAL
      : httpStatus === 401
        ? RPC_CODE.UNAUTHENTICATED
        : httpStatus === 403
          ? RPC_CODE.PERMISSION_DENIED
          : RPC_CODE.INVALID_ARGUMENT
  return { code, retryAfterSeconds: undefined }
}

/**
 * The `reason` of governor_ingest_requests_rejected_total for a request refused whole. Points
 * refused by a full pipeline or a failed write are counted as points instead.
 */
export const REQUEST_REJECT_REASONS: Partial<Record<ErrorCode, RejectReason>> = {
  GOV_ERR_OTLP_MALFORMED: 'malformed',
  GOV_ERR_OTLP_CONTENT_TYPE: 'unsupported_media',
  GOV_ERR_OTLP_CONTENT_ENCODING: 'unsupported_media',
  GOV_ERR_BODY_TOO_LARGE: 'too_large',
}
