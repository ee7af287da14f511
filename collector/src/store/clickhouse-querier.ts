import type { ClickHouseClient } from '@clickhouse/client'
import { PromqlError, TOO_MANY_SAMPLES } from '../promql/errors.ts'
import type { LabelMatcher, Labels, Querier, RawSeries, SelectHints, SelectLimits } from '../promql/querier.ts'
import { CHANGE_METRIC, readChangeSeries } from './change-series.ts'
import { compileMatchers, matchesAll } from './label-matchers.ts'
import {
  decodePointRows,
  lastPerStepSql,
  lastSamplePerStepSql,
  pointRowsSql,
  samplesAnyOrderSql,
  type PointRowsShape,
} from './point-rows.ts'
import { formatKey, PART_CODE, type ExposedFamily, type Part } from './prometheus-names.ts'
import { keyedLabels, keyMatches, selectFamilies, type Selection } from './series-selection.ts'

/** What the querier needs of the Store: a client for small metadata reads and binary point reads. */
export interface QuerierStore {
  readonly client: ClickHouseClient
  readonly db: string
  readBinary(query: string, format: string, signal?: AbortSignal): Promise<Uint8Array>
  /** The same in the pieces the engine streams: cheaper for a large read, a little dearer for a small one. */
  readBinaryChunks?(query: string, format: string, signal?: AbortSignal): Promise<Uint8Array[]>
  /** Inserts into the series table so far, where no one else writes it (see Store.seriesGeneration): selections are remembered while it stands. */
  readonly seriesGeneration?: number | undefined
}

/** Selections remembered (a dashboard asks the same selectors at every refresh), and the largest remembered. */
const SELECTIONS_KEPT = 256
const LARGEST_KEPT = 10_000

/**
 * A read that skips the count may make the engine read this many rows per allowed sample (the
 * rows of other series in the granules it opens), plus a fixed slack, before it is stopped.
 */
const READ_ROWS_PER_SAMPLE = 4
const READ_ROWS_SLACK = 1_000_000

/** Points a read is expected to hold past which it is streamed, and the interval assumed between points. */
const STREAM_POINTS = 100_000
const ASSUMED_INTERVAL_MILLIS = 15_000

/** How many stored rows the series selection may read per allowed series (names map in JS). */
const ROWS_PER_SERIES = 10

/**
 * PromQL's storage on ClickHouse. A select is planned before anything heavy is read:
 *
 *   1. series table → matching stored series and their exposed families (series-selection.ts)
 *   2. series limit checked on the families
 *   3. one count over the point tables (ids and times only) → sample limit checked; a read
 *      too small to pass the limit even at a sample a second skips it (counted as decoded),
 *      and so does a read of plain samples whose granules, estimated from the index, hold no
 *      more rows than the limit allows
 *   4. the points, one Native result sorted by series and time, its columns copied whole
 *      into typed arrays (point-rows.ts); plain samples straight from their table, its parts
 *      read side by side and put in order by the decoder, a series as its position in the
 *      read's id list; histogram buckets are made cumulative by ClickHouse; for an instant
 *      selector at steps, only the last point of each step's interval; a large read streamed
 *      in the engine's blocks
 *
 * Points never cross as JSON. `governor_change` is served from the change log. What a read
 * costs is mostly the bytes that leave the engine (chDB hands over some 50–100 MB/s on this
 * 2-core machine, far less than it reads), hence the id positions and the thinning.
 *
 * No `rollup`, measured again on 24 h of 1,000 counters at 15 s (rate[5m], 1 m step):
 * `timeSeriesRateToGrid` computes the 1,441,000 values in 0.6–1.2 s (no bytes out) where the
 * raw points cost about as much to cross, but it is Prometheus 3's rate, not 2.42's: the
 * zero-point clamp comes after the 1.1 × interval threshold (2.42: before), durations are
 * milliseconds (2.42: seconds, so other roundings), resets are summed apart from the
 * difference; `timeSeriesResampleToGridWithStaleness` (exact, it picks samples) costs as much
 * per call and a rate needs six of them; a GROUP BY per series and minute (first, last, count
 * per bucket) took 2 s. Not exactly Prometheus' answer or not faster, so not used.
 */
export class ClickHouseQuerier implements Querier {
  readonly #store: QuerierStore
  readonly #selections = new Map<string, { generation: number; selection: Selection }>()

  constructor(store: QuerierStore) {
    this.#store = store
  }

  async select(
    matchers: readonly LabelMatcher[],
    hints: SelectHints,
    limits: SelectLimits,
    signal?: AbortSignal,
  ): Promise<RawSeries[]> {
    const { client, db } = this.#store
    const start = Math.floor(hints.start)
    const end = Math.floor(hints.end)
    const tooManySeries = (): PromqlError =>
      new PromqlError(
        'execution',
        `the selector ${describe(matchers)} matches more than ${limits.maxSeries} series (GOVERNOR_PROMQL_MAX_SERIES)`,
      )
    const sel = await this.#selection(matchers, limits.maxSeries * ROWS_PER_SERIES, tooManySeries, signal)
    if (sel.families.length > limits.maxSeries) throw tooManySeries()
    const changes = changeSeriesWanted(matchers)
      ? await readChangeSeries(client, db, start, end, limits.maxSamples + 1, signal)
      : []
    const compiled = compileMatchers(matchers)
    const selectedChanges = changes.filter((s) => matchesAll(s.labels, compiled))
    if (sel.families.length === 0) return selectedChanges

    const plan = planTables(db, sel.families, start, end)
    const changeSamples = selectedChanges.reduce((n, s) => n + s.ts.length, 0)
    const tooManySamples = (n: number | string): PromqlError =>
      new PromqlError('execution', `${TOO_MANY_SAMPLES} (${n} > ${limits.maxSamples}, GOVERNOR_PROMQL_MAX_SAMPLES)`)
    const shape = {
      keyed: plan.some((p) => p.keyed),
      start,
      end,
      ids: [...new Set(sel.families.map((f) => f.series.id))],
    }
    // The samples are counted before they are read, unless even one a second per series would
    // stay under the limit (a dashboard's small read saves a round trip): then the points read
    // are counted as they are decoded, and a cap on the rows the engine may read guards memory.
    const small =
      !shape.keyed && sel.families.length * Math.max(1, (end - start) / 1000) + changeSamples <= limits.maxSamples
    if (!small && !(await this.#surelyWithin(plan, limits.maxSamples - changeSamples, signal))) {
      const samples = (await this.#count(plan, signal)) + changeSamples
      if (samples > limits.maxSamples) throw tooManySamples(samples)
    }

    // An instant selector at steps reads only the latest point before each step (lastPerStepSql).
    const thinned =
      hints.range === undefined && hints.step > 0 && Number.isInteger(hints.end) && Number.isInteger(hints.step)
    const only = plan.length === 1 ? plan[0]!.direct : undefined
    let sql: string
    let decodeShape: PointRowsShape = shape
    if (only !== undefined) {
      // Plain samples alone: read straight from the table, its parts side by side, put in
      // order by the decoder (point-rows.ts).
      if (thinned) sql = lastSamplePerStepSql(only.table, only.where, shape, hints.end, hints.step)
      else {
        sql = samplesAnyOrderSql(only.table, only.where, shape)
        decodeShape = { ...shape, unordered: true }
      }
    } else {
      const rows = plan.map((p) => p.rows).join('\nUNION ALL\n')
      sql = pointRowsSql(thinned ? lastPerStepSql(rows, hints.end, hints.step) : rows, shape)
    }
    const guard = small
      ? ` SETTINGS max_rows_to_read = ${READ_ROWS_PER_SAMPLE * limits.maxSamples + READ_ROWS_SLACK}, read_overflow_mode = 'throw'`
      : ''
    // A read of many points streams (twice as fast past tens of MB); a small one is read whole.
    const points = thinned
      ? sel.families.length * ((end - start) / hints.step + 1)
      : sel.families.length * ((end - start) / ASSUMED_INTERVAL_MILLIS + 1)
    const read =
      points >= STREAM_POINTS && this.#store.readBinaryChunks !== undefined
        ? this.#store.readBinaryChunks.bind(this.#store)
        : this.#store.readBinary.bind(this.#store)
    let bytes: Uint8Array | Uint8Array[]
    try {
      bytes = await read(`${sql}${guard}`, 'Native', signal)
    } catch (err) {
      if (small && /TOO_MANY_ROWS|Code: 158\b/.test(String((err as Error).message)))
        throw tooManySamples(
          `more: the engine read past ${READ_ROWS_PER_SAMPLE * limits.maxSamples + READ_ROWS_SLACK} rows`,
        )
      throw err
    }
    const byId = new Map<string, ExposedFamily>()
    for (const f of sel.families) byId.set(`${f.series.id}:${PART_CODE[f.part]}`, f)
    const out: RawSeries[] = [...selectedChanges]
    let decoded = changeSamples
    for (const run of decodePointRows(bytes, decodeShape)) {
      decoded += run.ts.length
      if (decoded > limits.maxSamples) throw tooManySamples(decoded)
      const f = byId.get(`${run.id}:${run.part}`)
      if (f === undefined) continue
      const key = f.keyLabel === undefined ? undefined : formatKey(run.key)
      if (!keyMatches(f, key, sel.keyMatchers)) continue
      out.push({
        labels: keyedLabels(f, key),
        ts: run.ts,
        values: run.values,
        ...(run.stale === undefined ? {} : { stale: run.stale }),
      })
      if (out.length > limits.maxSeries) throw tooManySeries()
    }
    return out
  }

  /**
   * The families `matchers` select, remembered while no series has been written since (the
   * store's seriesGeneration; never on a store others write to): a dashboard's selectors
   * cost a round trip the first time only. A selection read while a series was being written
   * is remembered under the count from before it, so it is read again once that write ends.
   */
  async #selection(
    matchers: readonly LabelMatcher[],
    maxRows: number,
    tooMany: () => Error,
    signal?: AbortSignal,
  ): Promise<Selection> {
    const generation = this.#store.seriesGeneration
    const { client, db } = this.#store
    if (generation === undefined) return selectFamilies(client, db, matchers, { maxRows, tooMany, signal })
    const key = JSON.stringify([maxRows, matchers.map((m) => [m.name, m.type, m.value])])
    const kept = this.#selections.get(key)
    if (kept !== undefined && kept.generation === generation) {
      this.#selections.delete(key) // most recently used last
      this.#selections.set(key, kept)
      return kept.selection
    }
    const selection = await selectFamilies(client, db, matchers, { maxRows, tooMany, signal })
    this.#selections.delete(key)
    if (selection.families.length <= LARGEST_KEPT) {
      this.#selections.set(key, { generation, selection })
      if (this.#selections.size > SELECTIONS_KEPT) this.#selections.delete(this.#selections.keys().next().value!)
    }
    return selection
  }

  async series(
    matcherSets: readonly (readonly LabelMatcher[])[],
    start: number,
    end: number,
    limit: number,
  ): Promise<Labels[]> {
    const seen = new Map<string, Labels>()
    for (const matchers of matcherSets.length === 0 ? [[]] : matcherSets) {
      for (const labels of await this.#labelSets(matchers, start, end, limit)) {
        seen.set(JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1))), labels)
        if (bounded(limit) && seen.size >= limit) return [...seen.values()]
      }
    }
    return [...seen.values()]
  }

  async labelNames(
    matcherSets: readonly (readonly LabelMatcher[])[],
    start: number,
    end: number,
    limit: number,
  ): Promise<string[]> {
    const names = new Set<string>()
    for (const labels of await this.series(matcherSets, start, end, 0))
      for (const k of Object.keys(labels)) names.add(k)
    const sorted = [...names].sort()
    return bounded(limit) ? sorted.slice(0, limit) : sorted
  }

  async labelValues(
    name: string,
    matcherSets: readonly (readonly LabelMatcher[])[],
    start: number,
    end: number,
    limit: number,
  ): Promise<string[]> {
    const values = new Set<string>()
    for (const labels of await this.series(matcherSets, start, end, 0)) {
      const v = labels[name]
      if (v !== undefined && v !== '') values.add(v)
    }
    const sorted = [...values].sort()
    return bounded(limit) ? sorted.slice(0, limit) : sorted
  }

  /** Label sets of the series matching `matchers` with points in `[start, end]`, `le`/`quantile` keys read from the rows. */
  async #labelSets(matchers: readonly LabelMatcher[], start: number, end: number, limit: number): Promise<Labels[]> {
    const { client, db } = this.#store
    const maxRows = bounded(limit) ? limit * ROWS_PER_SERIES : 1_000_000
    const sel = await selectFamilies(client, db, matchers, {
      maxRows,
      activeIn: { start, end },
      tooMany: () =>
        new PromqlError('execution', `more than ${maxRows} series match ${describe(matchers)}; narrow the selector`),
    })
    const out: Labels[] = []
    const keys = await this.#keys(sel, start, end)
    for (const f of sel.families) {
      if (f.keyLabel === undefined) {
        if (keyMatches(f, undefined, sel.keyMatchers)) out.push(f.labels)
        continue
      }
      for (const key of keys.get(`${f.series.id}:${f.part}`) ?? [])
        if (keyMatches(f, key, sel.keyMatchers)) out.push(keyedLabels(f, key))
    }
    if (changeSeriesWanted(matchers)) {
      const test = compileMatchers(matchers)
      for (const s of await readChangeSeries(client, db, start, end, 100_000))
        if (matchesAll(s.labels, test)) out.push(s.labels)
    }
    return out
  }

  /** The `le` and `quantile` values of the keyed families, from their rows in `[start, end]`. */
  async #keys(sel: Selection, start: number, end: number): Promise<Map<string, string[]>> {
    const keys = new Map<string, string[]>()
    const buckets = sel.families.filter((f) => f.part === 'bucket').map((f) => f.series.id)
    const quantiles = sel.families.filter((f) => f.part === 'quantile').map((f) => f.series.id)
    const { client, db } = this.#store
    const read = async (part: Part, table: string, keyArray: string, ids: bigint[]): Promise<void> => {
      if (ids.length === 0) return
      const rs = await client.query({
        query: `SELECT DISTINCT toString(series_id), toString(k) FROM ${db}.${table} ARRAY JOIN ${keyArray} AS k WHERE series_id IN (${ids.join(',')}) AND ts >= ${Math.floor(start)} AND ts <= ${Math.floor(end)} ORDER BY k`,
        format: 'JSONCompactEachRow',
      })
      for (const [id, k] of await rs.json<[string, string]>()) {
        const list = keys.get(`${id}:${part}`) ?? []
        list.push(formatKey(k === 'inf' ? Infinity : Number(k)))
        keys.set(`${id}:${part}`, list)
      }
    }
    await read('bucket', 'histograms', 'arrayPushBack(bounds, inf)', buckets)
    await read('quantile', 'summaries', 'quantiles', quantiles)
    return keys
  }

  /**
   * Whether a read of plain samples stays within `bound` by the engine's own estimate: the rows
   * of the granules its primary key selects, read from the index alone. Those granules hold
   * every row the read can return, so an estimate within the bound proves the exact count is
   * too, and the count (a scan of every id and time: 1,000 series over 24 h, 89 against 14 ms
   * of the engine's CPU) is skipped; past it, the exact count decides as before. Any other
   * answer (no row, another table, as a Distributed table may give) proves nothing.
   */
  async #surelyWithin(plan: TablePlan[], bound: number, signal?: AbortSignal): Promise<boolean> {
    const direct = plan.length === 1 ? plan[0]!.direct : undefined
    if (direct === undefined) return false
    const rs = await this.#store.client.query({
      query: `EXPLAIN ESTIMATE SELECT 1 FROM ${direct.table} WHERE ${direct.where}`,
      format: 'JSONCompactEachRow',
      ...(signal === undefined ? {} : { abort_signal: signal }),
    })
    const rows = await rs.json<[string, string, string | number, string | number, string | number]>()
    if (rows.length === 0 || rows.some(([database, table]) => `${database}.${table}` !== direct.table)) return false
    return rows.reduce((n, row) => n + Number(row[3]), 0) <= bound
  }

  /** Exact count of the samples the plan reads, from ids and times only. */
  async #count(plan: TablePlan[], signal?: AbortSignal): Promise<number> {
    const rs = await this.#store.client.query({
      query: `SELECT ${plan.map((p) => `(${p.count})`).join(' + ')} AS n`,
      format: 'JSONCompactEachRow',
      ...(signal === undefined ? {} : { abort_signal: signal }),
    })
    const rows = await rs.json<[string | number]>()
    return Number(rows[0]?.[0] ?? 0)
  }
}

/**
 * The SQL of one table's share of a read: its point rows, and how many samples they make;
 * for plain samples also the table and condition, to read them without a subquery.
 */
interface TablePlan {
  rows: string
  count: string
  keyed: boolean
  direct?: { table: string; where: string }
}

function planTables(db: string, families: readonly ExposedFamily[], start: number, end: number): TablePlan[] {
  const ids = (part: Part, types: readonly string[]): bigint[] =>
    families.filter((f) => f.part === part && types.includes(f.series.type)).map((f) => f.series.id)
  const inRange = `ts >= ${start} AND ts <= ${end}`
  const list = (xs: bigint[]): string => xs.join(',')
  const plans: TablePlan[] = []
  const value = ids('value', ['gauge', 'sum'])
  if (value.length > 0) {
    const where = `series_id IN (${list(value)}) AND ${inRange}`
    plans.push({
      rows: `SELECT series_id, toUInt8(0) AS part, toFloat64(0) AS key, ts, value, flags FROM ${db}.samples WHERE ${where}`,
      count: `SELECT count() FROM ${db}.samples WHERE ${where}`,
      keyed: false,
      direct: { table: `${db}.samples`, where },
    })
  }
  // Histograms, exponential histograms and summaries share sum and count columns.
  const shaped: [string, readonly string[], Part | undefined, string][] = [
    // Bucket k counts the observations up to bound k: the cumulative sum of the counts, +Inf last.
    [
      'histograms',
      ['histogram'],
      'bucket',
      'arrayZip(arrayPushBack(bounds, inf), arrayMap(c -> toFloat64(c), arrayCumSum(counts)))',
    ],
    ['exp_histograms', ['exponential_histogram'], undefined, ''],
    ['summaries', ['summary'], 'quantile', 'arrayZip(quantiles, values)'],
  ]
  for (const [table, types, keyed, zip] of shaped) {
    const keyedIds = keyed === undefined ? [] : ids(keyed, types)
    const sums = ids('sum', types)
    const counts = ids('count', types)
    const all = [...new Set([...keyedIds, ...sums, ...counts])]
    if (all.length === 0) continue
    const rows: string[] = []
    if (keyed !== undefined && keyedIds.length > 0) {
      const guard =
        table === 'histograms' ? ' AND length(counts) = length(bounds) + 1' : ' AND length(quantiles) = length(values)'
      rows.push(
        `SELECT series_id, toUInt8(${PART_CODE[keyed]}) AS part, kv.1 AS key, ts, kv.2 AS value, flags FROM ${db}.${table} ARRAY JOIN ${zip} AS kv WHERE series_id IN (${list(keyedIds)}) AND ${inRange}${guard}`,
      )
    }
    if (sums.length > 0)
      rows.push(
        `SELECT series_id, toUInt8(${PART_CODE.sum}) AS part, toFloat64(0) AS key, ts, sum AS value, flags FROM ${db}.${table} WHERE series_id IN (${list(sums)}) AND ${inRange}`,
      )
    if (counts.length > 0)
      rows.push(
        `SELECT series_id, toUInt8(${PART_CODE.count}) AS part, toFloat64(0) AS key, ts, toFloat64(count) AS value, flags FROM ${db}.${table} WHERE series_id IN (${list(counts)}) AND ${inRange}`,
      )
    const keyedCount =
      keyed === undefined || keyedIds.length === 0
        ? '0'
        : `if(series_id IN (${list(keyedIds)}), length(${keyed === 'bucket' ? 'counts' : 'quantiles'}), 0)`
    const perRow = `${keyedCount} + if(series_id IN (${list(sums.length > 0 ? sums : [0n])}), 1, 0) + if(series_id IN (${list(counts.length > 0 ? counts : [0n])}), 1, 0)`
    plans.push({
      rows: rows.join('\nUNION ALL\n'),
      count: `SELECT sum(${perRow}) FROM ${db}.${table} WHERE series_id IN (${list(all)}) AND ${inRange}`,
      keyed: true,
    })
  }
  return plans
}

/** Whether a listing limit limits: 0 and Infinity mean no limit. */
function bounded(limit: number): boolean {
  return limit > 0 && Number.isFinite(limit)
}

/** Whether the matchers could select the change-log series (they accept its name). */
function changeSeriesWanted(matchers: readonly LabelMatcher[]): boolean {
  const names = compileMatchers(matchers.filter((m) => m.name === '__name__'))
  return matchesAll({ __name__: CHANGE_METRIC }, names)
}

/** A selector as PromQL writes it, for error messages. */
function describe(matchers: readonly LabelMatcher[]): string {
  return `{${matchers.map((m) => `${m.name}${m.type}${JSON.stringify(m.value)}`).join(', ')}}`
}
