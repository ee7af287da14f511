-- prelude
CREATE DATABASE IF NOT EXISTS governor;

CREATE TABLE IF NOT EXISTS governor.schema_migrations (
  version UInt32, name String, applied_at DateTime64(3, 'UTC') DEFAULT now64(3)
) ENGINE = MergeTree ORDER BY version;

-- migration 1: series and point tables
CREATE TABLE IF NOT EXISTS governor.series (
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
ORDER BY (metric, series_id);

CREATE TABLE IF NOT EXISTS governor.samples (
  series_id UInt64 CODEC(Delta, ZSTD(1)),
  ts Int64 CODEC(DoubleDelta, ZSTD(1)),
  start Int64 CODEC(DoubleDelta, ZSTD(1)),
  flags UInt8 CODEC(ZSTD(1)),
  time DateTime64(3, 'UTC') ALIAS fromUnixTimestamp64Milli(ts, 'UTC'),
  value Float64 CODEC(Gorilla, ZSTD(1))
) ENGINE = MergeTree
PARTITION BY intDiv(ts, 86400000)
ORDER BY (series_id, ts)
TTL toDateTime(intDiv(ts, 1000)) + toIntervalDay(30)
SETTINGS ttl_only_drop_parts = 1, merge_selector_base = 20;

CREATE TABLE IF NOT EXISTS governor.histograms (
  series_id UInt64 CODEC(Delta, ZSTD(1)),
  ts Int64 CODEC(DoubleDelta, ZSTD(1)),
  start Int64 CODEC(DoubleDelta, ZSTD(1)),
  flags UInt8 CODEC(ZSTD(1)),
  time DateTime64(3, 'UTC') ALIAS fromUnixTimestamp64Milli(ts, 'UTC'),
  count UInt64 CODEC(Delta, ZSTD(1)),
  sum Float64 CODEC(Gorilla, ZSTD(1)),
  min Float64 CODEC(Gorilla, ZSTD(1)),
  max Float64 CODEC(Gorilla, ZSTD(1)),
  bounds Array(Float64) CODEC(ZSTD(3)),
  counts Array(UInt64) CODEC(ZSTD(3))
) ENGINE = MergeTree
PARTITION BY intDiv(ts, 86400000)
ORDER BY (series_id, ts)
TTL toDateTime(intDiv(ts, 1000)) + toIntervalDay(30)
SETTINGS ttl_only_drop_parts = 1, merge_selector_base = 20;

CREATE TABLE IF NOT EXISTS governor.exp_histograms (
  series_id UInt64 CODEC(Delta, ZSTD(1)),
  ts Int64 CODEC(DoubleDelta, ZSTD(1)),
  start Int64 CODEC(DoubleDelta, ZSTD(1)),
  flags UInt8 CODEC(ZSTD(1)),
  time DateTime64(3, 'UTC') ALIAS fromUnixTimestamp64Milli(ts, 'UTC'),
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
  negative_counts Array(UInt64) CODEC(ZSTD(3))
) ENGINE = MergeTree
PARTITION BY intDiv(ts, 86400000)
ORDER BY (series_id, ts)
TTL toDateTime(intDiv(ts, 1000)) + toIntervalDay(30)
SETTINGS ttl_only_drop_parts = 1, merge_selector_base = 20;

CREATE TABLE IF NOT EXISTS governor.summaries (
  series_id UInt64 CODEC(Delta, ZSTD(1)),
  ts Int64 CODEC(DoubleDelta, ZSTD(1)),
  start Int64 CODEC(DoubleDelta, ZSTD(1)),
  flags UInt8 CODEC(ZSTD(1)),
  time DateTime64(3, 'UTC') ALIAS fromUnixTimestamp64Milli(ts, 'UTC'),
  count UInt64 CODEC(Delta, ZSTD(1)),
  sum Float64 CODEC(Gorilla, ZSTD(1)),
  quantiles Array(Float64) CODEC(ZSTD(3)),
  values Array(Float64) CODEC(ZSTD(3))
) ENGINE = MergeTree
PARTITION BY intDiv(ts, 86400000)
ORDER BY (series_id, ts)
TTL toDateTime(intDiv(ts, 1000)) + toIntervalDay(30)
SETTINGS ttl_only_drop_parts = 1, merge_selector_base = 20;

-- migration 2: change log
CREATE TABLE IF NOT EXISTS governor.events (
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
ORDER BY (service, time, id);

-- migration 3: knobs
CREATE TABLE IF NOT EXISTS governor.knob_versions (
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
ORDER BY (service, name, version);

-- migration 4: webhook deliveries
CREATE TABLE IF NOT EXISTS governor.webhook_deliveries (
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
ORDER BY (sink, event_id);

CREATE TABLE IF NOT EXISTS governor.webhook_sinks (
  name String,
  registered_at DateTime64(3, 'UTC')
) ENGINE = MergeTree
ORDER BY name;

-- migration 5: slos and controllers
CREATE TABLE IF NOT EXISTS governor.slo_versions (
  service LowCardinality(String),
  name String,
  version UInt64,
  definition String,
  actor String,
  reason String,
  change_id String,
  changed_at DateTime64(3, 'UTC')
) ENGINE = ReplacingMergeTree
ORDER BY (service, name, version);

CREATE TABLE IF NOT EXISTS governor.controller_versions (
  service LowCardinality(String),
  name String,
  version UInt64,
  definition String,
  actor String,
  reason String,
  change_id String,
  changed_at DateTime64(3, 'UTC')
) ENGINE = ReplacingMergeTree
ORDER BY (service, name, version);
