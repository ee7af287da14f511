/**
 * Numbered schema migrations, applied in order at start. A migration, once released, is
 * never edited: change the schema with a new one. Each statement is idempotent
 * (IF NOT EXISTS) so that a start interrupted half-way simply runs it again.
 */
export interface Migration {
  version: number
  name: string
  statements: (ctx: MigrationContext) => string[]
  /**
   * How each table the migration creates lies on a ClickHouse cluster (see
   * `cluster-ddl.ts`, which derives the cluster DDL from `statements`). The embedded
   * and single-server DDL ignore it.
   */
  layout: Record<string, TableLayout>
}

/**
 * `{ shardBy }`: rows are spread over the shards by this expression, through a Distributed
 * table; rows that must meet (a series and its points, the versions of one knob, the rows a
 * ReplacingMergeTree folds together) must give the same value. `everywhere`: every node holds
 * every row (small tables read right after they are written: leases, migrations).
 */
export type TableLayout = { shardBy: string } | 'everywhere'

const BY_SERIES: TableLayout = { shardBy: 'series_id' }
const BY_SERVICE_AND_NAME: TableLayout = { shardBy: 'cityHash64(service, name)' }

export interface MigrationContext {
  /** Database name, already validated as an identifier. */
  db: string
  retentionDays: number
}

/** TTL clause shared by the point tables, so retention can be changed in one place. */
export function pointTtl(retentionDays: number): string {
  return `toDateTime(intDiv(ts, 1000)) + toIntervalDay(${retentionDays})`
}

/** The tables that hold points, in the order they are written. */
export const POINT_TABLES = ['samples', 'histograms', 'exp_histograms', 'summaries'] as const
export type PointTable = (typeof POINT_TABLES)[number]

/** The table of exemplars (migration 10): kept as long as points, written in the same commits. */
export const EXEMPLAR_TABLE = 'exemplars'

/** The tables whose rows live for the retention (their TTL is `pointTtl`). */
export const RETAINED_TABLES = [...POINT_TABLES, EXEMPLAR_TABLE] as const

// Columns every point table starts with. Rows are sorted by (series_id, ts): the id's high
// bits come from the metric name (see seriesId), so a metric's series lie together without a
// metric column, the id repeats for long runs (Delta makes it nearly free) and the timestamps
// of one series are regular (DoubleDelta turns a fixed interval into zeros). `start` is
// constant for a cumulative series and 0 for gauges.
// Times are Int64 milliseconds since the epoch: unambiguous in every insert format (text
// parsing of DateTime64 guesses at short numbers), with `time` as a DateTime64 alias for SQL
// and Grafana.
const POINT_HEAD = `
  series_id UInt64 CODEC(Delta, ZSTD(1)),
  ts Int64 CODEC(DoubleDelta, ZSTD(1)),
  start Int64 CODEC(DoubleDelta, ZSTD(1)),
  flags UInt8 CODEC(ZSTD(1)),
  time DateTime64(3, 'UTC') ALIAS fromUnixTimestamp64Milli(ts, 'UTC')`

/**
 * MergeTree settings of the point tables. A loaded collector commits many small parts (one
 * per group commit); with the default merge_selector_base (5) each row is merged again and
 * again while it is young, and those merges cost more CPU than the inserts. A base of 20
 * lets small parts gather and merge in fewer, wider merges (bench:merges measures it).
 */
/** How many recent inserts a table remembers the tokens of (see migration 7). */
export const DEDUPLICATION_WINDOW = 'non_replicated_deduplication_window = 1000'

export const POINT_TABLE_SETTINGS = 'ttl_only_drop_parts = 1, merge_selector_base = 20'

function pointTable(ctx: MigrationContext, name: PointTable, columns: string): string {
  return `CREATE TABLE IF NOT EXISTS ${ctx.db}.${name} (${POINT_HEAD},${columns}
) ENGINE = MergeTree
PARTITION BY intDiv(ts, 86400000)
ORDER BY (series_id, ts)
TTL ${pointTtl(ctx.retentionDays)}
SETTINGS ${POINT_TABLE_SETTINGS}`
}

/** A table of definition versions (SLOs, controllers): the latest is the definition, the rest its history. */
function versionTable(ctx: MigrationContext, name: string): string {
  return `CREATE TABLE IF NOT EXISTS ${ctx.db}.${name} (
  service LowCardinality(String),
  name String,
  version UInt64,
  definition String,
  actor String,
  reason String,
  change_id String,
  changed_at DateTime64(3, 'UTC')
) ENGINE = ReplacingMergeTree
ORDER BY (service, name, version)`
}

export const MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: 'series and point tables',
    layout: {
      series: BY_SERIES,
      samples: BY_SERIES,
      histograms: BY_SERIES,
      exp_histograms: BY_SERIES,
      summaries: BY_SERIES,
    },
    statements: (ctx) => [
      `CREATE TABLE IF NOT EXISTS ${ctx.db}.series (
  metric LowCardinality(String),
  series_id UInt64,
  type LowCardinality(String),
  temporality LowCardinality(String),
  monotonic Bool,
  unit LowCardinality(String),
  description String,
  service LowCardinality(String),
  scope LowCardinality(String),
  resource Map(LowCardinality(String), String),
  attributes Map(LowCardinality(String), String),
  first_seen DateTime64(3, 'UTC') DEFAULT now64(3)
) ENGINE = ReplacingMergeTree
ORDER BY (metric, series_id)`,
      // Gorilla XORs each value with the previous one: gauges that move little and counters
      // that climb by small steps share most of their bits with their neighbour.
      pointTable(
        ctx,
        'samples',
        `
  value Float64 CODEC(Gorilla, ZSTD(1))`,
      ),
      pointTable(
        ctx,
        'histograms',
        `
  count UInt64 CODEC(Delta, ZSTD(1)),
  sum Float64 CODEC(Gorilla, ZSTD(1)),
  min Float64 CODEC(Gorilla, ZSTD(1)),
  max Float64 CODEC(Gorilla, ZSTD(1)),
  bounds Array(Float64) CODEC(ZSTD(3)),
  counts Array(UInt64) CODEC(ZSTD(3))`,
      ),
      pointTable(
        ctx,
        'exp_histograms',
        `
  count UInt64 CODEC(Delta, ZSTD(1)),
  sum Float64 CODEC(Gorilla, ZSTD(1)),
  min Float64 CODEC(Gorilla, ZSTD(1)),
  max Float64 CODEC(Gorilla, ZSTD(1)),
  scale Int8 CODEC(ZSTD(1)),
  zero_count UInt64 CODEC(ZSTD(1)),
  zero_threshold Float64 CODEC(ZSTD(1)),
  positive_offset Int32 CODEC(ZSTD(1)),
  positive_counts Array(UInt64) CODEC(ZSTD(3)),
  negative_offset Int32 CODEC(ZSTD(1)),
  negative_counts Array(UInt64) CODEC(ZSTD(3))`,
      ),
      pointTable(
        ctx,
        'summaries',
        `
  count UInt64 CODEC(Delta, ZSTD(1)),
  sum Float64 CODEC(Gorilla, ZSTD(1)),
  quantiles Array(Float64) CODEC(ZSTD(3)),
  values Array(Float64) CODEC(ZSTD(3))`,
      ),
    ],
  },
  {
    version: 2,
    name: 'change log',
    layout: { events: { shardBy: 'cityHash64(id)' } },
    statements: (ctx) => [
      // One log of every change: deploys, incidents, notes, knob and SLO changes, controller
      // decisions, analyses. `time`..`time_end` is when the change took effect (a deploy's start
      // and finish; an instant has time_end = time). Kind-specific fields live in `data` (JSON).
      // `search` is what full-text search reads, lower-cased; the text index makes a token
      // lookup skip granules that cannot match.
      `CREATE TABLE IF NOT EXISTS ${ctx.db}.events (
  id String,
  kind LowCardinality(String),
  time DateTime64(3, 'UTC'),
  time_end DateTime64(3, 'UTC'),
  service LowCardinality(String),
  environment LowCardinality(String),
  actor String,
  title String,
  text String,
  tags Array(String),
  version String,
  data String,
  recorded_at DateTime64(3, 'UTC') DEFAULT now64(3),
  search String MATERIALIZED lower(concat(title, ' ', text, ' ', arrayStringConcat(tags, ' '), ' ', service, ' ', version, ' ', actor, ' ', kind)),
  INDEX search_idx search TYPE text(tokenizer = 'splitByNonAlpha')
) ENGINE = ReplacingMergeTree(recorded_at)
ORDER BY (service, time, id)`,
    ],
  },
  {
    version: 3,
    name: 'knobs',
    layout: { knob_versions: BY_SERVICE_AND_NAME },
    statements: (ctx) => [
      // One row per version of every knob: the latest is the knob, the rest its history.
      `CREATE TABLE IF NOT EXISTS ${ctx.db}.knob_versions (
  service LowCardinality(String),
  name String,
  version UInt64,
  definition String,
  mode LowCardinality(String),
  value String,
  actor String,
  reason String,
  change_id String,
  changed_at DateTime64(3, 'UTC')
) ENGINE = ReplacingMergeTree
ORDER BY (service, name, version)`,
    ],
  },
  {
    version: 4,
    name: 'webhook deliveries',
    layout: {
      webhook_deliveries: { shardBy: 'cityHash64(sink, event_id)' },
      webhook_sinks: { shardBy: 'cityHash64(name)' },
    },
    statements: (ctx) => [
      // The latest state of each delivery of an event to a chat or webhook sink; the newest
      // updated_at wins (read with FINAL). Pending deliveries are the recent events without a
      // final state here, so storing an event is what queues it (see sinks/webhook-sender.ts).
      `CREATE TABLE IF NOT EXISTS ${ctx.db}.webhook_deliveries (
  sink String,
  event_id String,
  kind LowCardinality(String),
  service LowCardinality(String),
  event_recorded_at DateTime64(3, 'UTC'),
  attempts UInt32,
  status LowCardinality(String),
  next_attempt_at DateTime64(3, 'UTC'),
  last_status_code UInt16,
  last_error String,
  delivered_at DateTime64(3, 'UTC'),
  updated_at DateTime64(3, 'UTC')
) ENGINE = ReplacingMergeTree(updated_at)
ORDER BY (sink, event_id)`,
      // When each sink was first configured: events recorded before it are not sent to it.
      `CREATE TABLE IF NOT EXISTS ${ctx.db}.webhook_sinks (
  name String,
  registered_at DateTime64(3, 'UTC')
) ENGINE = MergeTree
ORDER BY name`,
    ],
  },
  {
    version: 5,
    name: 'slos and controllers',
    layout: { slo_versions: BY_SERVICE_AND_NAME, controller_versions: BY_SERVICE_AND_NAME },
    statements: (ctx) => [
      // One row per version of every SLO and of every controller binding, as knob_versions:
      // the latest version is the definition, the rest its history (see slo/ and control/).
      versionTable(ctx, 'slo_versions'),
      versionTable(ctx, 'controller_versions'),
    ],
  },
  {
    version: 6,
    name: 'leases',
    layout: { leases: 'everywhere' },
    statements: (ctx) => [
      // Who runs the controllers (see control/lease.ts): a claim per (name, term, holder),
      // renewed by writing it again with a later expiry; the row with the latest written_at
      // is the claim. Times are the writer's epoch milliseconds.
      `CREATE TABLE IF NOT EXISTS ${ctx.db}.leases (
  name String,
  term UInt64,
  holder String,
  expires_at Int64,
  written_at Int64
) ENGINE = ReplacingMergeTree(written_at)
ORDER BY (name, term, holder)`,
    ],
  },
  {
    version: 7,
    name: 'deduplicated commits',
    layout: {},
    // Ingest commits carry a token (the write-ahead log segment they come from): one replayed
    // after a crash, whose first try may have landed, must be stored once. A MergeTree keeps the
    // tokens of its last inserts only with this window (Replicated tables always do).
    statements: (ctx) =>
      ['series', ...POINT_TABLES].map((t) => `ALTER TABLE ${ctx.db}.${t} MODIFY SETTING ${DEDUPLICATION_WINDOW}`),
  },
  {
    version: 8,
    name: 'committed log segments',
    // Read at start right after the same collector wrote it, and tiny: every node holds it all.
    layout: { wal_commits: 'everywhere' },
    statements: (ctx) => [
      // The write-ahead log segments whose commit is in the store, written once all their
      // inserts succeeded (Store.recordCommitted). A segment left on disk (a crash before
      // its deletion) is skipped at replay however many commits passed since: the engine's
      // own insert tokens are remembered for the last 1,000 inserts only. A token matters only
      // while its segment may still be on disk, i.e. until the next start: 30 days is ample.
      `CREATE TABLE IF NOT EXISTS ${ctx.db}.wal_commits (
  token String,
  committed_at DateTime64(3, 'UTC') DEFAULT now64(3)
) ENGINE = ReplacingMergeTree
PARTITION BY toDate(committed_at)
ORDER BY token
TTL toDateTime(committed_at) + toIntervalDay(30)
SETTINGS ttl_only_drop_parts = 1`,
    ],
  },
  {
    version: 9,
    name: 'metric metadata',
    // A row per metric family, small and read whole: every node holds it all.
    layout: { metric_metadata: 'everywhere' },
    statements: (ctx) => [
      // What Prometheus says of each metric family (remote write sends it in requests of its
      // own, often after the family's first samples): the metadata API answers from it, so help,
      // unit and type read as sent, whenever they came. The latest row of a family is its metadata.
      `CREATE TABLE IF NOT EXISTS ${ctx.db}.metric_metadata (
  family String,
  type LowCardinality(String),
  help String,
  unit String,
  updated_at DateTime64(3, 'UTC') DEFAULT now64(3)
) ENGINE = ReplacingMergeTree(updated_at)
ORDER BY family`,
    ],
  },
  {
    version: 10,
    name: 'exemplars',
    layout: { exemplars: BY_SERIES },
    statements: (ctx) => [
      // Exemplars as Prometheus keeps them: a value at a time with a few labels (a trace id),
      // on a series. Laid out as the point tables are (sorted by series and time, a partition
      // a day, dropped with the retention), and with the same window of insert tokens, so that
      // a commit replayed from the write-ahead log stores its exemplars once.
      `CREATE TABLE IF NOT EXISTS ${ctx.db}.exemplars (
  series_id UInt64 CODEC(Delta, ZSTD(1)),
  ts Int64 CODEC(DoubleDelta, ZSTD(1)),
  value Float64 CODEC(ZSTD(1)),
  labels Map(LowCardinality(String), String) CODEC(ZSTD(1))
) ENGINE = MergeTree
PARTITION BY intDiv(ts, 86400000)
ORDER BY (series_id, ts)
TTL ${pointTtl(ctx.retentionDays)}
SETTINGS ${POINT_TABLE_SETTINGS}, ${DEDUPLICATION_WINDOW}`,
    ],
  },
]
