import { Metadata, status, type ServerErrorResponse } from '@grpc/grpc-js'
import { isGovernorError } from '../errors.ts'
import { statusProto } from '../receivers/otlp-response.ts'
import { otlpErrorStatus } from '../receivers/otlp-status.ts'

/**
 * An error as the gRPC status that answers it: the OTLP code of the same error over HTTP (see
 * `otlpErrorStatus`), its message, and, when the sender should retry, the google.rpc.Status
 * with a RetryInfo in the `grpc-status-details-bin` trailer, where gRPC clients read details.
 * Errors that are not Governor's are INTERNAL, without their message.
 */
export function grpcErrorOf(err: unknown): ServerErrorResponse {
  const gov = isGovernorError(err) ? err : undefined
  const message = gov !== undefined ? `${gov.code}: ${gov.message}` : 'internal error'
  const { code, retryAfterSeconds } = otlpErrorStatus(gov?.statusCode ?? 500)
  const metadata = new Metadata()
  if (retryAfterSeconds !== undefined)
    metadata.set('grpc-status-details-bin', statusProto(code, message, retryAfterSeconds))
  return Object.assign(new Error(message), { code: code as status, details: message, metadata })
}
