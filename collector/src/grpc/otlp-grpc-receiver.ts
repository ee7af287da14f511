import { format } from 'node:util'
import { setLogger } from '@grpc/grpc-js'
import type { Limiter } from '@governor/throttle'
import type { FastifyInstance } from 'fastify'
import type { IngestAdmission } from '../http/ingest-admission.ts'
import { OtlpGrpcServer } from './otlp-grpc-server.ts'

/** Longest a shutdown waits for OTLP/gRPC calls in flight (the `governor` command allows 10 s in all). */
const DRAIN_MILLIS = 5_000

/** Options of `otlpGrpcReceiver`: the bounds it shares with the HTTP receivers. */
export interface OtlpGrpcReceiverOptions {
  admission: IngestAdmission
  limiter: Limiter | undefined
}

/**
 * OTLP/gRPC (see `OtlpGrpcServer`) on GOVERNOR_GRPC_PORT and GOVERNOR_HOST, unless the port is
 * 0. The port is bound when the app is ready, so a port in use fails the start, and drained
 * before the app closes its pipeline, so that the calls in flight are answered. grpc-js has one
 * logger a process, on stderr unless told otherwise: it is pointed at the app's log.
 */
export async function otlpGrpcReceiver(app: FastifyInstance, options: OtlpGrpcReceiverOptions): Promise<void> {
  const { settings } = app.governor
  if (settings.grpcPort === 0) return
  const { log } = app
  setLogger({
    error: (...args: unknown[]) => log.error(format(...args)),
    info: (...args: unknown[]) => log.info(format(...args)),
    debug: (...args: unknown[]) => log.debug(format(...args)),
  })
  const server = new OtlpGrpcServer({
    ...options,
    services: app.governor,
    arrival: () => app.arrivalClock.arrival(),
    log: app.log,
  })
  app.addHook('onReady', async () => {
    await server.listen(settings.host, settings.grpcPort)
  })
  app.addHook('preClose', async () => {
    await server.close(DRAIN_MILLIS)
  })
}
