import protobuf from 'protobufjs'

/**
 * The answers of OTLP receivers: google.rpc.Status and the RetryInfo of its details, as error
 * answers carry them, and the partial success of an export response.
 */
const SCHEMA = `syntax = "proto3"; package google.rpc;
message PartialSuccess { int64 rejected = 1; string error_message = 2; }
message ExportResponse { PartialSuccess partial_success = 1; }
message Any { string type_url = 1; bytes value = 2; }
message Status { int32 code = 1; string message = 2; repeated Any details = 3; }
message Duration { int64 seconds = 1; int32 nanos = 2; }
message RetryInfo { Duration retry_delay = 1; }
`
const root = protobuf.parse(SCHEMA).root
const Status = root.lookupType('google.rpc.Status')
const RetryInfo = root.lookupType('google.rpc.RetryInfo')
const ExportResponse = root.lookupType('google.rpc.ExportResponse')

/** A decoded Status: its code, message, and the retry delay of a RetryInfo detail (undefined without one). */
export interface DecodedStatus {
  code: number
  message: string
  retryAfterSeconds: number | undefined
  details: number
}

/** Decodes a google.rpc.Status (protobuf), failing on anything else. */
export function decodeStatus(bytes: Uint8Array): DecodedStatus {
  const s = Status.toObject(Status.decode(bytes), { longs: Number, defaults: true }) as {
    code: number
    message: string
    details: { typeUrl: string; value: Uint8Array }[]
  }
  const retry = s.details.find((d) => d.typeUrl === 'type.googleapis.com/google.rpc.RetryInfo')
  const info =
    retry === undefined
      ? undefined
      : (RetryInfo.toObject(RetryInfo.decode(retry.value), { longs: Number, defaults: true }) as {
          retryDelay?: { seconds: number }
        })
  return { code: s.code, message: s.message, retryAfterSeconds: info?.retryDelay?.seconds, details: s.details.length }
}

/**
 * An Export{Metrics,Trace,Logs}ServiceResponse (the same fields on the wire: partial_success
 * { rejected_data_points / rejected_spans / rejected_log_records = 1, error_message = 2 }).
 */
export function decodeExportResponse(bytes: Uint8Array): { rejected: number; message: string } {
  const r = ExportResponse.toObject(ExportResponse.decode(bytes), { longs: Number, defaults: true }) as {
    partialSuccess?: { rejected: number; errorMessage: string }
  }
  return { rejected: r.partialSuccess?.rejected ?? 0, message: r.partialSuccess?.errorMessage ?? '' }
}
