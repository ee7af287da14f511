import { connect } from 'node:net'
import { Client, credentials, Metadata, type ServiceError } from '@grpc/grpc-js'
import { describe, expect, it } from 'vitest'
import { gaugeRequest } from '../helpers/otlp.ts'
import { encodeOtlpRequest } from '../helpers/otlp-proto.ts'
import { freePort, startServer } from '../helpers/server.ts'

// Closing the app drains OTLP/gRPC before the pipeline closes: without a write-ahead log an
// export is answered once its points are committed (here by the flush interval), and a call
// in flight when the close begins is still answered OK.

const PATH = '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export'

describe('OTLP/gRPC at shutdown', () => {
  it('answers the exports in flight, then stops taking calls', async () => {
    const grpcPort = await freePort()
    const { app } = await startServer({ grpcPort, walDir: 'off', flushIntervalMillis: 1500 })
    const client = new Client(`127.0.0.1:${grpcPort}`, credentials.createInsecure())
    const bytes = (b: Buffer) => b
    const call = (value: number) =>
      new Promise<ServiceError | null>((resolve) => {
        const body = encodeOtlpRequest(
          gaugeRequest('grpc-shutdown', { 'grpc.shutdown': [{ ts: Date.now() - 1000, value }] }),
        )
        client.makeUnaryRequest(PATH, bytes, bytes, body, new Metadata(), (error) => resolve(error))
      })
    try {
      const inFlight = call(1)
      while (app.governor.pipeline.pendingPoints === 0) await new Promise((r) => setTimeout(r, 5))
      const closed = app.close()
      expect(await inFlight).toBeNull() // answered OK: committed before the store closed
      await closed
      // The port is let go: nothing listens there any more.
      const socket = connect(grpcPort, '127.0.0.1')
      const outcome = await new Promise((resolve) => {
        socket.once('connect', () => resolve('connected'))
        socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code))
      })
      socket.destroy()
      expect(outcome).toBe('ECONNREFUSED')
    } finally {
      client.close()
      await app.close()
    }
  })
})
