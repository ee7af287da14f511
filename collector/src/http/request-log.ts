import { LogController, type FastifyReply, type FastifyRequest } from 'fastify'

/**
 * Every request logged at `debug`, not fastify's `info`: an app exporting every few seconds
 * would otherwise fill the log with two lines a request. A request that errored is still
 * logged at `error`, and the error handler logs what it handles at its own level.
 */
export class DebugRequestLog extends LogController {
  override incomingRequest(request: FastifyRequest): void {
    if (this.isLogDisabled(request)) return
    request.log.debug({ req: request }, 'incoming request')
  }

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (this.isLogDisabled(request)) return
    if (error) reply.log.error({ res: reply, err: error, responseTime: reply.elapsedTime }, 'request errored')
    else reply.log.debug({ res: reply, responseTime: reply.elapsedTime }, 'request completed')
  }
}
