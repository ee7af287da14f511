/**
 * npm run bench:encode — the sample encoder (TsvWriter, bytes written in place) against the
 * template-string encoder it replaced, on the same 200,000 points, in one run.
 */
import { PointBatch } from '../collector/src/model/batch.ts'
import { SeriesCache } from '../collector/src/model/series-cache.ts'
import { encodeSamples } from '../collector/src/store/encode-tsv.ts'
import type { SeriesInfo } from '../collector/src/model/types.ts'

const SERIES = 10_000,
  POINTS = 200_000,
  ROUNDS = 15
const cache = new SeriesCache()
const series: SeriesInfo[] = Array.from({ length: SERIES }, (_, i) =>
  cache.resolve({
    metric: `bench.metric_${i % 10}`,
    type: 'gauge',
    temporality: 'unspecified',
    monotonic: false,
    unit: '',
    description: '',
    service: 'bench',
    scope: '',
    resource: { 'service.name': 'bench' },
    attributes: { instance: `host-${i}` },
  }),
)
const batch = new PointBatch()
const base = Date.now()
for (let i = 0; i < POINTS; i++) {
  const s = series[i % SERIES]!
  batch.series.set(s.id, s)
  batch.samples.push(s, base + Math.floor(i / SERIES) * 10_000, 0, 0, i % 3 === 0 ? 100 + (i % 50) : (i % 997) / 7)
}

/** The encoder before TsvWriter: a template string per row, joined, then encoded. */
function templateEncoder(batches: PointBatch[]): Buffer {
  const lines: string[] = []
  for (const b of batches) {
    const c = b.samples
    for (let i = 0; i < c.length; i++) {
      const s = c.series[i]!
      const v = c.value[i]!
      const num = Number.isFinite(v) ? String(v) : Number.isNaN(v) ? 'nan' : v > 0 ? 'inf' : '-inf'
      lines.push(`${s.metric}\t${s.id}\t${c.ts[i]}\t${c.start[i]}\t${c.flags[i]}\t${num}\n`)
    }
  }
  return Buffer.from(lines.join(''))
}

if (!templateEncoder([batch]).equals(encodeSamples([batch])!)) throw new Error('the encoders disagree')

function timed(f: () => unknown): number {
  const t0 = performance.now()
  f()
  return performance.now() - t0
}

// The two alternate round by round so that machine noise falls on both alike.
const oldTimes: number[] = [],
  newTimes: number[] = []
for (let r = 0; r < ROUNDS; r++) {
  oldTimes.push(timed(() => templateEncoder([batch])))
  newTimes.push(timed(() => encodeSamples([batch])))
}
const median = (t: number[]) => t.sort((a, b) => a - b)[t.length >> 1]!
const oldMs = median(oldTimes),
  newMs = median(newTimes)
const perPoint = (ms: number) => ((ms * 1e6) / POINTS).toFixed(0)
process.stdout.write(`| encoder | median ms for ${POINTS.toLocaleString('en-US')} points | ns per point |
|---|---|---|
| template strings (old) | ${oldMs.toFixed(1)} | ${perPoint(oldMs)} |
| TsvWriter (new) | ${newMs.toFixed(1)} | ${perPoint(newMs)} |

new is ${(oldMs / newMs).toFixed(2)}× faster
`)
