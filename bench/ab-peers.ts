/**
 * npm run bench:ab -- --base <git ref> — an optimisation of the ingest path, old against new:
 * checks the base ref out into a temporary worktree (sharing this checkout's node_modules) and
 * runs `bench:peers` for the Governor targets from the base and from this tree in turn,
 * --rounds times, so both meet the same machine; writes the medians and the ratio.
 *
 * Options: --base HEAD --series 10000 --seconds 15 --rounds 2 --targets governor-rw,governor-otlp --out bench/results/ingest-ab.md
 */
import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { baseWorktree } from './lib/base-worktree.ts'
import { machine } from './lib/proc.ts'

const { values: opt } = parseArgs({
  options: {
    base: { type: 'string', default: 'HEAD' },
    series: { type: 'string', default: '10000' },
    seconds: { type: 'string', default: '15' },
    rounds: { type: 'string', default: '2' },
    targets: { type: 'string', default: 'governor-rw,governor-otlp' },
    out: { type: 'string', default: 'bench/results/ingest-ab.md' },
  },
})
const here = resolve('.')
const base = baseWorktree(opt.base!, 'governor-ab-')
const baseCommit = base.commit
const worktree = base.dir

type Row = { target: string; perCpu: number; acked: number; p99: string }
const runs: Record<'base' | 'this tree', Row[][]> = { base: [], 'this tree': [] }
const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' / ')
const loadBefore = load()
try {
  for (let round = 0; round < Number(opt.rounds); round++) {
    // The order flips every round, so that a machine whose load drifts favours neither tree.
    const trees = [
      ['base', worktree],
      ['this tree', here],
    ] as const
    for (const [name, dir] of round % 2 === 0 ? trees : [...trees].reverse()) {
      const out = join(tmpdir(), `governor-ab-${process.pid}-${name.replace(' ', '-')}-${round}.md`)
      execFileSync(
        'npm',
        [
          'run',
          'bench:peers',
          '--',
          '--series',
          opt.series!,
          '--seconds',
          opt.seconds!,
          '--targets',
          opt.targets!,
          '--out',
          out,
        ],
        {
          cwd: dir,
          stdio: ['ignore', 'ignore', 'inherit'],
          // A base whose bench:peers leaves OTLP/gRPC on its fixed port must not fail when another Governor holds it.
          env: { ...process.env, GOVERNOR_GRPC_PORT: '0' },
        },
      )
      runs[name].push(parseRows(readFileSync(out, 'utf8')))
      process.stderr.write(
        `round ${round + 1}, ${name}: ${runs[name]
          .at(-1)!
          .map((r) => `${r.target} ${Math.round(r.perCpu).toLocaleString('en')}/CPU-s`)
          .join(', ')}\n`,
      )
    }
  }
} finally {
  base.remove()
}

/** The Governor rows of a bench:peers table: target, samples/s acked, per CPU-s, latency. */
function parseRows(md: string): Row[] {
  return md
    .split('\n')
    .filter((l) => /^\| [\d,]+ \| Governor/.test(l))
    .map((l) => {
      const c = l.split('|').map((x) => x.trim())
      return { target: c[2]!, acked: num(c[3]!), perCpu: num(c[4]!), p99: c[6]! }
    })
}
function num(s: string): number {
  return Number(s.replace(/,/g, ''))
}
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 === 1 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2
}
const targets = runs.base[0]!.map((r) => r.target)
const cell = (name: 'base' | 'this tree', t: string) =>
  median(runs[name].map((rows) => rows.find((r) => r.target === t)!.perCpu))
const md = `# Ingest, old against new

\`npm run bench:ab -- --base ${opt.base} --series ${opt.series} --seconds ${opt.seconds} --rounds ${opt.rounds} --targets ${opt.targets}\`

Machine: ${machine()}. Run at ${new Date().toISOString()}; load average (1 / 5 / 15 min) ${loadBefore} before, ${load()} after. Base: ${baseCommit}; this tree: ${execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim()} and its uncommitted changes.

\`bench:peers\` (server pinned to one core, generator to the other, 8 senders, 1,000 samples a
request) from each tree in turn, ${opt.rounds} rounds, the order flipping every round; samples per server
CPU-second, median of the rounds.

| target | base | this tree | this tree ÷ base | every run, base | every run, this tree |
|---|---|---|---|---|---|
${targets
  .map((t) => {
    const a = cell('base', t),
      b = cell('this tree', t)
    const all = (name: 'base' | 'this tree') =>
      runs[name].map((rows) => Math.round(rows.find((r) => r.target === t)!.perCpu).toLocaleString('en')).join(', ')
    return `| ${t} | ${Math.round(a).toLocaleString('en')} | ${Math.round(b).toLocaleString('en')} | ${(b / a).toFixed(2)} | ${all('base')} | ${all('this tree')} |`
  })
  .join('\n')}
`
writeFileSync(opt.out!, md)
process.stdout.write(md)
