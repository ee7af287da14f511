import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client'

/** Why a request or its points were not stored: the `reason` label of the rejection counters. */
export type RejectReason =
  'invalid_point' | 'malformed' | 'unsupported_media' | 'too_large' | 'pipeline_full' | 'store_error'

/**
 * The collector's own metrics, served at GET /metrics. One registry per app instance, so
 * that two collectors in one process (tests) never share counters.
 */
export class SelfMetrics {
  readonly registry = new Registry()
  readonly pointsAccepted: Counter<'receiver'>
  readonly pointsRejected: Counter<'receiver' | 'reason'>
  readonly requestsRejected: Counter<'receiver' | 'reason'>
  readonly itemsNotKept: Counter<'receiver' | 'signal'>
  readonly requestDuration: Histogram<'method' | 'route' | 'status'>
  readonly commitPoints: Histogram
  readonly commitDuration: Histogram
  readonly commitFailures: Counter
  readonly quarantinedRows: Counter<'table'>
  readonly walDamaged: Counter<'kind'>
  readonly seriesRefused: Counter<'limit'>
  readonly pipelinePending: Gauge
  readonly pipelineFill: Gauge

  constructor(pipeline: () => { pending: number; fill: number }) {
    const registers = [this.registry]
    collectDefaultMetrics({ register: this.registry, prefix: 'governor_' })
    this.pointsAccepted = new Counter({
      name: 'governor_points_accepted_total',
      help: 'Points committed to the store.',
      labelNames: ['receiver'],
      registers,
    })
    this.pointsRejected = new Counter({
      name: 'governor_points_rejected_total',
      help: 'Points not stored, by reason.',
      labelNames: ['receiver', 'reason'],
      registers,
    })
    this.requestsRejected = new Counter({
      name: 'governor_ingest_requests_rejected_total',
      help: 'Ingest requests refused whole, by reason.',
      labelNames: ['receiver', 'reason'],
      registers,
    })
    this.itemsNotKept = new Counter({
      name: 'governor_otlp_items_not_kept_total',
      labelNames: ['receiver', 'signal'],
      registers,
      help: 'Spans (signal traces) and log records (signal logs) received over OTLP and not kept: Governor keeps metrics only, and answers each such request with a partial success that says so.',
    })
    this.requestDuration = new Histogram({
      name: 'governor_http_request_duration_seconds',
      help: 'HTTP request durations, by route and status.',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    })
    this.commitPoints = new Histogram({
      name: 'governor_commit_points',
      help: 'Points per group commit to the store.',
      buckets: [1, 10, 100, 1_000, 10_000, 50_000, 100_000, 200_000, 500_000, 1_000_000],
      registers,
    })
    this.commitDuration = new Histogram({
      name: 'governor_commit_duration_seconds',
      help: 'Duration of group commits to the store.',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    })
    this.seriesRefused = new Counter({
      name: 'governor_series_limit_rejected_points_total',
      help: 'Points rejected because their new series passed a series limit, by limit (metric or service).',
      labelNames: ['limit'],
      registers,
    })
    this.commitFailures = new Counter({
      name: 'governor_commit_failures_total',
      help: 'Group commits the store refused or failed.',
      registers,
    })
    this.quarantinedRows = new Counter({
      name: 'governor_quarantined_rows_total',
      help: 'Rows the store refused for their content, set aside in the quarantine (the rest of their commit is stored), by table.',
      labelNames: ['table'],
      registers,
    })
    this.walDamaged = new Counter({
      name: 'governor_wal_damaged_segments_total',
      help: 'Write-ahead log segments found damaged at start (torn or zeroed tail, bad header, unreadable), cut or set aside, by kind.',
      labelNames: ['kind'],
      registers,
    })
    this.pipelinePending = new Gauge({
      name: 'governor_pipeline_pending_points',
      help: 'Points accepted and not yet committed.',
      registers,
      collect() {
        this.set(pipeline().pending)
      },
    })
    this.pipelineFill = new Gauge({
      name: 'governor_pipeline_fill_ratio',
      help: 'Pending points over the pipeline limit (0 to 1).',
      registers,
      collect() {
        this.set(pipeline().fill)
      },
    })
  }
}
