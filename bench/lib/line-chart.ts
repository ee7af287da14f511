/** A line chart as standalone SVG text, for benchmark reports: series over a shared x axis. */

export interface LineSeries {
  label: string
  points: [number, number][]
}

const COLORS = ['#e6522c', '#7b61ff', '#2a9d8f', '#264653', '#e9c46a']

/** Lines on one linear scale from 0 to the largest y, with a few gridlines and a legend. */
export function lineChartSvg(opts: { title: string; xLabel: string; yLabel: string; series: LineSeries[] }): string {
  const all = opts.series.flatMap((s) => s.points)
  const xMax = Math.max(1e-9, ...all.map((p) => p[0]))
  const yMax = niceCeil(Math.max(1e-9, ...all.map((p) => p[1])))
  const left = 70,
    top = 40,
    w = 640,
    h = 260,
    width = left + w + 20,
    height = top + h + 70
  const x = (v: number) => (left + (v / xMax) * w).toFixed(1)
  const y = (v: number) => (top + h - (v / yMax) * h).toFixed(1)
  const parts: string[] = []
  for (let i = 0; i <= 4; i++) {
    const v = (yMax * i) / 4
    parts.push(`<line x1="${left}" x2="${left + w}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/>`)
    parts.push(`<text x="${left - 6}" y="${Number(y(v)) + 4}" text-anchor="end">${fmt(v)}</text>`)
  }
  for (let i = 0; i <= 5; i++) {
    const v = (xMax * i) / 5
    parts.push(`<text x="${x(v)}" y="${top + h + 18}" text-anchor="middle">${fmt(v)}</text>`)
  }
  opts.series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length]
    parts.push(
      `<polyline fill="none" stroke="${color}" stroke-width="2" points="${s.points.map((p) => `${x(p[0])},${y(p[1])}`).join(' ')}"/>`,
    )
    parts.push(`<rect x="${left + i * 200}" y="${top + h + 40}" width="14" height="4" fill="${color}"/>`)
    parts.push(`<text x="${left + i * 200 + 20}" y="${top + h + 46}">${esc(s.label)}</text>`)
  })
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="white"/>
<text x="10" y="22" font-size="15" font-weight="bold">${esc(opts.title)}</text>
<text x="${left + w / 2}" y="${top + h + 32}" text-anchor="middle">${esc(opts.xLabel)}</text>
<text x="14" y="${top + h / 2}" transform="rotate(-90 14 ${top + h / 2})" text-anchor="middle">${esc(opts.yLabel)}</text>
<line x1="${left}" x2="${left}" y1="${top}" y2="${top + h}" stroke="#888"/>
<line x1="${left}" x2="${left + w}" y1="${top + h}" y2="${top + h}" stroke="#888"/>
${parts.join('\n')}
</svg>
`
}

/** The next 1, 2 or 5 times a power of ten at or above v. */
function niceCeil(v: number): number {
  const p = 10 ** Math.floor(Math.log10(v))
  return [1, 2, 5, 10].map((m) => m * p).find((n) => n >= v)!
}

function fmt(v: number): string {
  return Number.isInteger(v) ? v.toLocaleString('en-US') : v.toFixed(v < 10 ? 1 : 0)
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}
