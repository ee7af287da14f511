import type { Attributes } from '../model/types.ts'

/**
 * Prometheus' limit on an exemplar's labels: names and values together at most this many
 * UTF-8 characters (code points). An exemplar over it is dropped, never its point.
 */
export const MAX_EXEMPLAR_LABEL_CHARS = 128

/** An exemplar read from a data point, held until the point is stored (see `BatchBuilder.holdExemplars`). */
export interface HeldExemplar {
  /** Milliseconds since the epoch; 0 when the exemplar carried no time (the point's is taken). */
  readonly ts: number
  readonly value: number
  readonly labels: Attributes
}

/** The characters (code points, as Prometheus counts runes) of an exemplar's label names and values. */
export function exemplarLabelChars(labels: Attributes): number {
  let n = 0
  for (const k in labels) n += codePoints(k) + codePoints(labels[k]!)
  return n
}

function codePoints(s: string): number {
  let n = s.length
  // A character outside the Basic Multilingual Plane is two UTF-16 units: count it once.
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c >= 0xdc00 && c <= 0xdfff && i > 0) {
      const h = s.charCodeAt(i - 1)
      if (h >= 0xd800 && h <= 0xdbff) n--
    }
  }
  return n
}

/**
 * Adds an OTLP exemplar's trace and span ids as Prometheus' OpenTelemetry translation does:
 * `trace_id` and `span_id` labels in lowercase hex, each left out when absent or all zeros.
 */
export function addTraceLabels(labels: Attributes, traceId: Uint8Array | string, spanId: Uint8Array | string): void {
  const trace = hexId(traceId)
  const span = hexId(spanId)
  if (trace !== '') labels.trace_id = trace
  if (span !== '') labels.span_id = span
}

function hexId(id: Uint8Array | string): string {
  const hex =
    typeof id === 'string' ? id.toLowerCase() : Buffer.from(id.buffer, id.byteOffset, id.byteLength).toString('hex')
  return /^0*$/.test(hex) ? '' : hex
}
