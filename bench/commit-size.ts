/**
 * npm run bench:commit-size — CPU per row the engine spends (insert, parts and the merges after
 * them) for one load, 250,000 samples a second, committed in groups of different sizes: what a
 * collector that acknowledges on commit must do to keep answers fast (a commit every 10 ms) up
 * to what the write-ahead log allows (one commit a second). Sizes alternate in one invocation,
 * each run in a process of its own; medians of --runs.
 *
 * Options: --rate 250000 --total 4000000 --sizes 2500,8000,50000,250000 --runs 3 --out bench/results/commit-size.md
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { POINT_TABLE_SETTINGS } from '../collector/src/store/migrations.ts'
import { machine } from './lib/proc.ts'

const { values: opt } = parseArgs({
  options: {
    rate: { type: 'string', default: '250000' },
    total: { type: 'string', default: '4000000' },
    sizes: { type: 'string', default: '2500,8000,50000,250000' },
    runs: { type: 'string', default: '3' },
    out: { type: 'string', default: 'bench/results/commit-size.md' },
  },
})
const RATE = Number(opt.rate),
  TOTAL = Number(opt.total),
  RUNS = Number(opt.runs)
const SIZES = opt.sizes!.split(',').map(Number)
const results = new Map<number, number[]>()
for (let run = 0; run < RUNS; run++) {
  for (const rows of SIZES) {
    const dir = mkdtempSync(join(tmpdir(), 'governor-commit-size-'))
    const out = execFileSync(
      process.execPath,
      [
        '--import',
        'tsx',
        'bench/lib/paced-insert.ts',
        dir,
        POINT_TABLE_SETTINGS,
        String(rows),
        String(RATE),
        String(TOTAL),
      ],
      { encoding: 'utf8' },
    )
    const { usPerRow } = JSON.parse(out.trim().split('\n').pop()!) as { usPerRow: number }
    results.set(rows, [...(results.get(rows) ?? []), usPerRow])
    rmSync(dir, { recursive: true, force: true })
    process.stderr.write(`run ${run + 1}: ${rows} rows a commit: ${usPerRow.toFixed(3)} µs/row\n`)
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!
const largest = median(results.get(Math.max(...SIZES))!)
const md = `# Commit size: engine CPU per row

\`npm run bench:commit-size -- --rate ${RATE} --total ${TOTAL} --sizes ${SIZES.join(',')} --runs ${RUNS}\`

Machine: ${machine()}. Run at ${new Date().toISOString()}.

${TOTAL.toLocaleString('en')} samples (10,000 series) inserted into a samples table with Governor's codecs and
settings (\`${POINT_TABLE_SETTINGS}\`) at ${RATE.toLocaleString('en')} rows a second, in commits of the size shown,
then 2 s for merges to settle; the CPU of the whole process (chDB's insert and background
threads) over the rows. Sizes alternate, each run in a fresh process and directory; medians of ${RUNS}.

| rows a commit | commits a second | CPU µs per row (median) | runs | × the largest commits |
|---|---|---|---|---|
${SIZES.map((rows) => {
  const us = median(results.get(rows)!)
  return `| ${rows.toLocaleString('en')} | ${(RATE / rows).toFixed(1)} | ${us.toFixed(3)} | ${results
    .get(rows)!
    .map((x) => x.toFixed(3))
    .join(', ')} | ${(us / largest).toFixed(2)} |`
}).join('\n')}

Acknowledging only after a commit ties answer time to commit size: at 8 senders a collector
must commit every few milliseconds to answer fast, and each small part is merged again and
again. With the write-ahead log a request is answered once logged, and the rows go to the
engine in one commit a second (\`GOVERNOR_FLUSH_INTERVAL_MILLIS\`) or every
\`GOVERNOR_MAX_BATCH_POINTS\` rows.
`
writeFileSync(opt.out!, md)
process.stdout.write(md)
