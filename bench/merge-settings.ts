/**
 * npm run bench:merges — CPU per row of a samples table under the commit pattern of a loaded
 * collector (8,000-row inserts, ~16 a second), with ClickHouse's default merge selector
 * against the `merge_selector_base` Governor sets, alternating runs in one invocation.
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { POINT_TABLE_SETTINGS } from '../collector/src/store/migrations.ts'

const RUNS = 3
const variants = { 'ClickHouse default': '', Governor: POINT_TABLE_SETTINGS }
const results: Record<string, { usPerRow: number; parts: number }[]> = {}
for (let run = 0; run < RUNS; run++) {
  for (const [name, settings] of Object.entries(variants)) {
    const dir = mkdtempSync(join(tmpdir(), 'governor-merges-'))
    const out = execFileSync(process.execPath, ['--import', 'tsx', 'bench/lib/paced-insert.ts', dir, settings], {
      encoding: 'utf8',
    })
    ;(results[name] ??= []).push(JSON.parse(out.trim().split('\n').pop()!))
    rmSync(dir, { recursive: true, force: true })
  }
}
const median = (xs: number[]) => xs.sort((a, b) => a - b)[xs.length >> 1]!
const rows = Object.entries(results).map(
  ([name, r]) => [name, median(r.map((x) => x.usPerRow)), median(r.map((x) => x.parts))] as const,
)
process.stdout.write(`| table settings | CPU µs per row (median of ${RUNS}) | active parts after |
|---|---|---|
${rows.map(([n, us, parts]) => `| ${n} | ${us.toFixed(2)} | ${parts} |`).join('\n')}

Governor's settings: \`${POINT_TABLE_SETTINGS}\`; ${(rows[0]![1] / rows[1]![1]).toFixed(2)}× less CPU per row.
`)
