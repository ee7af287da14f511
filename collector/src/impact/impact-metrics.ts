import { Counter, type Registry } from 'prom-client'

/** The impact scheduler's own metrics, registered on the collector's registry (served at GET /metrics). */
export class ImpactMetrics {
  /** Analyses stored, by the worst verdict they hold. */
  readonly analyses: Counter<'outcome'>
  /** Ticks or analyses that failed (the store did not answer, a bug). */
  readonly failures: Counter

  constructor(registry: Registry) {
    const registers = [registry]
    this.analyses = new Counter({
      name: 'governor_impact_analyses_total',
      help: 'Deploy impact analyses stored, by outcome (worse, better, unchanged, not_enough_data).',
      labelNames: ['outcome'],
      registers,
    })
    this.failures = new Counter({
      name: 'governor_impact_failures_total',
      help: 'Deploy impact ticks or analyses that failed; they are retried at the next tick.',
      registers,
    })
  }
}
