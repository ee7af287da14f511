/** A grouped horizontal bar chart as standalone SVG text, for benchmark reports. */

export interface BarGroup {
  label: string
  bars: { label: string; value: number }[]
}

const COLORS = ['#e6522c', '#7b61ff', '#2a9d8f', '#264653', '#e9c46a', '#8d99ae']

/** One row per bar, grouped under each group's label; bars share one linear scale from 0. */
export function barChartSvg(opts: { title: string; groups: BarGroup[] }): string {
  const labels = [...new Set(opts.groups.flatMap((g) => g.bars.map((b) => b.label)))]
  const max = Math.max(1, ...opts.groups.flatMap((g) => g.bars.map((b) => b.value)))
  const left = 260,
    barWidth = 420,
    rowHeight = 22,
    width = left + barWidth + 110
  const parts: string[] = []
  let y = 40
  for (const g of opts.groups) {
    parts.push(`<text x="10" y="${y + 14}" font-weight="bold">${esc(g.label)}</text>`)
    y += 22
    for (const b of g.bars) {
      const w = Math.max(1, Math.round((b.value / max) * barWidth))
      const color = COLORS[labels.indexOf(b.label) % COLORS.length]
      parts.push(`<text x="${left - 8}" y="${y + 15}" text-anchor="end">${esc(b.label)}</text>`)
      parts.push(`<rect x="${left}" y="${y + 2}" width="${w}" height="${rowHeight - 6}" fill="${color}"/>`)
      parts.push(`<text x="${left + w + 6}" y="${y + 15}">${Math.round(b.value).toLocaleString('en-US')}</text>`)
      y += rowHeight
    }
    y += 10
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y + 10}" font-family="sans-serif" font-size="13">
<rect width="100%" height="100%" fill="white"/>
<text x="10" y="22" font-size="15" font-weight="bold">${esc(opts.title)}</text>
${parts.join('\n')}
</svg>
`
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}
