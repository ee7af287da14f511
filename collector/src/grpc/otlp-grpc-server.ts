import { isIPv6 } from 'node:net'
import {
  Server,
  ServerCredentials,
  type handleUnaryCall,
  type MetadataValue,
  type ServiceDefinition,
} from '@grpc/grpc-js'
import type { Limiter, LimiterListener } from '@governor/throttle'
import type { FastifyBaseLogger } from 'fastify'
import { bearerToken, grantedRoles, rolesLabel } from '../auth/index.ts'
import { GovernorError, isGovernorError } from '../errors.ts'
import type { IngestAdmission } from '../http/ingest-admission.ts'
import { exportOtlp, type ExportOutcome } from '../receivers/otlp-export.ts'
import { exportResponseProto, type OtlpSignal } from '../receivers/otlp-response.ts'
import { REQUEST_REJECT_REASONS } from '../receivers/otlp-status.ts'
import type { Services } from '../services.ts'
import { grpcErrorOf } from './grpc-status.ts'

const RECEIVER = 'otlp_grpc'

/** The OTLP/gRPC services, by signal (opentelemetry/proto/collector/{metrics,trace,logs}/v1). */
const SERVICE_NAMES: Record<OtlpSignal, string> = {
  metrics: 'opentelemetry.proto.collector.metrics.v1.MetricsService',
  traces: 'opentelemetry.proto.collector.trace.v1.TraceService',
  logs: 'opentelemetry.proto.collector.logs.v1.LogsService',
}

/**
 * Messages stay bytes on both sides: requests go to the same protobuf decoders as OTLP/HTTP's,
 * answers are written by otlp-response.ts. No .proto file is loaded.
 */
const bytes = (b: Buffer): Buffer => b

function exportService(signal: OtlpSignal): ServiceDefinition {
  return {
    Export: {
      path: `/${SERVICE_NAMES[signal]}/Export`,
      requestStream: false,
      responseStream: false,
      requestSerialize: bytes,
      requestDeserialize: bytes,
      responseSerialize: bytes,
      responseDeserialize: bytes,
    },
  }
}

/** What the server shares with the OTLP/HTTP receiver. */
export interface OtlpGrpcServerOptions {
  services: Services
  /** The receivers' admission: one wait bound, one ceiling of body bytes, one queue of decoding turns. */
  admission: IngestAdmission
  /** The receivers' adaptive concurrency limiter; undefined when it is off. */
  limiter: Limiter | undefined
  /** When a call being handled arrived (the start of the current event-loop turn, `ArrivalClock.arrival`). */
  arrival: () => number
  log: FastifyBaseLogger
}

/**
 * OTLP/gRPC: the `Export` calls of the metrics, trace and logs services, unary, answered as
 * OTLP/HTTP answers the same request (see `exportOtlp`), on the same bounds:
 *
 *   authorization metadata   Bearer token with the ingest role, else UNAUTHENTICATED or
 *                            PERMISSION_DENIED (any call passes in open mode)
 *   message size             over GOVERNOR_MAX_BODY_BYTES, as sent or decompressed: grpc-js
 *                            answers RESOURCE_EXHAUSTED, not retryable
 *   admission, limiter       waited past the bound, body bytes over the ceiling, over the
 *                            adaptive limit: UNAVAILABLE with a RetryInfo (the OTLP/gRPC
 *                            backpressure signal), unprocessed
 *   pipeline full            UNAVAILABLE with a RetryInfo, nothing kept
 *
 * grpc-js reads a message whole before the handler runs, so the ceiling of body bytes counts
 * the messages being decoded, not the ones being received.
 */
export class OtlpGrpcServer {
  readonly #server: Server
  readonly #options: OtlpGrpcServerOptions

  constructor(options: OtlpGrpcServerOptions) {
    this.#options = options
    this.#server = new Server({ 'grpc.max_receive_message_length': options.services.settings.maxBodyBytes })
    for (const signal of Object.keys(SERVICE_NAMES) as OtlpSignal[]) {
      this.#server.addService(exportService(signal), { Export: this.#handler(signal) })
    }
  }

  /** Binds `host:port`; throws GOV_ERR_GRPC_LISTEN naming the address when it cannot. Resolves to the port bound. */
  listen(host: string, port: number): Promise<number> {
    const address = `${isIPv6(host) ? `[${host}]` : host}:${port}`
    return new Promise((resolve, reject) => {
      this.#server.bindAsync(address, ServerCredentials.createInsecure(), (err, bound) => {
        if (err === null) return resolve(bound)
        reject(
          new GovernorError(
            'GOV_ERR_GRPC_LISTEN',
            `could not listen for OTLP/gRPC on ${address} (GOVERNOR_GRPC_PORT on GOVERNOR_HOST): ${err.message}; stop what holds the port, choose another one, or set GOVERNOR_GRPC_PORT=0 to turn OTLP/gRPC off`,
          ),
        )
      })
    })
  }

  /**
   * Stops taking calls and waits for the calls in flight to be answered (their points
   * acknowledged); past `timeoutMillis` the connections are cut.
   */
  close(timeoutMillis: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#options.log.warn(`OTLP/gRPC calls still in flight after ${timeoutMillis} ms of shutdown: cut`)
        this.#server.forceShutdown()
        resolve()
      }, timeoutMillis)
      this.#server.tryShutdown(() => {
        clearTimeout(timer)
        resolve()
      })
    })
  }

  #handler(signal: OtlpSignal): handleUnaryCall<Buffer, Buffer> {
    return (call, callback) => {
      const arrived = this.#options.arrival() // first: the wait counts from the turn that read the call
      const authorization = firstString(call.metadata.get('authorization'))
      this.#export(signal, call.request, authorization, arrived).then(
        ({ rejected, message }) => callback(null, exportResponseProto(rejected, message)),
        (err: unknown) => {
          if (!isGovernorError(err)) this.#options.log.error({ err }, `OTLP/gRPC ${signal} export failed`)
          const reason = isGovernorError(err) ? REQUEST_REJECT_REASONS[err.code] : undefined
          if (reason !== undefined) this.#options.services.metrics.requestsRejected.inc({ receiver: RECEIVER, reason })
          callback(grpcErrorOf(err))
        },
      )
    }
  }

  /** Admits, decodes and stores one call, in the order of the HTTP receiver's hooks. */
  async #export(
    signal: OtlpSignal,
    body: Buffer,
    authorization: string | undefined,
    arrived: number,
  ): Promise<ExportOutcome> {
    const { services, admission, limiter } = this.#options
    this.#authorize(authorization, signal)
    const refusal = admission.refuseLate(arrived) ?? admission.reserve(body.length)
    if (refusal !== undefined) throw refusal
    let listener: LimiterListener | undefined
    try {
      listener = limiter?.acquire(undefined, arrived)
      if (limiter !== undefined && listener === undefined) {
        throw new GovernorError(
          'GOV_ERR_INGEST_OVERLOADED',
          `over capacity (${limiter.inflight} in flight, limit ${limiter.limit}): shed unprocessed; retry after the RetryInfo delay`,
        )
      }
      await admission.turns.take(arrived)
      const outcome = await exportOtlp(services, RECEIVER, signal, body, false)
      listener?.onSuccess()
      return outcome
    } catch (err) {
      // As the HTTP limiter classifies answers: a refusal of the request is a round trip, an
      // overload a drop, any other failure says nothing about capacity.
      const httpStatus = isGovernorError(err) ? err.statusCode : 500
      if (httpStatus < 500) listener?.onSuccess()
      else if (httpStatus === 503) listener?.onDropped()
      else listener?.onIgnore()
      throw err
    } finally {
      admission.admission.release(body.length)
    }
  }

  /** Refuses a call without a token that has the ingest role (none needed in open mode). */
  #authorize(authorization: string | undefined, signal: OtlpSignal): void {
    const { access } = this.#options.services
    if (access.open) return
    const call = `${SERVICE_NAMES[signal]}/Export`
    const token = bearerToken(authorization)
    const principal = token === undefined ? undefined : access.principalOf(authorization)
    if (principal === undefined) {
      throw new GovernorError(
        'GOV_ERR_AUTH_MISSING',
        token === undefined
          ? `${call} needs a token with the ingest role: send the metadata authorization: Bearer <token>`
          : 'the bearer token is not valid: it is none of the tokens of GOVERNOR_TOKENS or GOVERNOR_TOKENS_FILE',
      )
    }
    if (!grantedRoles(principal.roles).has('ingest')) {
      throw new GovernorError(
        'GOV_ERR_AUTH_FORBIDDEN',
        `token "${principal.name}" (${rolesLabel(principal)}) may not call ${call}: that needs the ingest role`,
      )
    }
  }
}

function firstString(values: MetadataValue[]): string | undefined {
  const first = values[0]
  return typeof first === 'string' ? first : undefined
}
