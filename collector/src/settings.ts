import { GovernorError } from './errors.ts'

/**
 * Every setting Governor reads, declared once: its environment variable, type, default,
 * bounds and one line of documentation. `loadSettings` validates them all at start and
 * `governor --help` prints this table.
 */
interface SettingSpec<T> {
  env: string
  kind: 'string' | 'integer'
  default: T
  min?: number
  max?: number
  doc: string
  /** Hidden from logs and help output values (passwords). */
  secret?: boolean
}

const MiB = 1024 * 1024

export const SETTINGS = {
  host: { env: 'GOVERNOR_HOST', kind: 'string', default: '127.0.0.1', doc: 'Address to listen on.' },
  port: {
    env: 'GOVERNOR_PORT',
    kind: 'integer',
    default: 4318,
    min: 0,
    max: 65535,
    doc: 'Port for OTLP/HTTP, the API and the UI (4318 is the OTLP/HTTP default).',
  },
  grpcPort: {
    env: 'GOVERNOR_GRPC_PORT',
    kind: 'integer',
    default: 4317,
    min: 0,
    max: 65535,
    doc: 'Port for OTLP/gRPC, on GOVERNOR_HOST (4317 is the OTLP/gRPC default); 0 turns OTLP/gRPC off.',
  },
  dataDir: {
    env: 'GOVERNOR_DATA_DIR',
    kind: 'string',
    default: './data',
    doc: 'Directory of the embedded ClickHouse store (unused with GOVERNOR_CLICKHOUSE_URL).',
  },
  clickhouseUrl: {
    env: 'GOVERNOR_CLICKHOUSE_URL',
    kind: 'string',
    default: '',
    doc: 'URL of a ClickHouse server, e.g. http://localhost:8123. Unset: the embedded engine (chDB).',
  },
  clickhouseUser: {
    env: 'GOVERNOR_CLICKHOUSE_USER',
    kind: 'string',
    default: 'default',
    doc: 'ClickHouse user (server mode).',
  },
  clickhousePassword: {
    env: 'GOVERNOR_CLICKHOUSE_PASSWORD',
    kind: 'string',
    default: '',
    doc: 'ClickHouse password (server mode).',
    secret: true,
  },
  clickhouseDatabase: {
    env: 'GOVERNOR_CLICKHOUSE_DATABASE',
    kind: 'string',
    default: 'governor',
    doc: "Database that holds Governor's tables; created when missing.",
  },
  clickhouseCluster: {
    env: 'GOVERNOR_CLICKHOUSE_CLUSTER',
    kind: 'string',
    default: '',
    doc: 'Name of a ClickHouse cluster (remote_servers) to run on: DDL ON CLUSTER, Replicated tables, reads and writes through Distributed tables sharded by series id. Needs GOVERNOR_CLICKHOUSE_URL.',
  },
  retentionDays: {
    env: 'GOVERNOR_RETENTION_DAYS',
    kind: 'integer',
    default: 30,
    min: 1,
    max: 3650,
    doc: 'Days points are kept before the store drops them (TTL).',
  },
  maxBodyBytes: {
    env: 'GOVERNOR_MAX_BODY_BYTES',
    kind: 'integer',
    default: 20 * MiB,
    min: 1024,
    max: 1024 * MiB,
    doc: 'Largest request body (or OTLP/gRPC message) the receivers accept, both as sent and after decompression.',
  },
  maxBatchPoints: {
    env: 'GOVERNOR_MAX_BATCH_POINTS',
    kind: 'integer',
    default: 200_000,
    min: 1,
    max: 10_000_000,
    doc: 'Points that make one insert into the store (group commit) before it is written at once.',
  },
  flushIntervalMillis: {
    env: 'GOVERNOR_FLUSH_INTERVAL_MILLIS',
    kind: 'integer',
    default: 1000,
    min: 0,
    max: 60_000,
    doc: 'Longest acknowledged points wait to share an insert into the store (reads wait for them). With GOVERNOR_WAL_DIR=off, longest a request waits for others to share its insert.',
  },
  walDir: {
    env: 'GOVERNOR_WAL_DIR',
    kind: 'string',
    default: '',
    doc: 'Write-ahead log of ingest: a request is acknowledged once its points are in it, and inserted into the store in large commits. Empty: <data dir>/wal. off: no log; a request is acknowledged once its points are committed.',
  },
  walFsyncMillis: {
    env: 'GOVERNOR_WAL_FSYNC_MILLIS',
    kind: 'integer',
    default: 100,
    min: -1,
    max: 10_000,
    doc: 'When the write-ahead log is fsynced. 0: before every acknowledgement (a power loss takes nothing acknowledged; a disk flush per request). N: every N ms and when a segment is sealed (a power loss can take the last N ms of acknowledged points). -1: never (the page cache only: the last seconds).',
  },
  maxPendingPoints: {
    env: 'GOVERNOR_MAX_PENDING_POINTS',
    kind: 'integer',
    default: 2_000_000,
    min: 1,
    max: 100_000_000,
    doc: 'Points accepted but not yet committed; past this, ingest answers 503 with Retry-After.',
  },
  ingestLatencyTargetMillis: {
    env: 'GOVERNOR_INGEST_LATENCY_TARGET_MILLIS',
    kind: 'integer',
    default: 100,
    min: 1,
    max: 60_000,
    doc: 'Ingest answer time the collector holds its p90 to: its own adaptive limiter sheds requests (503, Retry-After) beyond the concurrency that keeps it.',
  },
  maxIngestConcurrency: {
    env: 'GOVERNOR_MAX_INGEST_CONCURRENCY',
    kind: 'integer',
    default: 256,
    min: 0,
    max: 100_000,
    doc: 'Most ingest requests handled at once (the adaptive limit stays at or below it); 0 turns the limiter off.',
  },
  ingestMaxWaitMillis: {
    env: 'GOVERNOR_INGEST_MAX_WAIT_MILLIS',
    kind: 'integer',
    default: 250,
    min: 0,
    max: 60_000,
    doc: 'Longest an ingest request may wait from its arrival (the event-loop turn that read it) until it is processed; past it 503 with Retry-After instead, and the adaptive limiter times requests from arrival. 0: no bound, the limiter times from its own hook.',
  },
  maxInflightIngestBodyBytes: {
    env: 'GOVERNOR_MAX_INFLIGHT_INGEST_BODY_BYTES',
    kind: 'integer',
    default: 64 * MiB,
    min: 0,
    max: 64 * 1024 * MiB,
    doc: 'Bytes of ingest bodies being read and decoded at once (by Content-Length); past it a new ingest request gets 503 with Retry-After before its body is read (alone, any body is taken); 0: no ceiling.',
  },
  maxNewSeriesPerMetricPerHour: {
    env: 'GOVERNOR_MAX_NEW_SERIES_PER_METRIC_PER_HOUR',
    kind: 'integer',
    default: 50_000,
    min: 1,
    max: 1_000_000_000,
    doc: 'New series one metric may gain per hour; points of series past it are rejected (partial success).',
  },
  maxNewSeriesPerServicePerHour: {
    env: 'GOVERNOR_MAX_NEW_SERIES_PER_SERVICE_PER_HOUR',
    kind: 'integer',
    default: 200_000,
    min: 1,
    max: 1_000_000_000,
    doc: 'New series one service may gain per hour; points of series past it are rejected.',
  },
  maxQueryPoints: {
    env: 'GOVERNOR_MAX_QUERY_POINTS',
    kind: 'integer',
    default: 5_000_000,
    min: 1,
    max: 1_000_000_000,
    doc: 'Most raw points one query may read.',
  },
  promqlMaxSamples: {
    env: 'GOVERNOR_PROMQL_MAX_SAMPLES',
    kind: 'integer',
    default: 50_000_000,
    min: 1,
    max: 10_000_000_000,
    doc: 'Most samples one PromQL query may load (Prometheus --query.max-samples); counted before points are read (a read too small to pass it at one sample a second per series is counted as it is decoded), past it a 422.',
  },
  promqlMaxSeries: {
    env: 'GOVERNOR_PROMQL_MAX_SERIES',
    kind: 'integer',
    default: 100_000,
    min: 1,
    max: 100_000_000,
    doc: 'Most series one selector of a PromQL query may match; checked before points are read, past it a 422.',
  },
  promqlTimeoutMillis: {
    env: 'GOVERNOR_PROMQL_TIMEOUT_MILLIS',
    kind: 'integer',
    default: 120_000,
    min: 100,
    max: 3_600_000,
    doc: 'Longest a PromQL query may run (Prometheus --query.timeout); a shorter timeout parameter of the request wins.',
  },
  promqlLookbackDeltaMillis: {
    env: 'GOVERNOR_PROMQL_LOOKBACK_DELTA_MILLIS',
    kind: 'integer',
    default: 300_000,
    min: 1_000,
    max: 86_400_000,
    doc: 'How far back PromQL looks for the latest sample of an instant vector (Prometheus --query.lookback-delta).',
  },
  maxApiBodyBytes: {
    env: 'GOVERNOR_MAX_API_BODY_BYTES',
    kind: 'integer',
    default: 1 * MiB,
    min: 1024,
    max: 1024 * MiB,
    doc: 'Largest request body of the JSON API (deploys, events, knobs, SQL); the receivers take GOVERNOR_MAX_BODY_BYTES.',
  },
  sqlMaxExecutionMillis: {
    env: 'GOVERNOR_SQL_MAX_EXECUTION_MILLIS',
    kind: 'integer',
    default: 10_000,
    min: 100,
    max: 600_000,
    doc: 'Longest a query of POST /api/v1/sql may run (ClickHouse max_execution_time).',
  },
  sqlMaxResultRows: {
    env: 'GOVERNOR_SQL_MAX_RESULT_ROWS',
    kind: 'integer',
    default: 10_000,
    min: 1,
    max: 10_000_000,
    doc: 'Most rows a query of POST /api/v1/sql may answer (max_result_rows; more is an error, not a cut).',
  },
  sqlMaxResultBytes: {
    env: 'GOVERNOR_SQL_MAX_RESULT_BYTES',
    kind: 'integer',
    default: 16 * MiB,
    min: 1024,
    max: 4096 * MiB,
    doc: 'Most bytes (uncompressed, as the store counts them) an answer of POST /api/v1/sql may hold (max_result_bytes; more is an error, not a cut).',
  },
  maxConcurrentReads: {
    env: 'GOVERNOR_MAX_CONCURRENT_READS',
    kind: 'integer',
    default: 4,
    min: 1,
    max: 1000,
    doc: 'Reads of points (queries, SQL) run at once; four times as many wait their turn, more are refused with 503 and Retry-After.',
  },
  sqlMaxMemoryBytes: {
    env: 'GOVERNOR_SQL_MAX_MEMORY_BYTES',
    kind: 'integer',
    default: 512 * MiB,
    min: 16 * MiB,
    max: 64 * 1024 * MiB,
    doc: 'Most memory a query of POST /api/v1/sql may use (max_memory_usage).',
  },
  rateLimitIngestPerMinute: {
    env: 'GOVERNOR_RATE_LIMIT_INGEST_PER_MINUTE',
    kind: 'integer',
    default: 60_000,
    min: 0,
    max: 100_000_000,
    doc: 'Requests a minute one token (without tokens, one address) may send to the HTTP receivers (/v1/metrics, /v1/traces, /v1/logs, /api/v1/write; OTLP/gRPC is not counted); past it 429 with Retry-After; 0: no limit.',
  },
  rateLimitApiPerMinute: {
    env: 'GOVERNOR_RATE_LIMIT_API_PER_MINUTE',
    kind: 'integer',
    default: 3_000,
    min: 0,
    max: 100_000_000,
    doc: 'Requests a minute one token (without a valid token, one address) may send to every other route; past it 429 with Retry-After; 0: no limit.',
  },
  impactWindowMillis: {
    env: 'GOVERNOR_IMPACT_WINDOW_MILLIS',
    kind: 'integer',
    default: 900_000,
    min: 60_000,
    max: 86_400_000,
    doc: 'Length of the windows before and after a deploy that its impact analysis compares.',
  },
  impactBucketMillis: {
    env: 'GOVERNOR_IMPACT_BUCKET_MILLIS',
    kind: 'integer',
    default: 30_000,
    min: 1_000,
    max: 3_600_000,
    doc: 'Width of the buckets a deploy impact analysis compares (one p99, rate or average each); a window must be at least 6 buckets long (buckets are aligned and deploys are not, so it holds at least 5 complete ones).',
  },
  impactIntervalMillis: {
    env: 'GOVERNOR_IMPACT_INTERVAL_MILLIS',
    kind: 'integer',
    default: 60_000,
    min: 0,
    max: 3_600_000,
    doc: 'How often the collector looks for deploys whose window has passed, to analyse and store their impact; 0 turns it off.',
  },
  sloFile: {
    env: 'GOVERNOR_SLO_FILE',
    kind: 'string',
    default: '',
    doc: 'A YAML file of SLOs ops keep in git, applied at start as changes by actor file:<path> (the same definitions again change nothing).',
  },
  controllerTickMillis: {
    env: 'GOVERNOR_CONTROLLER_TICK_MILLIS',
    kind: 'integer',
    default: 250,
    min: 0,
    max: 60_000,
    doc: 'How often the controller runner looks for controllers whose interval has passed; 0 stops every controller.',
  },
  controllerLeaseMillis: {
    env: 'GOVERNOR_CONTROLLER_LEASE_MILLIS',
    kind: 'integer',
    default: 10_000,
    min: 1_000,
    max: 600_000,
    doc: 'With a ClickHouse server: how long the controller lease lasts unless renewed (renewed every third of it); another collector takes the controllers over this long after their holder stops.',
  },
  knobFollowMillis: {
    env: 'GOVERNOR_KNOB_FOLLOW_MILLIS',
    kind: 'integer',
    default: 250,
    min: 0,
    max: 60_000,
    doc: 'With a ClickHouse server: how often this collector looks in the store for knob changes made through other collectors, to push them to its streams; 0: never (one collector only).',
  },
  sinks: {
    env: 'GOVERNOR_SINKS',
    kind: 'string',
    default: '',
    secret: true,
    doc: 'Chat and webhook sinks of change-log events, as JSON: [{"name", "type": "slack" | "webhook", "url", "secret"?: "whsec_...", "kinds"?: [...], "services"?: [...]}].',
  },
  sinksFile: {
    env: 'GOVERNOR_SINKS_FILE',
    kind: 'string',
    default: '',
    doc: 'A JSON file of sinks in the form of GOVERNOR_SINKS (both may be set; names must differ).',
  },
  webhookTimeoutMillis: {
    env: 'GOVERNOR_WEBHOOK_TIMEOUT_MILLIS',
    kind: 'integer',
    default: 10_000,
    min: 100,
    max: 300_000,
    doc: 'Longest a sink may take to answer a delivery before the attempt counts as failed and is retried.',
  },
  webhookMaxRetryMillis: {
    env: 'GOVERNOR_WEBHOOK_MAX_RETRY_MILLIS',
    kind: 'integer',
    default: 86_400_000,
    min: 0,
    max: 604_800_000,
    doc: 'How long after an event was recorded its delivery is retried before it is given up.',
  },
  webhookBackoffBaseMillis: {
    env: 'GOVERNOR_WEBHOOK_BACKOFF_BASE_MILLIS',
    kind: 'integer',
    default: 5_000,
    min: 1,
    max: 3_600_000,
    doc: 'Bound of the first retry delay; it doubles with each attempt and the delay is drawn at random below it (full jitter).',
  },
  webhookBackoffMaxMillis: {
    env: 'GOVERNOR_WEBHOOK_BACKOFF_MAX_MILLIS',
    kind: 'integer',
    default: 3_600_000,
    min: 1,
    max: 86_400_000,
    doc: 'Largest bound of a retry delay.',
  },
  webhookScanIntervalMillis: {
    env: 'GOVERNOR_WEBHOOK_SCAN_INTERVAL_MILLIS',
    kind: 'integer',
    default: 2_000,
    min: 10,
    max: 600_000,
    doc: 'How often deliveries that are due (retries, events left undelivered by a restart) are looked for and sent.',
  },
  webhookAllowPrivate: {
    env: 'GOVERNOR_WEBHOOK_ALLOW_PRIVATE',
    kind: 'integer',
    default: 0,
    min: 0,
    max: 1,
    doc: '1: sinks may reach private, loopback, link-local and cloud metadata addresses; 0: such targets are refused at start (literal addresses) and at each send (resolved names).',
  },
  tokens: {
    env: 'GOVERNOR_TOKENS',
    kind: 'string',
    default: '',
    secret: true,
    doc: 'Bearer tokens, comma-separated entries name=role+role:token (roles: ingest, deploy, operate, read; ingest@<service> scopes ingest to a service; at least 16 characters a token). Unset, with no file either: open mode, loopback addresses only.',
  },
  tokensFile: {
    env: 'GOVERNOR_TOKENS_FILE',
    kind: 'string',
    default: '',
    doc: 'A file of tokens in the form of GOVERNOR_TOKENS, one entry a line; blank lines and # comments allowed.',
  },
  logLevel: {
    env: 'GOVERNOR_LOG_LEVEL',
    kind: 'string',
    default: 'info',
    doc: 'One of fatal, error, warn, info, debug, trace, silent.',
  },
} as const satisfies Record<string, SettingSpec<string | number>>

type Specs = typeof SETTINGS
/** Validated settings, typed from the declarations above. */
export type Settings = { -readonly [K in keyof Specs]: Specs[K]['default'] extends number ? number : string }

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']

/**
 * Reads settings from `env` (process.env by default), with `overrides` on top (tests and
 * embedders). Throws GOV_ERR_SETTINGS_INVALID naming the variable and the value received.
 */
export function loadSettings(overrides: Partial<Settings> = {}, env: NodeJS.ProcessEnv = process.env): Settings {
  const out: Record<string, string | number> = {}
  for (const [name, spec] of Object.entries(SETTINGS) as [keyof Settings, SettingSpec<string | number>][]) {
    const override = overrides[name]
    const raw = override !== undefined ? String(override) : env[spec.env]
    out[name] = raw === undefined || raw === '' ? spec.default : parseValue(spec, raw)
  }
  const settings = out as Settings
  if (!LOG_LEVELS.includes(settings.logLevel)) {
    throw invalid(SETTINGS.logLevel, settings.logLevel, `expected one of ${LOG_LEVELS.join(', ')}`)
  }
  if (settings.grpcPort !== 0 && settings.grpcPort === settings.port) {
    throw invalid(
      SETTINGS.grpcPort,
      String(settings.grpcPort),
      'the same port as GOVERNOR_PORT: OTLP/gRPC needs a port of its own (or 0 to turn it off)',
    )
  }
  if (settings.clickhouseCluster !== '') {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(settings.clickhouseCluster))
      throw invalid(SETTINGS.clickhouseCluster, settings.clickhouseCluster, 'expected letters, digits and underscores')
    if (settings.clickhouseUrl === '')
      throw invalid(
        SETTINGS.clickhouseCluster,
        settings.clickhouseCluster,
        'a cluster needs a ClickHouse server: set GOVERNOR_CLICKHOUSE_URL (the embedded engine is one process on one machine)',
      )
  }
  return settings
}

function parseValue(spec: SettingSpec<string | number>, raw: string): string | number {
  if (spec.kind === 'string') return raw
  const trimmed = raw.trim()
  if (!/^-?\d+$/.test(trimmed)) throw invalid(spec, raw, 'expected a whole number')
  const n = Number(trimmed)
  if (spec.min !== undefined && n < spec.min) throw invalid(spec, raw, `below the minimum ${spec.min}`)
  if (spec.max !== undefined && n > spec.max) throw invalid(spec, raw, `above the maximum ${spec.max}`)
  return n
}

function invalid(spec: SettingSpec<string | number>, raw: string, why: string): GovernorError {
  return new GovernorError(
    'GOV_ERR_SETTINGS_INVALID',
    `${spec.env}=${spec.secret === true ? '(hidden)' : JSON.stringify(raw)}: ${why}`,
  )
}

/**
 * The oldest point time worth accepting: anything older the store's TTL would drop at
 * once, so receivers reject it visibly instead of acknowledging it.
 */
export function oldestAcceptedMillis(settings: Settings, now: number): number {
  return now - settings.retentionDays * 86_400_000
}

/** The settings table as `--help` prints it. */
export function settingsHelp(): string {
  const rows = Object.values(SETTINGS).map((s: SettingSpec<string | number>) => {
    const bounds = s.min !== undefined ? ` (${s.min}..${s.max})` : ''
    const def = s.default === '' || s.secret === true ? 'unset' : String(s.default)
    return `  ${s.env.padEnd(32)} ${s.doc}\n  ${''.padEnd(32)} default: ${def}${bounds}`
  })
  return rows.join('\n')
}
