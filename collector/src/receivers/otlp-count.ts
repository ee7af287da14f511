import { GovernorError } from '../errors.ts'
import { LEN, ProtobufReader } from '../decode/protobuf-reader.ts'

/*
 * Spans and log records are counted, not kept: enough of the request is read to say how many
 * it held. Both requests have one shape (opentelemetry/proto/collector/{trace,logs}/v1):
 *
 *   Export{Trace,Logs}ServiceRequest  1 resource_{spans,logs}
 *   Resource{Spans,Logs}              1 resource  2 scope_{spans,logs}  3 schema_url
 *   Scope{Spans,Logs}                 1 scope  2 spans / log_records  3 schema_url
 *
 * so the count is the number of field 2 of every field 2 of every field 1. The items
 * themselves are skipped by their length, never decoded.
 */

/** The items an export request of traces or logs carries, by the name OTLP gives them. */
export type CountedSignal = 'traces' | 'logs'

/** Counts the spans (traces) or log records (logs) of an OTLP/protobuf export request. */
export function countOtlpItemsProto(body: Uint8Array): number {
  const r = new ProtobufReader(body)
  let count = 0
  forEachField(r, r.length, 1, 'request', (resourceEnd) => {
    forEachField(r, resourceEnd, 2, 'resource', (scopeEnd) => {
      forEachField(r, scopeEnd, 2, 'scope', (itemEnd) => {
        count++
        r.pos = itemEnd
      })
    })
  })
  return count
}

/** Calls `each` with the end of every length-delimited field `field` up to `end`, skipping the rest. */
function forEachField(
  r: ProtobufReader,
  end: number,
  field: number,
  message: string,
  each: (end: number) => void,
): void {
  while (r.pos < end) {
    const tag = r.tag()
    if (tag >>> 3 !== field) {
      r.skip(tag)
      continue
    }
    r.expect(tag, LEN, `${message} field ${field}`)
    const fieldEnd = r.delimitedEnd()
    each(fieldEnd)
  }
  r.endOf(end, message)
}

const JSON_KEYS: Record<CountedSignal, readonly [string, string, string]> = {
  traces: ['resourceSpans', 'scopeSpans', 'spans'],
  logs: ['resourceLogs', 'scopeLogs', 'logRecords'],
}

/** Counts the spans or log records of an OTLP/JSON export request, parsed. */
export function countOtlpItemsJson(signal: CountedSignal, request: unknown): number {
  if (typeof request !== 'object' || request === null || Array.isArray(request)) {
    throw new GovernorError(
      'GOV_ERR_OTLP_MALFORMED',
      `the body is not an OTLP/JSON export request of ${signal}: expected an object`,
    )
  }
  const [resources, scopes, items] = JSON_KEYS[signal]
  let count = 0
  for (const resource of arrayAt(request, resources)) {
    for (const scope of arrayAt(resource, scopes)) count += arrayAt(scope, items).length
  }
  return count
}

function arrayAt(parent: unknown, key: string): unknown[] {
  const value = typeof parent === 'object' && parent !== null ? (parent as Record<string, unknown>)[key] : undefined
  return Array.isArray(value) ? value : []
}
