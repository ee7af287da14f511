import { Counter, type Registry } from 'prom-client'

/** Where a controller tick failed: the `stage` label of `governor_controller_failures_total`. */
export type FailureStage = 'observe' | 'apply' | 'record' | 'tick' | 'lease'

/** The controller runner's own metrics, registered on the collector's registry (served at GET /metrics). */
export class ControllerMetrics {
  /** Ticks of a controller that failed, by stage: reading the store, setting the knob, recording an event, anything else. */
  readonly failures: Counter<'stage'>
  /** Decisions taken, by kind (raise, lower, hold) and mode (active, shadow). */
  readonly decisions: Counter<'kind' | 'mode'>

  constructor(registry: Registry) {
    const registers = [registry]
    this.failures = new Counter({
      name: 'governor_controller_failures_total',
      help: 'Controller ticks that failed, by stage (observe, apply, record, tick, lease); the controller holds and tries again at its next interval.',
      labelNames: ['stage'],
      registers,
    })
    this.decisions = new Counter({
      name: 'governor_controller_decisions_total',
      help: 'Controller decisions, by kind (raise, lower, hold) and mode (active, shadow).',
      labelNames: ['kind', 'mode'],
      registers,
    })
  }
}
