import protobuf from 'protobufjs'

/**
 * OTLP trace and logs export requests (opentelemetry/proto collector/{trace,logs}/v1, the
 * fields a sender always fills), for tests of the receivers that count them: protobuf through
 * protobufjs, and the OTLP/JSON form.
 */
const SCHEMA = `syntax = "proto3"; package t;
message AnyValue { oneof value { string string_value = 1; int64 int_value = 3; } }
message KeyValue { string key = 1; AnyValue value = 2; }
message Resource { repeated KeyValue attributes = 1; }
message InstrumentationScope { string name = 1; }
message ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1; }
message ResourceSpans { Resource resource = 1; repeated ScopeSpans scope_spans = 2; string schema_url = 3; }
message ScopeSpans { InstrumentationScope scope = 1; repeated Span spans = 2; string schema_url = 3; }
message Span { bytes trace_id = 1; bytes span_id = 2; string name = 5; int32 kind = 6; fixed64 start_time_unix_nano = 7; fixed64 end_time_unix_nano = 8; repeated KeyValue attributes = 9; }
message ExportLogsServiceRequest { repeated ResourceLogs resource_logs = 1; }
message ResourceLogs { Resource resource = 1; repeated ScopeLogs scope_logs = 2; string schema_url = 3; }
message ScopeLogs { InstrumentationScope scope = 1; repeated LogRecord log_records = 2; string schema_url = 3; }
message LogRecord { fixed64 time_unix_nano = 1; int32 severity_number = 2; string severity_text = 3; AnyValue body = 5; repeated KeyValue attributes = 6; }
`
const root = protobuf.parse(SCHEMA).root
const TraceRequest = root.lookupType('t.ExportTraceServiceRequest')
const LogsRequest = root.lookupType('t.ExportLogsServiceRequest')

const resource = (service: string) => ({ attributes: [{ key: 'service.name', value: { stringValue: service } }] })

/** An OTLP/JSON traces request: one resource a service, one scope a resource, `perScope` spans a scope. */
export function tracesRequest(services: string[], scopes: number, perScope: number): object {
  let n = 0
  return {
    resourceSpans: services.map((s) => ({
      resource: resource(s),
      schemaUrl: 'https://opentelemetry.io/schemas/1.26.0',
      scopeSpans: Array.from({ length: scopes }, (_, i) => ({
        scope: { name: `scope-${i}` },
        spans: Array.from({ length: perScope }, () => ({
          traceId: 'W47/95gDgQPSabYzgT/GDA==',
          spanId: Buffer.from(String(n++).padStart(8, '0')).toString('base64'),
          name: 'GET /orders',
          kind: 2,
          startTimeUnixNano: '1700000000000000000',
          endTimeUnixNano: '1700000000250000000',
          attributes: [{ key: 'http.route', value: { stringValue: '/orders' } }],
        })),
      })),
    })),
  }
}

/** An OTLP/JSON logs request, shaped as `tracesRequest`. */
export function logsRequest(services: string[], scopes: number, perScope: number): object {
  return {
    resourceLogs: services.map((s) => ({
      resource: resource(s),
      scopeLogs: Array.from({ length: scopes }, (_, i) => ({
        scope: { name: `scope-${i}` },
        logRecords: Array.from({ length: perScope }, (_, j) => ({
          timeUnixNano: '1700000000000000000',
          severityNumber: 9,
          severityText: 'INFO',
          body: { stringValue: `line ${j}` },
        })),
      })),
    })),
  }
}

/** A request of `tracesRequest` or `logsRequest` as protobuf. */
export function encodeSignalRequest(signal: 'traces' | 'logs', request: object): Buffer {
  const type = signal === 'traces' ? TraceRequest : LogsRequest
  return Buffer.from(type.encode(type.fromObject(request as Record<string, unknown>)).finish())
}
