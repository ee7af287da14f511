/**
 * npm run bench:control — adaptive concurrency limits side by side in a discrete-event
 * simulation (see simulate.ts): every scenario × every algorithm × every seed, then
 * bench/results/control.md and its SVG charts (bench/results/control.*.svg).
 *
 * Options: --seeds 1,2,3  --scenarios overload-2x,heavy-tail-0.8x (default: all)
 *          --out bench/results/control.md
 */
import { writeFileSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { parseArgs } from 'node:util'
import { machine } from '../lib/proc.ts'
import { ALGORITHMS } from './algorithms.ts'
import { figures, type Figures } from './figures.ts'
import { renderControlReport } from './report.ts'
import { scenarios as allScenarios } from './scenarios.ts'
import { type RunResult, simulate } from './simulate.ts'

const { values: opt } = parseArgs({
  options: {
    seeds: { type: 'string', default: '1,2,3' },
    scenarios: { type: 'string' },
    out: { type: 'string', default: 'bench/results/control.md' },
  },
})
const seeds = opt.seeds!.split(',').map(Number)
const wanted = opt.scenarios?.split(',')
const scenarios = allScenarios().filter((s) => wanted === undefined || wanted.includes(s.name))
if (
  wanted !== undefined &&
  !(scenarios.some((s) => s.name === 'overload-2x') && scenarios.some((s) => s.name === 'heavy-tail-0.8x'))
) {
  throw new Error('--scenarios must include overload-2x and heavy-tail-0.8x: the bars are checked on them')
}

const t0 = performance.now()
const all: Figures[][][] = []
let firstRuns: RunResult[][] = []
for (const seed of seeds) {
  const perScenario: Figures[][] = []
  const runs: RunResult[][] = []
  for (const scenario of scenarios) {
    const row = ALGORITHMS.map((algorithm) => simulate(scenario, algorithm, seed))
    runs.push(row)
    perScenario.push(row.map((run) => figures(scenario, run)))
    process.stdout.write(
      `seed ${seed} ${scenario.name}: ${perScenario
        .at(-1)!
        .map((f, a) => `${ALGORITHMS[a]!.name} ${(f.goodputSlo * 100).toFixed(1)}%`)
        .join(', ')}\n`,
    )
  }
  all.push(perScenario)
  if (firstRuns.length === 0) firstRuns = runs
}
const elapsedSeconds = (performance.now() - t0) / 1000
const out = opt.out!
const prefix = `${basename(out, '.md')}.`
const { md, charts } = renderControlReport(
  {
    seeds,
    scenarios,
    algorithms: ALGORITHMS,
    figures: all,
    runs: firstRuns,
    machine: machine(),
    at: new Date().toISOString(),
    elapsedSeconds,
  },
  prefix,
)
writeFileSync(out, md)
for (const [name, svg] of charts) writeFileSync(join(dirname(out), name), svg)
console.log(`wrote ${out} and ${charts.size} charts in ${elapsedSeconds.toFixed(1)} s`)
