import { Transform } from 'node:stream'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { Counter, Gauge, type Registry } from 'prom-client'
import { GovernorError } from '../errors.ts'
import type { Settings } from '../settings.ts'
import { Admission } from './admission.ts'
import { Turns } from './turns.ts'

/** Default of `IngestAdmission.sliceMillis`. */
export const DECODE_SLICE_MILLIS = 8

declare module 'fastify' {
  interface FastifyRequest {
    /** Body bytes this ingest request holds of the admission ceiling. */
    admittedBodyBytes: number
    /**
     * Waits for this request's event-loop turn (see `Turns`); decode right after, with no
     * await between. Rejects with GOV_ERR_INGEST_OVERLOADED when the wait went past the bound.
     */
    ingestTurn: () => Promise<void>
    /**
     * After `ingestTurn`, waits for the next event-loop turn, ahead of every request waiting
     * for its first (see `Turns.resume`): decode the next slice right after. Never refused.
     */
    ingestResume: () => Promise<void>
    /**
     * The end of a slice of decoding that starts now: a test that turns true once the slice
     * has had its time (`IngestAdmission.sliceMillis`); then `ingestResume`, and decode on.
     */
    ingestSliceEnd: () => () => boolean
  }
}

/**
 * Admission of the receivers' requests (install in their scope, before the adaptive limiter):
 *
 *   onRequest   waited past GOVERNOR_INGEST_MAX_WAIT_MILLIS since arrival?        503, body unread
 *               bodies being read over GOVERNOR_MAX_INFLIGHT_INGEST_BODY_BYTES?  503, body unread
 *   ingestTurn  body complete (and decompressed); waited past the bound for its
 *               event-loop turn to decode (`Turns`: one a loop iteration)?      503, not decoded
 *   ingestResume  a request decoded in slices: the next slice, next iteration   never refused
 *
 * Arrival is `request.arrivedAtMillis` (installArrivalClock, at the root): the start of the
 * event-loop turn that read the request. Once its body is complete the wait counts again from
 * the start of the turn that asks for a decoding turn, not from arrival: the time the sender
 * took to send the body is its network's, and a slow uploader must not be refused for it. Refusals are
 * GOV_ERR_INGEST_OVERLOADED, thrown so that each receiver answers in its own shape, with
 * Retry-After; they show in /metrics as governor_ingest_admission_refused_total by reason,
 * the bytes held as governor_ingest_body_bytes_inflight.
 */
export function installIngestAdmission(
  scope: FastifyInstance,
  settings: Pick<Settings, 'ingestMaxWaitMillis' | 'maxInflightIngestBodyBytes'>,
  registry: Registry,
  options: { sliceMillis?: number } = {},
): IngestAdmission {
  if (!scope.hasDecorator('arrivalClock'))
    throw new Error('installArrivalClock must be installed before ingest admission')
  const ingest = new IngestAdmission(settings, options.sliceMillis)
  const { admission, turns } = ingest
  const clock = scope.arrivalClock
  scope.decorateRequest('admittedBodyBytes', 0)

  scope.addHook('onRequest', (request, reply, done) => {
    const late = ingest.refuseLate(request.arrivedAtMillis)
    if (late !== undefined) return done(late)
    const declared = Number(request.headers['content-length'] ?? 0)
    const bytes = Number.isSafeInteger(declared) && declared > 0 ? declared : 0
    const full = ingest.reserve(bytes)
    if (full !== undefined) return done(full)
    request.admittedBodyBytes = bytes
    // 'close' ends every response, sent or cut off: the bytes always come back, once.
    reply.raw.once('close', () => admission.release(request.admittedBodyBytes))
    done()
  })

  // A body without Content-Length (chunked) counts as it is read.
  scope.addHook('preParsing', (request, _reply, payload, done) => {
    if (request.headers['content-length'] !== undefined) return done(null, payload)
    const counted = new Transform({
      transform(chunk: Buffer, _encoding, next) {
        request.admittedBodyBytes += chunk.length
        admission.grow(chunk.length)
        next(null, chunk)
      },
    })
    payload.on('error', (err) => counted.destroy(err))
    done(null, payload.pipe(counted))
  })

  scope.server.on('connection', () => turns.noteAccept())
  scope.decorateRequest('ingestTurn', function (this: FastifyRequest) {
    return turns.take(clock.arrivalOf(this.raw))
  })
  scope.decorateRequest('ingestResume', () => turns.resume())
  scope.decorateRequest('ingestSliceEnd', () => ingest.sliceEnd())

  const registers = [registry]
  new Counter({
    name: 'governor_ingest_admission_refused_total',
    labelNames: ['reason'],
    registers,
    help: 'Ingest requests refused unprocessed (503 with Retry-After), by reason: waited past GOVERNOR_INGEST_MAX_WAIT_MILLIS, or body bytes over GOVERNOR_MAX_INFLIGHT_INGEST_BODY_BYTES.',
    collect() {
      this.reset()
      for (const [reason, n] of Object.entries(admission.refused)) this.inc({ reason }, n)
    },
  })
  new Gauge({
    name: 'governor_ingest_waiting_for_turn',
    help: 'Ingest requests read and waiting for their event-loop turn to be decoded (one a loop iteration).',
    registers,
    collect() {
      this.set(turns.waiting)
    },
  })
  new Gauge({
    name: 'governor_ingest_body_bytes_inflight',
    help: 'Bytes of ingest bodies being read and decoded.',
    registers,
    collect() {
      this.set(admission.bodyBytes)
    },
  })
  return ingest
}

/**
 * The bounds of ingest admission and the decoding turns, one set for every transport: the
 * receivers' routes pass through them in the hooks above, OTLP/gRPC calls them itself, so
 * that both share one wait bound, one ceiling of body bytes and one queue of turns. Refusals
 * are GOV_ERR_INGEST_OVERLOADED errors, returned for the caller to answer in its own shape.
 */
export class IngestAdmission {
  readonly admission: Admission
  readonly turns: Turns
  /**
   * Longest a request is decoded in one event-loop turn before it yields (to accept a
   * connection, answer a probe) and goes on at the next (`Turns.resume`). A request of
   * thousands of new series takes tens of milliseconds; one of known series a few, and is
   * decoded in one turn. Its slice is encoded in the same turn, about half as long again for
   * new series. 0: a slice ends at the decoder's first look at the clock (a few dozen series).
   */
  readonly sliceMillis: number
  readonly #maxBodyBytes: number

  /** `sliceMillis`: default DECODE_SLICE_MILLIS. */
  constructor(
    settings: Pick<Settings, 'ingestMaxWaitMillis' | 'maxInflightIngestBodyBytes'>,
    sliceMillis = DECODE_SLICE_MILLIS,
  ) {
    this.sliceMillis = sliceMillis
    this.#maxBodyBytes = settings.maxInflightIngestBodyBytes
    const admission = new Admission({
      maxWaitMillis: settings.ingestMaxWaitMillis,
      maxBodyBytes: settings.maxInflightIngestBodyBytes,
      clock: () => performance.now(),
    })
    this.admission = admission
    this.turns = new Turns((waited) =>
      admission.waitedTooLong(waited)
        ? new GovernorError(
            'GOV_ERR_INGEST_OVERLOADED',
            `the request waited ${Math.round(waited)} ms for its turn to be decoded, past ${admission.maxWaitMillis} ms (GOVERNOR_INGEST_MAX_WAIT_MILLIS): refused unprocessed; retry after Retry-After`,
          )
        : undefined,
    )
  }

  /** A stop test for a slice of decoding that starts now: true once it has had `sliceMillis`. */
  sliceEnd(): () => boolean {
    const deadline = performance.now() + this.sliceMillis
    return () => performance.now() >= deadline
  }

  /** The refusal of a request that arrived at `arrivedAtMillis` and has waited past the bound (counted); undefined: go on. */
  refuseLate(arrivedAtMillis: number): GovernorError | undefined {
    if (!this.admission.late(arrivedAtMillis)) return undefined
    return new GovernorError(
      'GOV_ERR_INGEST_OVERLOADED',
      `the request waited ${Math.round(this.admission.waited(arrivedAtMillis))} ms for the server, past ${this.admission.maxWaitMillis} ms (GOVERNOR_INGEST_MAX_WAIT_MILLIS): refused unprocessed; retry after Retry-After`,
    )
  }

  /**
   * Takes `bytes` of the ceiling of body bytes (give them back with `admission.release`), or
   * returns the refusal (counted) when they do not fit.
   */
  reserve(bytes: number): GovernorError | undefined {
    if (this.admission.reserve(bytes)) return undefined
    return new GovernorError(
      'GOV_ERR_INGEST_OVERLOADED',
      `${this.admission.bodyBytes} bytes of bodies are being read, and ${bytes} more would pass ${this.#maxBodyBytes} (GOVERNOR_MAX_INFLIGHT_INGEST_BODY_BYTES): refused unprocessed; retry after Retry-After`,
    )
  }
}
