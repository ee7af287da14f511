/**
 * Bodies of OTLP/HTTP responses, in the request's encoding. Only two tiny messages are ever
 * sent, so they are written by hand rather than through a protobuf library:
 *
 *   ExportMetricsServiceResponse { ExportMetricsPartialSuccess partial_success = 1 }
 *   ExportMetricsPartialSuccess  { int64 rejected_data_points = 1; string error_message = 2 }
 *   google.rpc.Status            { int32 code = 1; string message = 2 }
 */

/** gRPC status codes used in error bodies (google.rpc.Code). */
export const RPC_CODE = { INVALID_ARGUMENT: 3, PERMISSION_DENIED: 7, RESOURCE_EXHAUSTED: 8, INTERNAL: 13, UNAVAILABLE: 14, UNAUTHENTICATED: 16 } as const

export function exportResponseProto(rejected: number, errorMessage: string): Buffer {
  if (rejected === 0 && errorMessage === '') return Buffer.alloc(0)
  const inner = Buffer.concat([
    rejected > 0 ? Buffer.concat([Buffer.from([0x08]), varint(rejected)]) : Buffer.alloc(0),
    stringField(2, errorMessage),
  ])
  return Buffer.concat([Buffer.from([0x0a]), varint(inner.length), inner])
}

export function exportResponseJson(rejected: number, errorMessage: string): string {
  if (rejected === 0 && errorMessage === '') return '{}'
  return JSON.stringify({ partialSuccess: { rejectedDataPoints: String(rejected), errorMessage } })
}

export function statusProto(code: number, message: string): Buffer {
  return Buffer.concat([Buffer.from([0x08]), varint(code), stringField(2, message)])
}

function stringField(field: number, s: string): Buffer {
  if (s === '') return Buffer.alloc(0)
  const bytes = Buffer.from(s, 'utf8')
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
