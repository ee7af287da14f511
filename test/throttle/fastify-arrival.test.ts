import Fastify from 'fastify'
import { describe, expect, it } from 'vitest'
import { ManualClock } from '../../throttle/src/clock.ts'
import { throttlePlugin } from '../../throttle/src/fastify.ts'
import { FixedLimit } from '../../throttle/src/limit/fixed-limit.ts'
import { Limiter } from '../../throttle/src/limit/limiter.ts'
import { RecordingLimit } from '../../throttle/src/limit/recording-limit.ts'

describe('the fastify plugin timing from arrival', () => {
  it('counts the wait before its hook in the round trip (arrivedAt), and times from its hook without it', async () => {
    const rtts: number[] = []
    for (const waited of [500, undefined]) {
      const clock = new ManualClock(10_000)
      const limit = new RecordingLimit(new FixedLimit(10))
      const app = Fastify()
      await app.register(throttlePlugin, {
        limiter: new Limiter({ limit, clock: clock.now, criticalReserve: 0 }),
        meter: false,
        ...(waited === undefined ? {} : { arrivedAt: () => clock.now() - waited }),
      })
      app.get('/', async () => {
        clock.advance(20)
        return 'ok'
      }) // the handler takes 20 ms
      expect((await app.inject('/')).statusCode).toBe(200)
      await app.close()
      rtts.push(...limit.samples.map((s) => s.rtt))
    }
    expect(rtts).toEqual([520, 20])
  })
})
