import { loadSettings } from '../../collector/src/settings.ts'
import { connectStore } from '../../collector/src/store/connect.ts'

export interface StoreFigures {
  storedPoints: number
  bytesPerPoint: number
  columns: { name: string; bytesPerPoint: number }[]
  ceilingRows: number
  ceilingPointsPerSecond: number
  ceilingPointsPerCpuSecond: number
}

/**
 * Opens a stopped Governor's embedded store in this process: counts the points, merges the
 * parts (OPTIMIZE … FINAL) to measure bytes per point on disk, then times the engine's own
 * INSERT … SELECT of as many generated rows into a copy of the table, the ceiling any insert
 * format could approach.
 */
export async function storeFigures(dataDir: string, rowsForCeiling: number): Promise<StoreFigures> {
  const { client } = await connectStore(loadSettings({ dataDir }, {}))
  const one = async <T>(query: string): Promise<T> => {
    const rs = await client.query({ query, format: 'JSONEachRow' })
    return (await rs.json<T>())[0]!
  }
  const { n } = await one<{ n: string }>('SELECT count() AS n FROM governor.samples')
  await client.command({ query: 'OPTIMIZE TABLE governor.samples FINAL' })
  const { bytes } = await one<{ bytes: string }>(
    `SELECT sum(bytes_on_disk) AS bytes FROM system.parts WHERE active AND database = 'governor' AND table = 'samples'`,
  )
  const rs = await client.query({
    query: `SELECT name, data_compressed_bytes AS b FROM system.columns WHERE database = 'governor' AND table = 'samples' AND data_compressed_bytes > 0 ORDER BY b DESC`,
    format: 'JSONEachRow',
  })
  const stored = Number(n)
  const columns = (await rs.json<{ name: string; b: string }>()).map((c) => ({
    name: c.name,
    bytesPerPoint: Number(c.b) / stored,
  }))

  const rows = Math.max(1_000_000, rowsForCeiling)
  await client.command({ query: 'CREATE TABLE governor.ceiling AS governor.samples' })
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  await client.command({
    query: `INSERT INTO governor.ceiling (series_id, ts, start, flags, value)
SELECT cityHash64(number % 10000), 1700000000000 + intDiv(number, 10000) * 10000, 0, 0, toFloat64(100 + (number * 7) % 50)
FROM numbers(${rows})`,
  })
  const seconds = (performance.now() - t0) / 1000
  const cpu = process.cpuUsage(cpu0)
  await client.close()
  return {
    storedPoints: stored,
    bytesPerPoint: Number(bytes) / stored,
    columns,
    ceilingRows: rows,
    ceilingPointsPerSecond: rows / seconds,
    ceilingPointsPerCpuSecond: rows / ((cpu.user + cpu.system) / 1e6),
  }
}
