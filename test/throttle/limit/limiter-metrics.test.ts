import { AggregationTemporality, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics'
import { describe, expect, it } from 'vitest'
import { FixedLimit } from '../../../throttle/src/limit/fixed-limit.ts'
import { Limiter } from '../../../throttle/src/limit/limiter.ts'
import { observeLimiter } from '../../../throttle/src/limit/limiter-metrics.ts'
import { SloGradientLimit } from '../../../throttle/src/limit/slo-gradient-limit.ts'

class TestReader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE })
  }
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

async function points(reader: TestReader, name: string) {
  const metrics = (await reader.collect()).resourceMetrics.scopeMetrics.flatMap((s) => s.metrics)
  return (
    metrics
      .find((m) => m.descriptor.name === name)
      ?.dataPoints.map((p) => ({ value: p.value, attributes: p.attributes })) ?? []
  )
}

describe('observeLimiter', () => {
  it("states the limit's reason: tracking, then holding for latency it does not cause", async () => {
    const reader = new TestReader()
    const provider = new MeterProvider({ readers: [reader] })
    const limit = new SloGradientLimit({ targetMillis: 100, windowSize: 10, initialLimit: 50 })
    const limiter = new Limiter({ limit })
    const stop = observeLimiter(provider.getMeter('test'), limiter as Limiter<never>, {
      name: 'jobs',
      attributes: { 'deployment.environment': 'prod' },
    })
    const attributes = { 'deployment.environment': 'prod', 'governor.limiter': 'jobs' }
    expect(await points(reader, 'governor.limiter.state')).toEqual([
      { value: 1, attributes: { ...attributes, 'governor.reason': 'tracking' } },
    ])
    // Requests admitted at low and high concurrency alike take 150 ms: not the limit's doing.
    for (let i = 0; i < 10; i++) limit.onSample(i * 150, 150, i < 5 ? 2 : 50, false)
    expect(await points(reader, 'governor.limiter.state')).toEqual([
      { value: 0, attributes: { ...attributes, 'governor.reason': 'tracking' } },
      { value: 1, attributes: { ...attributes, 'governor.reason': 'not_from_concurrency' } },
    ])
    stop()
    await provider.shutdown()
  })

  it('reports no state for a limit without a reason', async () => {
    const reader = new TestReader()
    const provider = new MeterProvider({ readers: [reader] })
    observeLimiter(provider.getMeter('test'), new Limiter({ limit: new FixedLimit(4) }) as Limiter<never>)
    expect(await points(reader, 'governor.limiter.state')).toEqual([])
    expect(await points(reader, 'governor.limiter.limit')).toEqual([
      { value: 4, attributes: { 'governor.limiter': 'http' } },
    ])
    await provider.shutdown()
  })
})
