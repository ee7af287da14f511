/**
 * Bodies of OTLP responses, in the request's encoding. Only a few tiny messages are ever
 * sent, so they are written by hand rather than through a protobuf library:
 *
 *   Export{Metrics,Trace,Logs}ServiceResponse  { Export…PartialSuccess partial_success = 1 }
 *   Export…PartialSuccess   { int64 rejected_{data_points,spans,log_records} = 1; string error_message = 2 }
 *   google.rpc.Status       { int32 code = 1; string message = 2; repeated google.protobuf.Any details = 3 }
 *   google.protobuf.Any     { string type_url = 1; bytes value = 2 }
 *   google.rpc.RetryInfo    { google.protobuf.Duration retry_delay = 1 }
 *   google.protobuf.Duration { int64 seconds = 1; int32 nanos = 2 }
 *
 * The three partial successes differ only in their field's name, which OTLP/JSON spells out.
 */

/** The signals of OTLP. */
export type OtlpSignal = 'metrics' | 'traces' | 'logs'

/** gRPC status codes used in error bodies (google.rpc.Code). */
export const RPC_CODE = {
  INVALID_ARGUMENT: 3,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const

const REJECTED_JSON_FIELD: Record<OtlpSignal, string> = {
  metrics: 'rejectedDataPoints',
  traces: 'rejectedSpans',
  logs: 'rejectedLogRecords',
}

const RETRY_INFO_TYPE = 'type.googleapis.com/google.rpc.RetryInfo'

/** An export response (any signal) as protobuf: empty when everything was taken. */
export function exportResponseProto(rejected: number, errorMessage: string): Buffer {
  if (rejected === 0 && errorMessage === '') return Buffer.alloc(0)
  const inner = Buffer.concat([varintField(1, rejected), stringField(2, errorMessage)])
  return lengthDelimited(1, inner)
}

/** An export response of `signal` as OTLP/JSON: `{}` when everything was taken. */
export function exportResponseJson(rejected: number, errorMessage: string, signal: OtlpSignal = 'metrics'): string {
  if (rejected === 0 && errorMessage === '') return '{}'
  return JSON.stringify({ partialSuccess: { [REJECTED_JSON_FIELD[signal]]: String(rejected), errorMessage } })
}

/**
 * A google.rpc.Status; with `retryAfterSeconds`, a RetryInfo in its details, which tells an
 * OTLP client that the error is retryable and when (RESOURCE_EXHAUSTED is retried only with it).
 */
export function statusProto(code: number, message: string, retryAfterSeconds?: number): Buffer {
  const details =
    retryAfterSeconds === undefined
      ? Buffer.alloc(0)
      : lengthDelimited(
          3,
          Buffer.concat([
            stringField(1, RETRY_INFO_TYPE),
            lengthDelimited(2, lengthDelimited(1, varintField(1, retryAfterSeconds))),
          ]),
        )
  return Buffer.concat([varintField(1, code), stringField(2, message), details])
}

/** A google.rpc.Status as OTLP/JSON, with Governor's error code beside it. */
export function statusJson(code: number, message: string, error: string): string {
  return JSON.stringify({ code, message, error })
}

function varintField(field: number, n: number): Buffer {
  return n === 0 ? Buffer.alloc(0) : Buffer.concat([Buffer.from([field << 3]), varint(n)])
}

function stringField(field: number, s: string): Buffer {
  return s === '' ? Buffer.alloc(0) : lengthDelimited(field, Buffer.from(s, 'utf8'))
}

function lengthDelimited(field: number, bytes: Buffer): Buffer {
  return Buffer.concat([Buffer.from([(field << 3) | 2]), varint(bytes.length), bytes])
}

function varint(n: number): Buffer {
  const out: number[] = []
  while (n > 0x7f) {
    out.push((n % 0x80) | 0x80)
    n = Math.floor(n / 0x80)
  }
  out.push(n)
  return Buffer.from(out)
}
