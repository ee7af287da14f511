/**
 * npm run bench:point-fetch -- --base <git ref> — the PromQL point fetch, old against new: the
 * SQL and decoder of `collector/src/store/point-rows.ts` as they were at --base and as they are
 * in this tree, on the same chDB table (rows sorted by (series_id, ts), partitioned by day, as
 * the point tables are), interleaved round by round; medians of the whole fetch (query, bytes
 * out of the engine, decode into typed arrays) and the bytes that crossed. A version that reads
 * plain samples straight from the table (`samplePointsSql`) is read as the querier reads a
 * large read: series as positions in the id list, the result streamed in the engine's blocks.
 *
 * Options: --base HEAD --series 1000 --hours 24 --interval 15 (seconds) --rounds 7
 *          --out bench/results/point-fetch.md
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { Session } from 'chdb'
import * as current from '../collector/src/store/point-rows.ts'
import { machine } from './lib/proc.ts'

const { values: opt } = parseArgs({
  options: {
    base: { type: 'string', default: 'HEAD' },
    series: { type: 'string', default: '1000' },
    hours: { type: 'string', default: '24' },
    interval: { type: 'string', default: '15' },
    rounds: { type: 'string', default: '7' },
    out: { type: 'string', default: 'bench/results/point-fetch.md' },
  },
})
const SERIES = Number(opt.series),
  INTERVAL_MS = Number(opt.interval) * 1000
const POINTS = Math.floor((Number(opt.hours) * 3_600_000) / INTERVAL_MS)

/** What the fetch needs to know of the read (the shape argument of the versions that take one). */
interface Shape {
  keyed: boolean
  start: number
  end: number
  ids?: readonly bigint[]
}
interface PointRowsModule {
  decodePointRows(bytes: Uint8Array | Uint8Array[], shape: Shape): { ts: Float64Array }[]
  pointRowsSql?: (rows: string, shape: Shape) => string
  pointArraysSql?: (rows: string) => string
  samplePointsSql?: (table: string, where: string, shape: Shape) => string
}
/** One version's read: its format, and the runs and bytes of the read of [start, end]. */
interface Fetch {
  label: string
  format: string
  read: (start: number, end: number) => Promise<{ runs: { ts: Float64Array }[]; bytes: number }>
}
const whole = (sql: string, format: string, decode: (b: Uint8Array) => { ts: Float64Array }[]) => async () => {
  const out = (await session.queryAsync(sql, { format })).bytes()
  return { runs: decode(out), bytes: out.byteLength }
}
const asFetch = (label: string, m: PointRowsModule): Fetch => {
  const rows = (start: number, end: number): string =>
    `SELECT series_id, toUInt8(0) AS part, toFloat64(0) AS key, ts, value, flags FROM samples WHERE ts >= ${start} AND ts <= ${end}`
  if (m.samplePointsSql !== undefined) {
    const sql = m.samplePointsSql
    return {
      label,
      format: 'Native, streamed',
      read: async (start, end) => {
        const shape = { keyed: false, start, end, ids: IDS }
        const chunks: Uint8Array[] = []
        for await (const c of session.queryStream(
          sql('samples', `series_id IN (${IDS.join(',')}) AND ts >= ${start} AND ts <= ${end}`, shape),
          { format: 'Native' },
        ))
          chunks.push(c.raw())
        return { runs: m.decodePointRows(chunks, shape), bytes: chunks.reduce((n, c) => n + c.byteLength, 0) }
      },
    }
  }
  if (m.pointRowsSql !== undefined) {
    const sql = m.pointRowsSql
    return {
      label,
      format: 'Native',
      read: (start, end) =>
        whole(sql(rows(start, end), { keyed: false, start, end }), 'Native', (b) =>
          m.decodePointRows(b, { keyed: false, start, end }),
        )(),
    }
  }
  return {
    label,
    format: 'RowBinary',
    read: (start, end) =>
      whole(m.pointArraysSql!(rows(start, end)), 'RowBinary', (b) =>
        m.decodePointRows(b, { keyed: false, start, end }),
      )(),
  }
}
/** The series ids of the table: a metric's high bits, then the series number. */
const IDS = Array.from({ length: SERIES }, (_, i) => (77n << 40n) | BigInt(i))

const work = mkdtempSync(join(tmpdir(), 'governor-point-fetch-'))
const baseCommit = execFileSync('git', ['rev-parse', '--short', opt.base!], { encoding: 'utf8' }).trim()
const baseFile = join(work, 'point-rows-base.ts')
writeFileSync(
  baseFile,
  execFileSync('git', ['show', `${opt.base}:collector/src/store/point-rows.ts`], { encoding: 'utf8' }),
)
const session = new Session(join(work, 'db'))
const fetches = [
  asFetch(`base (${baseCommit})`, (await import(baseFile)) as PointRowsModule),
  asFetch('this tree', current),
]
try {
  const end = Math.floor(Date.now() / 86_400_000) * 86_400_000
  const start = end - POINTS * INTERVAL_MS
  session.query(
    `CREATE TABLE samples (series_id UInt64, ts Int64, value Float64, flags UInt8) ENGINE = MergeTree PARTITION BY intDiv(ts, 86400000) ORDER BY (series_id, ts)`,
  )
  // A counter per series, a point every interval; the id's high bits shared, as a metric's are.
  session.query(`INSERT INTO samples SELECT bitOr(bitShiftLeft(toUInt64(77), 40), intDiv(number, ${POINTS})) AS series_id,
    ${start} + (number % ${POINTS}) * ${INTERVAL_MS} AS ts, toFloat64(number % ${POINTS}) * 3 + intDiv(number, ${POINTS}) AS value, 0 AS flags
    FROM numbers(${SERIES * POINTS})`)
  session.query('OPTIMIZE TABLE samples FINAL')
  const times = new Map<string, number[]>(fetches.map((f) => [f.label, []]))
  const bytes = new Map<string, number>()
  for (let round = 0; round <= Number(opt.rounds); round++) {
    for (const f of round % 2 === 0 ? fetches : [...fetches].reverse()) {
      const t0 = performance.now()
      const { runs, bytes: out } = await f.read(start, end)
      const ms = performance.now() - t0
      const points = runs.reduce((n, r) => n + r.ts.length, 0)
      if (runs.length !== SERIES || points !== SERIES * POINTS)
        throw new Error(`${f.label}: ${runs.length} series, ${points} points; expected ${SERIES}, ${SERIES * POINTS}`)
      bytes.set(f.label, out)
      if (round > 0) times.get(f.label)!.push(ms) // round 0 warms up
    }
    process.stderr.write(
      `round ${round}: ${fetches.map((f) => `${f.label} ${times.get(f.label)!.at(-1)?.toFixed(0) ?? 'warm-up'} ms`).join(', ')}\n`,
    )
  }
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
  const [base, now] = fetches.map((f) => median(times.get(f.label)!))
  const report = `# PromQL point fetch, old against new

\`npm run bench:point-fetch -- --base ${opt.base} --series ${SERIES} --hours ${opt.hours} --interval ${opt.interval} --rounds ${opt.rounds}\`

${SERIES.toLocaleString('en-US')} series × ${POINTS.toLocaleString('en-US')} points (${(SERIES * POINTS).toLocaleString('en-US')}) in one chDB table sorted by (series_id, ts), read whole:
query, result out of the engine, decoded into typed arrays. Medians of ${opt.rounds} rounds after a warm-up, the two interleaved.
Machine: ${machine()}; load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' / ')} at the end.

| fetch | format | bytes out of the engine | median ms | ms per million points |
|---|---|---|---|---|
${fetches
  .map((f) => {
    const m = median(times.get(f.label)!)
    return `| ${f.label} | ${f.format} | ${(bytes.get(f.label)! / 1e6).toFixed(1)} MB | ${m.toFixed(0)} | ${(m / ((SERIES * POINTS) / 1e6)).toFixed(0)} |`
  })
  .join('\n')}

This tree ÷ base: ${(now! / base!).toFixed(2)}.
`
  process.stdout.write(report)
  writeFileSync(opt.out!, report)
} finally {
  session.cleanup()
  rmSync(work, { recursive: true, force: true })
}
