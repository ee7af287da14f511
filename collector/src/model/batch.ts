import type { Attributes, SeriesInfo } from './types.ts'

/**
 * Points decoded from one request, held as columns: one array per stored column, so the
 * store encodes a whole batch without touching a per-point object.
 *
 *   series    id → SeriesInfo for every series the batch refers to
 *   samples   gauge and sum points          (one row per point)
 *   histograms, expHistograms, summaries    (one row per point, buckets as arrays)
 *   exemplars one row per exemplar: not a point, but stored (and logged) with the points
 *
 * Timestamps are milliseconds since the epoch; `start` is the start time of cumulative and
 * delta points (0 when the point has none).
 */
export class PointBatch {
  readonly series = new Map<bigint, SeriesInfo>()
  readonly samples = new SampleColumns()
  readonly histograms = new HistogramColumns()
  readonly expHistograms = new ExpHistogramColumns()
  readonly summaries = new SummaryColumns()
  readonly exemplars = new ExemplarColumns()

  /** Points in the batch, across all point tables (exemplars are not points). */
  get pointCount(): number {
    return this.samples.length + this.histograms.length + this.expHistograms.length + this.summaries.length
  }
}

/**
 * Exemplars as Prometheus models them: a value at a time, with a few labels (for OTLP, the
 * trace and span ids beside the filtered attributes), attached to a series.
 */
export class ExemplarColumns {
  readonly series: SeriesInfo[] = []
  readonly ts: number[] = []
  readonly value: number[] = []
  readonly labels: Attributes[] = []

  get length(): number {
    return this.ts.length
  }

  push(s: SeriesInfo, ts: number, value: number, labels: Attributes): void {
    this.series.push(s)
    this.ts.push(ts)
    this.value.push(value)
    this.labels.push(labels)
  }
}

/** Columns shared by every point table. */
class PointColumns {
  /** The series of each point; the store takes the metric name and series id from it. */
  readonly series: SeriesInfo[] = []
  readonly ts: number[] = []
  readonly start: number[] = []
  /** OTLP DataPointFlags (bit 0: no recorded value). */
  readonly flags: number[] = []

  get length(): number {
    return this.ts.length
  }

  /** Metric name of each point (a new array: for inspection, not for hot paths). */
  get metric(): string[] {
    return this.series.map((s) => s.metric)
  }

  /** Series id of each point (a new array: for inspection, not for hot paths). */
  get seriesId(): bigint[] {
    return this.series.map((s) => s.id)
  }

  protected pushHead(s: SeriesInfo, ts: number, start: number, flags: number): void {
    this.series.push(s)
    this.ts.push(ts)
    this.start.push(start)
    this.flags.push(flags)
  }
}

export class SampleColumns extends PointColumns {
  readonly value: number[] = []

  push(s: SeriesInfo, ts: number, start: number, flags: number, value: number): void {
    this.pushHead(s, ts, start, flags)
    this.value.push(value)
  }
}

export class HistogramColumns extends PointColumns {
  readonly count: number[] = []
  readonly sum: number[] = []
  /** NaN when the point carries no min/max. */
  readonly min: number[] = []
  readonly max: number[] = []
  readonly bounds: number[][] = []
  readonly counts: number[][] = []

  push(
    s: SeriesInfo,
    ts: number,
    start: number,
    flags: number,
    count: number,
    sum: number,
    min: number,
    max: number,
    bounds: number[],
    counts: number[],
  ): void {
    this.pushHead(s, ts, start, flags)
    this.count.push(count)
    this.sum.push(sum)
    this.min.push(min)
    this.max.push(max)
    this.bounds.push(bounds)
    this.counts.push(counts)
  }
}

/** One side (positive or negative) of an exponential histogram. */
export interface ExpBuckets {
  offset: number
  counts: number[]
}

export class ExpHistogramColumns extends PointColumns {
  readonly count: number[] = []
  readonly sum: number[] = []
  readonly min: number[] = []
  readonly max: number[] = []
  readonly scale: number[] = []
  readonly zeroCount: number[] = []
  readonly zeroThreshold: number[] = []
  readonly positive: ExpBuckets[] = []
  readonly negative: ExpBuckets[] = []

  push(
    s: SeriesInfo,
    ts: number,
    start: number,
    flags: number,
    count: number,
    sum: number,
    min: number,
    max: number,
    scale: number,
    zeroCount: number,
    zeroThreshold: number,
    positive: ExpBuckets,
    negative: ExpBuckets,
  ): void {
    this.pushHead(s, ts, start, flags)
    this.count.push(count)
    this.sum.push(sum)
    this.min.push(min)
    this.max.push(max)
    this.scale.push(scale)
    this.zeroCount.push(zeroCount)
    this.zeroThreshold.push(zeroThreshold)
    this.positive.push(positive)
    this.negative.push(negative)
  }
}

export class SummaryColumns extends PointColumns {
  readonly count: number[] = []
  readonly sum: number[] = []
  readonly quantiles: number[][] = []
  readonly values: number[][] = []

  push(
    s: SeriesInfo,
    ts: number,
    start: number,
    flags: number,
    count: number,
    sum: number,
    quantiles: number[],
    values: number[],
  ): void {
    this.pushHead(s, ts, start, flags)
    this.count.push(count)
    this.sum.push(sum)
    this.quantiles.push(quantiles)
    this.values.push(values)
  }
}
