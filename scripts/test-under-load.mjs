#!/usr/bin/env node
// The whole suite, several times in a row, while other processes keep every core busy: a test
// that passes only on an idle machine (a wall-clock guess instead of a wait for its condition)
// fails here. `npm run test:loaded` runs it three times beside one busy loop per core;
// `--runs n` and `--burners n` change either, and any other argument goes to `vitest run`
// (a file, `--maxWorkers 2`…). Each run's outcome, wall time and load average are printed at
// the end; the exit status is that of the worst run.
import { spawn } from 'node:child_process'
import { availableParallelism, loadavg } from 'node:os'

const args = process.argv.slice(2)
/** Removes `--name n` from the arguments and returns n, or `fallback`. */
function option(name, fallback) {
  const i = args.indexOf(`--${name}`)
  if (i < 0) return fallback
  const value = Number(args[i + 1])
  if (!Number.isInteger(value) || value < 0) throw new Error(`--${name} wants a whole number, got ${args[i + 1]}`)
  args.splice(i, 2)
  return value
}
const runs = option('runs', 3)
const burnerCount = option('burners', availableParallelism())

// A burner spins at the tests' own priority: a niced one would yield to them and prove nothing.
const burners = Array.from({ length: burnerCount }, () =>
  spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }),
)
const stopBurners = () => {
  for (const b of burners) b.kill('SIGKILL')
}
process.on('exit', stopBurners)
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(130))

const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')
const results = []
let worst = 0
for (let run = 1; run <= runs; run++) {
  process.stdout.write(`\n== run ${run} of ${runs}, ${burnerCount} busy loops beside it; load average ${load()}\n`)
  const started = Date.now()
  const status = await new Promise((resolve) => {
    const vitest = spawn('npx', ['vitest', 'run', ...args], { stdio: 'inherit' })
    vitest.on('exit', (code, signal) => resolve(code ?? (signal === null ? 1 : 128)))
  })
  worst = Math.max(worst, status)
  results.push(
    `run ${run}: ${status === 0 ? 'passed' : `FAILED (exit ${status})`} in ${Math.round((Date.now() - started) / 1000)} s; load average after: ${load()}`,
  )
}
stopBurners()
process.stdout.write(`\n${results.join('\n')}\n`)
process.exit(worst)
