/**
 * One side of bench/decode-turn.ts: loads the remote-write decoder of the
 * tree at argv[2] and times, request by request, what one ingest turn does with a remote-write
 * request of `points` series: decode it, then encode its rows. Prints one JSON line.
 *
 *   new     a fresh series cache, `metrics` requests of distinct metric names: every series new
 *   known   the same requests again (other timestamps): every series known and stored
 *
 * Only the APIs both trees have are used (decodeRemoteWrite, encodeBatch), so any two commits
 * compare.
 */
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { buildRemoteWrite, patchRemoteWrite } from './remote-write-template.ts'

const [root, pointsArg, metricsArg, repsArg] = process.argv.slice(2)
const POINTS = Number(pointsArg),
  METRICS = Number(metricsArg),
  REPS = Number(repsArg)
const load = (path: string) => import(pathToFileURL(join(root!, path)).href)
const { decodeRemoteWrite } = await load('collector/src/decode/remote-write.ts')
const { MetricFamilies } = await load('collector/src/decode/remote-write-typing.ts')
const { SeriesCache } = await load('collector/src/model/series-cache.ts')
const { CardinalityGuard } = await load('collector/src/model/cardinality-guard.ts')
const { encodeBatch } = await load('collector/src/store/encoded-batch.ts')

interface Series {
  id: bigint
  rowStored?: boolean
}
const t0 = Math.floor((Date.now() - 3_600_000) / 1000) * 1000
/** Request `m` at timestamp step `step`: the same series, other values. */
const request = (m: number, step: number) => {
  const t = buildRemoteWrite({ metric: `turn_metric_${m}`, job: 'turn', series: POINTS, firstSeries: 0 })
  patchRemoteWrite(t, t0 + step * 1000, (i) => (i * 7 + step) % 100)
  return t.body
}
const bodies = Array.from({ length: METRICS }, (_, m) => [request(m, 0), request(m, 1)] as const)

const times = {
  newDecode: [] as number[],
  newEncode: [] as number[],
  knownDecode: [] as number[],
  knownEncode: [] as number[],
}
for (let rep = 0; rep < REPS; rep++) {
  const stored = new Set<bigint>()
  const cache = new SeriesCache(
    1_000_000,
    new CardinalityGuard({
      maxPerMetric: 1e9,
      maxPerService: 1e9,
      isKnown: (id: bigint) => stored.has(id),
      now: () => Date.now(),
    }),
  )
  const families = new MetricFamilies()
  for (const [phase, step] of [
    ['new', 0],
    ['known', 1],
  ] as const) {
    // Each phase starts from a collected heap (the parent passes --expose-gc): the garbage of
    // the last pass is not charged to the requests that happen to trigger its collection.
    globalThis.gc?.()
    for (let m = 0; m < METRICS; m++) {
      const started = performance.now()
      const { batch } = decodeRemoteWrite(bodies[m]![step], cache, families, 0)
      const decoded = performance.now()
      const encoded = encodeBatch(
        batch,
        (id: bigint) => stored.has(id),
        () => false,
      )
      const done = performance.now()
      // As a commit would: the new series' rows are stored now.
      for (const s of encoded.newSeries as Series[]) {
        stored.add(s.id)
        s.rowStored = true
      }
      times[`${phase}Decode`].push(decoded - started)
      times[`${phase}Encode`].push(done - decoded)
    }
  }
}
process.stdout.write(`${JSON.stringify(times)}\n`)
