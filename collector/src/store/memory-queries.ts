import type { Attributes, MetricType, Temporality } from '../model/types.ts'
import { familyMetadata, type MetricDescription } from './family-metadata.ts'
import type { FamilyMetadata, MetricMetadata } from './prometheus-metadata.ts'
import type { MetricSummary, PointRows, SeriesRow, StoreQueries } from './queries.ts'

/** One row of the series table, as `MemoryStoreQueries.addSeries` takes it. */
export interface MemorySeriesRow {
  metric: string
  /** The series id: a UInt64 in decimal. */
  id: string
  type: MetricType
  temporality: Temporality
  monotonic: boolean
  unit: string
  description: string
  service: string
  scope: string
  resource: Attributes
  attributes: Attributes
  /** When the series was first seen (millis); without it, rows added earlier were seen first. */
  firstSeen?: number
}

/** One row of a point table: its head and the table's own columns by name (e.g. `value`; `count`, `bounds`, `counts`). */
export interface MemoryPointRow {
  /** The series id: a UInt64 in decimal. */
  seriesId: string
  ts: number
  /** When a cumulative series began counting; 0 when unknown (the default). */
  start?: number
  /** Bit 0: no recorded value (a stale marker): never read. */
  flags?: number
  columns: Readonly<Record<string, unknown>>
}

interface StoredRow {
  readonly row: MemorySeriesRow
  readonly order: number
}

/**
 * `StoreQueries` over rows held in memory: the store's test double, shipped for tests and for
 * embedders that bring their own data. Rows go in with `addSeries`, `addPoints` and
 * `addFamilies`, in any order; the reads sort them as the store does. As in the store's
 * series table, a series added again reads as its latest row.
 */
export class MemoryStoreQueries implements StoreQueries {
  /** Every series row in the order added; a metric's rows keep their order. */
  readonly #series = new Map<string, StoredRow[]>()
  readonly #points = new Map<string, MemoryPointRow[]>()
  readonly #families = new Map<string, FamilyMetadata>()
  #added = 0

  /** Adds rows to the series table. */
  addSeries(rows: readonly MemorySeriesRow[]): void {
    for (const row of rows) {
      const list = this.#series.get(row.metric) ?? []
      list.push({ row, order: this.#added++ })
      this.#series.set(row.metric, list)
    }
  }

  /** Adds rows to a point table (`samples`, `histograms`, `exp_histograms` or `summaries`). */
  addPoints(table: string, rows: readonly MemoryPointRow[]): void {
    const list = this.#points.get(table) ?? []
    list.push(...rows)
    this.#points.set(table, list)
  }

  /** Records what senders stated of metric families; the latest of each family is kept. */
  addFamilies(families: readonly FamilyMetadata[]): void {
    for (const f of families) this.#families.set(f.family, f)
  }

  async metrics(): Promise<MetricSummary[]> {
    return this.#metricNames().map((name) => {
      const rows = this.#series.get(name)!
      const { type, unit, description } = rows[0]!.row
      return {
        name,
        type,
        unit,
        description,
        services: [...new Set(rows.map((r) => r.row.service))].sort(byCodeUnits),
        series: new Set(rows.map((r) => r.row.id)).size,
      }
    })
  }

  async metricTypes(): Promise<[string, MetricType][]> {
    return this.#metricNames().map((name) => [name, this.#series.get(name)!.reduce(firstSeen).row.type])
  }

  async metadata(metric: string | undefined, limit: number): Promise<Record<string, MetricMetadata[]>> {
    const metrics = this.#metricNames().map((name): MetricDescription => this.#series.get(name)![0]!.row)
    const stated = [...this.#families.values()].sort((a, b) => byCodeUnits(a.family, b.family))
    return familyMetadata(metrics, stated, metric, limit)
  }

  async hasService(service: string): Promise<boolean> {
    for (const rows of this.#series.values()) if (rows.some((r) => r.row.service === service)) return true
    return false
  }

  async series(metric: string, service?: string): Promise<SeriesRow[]> {
    // The latest row of each series wins, as FINAL reads a ReplacingMergeTree without a version.
    const latest = new Map<string, MemorySeriesRow>()
    for (const { row } of this.#series.get(metric) ?? []) latest.set(row.id, row)
    return [...latest.values()]
      .filter((r) => service === undefined || r.service === service)
      .sort((a, b) => byId(a.id, b.id))
      .map(({ id, type, temporality, monotonic, unit, description, service, resource, attributes }) => ({
        id,
        type,
        temporality,
        monotonic,
        unit,
        description,
        service,
        resource,
        attributes,
      }))
  }

  async points(
    table: string,
    columns: readonly string[],
    ids: readonly string[],
    from: number,
    to: number,
    limit: number,
  ): Promise<PointRows> {
    const wanted = new Set(ids)
    const rows = (this.#points.get(table) ?? [])
      .filter((p) => wanted.has(p.seriesId) && p.ts >= from && p.ts < to && ((p.flags ?? 0) & 1) === 0)
      .sort((a, b) => byId(a.seriesId, b.seriesId) || a.ts - b.ts)
      .slice(0, limit + 1)
    const out: PointRows = { seriesId: [], ts: [], start: [], columns: {} }
    for (const c of columns) out.columns[c] = rows.map((p) => p.columns[c])
    for (const p of rows) {
      out.seriesId.push(p.seriesId)
      out.ts.push(p.ts)
      out.start.push(p.start ?? 0)
    }
    return out
  }

  /** Every metric's name, sorted as the store sorts strings (by bytes; code units agree for ASCII). */
  #metricNames(): string[] {
    return [...this.#series.keys()].sort(byCodeUnits)
  }
}

function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/** Series ids compared as the UInt64 numbers they are. */
function byId(a: string, b: string): number {
  const x = BigInt(a),
    y = BigInt(b)
  return x < y ? -1 : x > y ? 1 : 0
}

/** Of two rows, the one seen first: by `firstSeen` when both have it, else the one added first. */
function firstSeen(a: StoredRow, b: StoredRow): StoredRow {
  const x = a.row.firstSeen,
    y = b.row.firstSeen
  if (x !== undefined && y !== undefined && x !== y) return x < y ? a : b
  return a.order <= b.order ? a : b
}
