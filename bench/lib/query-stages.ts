/**
 * Where the time of one PromQL query goes in Governor, stage by stage, on a stopped Governor's
 * data directory opened in this process (one chDB per process):
 *
 *   tsx bench/lib/query-stages.ts <dataDir> <query> <startMs> <endMs> <stepMs> [runs] [profile.cpuprofile]
 *
 * (step 0: an instant query at endMs). The store is wrapped so that each round trip is timed
 * (series selection, the count() limit check, the Native point fetch), the points are
 * decoded again outside the querier to time the decode alone, and the querier's select is
 * timed as a whole: the engine's own evaluation is the rest. Each stage's CPU time (this
 * process, chDB's threads included) is counted beside its wall time. Selections are remembered
 * as a server that alone writes its store remembers them. Then the trip cost of a `SELECT 1`
 * and, optionally, a CPU profile of one more run (the main thread; chDB works on its own).
 * Prints one JSON line of medians in ms.
 */
import { writeFileSync } from 'node:fs'
import { Session } from 'node:inspector/promises'
import { loadSettings } from '../../collector/src/settings.ts'
import { connectStore } from '../../collector/src/store/connect.ts'
import { ClickHouseQuerier, type QuerierStore } from '../../collector/src/store/clickhouse-querier.ts'
import { decodePointRows, type PointRowsShape } from '../../collector/src/store/point-rows.ts'
import { PromqlEngine } from '../../collector/src/promql/engine.ts'
import type { Querier } from '../../collector/src/promql/querier.ts'

const [dataDir, query, startArg, endArg, stepArg, runsArg, profileOut] = process.argv.slice(2)
if (dataDir === undefined || query === undefined || endArg === undefined)
  throw new Error('usage: query-stages.ts <dataDir> <query> <startMs> <endMs> <stepMs> [runs] [profile]')
const start = Number(startArg),
  end = Number(endArg),
  step = Number(stepArg ?? 0),
  runs = Number(runsArg ?? 5)

const conn = await connectStore(loadSettings({ dataDir }, {}))
let stage: Record<string, number> = {}
let lastBytes: Uint8Array | Uint8Array[] = new Uint8Array(0)
let lastShape: PointRowsShape = { keyed: false, start: 0, end: 0 }
/** The shape a point fetch's SQL asked for (pointRowsSql), to decode its bytes again alone. */
const shapeOf = (sql: string): PointRowsShape => {
  const keyed = /AS (lo|n), part, key,/.test(sql)
  const base = /toUInt32\(ts - (-?\d+)\)/.exec(sql)?.[1]
  const list = /transform\(series_id, \[([\d,]*)\]/.exec(sql)?.[1]
  const ids = list === undefined ? {} : { ids: list.split(',').map((x) => BigInt(x)) }
  const unordered = !/\bORDER BY\b/.test(sql)
  return base === undefined
    ? { keyed, start: 0, end: Number.MAX_SAFE_INTEGER, unordered, ...ids }
    : { keyed, start: Number(base), end: Number(base), unordered, ...ids }
}
const add = (name: string, ms: number): void => {
  stage[name] = (stage[name] ?? 0) + ms
}
// CPU time is counted beside wall time: on a shared machine the wall time of a stage moves with
// the load of others, its CPU time (this process, the engine's threads included) much less.
const cpuMillis = (): number => {
  const { user, system } = process.cpuUsage()
  return (user + system) / 1000
}
const timed = async <T>(name: string, f: () => Promise<T>): Promise<T> => {
  const t0 = performance.now()
  const c0 = cpuMillis()
  try {
    return await f()
  } finally {
    add(name, performance.now() - t0)
    add(`${name} CPU`, cpuMillis() - c0)
  }
}

// The client's query() is timed by what it asks: series table, count, or anything else.
const client = new Proxy(conn.client, {
  get(target, prop, receiver) {
    const v = Reflect.get(target, prop, receiver) as unknown
    if (prop !== 'query' || typeof v !== 'function') return v
    return async (params: { query: string }) => {
      const name = /FROM \w+\.series\b/.test(params.query)
        ? 'series selection SQL'
        : params.query.includes('count()')
          ? 'count() limit check'
          : 'other SQL'
      const t0 = performance.now()
      const rs = await (v as (p: unknown) => Promise<{ json: () => Promise<unknown> }>).call(target, params)
      const body = await rs.json()
      add(name, performance.now() - t0)
      return { json: async () => body }
    }
  },
})
// As in a server that alone writes its store: a selection is read once, then remembered.
const store: QuerierStore = {
  client,
  db: 'governor',
  seriesGeneration: 0,
  readBinary: (q, format, signal) =>
    timed('point fetch (Native)', async () => {
      lastBytes = await conn.readBinary(q, format, signal)
      lastShape = shapeOf(q)
      add('point bytes', lastBytes.byteLength)
      return lastBytes
    }),
  readBinaryChunks: (q, format, signal) =>
    timed('point fetch (Native)', async () => {
      // The chunks as they came (no copy inside the timed fetch); decoded again as they are.
      const chunks = await conn.readBinaryChunks(q, format, signal)
      lastBytes = chunks
      lastShape = shapeOf(q)
      add(
        'point bytes',
        chunks.reduce((n, c) => n + c.byteLength, 0),
      )
      return chunks
    }),
}
const inner = new ClickHouseQuerier(store)
const querier: Querier = {
  select: (m, h, l, s) => timed('select (all store stages)', () => inner.select(m, h, l, s)),
  series: (...a) => inner.series(...a),
  labelNames: (...a) => inner.labelNames(...a),
  labelValues: (...a) => inner.labelValues(...a),
}
const engine = new PromqlEngine(querier, { maxSamples: 1e9, maxSeries: 1e6, timeoutMillis: 600_000 })
const run = async (): Promise<unknown> =>
  step > 0 ? engine.rangeQuery(query, start, end, step) : engine.instantQuery(query, end)

const results: Record<string, number>[] = []
for (let r = 0; r <= runs; r++) {
  stage = {}
  const t0 = performance.now()
  const c0 = cpuMillis()
  const data = await run()
  const total = performance.now() - t0
  const totalCpu = cpuMillis() - c0
  const t1 = performance.now()
  const json = JSON.stringify(data)
  const serialize = performance.now() - t1
  const t2 = performance.now()
  const decoded = decodePointRows(lastBytes, lastShape)
  const decode = performance.now() - t2
  if (r === 0) continue // warm-up
  results.push({
    ...stage,
    total,
    'total CPU': totalCpu,
    'decode (again, alone)': decode,
    'engine evaluation (total - select)': total - (stage['select (all store stages)'] ?? 0),
    'JSON.stringify of the answer': serialize,
    'answer bytes': json.length,
    series: decoded.length,
    points: decoded.reduce((n, d) => n + d.ts.length, 0),
  })
}
const trip: number[] = []
for (let i = 0; i < 10; i++) {
  const t0 = performance.now()
  await (await conn.client.query({ query: 'SELECT 1', format: 'JSONCompactEachRow' })).json()
  trip.push(performance.now() - t0)
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const out: Record<string, number> = {}
for (const k of Object.keys(results[0]!)) out[k] = median(results.map((x) => x[k] ?? 0))
out['SELECT 1 round trip'] = median(trip)

if (profileOut !== undefined) {
  const session = new Session()
  session.connect()
  await session.post('Profiler.enable')
  await session.post('Profiler.start')
  await run()
  const { profile } = await session.post('Profiler.stop')
  writeFileSync(profileOut, JSON.stringify(profile))
  session.disconnect()
}
await conn.close()
console.log(JSON.stringify(out))
