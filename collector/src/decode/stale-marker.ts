import type { ProtobufReader } from './protobuf-reader.ts'

/** Prometheus' stale marker: a NaN with this bit pattern (high and low 32-bit halves). */
const STALE_HI = 0x7ff0_0000
const STALE_LO = 2
/** OTLP DataPointFlags bit 0: no recorded value. */
const NO_RECORDED_VALUE = 1

/**
 * The flags of a point whose value, the double at byte `at`, read as NaN: "no recorded value"
 * when its bits are Prometheus' stale marker, else 0. A double does not show a NaN's payload,
 * so the bits are read again. The reader's position is left where it was.
 */
export function staleFlags(r: ProtobufReader, at: number): number {
  const pos = r.pos
  r.pos = at
  r.fixed64()
  r.pos = pos
  return r.hi === STALE_HI && r.lo === STALE_LO ? NO_RECORDED_VALUE : 0
}
