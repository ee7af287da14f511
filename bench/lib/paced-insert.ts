/**
 * One run of bench/merge-settings.ts or bench/commit-size.ts, in a process of its own so its
 * CPU is its own: TSV inserts into a samples-shaped table at the pace a loaded collector
 * commits, then a settle; prints CPU microseconds per row (insert, parts and background merges).
 * Usage: tsx bench/lib/paced-insert.ts <dir> [table settings] [rows per insert] [rows per second] [total rows]
 */
import { loadSettings } from '../../collector/src/settings.ts'
import { connectStore } from '../../collector/src/store/connect.ts'

const [dir, settings = '', rowsArg = '8000', rateArg = '133333', totalArg = '1600000'] = process.argv.slice(2)
const ROWS = Number(rowsArg),
  INSERTS = Math.round(Number(totalArg) / ROWS),
  PACE_MS = (1000 * ROWS) / Number(rateArg),
  SERIES = 10_000
const { client, insertTsv } = await connectStore(loadSettings({ dataDir: dir! }, {}))
await client.command({
  query: `CREATE TABLE s (series_id UInt64 CODEC(Delta, ZSTD(1)), ts Int64 CODEC(DoubleDelta, ZSTD(1)), start Int64 CODEC(DoubleDelta, ZSTD(1)),
  flags UInt8 CODEC(ZSTD(1)), value Float64 CODEC(Gorilla, ZSTD(1))) ENGINE = MergeTree ORDER BY (series_id, ts)${settings ? ` SETTINGS ${settings}` : ''}`,
})
const base = Math.floor((Date.now() - 86_400_000) / 10_000) * 10_000
const payloads = Array.from({ length: INSERTS }, (_, k) => {
  let text = ''
  for (let i = 0; i < ROWS; i++) {
    const r = k * ROWS + i,
      s = r % SERIES,
      step = Math.floor(r / SERIES)
    text += `${(1234n << 48n) | BigInt(s * 7919)}\t${base + step * 10_000}\t0\t0\t${100 + ((s * 7 + step * 13) % 50)}\n`
  }
  return Buffer.from(text)
})
const cpu0 = process.cpuUsage()
const t0 = performance.now()
for (let k = 0; k < INSERTS; k++) {
  const wait = t0 + k * PACE_MS - performance.now()
  if (wait > 0) await new Promise((r) => setTimeout(r, wait))
  await insertTsv('s', ['series_id', 'ts', 'start', 'flags', 'value'], payloads[k]!)
}
await new Promise((r) => setTimeout(r, 2000))
const cpu = process.cpuUsage(cpu0)
const rs = await client.query({
  query: `SELECT count() AS parts FROM system.parts WHERE active AND table = 's'`,
  format: 'JSONEachRow',
})
const parts = (await rs.json<{ parts: string }>())[0]?.parts
process.stdout.write(
  JSON.stringify({ usPerRow: (cpu.user + cpu.system) / (ROWS * INSERTS), parts: Number(parts) }) + '\n',
)
await client.close()
