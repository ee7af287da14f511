import type { Attributes, BatchObservableResult, Meter } from '@opentelemetry/api'
import type { Limiter } from './limiter.ts'

/** Options of `observeLimiter`. */
export interface LimiterMetricsOptions {
  /** The `governor.limiter` attribute: which limiter of the app. Default 'http'. */
  name?: string
  /** More attributes on every point. */
  attributes?: Attributes
}

/**
 * Exports a limiter's state as OpenTelemetry metrics, read when the SDK collects (a request
 * pays nothing for them), so that they reach the collector with the app's other metrics:
 *
 * | metric | kind | what |
 * |---|---|---|
 * | `governor.limiter.limit` | gauge | the concurrency limit now |
 * | `governor.limiter.inflight` | gauge | requests admitted and not finished, now |
 * | `governor.limiter.peak_inflight` | gauge | the most in flight at once since the last collection |
 * | `governor.limiter.rejections` | counter | requests shed, by `governor.priority` (critical, sheddable) |
 * | `governor.limiter.state` | gauge | by `governor.reason`: 1 for why the limit moves as it does now (`SloGradientLimit.reason`), 0 for the reasons it gave before |
 *
 * Every point carries `governor.limiter` and, when a knob sets the max bound (`bindBounds`),
 * `governor.knob`: the collector's controller on that knob reads the peak in flight and the
 * limit from these, and raises the bound only while the limiter uses it and reaches it.
 * Types only from @opentelemetry/api. Returns the function that stops the export.
 */
export function observeLimiter(meter: Meter, limiter: Limiter<never>, options: LimiterMetricsOptions = {}): () => void {
  const limit = meter.createObservableGauge('governor.limiter.limit', {
    description: 'Concurrency limit of the adaptive limiter',
    unit: '{request}',
  })
  const inflight = meter.createObservableGauge('governor.limiter.inflight', {
    description: 'Requests admitted by the limiter and not finished',
    unit: '{request}',
  })
  const peak = meter.createObservableGauge('governor.limiter.peak_inflight', {
    description: 'Most requests in flight at once since the last collection',
    unit: '{request}',
  })
  const rejections = meter.createObservableCounter('governor.limiter.rejections', {
    description: 'Requests shed by the limiter (503)',
    unit: '{request}',
  })
  const state = meter.createObservableGauge('governor.limiter.state', {
    description: "1 for the limit's current reason (governor.reason)",
    unit: '1',
  })
  const instruments = [limit, inflight, peak, rejections, state]
  const reasons = new Set<string>()
  const callback = (result: BatchObservableResult) => {
    // Read at each collection: bindBounds may name the knob after the export started.
    const attrs: Attributes = {
      ...options.attributes,
      'governor.limiter': options.name ?? 'http',
      ...(limiter.maxKnob !== undefined ? { 'governor.knob': limiter.maxKnob } : {}),
    }
    result.observe(limit, limiter.limit, attrs)
    result.observe(inflight, limiter.inflight, attrs)
    result.observe(peak, limiter.takePeakInflight(), attrs)
    result.observe(rejections, limiter.counts.rejectedCritical, { ...attrs, 'governor.priority': 'critical' })
    result.observe(rejections, limiter.counts.rejectedSheddable, { ...attrs, 'governor.priority': 'sheddable' })
    const reason = limiter.algorithm.reason
    if (reason !== undefined) reasons.add(reason)
    // Every reason seen so far, 0 but the current one: a reason left behind must not read 1 still.
    for (const r of reasons) result.observe(state, r === reason ? 1 : 0, { ...attrs, 'governor.reason': r })
  }
  meter.addBatchObservableCallback(callback, instruments)
  return () => meter.removeBatchObservableCallback(callback, instruments)
}
