/**
 * npm run check:prometheus — a real Prometheus remote-writes its own metrics into Governor;
 * then, series by series and sample by sample, the values Governor stores must equal the
 * ones Prometheus reports through its own query API, at the same millisecond timestamps.
 *
 * Options: --seconds 20 (how long Prometheus scrapes itself, every second)
 * Exits 1 with a report when a sample differs, is missing on either side, or nothing overlapped.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import {
  ensurePackages,
  PROMETHEUS_BIN,
  startGovernor,
  startPrometheus,
  stop,
  type Server,
} from './lib/peer-servers.ts'

const { values: opt } = parseArgs({ options: { seconds: { type: 'string', default: '20' } } })
const SECONDS = Number(opt.seconds)

/** Prometheus' own series to compare: a metric name and a PromQL label matcher. */
const SELECTORS = [
  'prometheus_http_requests_total{handler="/metrics"}',
  'prometheus_http_request_duration_seconds_bucket{handler="/metrics"}',
  'go_goroutines',
  'process_cpu_seconds_total',
  'process_resident_memory_bytes',
  'prometheus_tsdb_head_series',
  'prometheus_tsdb_head_samples_appended_total',
  'go_memstats_alloc_bytes',
  'scrape_duration_seconds',
  'up',
]
/** Fewest samples each selector must have compared for the check to count. */
const MIN_SAMPLES_PER_SELECTOR = 5

type Labels = Record<string, string>
interface PromSeries {
  metric: Labels
  values: [number, string][]
}
interface GovSeries {
  labels: Labels
  points: [number, number | null][]
}

ensurePackages([{ pkg: 'prometheus', bin: PROMETHEUS_BIN }])
const dir = mkdtempSync(join(tmpdir(), 'governor-prom-check-'))
let governor: Server | undefined, prometheus: Server | undefined
let failed = true
try {
  governor = await startGovernor(join(dir, 'governor'))
  const writeUrl = `${governor.url}/api/v1/write`
  const config = (self: string): string => `global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: prometheus
    static_configs:
      - targets: ['${self}']
remote_write:
  - url: ${writeUrl}
    queue_config:
      batch_send_deadline: 500ms
      max_samples_per_send: 2000
      min_backoff: 100ms
    metadata_config:
      send_interval: 2s
`
  prometheus = await startPrometheus(dir, config)
  console.log(
    `Governor ${governor.url} (pid ${governor.pid}), Prometheus ${prometheus.url} (pid ${prometheus.pid}); scraping every 1 s for ${SECONDS} s`,
  )
  const startMs = Date.now()
  await sleep(SECONDS * 1000)
  // Compare up to a time every sample before which Prometheus has already sent.
  const endMs = Date.now()
  await waitSent(prometheus, endMs)

  const problems: string[] = []
  let seriesCompared = 0,
    samplesCompared = 0,
    samplesBefore = 0
  for (const selector of SELECTORS) {
    const name = selector.replace(/\{.*$/, '')
    const prom = await promRange(prometheus, selector, startMs, endMs)
    const gov = await govRaw(governor, name, startMs - 60_000, endMs + 60_000)
    if (prom.length === 0) {
      problems.push(`${selector}: Prometheus has no series`)
      continue
    }
    let samplesHere = 0
    for (const p of prom) {
      const labels = { ...p.metric }
      delete labels.__name__
      const key = labelKey(labels)
      const g = gov.find((s) => s.labels['service.name'] === labels.job && labelKey(withoutService(s.labels)) === key)
      if (g === undefined) {
        problems.push(`${name}${key}: not in Governor (${gov.length} series of that name there)`)
        continue
      }
      const promPoints = new Map(p.values.map(([t, v]) => [Math.round(t * 1000), Number(v)]))
      const govPoints = new Map(g.points.filter(([t]) => t >= startMs && t <= endMs).map(([t, v]) => [t, v ?? NaN]))
      // The overlap starts at the later of the two first samples: remote write starts from
      // the WAL when the queue comes up, which may be after the first scrape.
      const from = Math.max(Math.min(...promPoints.keys()), Math.min(...govPoints.keys()))
      const mismatches: string[] = []
      let compared = 0
      for (const [t, v] of promPoints) {
        if (t < from) {
          samplesBefore++
          continue
        }
        const gv = govPoints.get(t)
        if (gv === undefined) mismatches.push(`@${t}: Prometheus ${v}, Governor has no sample`)
        else if (!Object.is(gv, v)) mismatches.push(`@${t}: Prometheus ${v}, Governor ${gv}`)
        else compared++
      }
      for (const [t, gv] of govPoints)
        if (t >= from && !promPoints.has(t)) mismatches.push(`@${t}: Governor ${gv}, Prometheus has no sample`)
      if (mismatches.length > 0)
        problems.push(`${name}${key}: ${mismatches.length} differences, first: ${mismatches.slice(0, 3).join('; ')}`)
      seriesCompared++
      samplesHere += compared
    }
    if (samplesHere < MIN_SAMPLES_PER_SELECTOR) problems.push(`${selector}: only ${samplesHere} samples overlapped`)
    samplesCompared += samplesHere
    console.log(
      `  ${selector.padEnd(72)} ${String(prom.length).padStart(3)} series, ${String(samplesHere).padStart(5)} samples equal`,
    )
  }
  console.log(
    `Compared ${seriesCompared} series, ${samplesCompared} samples, between ${new Date(startMs).toISOString()} and ${new Date(endMs).toISOString()}.`,
  )
  if (samplesBefore > 0)
    console.log(
      `(${samplesBefore} Prometheus samples came before a series' first sample in Governor and were not compared: remote write starts from the WAL a few seconds after the first scrapes.)`,
    )
  if (problems.length > 0 || samplesCompared === 0) {
    console.error(`FAIL: ${problems.length} problems\n  ${problems.join('\n  ')}`)
  } else {
    console.log('OK: every sample Governor stores equals the one Prometheus reports, at the same timestamp.')
    failed = false
  }
} catch (err) {
  console.error('FAIL:', err)
} finally {
  await stop(prometheus)
  await stop(governor)
  rmSync(dir, { recursive: true, force: true })
}
process.exit(failed ? 1 : 0)

/** Raw samples of a selector from Prometheus: a range vector selector evaluated at `toMs`. */
async function promRange(p: Server, selector: string, fromMs: number, toMs: number): Promise<PromSeries[]> {
  const seconds = Math.ceil((toMs - fromMs) / 1000)
  const q = new URLSearchParams({ query: `${selector}[${seconds}s]`, time: (toMs / 1000).toFixed(3) })
  const body = (await (await fetch(`${p.url}/api/v1/query?${q}`)).json()) as {
    status: string
    data: { resultType: string; result: PromSeries[] }
  }
  if (body.status !== 'success' || body.data.resultType !== 'matrix')
    throw new Error(`Prometheus query ${selector}: ${JSON.stringify(body).slice(0, 300)}`)
  return body.data.result
}

async function govRaw(g: Server, metric: string, fromMs: number, toMs: number): Promise<GovSeries[]> {
  const q = new URLSearchParams({ metric, service: 'prometheus', from: String(fromMs), to: String(toMs) })
  const res = await fetch(`${g.url}/api/v1/query?${q}`)
  if (res.status === 404) return []
  if (!res.ok) throw new Error(`Governor query ${metric}: ${res.status} ${await res.text()}`)
  return ((await res.json()) as { series: GovSeries[] }).series
}

/** Waits until Prometheus' remote write queue has sent every sample up to `ms`. */
async function waitSent(p: Server, ms: number): Promise<void> {
  const deadline = Date.now() + 30_000
  for (;;) {
    const text = await (await fetch(`${p.url}/metrics`)).text()
    const line = text
      .split('\n')
      .find((l) => l.startsWith('prometheus_remote_storage_queue_highest_sent_timestamp_seconds{'))
    const sent = line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1))
    if (sent * 1000 >= ms) return
    if (Date.now() > deadline)
      throw new Error(
        `remote write has sent up to ${new Date(sent * 1000).toISOString()} only, 30 s after ${new Date(ms).toISOString()}`,
      )
    await sleep(250)
  }
}

function withoutService(labels: Labels): Labels {
  const out = { ...labels }
  delete out['service.name']
  return out
}

function labelKey(labels: Labels): string {
  return `{${Object.keys(labels)
    .sort()
    .map((k) => `${k}=${JSON.stringify(labels[k])}`)
    .join(',')}}`
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms))
}
