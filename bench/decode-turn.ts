/**
 * npx tsx bench/decode-turn.ts --base <git ref> — how long one ingest turn holds the event loop
 * for a remote-write request of 5,000 series, new series against known ones, base against this
 * tree: the decode and the encoding of its rows, request by request, in processes of their own
 * (bench/lib/decode-turn-child.ts), the two trees alternating round by round.
 *
 * Options: --base HEAD --rounds 4 --points 5000 (series a request) --metrics 8 (requests per
 *          phase, one metric name each) --reps 3 (passes per process, each with a fresh cache)
 *          --out bench/results/decode-turn.md
 */
import { execFileSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { baseWorktree } from './lib/base-worktree.ts'
import { machine } from './lib/proc.ts'

const { values: opt } = parseArgs({
  options: {
    base: { type: 'string', default: 'HEAD' },
    rounds: { type: 'string', default: '4' },
    points: { type: 'string', default: '5000' },
    metrics: { type: 'string', default: '8' },
    reps: { type: 'string', default: '3' },
    out: { type: 'string', default: 'bench/results/decode-turn.md' },
  },
})
type Times = Record<'newDecode' | 'newEncode' | 'knownDecode' | 'knownEncode', number[]>
const here = resolve('.')
const child = resolve('bench/lib/decode-turn-child.ts')
const loadBefore = loadavg()
  .map((l) => l.toFixed(2))
  .join(' / ')
const base = baseWorktree(opt.base!, 'governor-decode-turn-')
const runs: Record<'base' | 'this tree', Times[]> = { base: [], 'this tree': [] }
try {
  for (let round = 0; round < Number(opt.rounds); round++) {
    const order = round % 2 === 0 ? (['base', 'this tree'] as const) : (['this tree', 'base'] as const)
    for (const name of order) {
      const out = execFileSync(
        process.execPath,
        [
          '--expose-gc',
          '--import',
          'tsx',
          child,
          name === 'base' ? base.dir : here,
          opt.points!,
          opt.metrics!,
          opt.reps!,
        ],
        { encoding: 'utf8' },
      )
      runs[name].push(JSON.parse(out) as Times)
      process.stderr.write(`round ${round + 1}, ${name}: done\n`)
    }
  }
} finally {
  base.remove()
}
const loadAfter = loadavg()
  .map((l) => l.toFixed(2))
  .join(' / ')

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 === 1 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2
}
/** Median over every request of every round, and the median of each round. */
const figure = (name: 'base' | 'this tree', key: keyof Times) => ({
  all: median(runs[name].flatMap((t) => t[key])),
  rounds: runs[name].map((t) => median(t[key])),
})
const f = (ms: number) => ms.toFixed(ms >= 10 ? 1 : 2)
const rows = (
  [
    ['new series', 'newDecode', 'newEncode'],
    ['known series', 'knownDecode', 'knownEncode'],
  ] as const
).flatMap(([label, dec, enc]) =>
  (
    [
      ['decode', dec],
      ['encode its rows', enc],
    ] as const
  ).map(([what, key]) => {
    const b = figure('base', key),
      t = figure('this tree', key)
    return `| ${label} | ${what} | ${f(b.all)} | ${f(t.all)} | ${(t.all / b.all).toFixed(2)} | ${b.rounds.map(f).join(', ')} | ${t.rounds.map(f).join(', ')} |`
  }),
)
const requests = Number(opt.metrics) * Number(opt.reps)
const report = `# One ingest turn: a remote-write request of ${Number(opt.points).toLocaleString('en-US')} series, base against this tree

\`npx tsx bench/decode-turn.ts ${process.argv.slice(2).join(' ')}\`

What one ingest turn held the event loop for before requests were decoded in slices: decoding
a remote-write request of ${Number(opt.points).toLocaleString('en-US')} series (one sample each, the shape of \`bench:overload-ingest\`)
and encoding its rows, timed request by request. **new**: a fresh series cache, every series
new (the start-up burst: ${opt.metrics} requests of distinct metric names, ${(Number(opt.metrics) * Number(opt.points)).toLocaleString('en-US')} series); **known**: the same
requests again at the next timestamp. ${requests} requests of each kind a round, in a process of
its own, the heap collected before each phase; ${opt.rounds} rounds, base and this tree alternating (the
order flips every round).
Milliseconds, median over every request of every round; the medians of each round after.

Machine: ${machine()}. Run at ${new Date().toISOString()}; load average (1 / 5 / 15 min) ${loadBefore} before, ${loadAfter} after.
Base: ${base.commit}; this tree: ${execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim()} and its uncommitted changes.

| series | work | base (ms) | this tree (ms) | this tree ÷ base | each round, base | each round, this tree |
|---|---|---|---|---|---|---|
${rows.join('\n')}
`
process.stdout.write(report)
writeFileSync(opt.out!, report)
