import { millisFromNanoHalves, newAttributes } from './decode-result.ts'
import { addTraceLabels, type HeldExemplar } from './exemplars.ts'
import { keyValue } from './otlp-attributes.ts'
import { I64, LEN, type ProtobufReader } from './protobuf-reader.ts'

/*
 * Field numbers of opentelemetry/proto/metrics/v1 Exemplar:
 *
 *   Exemplar   7 filtered_attributes  2 time_unix_nano (fixed64)  3 as_double  6 as_int (sfixed64)
 *              4 span_id (bytes)  5 trace_id (bytes)
 */

const NO_ID: Uint8Array = new Uint8Array(0)

/**
 * Reads one Exemplar ending at `end` and appends it to `out` (created on the first one):
 * its filtered attributes and its trace and span ids as labels (see `addTraceLabels`), its
 * value as a double whichever of as_double or as_int carries it. An exemplar with neither
 * value is skipped.
 */
export function readExemplar(
  r: ProtobufReader,
  end: number,
  out: HeldExemplar[] | undefined,
): HeldExemplar[] | undefined {
  const labels = newAttributes()
  let ts = 0
  let value: number | undefined
  let traceId = NO_ID
  let spanId = NO_ID
  while (r.pos < end) {
    const tag = r.tag()
    switch (tag >>> 3) {
      case 7:
        r.expect(tag, LEN, 'Exemplar.filtered_attributes')
        keyValue(r, r.delimitedEnd(), labels)
        break
      case 2:
        r.expect(tag, I64, 'Exemplar.time_unix_nano')
        r.fixed64()
        ts = millisFromNanoHalves(r.lo, r.hi)
        break
      case 3:
        r.expect(tag, I64, 'Exemplar.as_double')
        value = r.double()
        break
      case 6:
        r.expect(tag, I64, 'Exemplar.as_int')
        value = r.sfixed64()
        break
      case 4:
        r.expect(tag, LEN, 'Exemplar.span_id')
        spanId = r.bytes()
        break
      case 5:
        r.expect(tag, LEN, 'Exemplar.trace_id')
        traceId = r.bytes()
        break
      default:
        r.skip(tag)
    }
  }
  r.endOf(end, 'Exemplar')
  if (value === undefined) return out
  addTraceLabels(labels, traceId, spanId)
  const list = out ?? []
  list.push({ ts, value, labels })
  return list
}
