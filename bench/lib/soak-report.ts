/** The report of bench/soak.ts: figures, the memory verdict, and the chart. */
import { lineChartSvg } from './line-chart.ts'

/** One sampling window of the soak. */
export interface Sample {
  /** Minutes since the soak started, at the end of the window. */
  minute: number
  rssMiB: number
  heapMiB: number
  /** The server's event-loop delay p99 and max over the window (prom-client, reset per scrape). */
  loopP99Millis: number
  loopMaxMillis: number
  pointsPerSecond: number
  refused: number
  failed: number
  cpuPercent: number
  pending: number
  /** The machine's 1-minute load average: above its core count, something else competed for the CPU. */
  load: number
}

export interface SoakFigures {
  command: string
  machine: string
  at: string
  chart: string
  series: number
  pointsPerRequest: number
  senders: number
  calibrateSeconds: number
  maxRate: number
  targetRate: number
  soakSeconds: number
  soakPoints: number
  behindMax: number
  sampleSeconds: number
  latencyP50: number
  latencyP99: number
  samples: Sample[]
  clients: number
  streaming: number
  knobSeconds: number
  knobRounds: { postMillis: number; allSeenMillis: number; missed: number; status: number }[]
  clientErrors: Map<string, number>
  refused: number
  failed: Map<string, number>
  serverLog: { warn: number; error: number; samples: string[] }
  commitFailures: number
  ackedRequests: number
  ackedPoints: number
  storedPoints: number
  missingRequests: number
  missingPoints: number
  exitCode: number | null
  stopMillis: number
  cores: number
}

/** Memory counts as flat when the fitted growth over the second half is under this share of its mean. */
const FLAT_SHARE = 0.05

/** Least-squares slope of y over x. */
export function slope(points: [number, number][]): number {
  const n = points.length
  if (n < 2) return NaN
  const mx = points.reduce((s, p) => s + p[0], 0) / n,
    my = points.reduce((s, p) => s + p[1], 0) / n
  let num = 0,
    den = 0
  for (const [x, y] of points) {
    num += (x - mx) * (y - my)
    den += (x - mx) ** 2
  }
  return den === 0 ? NaN : num / den
}

/** How a quantity moved over the second half of the soak: slope (per minute) and growth as a share of its mean. */
export function secondHalfTrend(
  samples: Sample[],
  pick: (s: Sample) => number,
): { perMinute: number; growth: number; share: number; mean: number } {
  const half = samples.slice(Math.floor(samples.length / 2))
  const pts = half.map((s) => [s.minute, pick(s)] as [number, number])
  const perMinute = slope(pts)
  const span = half.length > 1 ? half.at(-1)!.minute - half[0]!.minute : 0
  const mean = pts.reduce((a, p) => a + p[1], 0) / Math.max(1, pts.length)
  return { perMinute, growth: perMinute * span, share: (perMinute * span) / mean, mean }
}

export function soakReport(f: SoakFigures): { markdown: string; svg: string } {
  const s = f.samples
  const rss = secondHalfTrend(s, (x) => x.rssMiB)
  const heap = secondHalfTrend(s, (x) => x.heapMiB)
  const firstHalf = slope(s.slice(0, Math.floor(s.length / 2)).map((x) => [x.minute, x.rssMiB]))
  const flat = rss.share < FLAT_SHARE // a fall is no leak
  const loop = s
    .map((x) => x.loopP99Millis)
    .filter(Number.isFinite)
    .sort((a, b) => a - b)
  const loopMax = Math.max(...s.map((x) => x.loopMaxMillis).filter(Number.isFinite))
  const seen = f.knobRounds
    .map((r) => r.allSeenMillis)
    .filter(Number.isFinite)
    .sort((a, b) => a - b)
  const knobFailed = f.knobRounds.filter((r) => r.status !== 200).length
  const missedRounds = f.knobRounds.filter((r) => r.missed > 0).length
  const fmt = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '-')
  const mib = (n: number) => `${n.toFixed(0)} MiB`
  const list = (m: Map<string, number>) => (m.size === 0 ? 'none' : [...m].map(([k, n]) => `${k} × ${n}`).join(', '))
  const failedTotal = [...f.failed.values()].reduce((a, b) => a + b, 0)
  const everyMinute = s.filter(
    (x, i) => i === 0 || i === s.length - 1 || Math.floor(x.minute) !== Math.floor(s[i - 1]!.minute),
  )
  const rows = everyMinute.map(
    (x) =>
      `| ${x.minute.toFixed(1)} | ${x.rssMiB.toFixed(0)} | ${x.heapMiB.toFixed(0)} | ${x.loopP99Millis.toFixed(1)} | ${fmt(x.pointsPerSecond)} | ${x.cpuPercent.toFixed(0)} | ${x.load.toFixed(1)} | ${x.refused} | ${x.failed} |`,
  )
  const loads = s.map((x) => x.load).sort((a, b) => a - b)

  const markdown = `# Soak

\`${f.command}\`

Machine: ${f.machine}. Run at ${f.at}.

One collector process (\`governor start\`, embedded store) fed OTLP protobuf (${fmt(f.series)} series,
half gauges and half counters, ${fmt(f.pointsPerRequest)} points a request) for ${(f.soakSeconds / 60).toFixed(1)} minutes at
${fmt(f.targetRate)} points/s, open loop: ${Math.round((f.targetRate / f.maxRate) * 100)} % of the ${fmt(f.maxRate)} points/s ${f.calibrateSeconds > 0 ? `measured just before with a ${f.calibrateSeconds} s closed-loop run of ${f.senders} senders` : 'given with --rate'}.
Meanwhile ${f.clients} throttle clients (\`connect()\`, one SSE stream each, ${f.streaming} streaming at the start) followed
a knob changed every ${f.knobSeconds} s. The server was sampled every ${f.sampleSeconds} s.

| | |
|---|---|
| points/s acknowledged during the soak (target) | ${fmt(f.soakPoints / f.soakSeconds)} (${fmt(f.targetRate)}) |
| acknowledgement latency p50 / p99 (all requests) | ${f.latencyP50.toFixed(1)} / ${f.latencyP99.toFixed(1)} ms |
| server RSS: first sample / last / peak | ${mib(s[0]?.rssMiB ?? NaN)} / ${mib(s.at(-1)?.rssMiB ?? NaN)} / ${mib(Math.max(...s.map((x) => x.rssMiB)))} |
| RSS trend over the second half | ${rss.perMinute >= 0 ? '+' : ''}${rss.perMinute.toFixed(2)} MiB/min (${(rss.share * 100).toFixed(1)} % of its mean over that half): **${flat ? 'flat' : 'not flat'}** |
| RSS trend over the first half (warm-up) | ${firstHalf >= 0 ? '+' : ''}${firstHalf.toFixed(2)} MiB/min |
| JS heap used: trend over the second half | ${heap.perMinute >= 0 ? '+' : ''}${heap.perMinute.toFixed(2)} MiB/min (mean ${mib(heap.mean)}) |
| event-loop delay p99, median / worst ${f.sampleSeconds} s window | ${(loop[Math.floor(loop.length / 2)] ?? NaN).toFixed(1)} / ${(loop.at(-1) ?? NaN).toFixed(1)} ms |
| event-loop delay, longest single delay seen | ${loopMax.toFixed(1)} ms |
| ingest requests refused (503) / failed otherwise | ${f.refused} / ${failedTotal}${failedTotal > 0 ? ` (${list(f.failed)})` : ''} |
| group commits that failed | ${fmt(f.commitFailures)} |
| knob changes: made / failed / with a client that missed it | ${f.knobRounds.length} / ${knobFailed} / ${missedRounds} |
| knob change seen by all ${f.clients} clients after the POST's answer, p50 / p99 / max | ${(seen[Math.floor(seen.length / 2)] ?? NaN).toFixed(1)} / ${(seen[Math.floor(seen.length * 0.99)] ?? NaN).toFixed(1)} / ${(seen.at(-1) ?? NaN).toFixed(1)} ms |
| errors reported by the throttle clients | ${list(f.clientErrors)} |
| server log lines at warn / error | ${f.serverLog.warn} / ${f.serverLog.error} |
| requests acknowledged, whole run (calibration included) | ${fmt(f.ackedRequests)} (${fmt(f.ackedPoints)} points) |
| **stored = acknowledged** | ${f.missingRequests === 0 ? `**yes**: every acknowledged request's ${fmt(f.pointsPerRequest)} points are in the store (${fmt(f.storedPoints)} points stored)` : `**no**: ${f.missingRequests} acknowledged requests lack ${f.missingPoints} points`} |
| SIGTERM at the end: exit code, time to exit | ${f.exitCode}, ${f.stopMillis.toFixed(0)} ms |
| generator: most requests behind schedule | ${f.behindMax} |
| machine load average (1 min), median / max of the samples | ${(loads[Math.floor(loads.length / 2)] ?? NaN).toFixed(1)} / ${(loads.at(-1) ?? NaN).toFixed(1)} (${f.cores} cores: above it, other work competed for the CPU) |

**How memory is judged.** The soak's second half is past the warm-up (the engine's caches,
V8's heap sizing). A least-squares line through its RSS samples gives the growth over that half;
memory counts as flat when that growth is under ${FLAT_SHARE * 100} % of the half's mean RSS (a fall counts as flat). At
${(s.length > 1 ? s.at(-1)!.minute - s[Math.floor(s.length / 2)]!.minute : 0).toFixed(1)} minutes that resolves a leak of
about ${((FLAT_SHARE * rss.mean) / Math.max(0.1, s.length > 1 ? s.at(-1)!.minute - s[Math.floor(s.length / 2)]!.minute : 1)).toFixed(1)} MiB/min; a slower one needs a longer run (\`--minutes\`). The JS heap's
trend separates Governor's own objects from the engine's memory.

**Event-loop delay** is prom-client's \`governor_nodejs_eventloop_lag_p99_seconds\` from
\`GET /metrics\` (Node's \`monitorEventLoopDelay\` at its default 10 ms resolution, reset at each scrape,
so each sample is one ${f.sampleSeconds} s window). Node records the time between the monitor's
timer ticks, so an idle loop reads about 10 ms: the delay beyond the resolution is the figure minus 10 ms.

**Stored = acknowledged** is checked after the server stopped: the store is opened and the
points of each (metric, time) counted; every request answered 200 names one (metric, time)
and must have all its points there.

![RSS and heap over the soak](${f.chart})

| minute | RSS MiB | heap MiB | loop p99 ms | points/s | server CPU % | load avg | refused | failed |
|---|---|---|---|---|---|---|---|---|
${rows.join('\n')}
${f.serverLog.samples.length > 0 ? `\nFirst server log lines at warn or above:\n\n\`\`\`\n${f.serverLog.samples.join('\n')}\n\`\`\`\n` : ''}`
  const svg = lineChartSvg({
    title: 'Governor soak: server memory',
    xLabel: 'minutes',
    yLabel: 'MiB',
    series: [
      { label: 'RSS', points: s.map((x) => [x.minute, x.rssMiB]) },
      { label: 'JS heap used', points: s.map((x) => [x.minute, x.heapMiB]) },
    ],
  })
  return { markdown, svg }
}
