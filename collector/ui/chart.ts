import uPlot from 'uplot'
import { h, when } from './dom.ts'
import type { ChangeEvent } from './types.ts'

/** One line: `[ts_ms, value]` points. */
export interface Line {
  label: string
  points: readonly (readonly number[])[]
}

export interface ChartOptions {
  title: string
  /** Shown after the title and on the y axis: `ms`, `req/s`, `%`. */
  unit: string
  lines: Line[]
  /** Changes to mark on the time axis: deploys, knob changes, controller decisions… */
  changes: readonly ChangeEvent[]
  /** The time range, epoch ms: every chart of a page shares it, so markers line up. */
  from: number
  to: number
  /** Hold each value until the next (knob values). */
  stepped?: boolean
}

/** Charts drawn and not yet destroyed: uPlot listens on the window until `destroy()`. */
const live = new Set<{ plot: uPlot; observer: ResizeObserver; box: HTMLElement }>()

/** Destroys the charts no longer in the document (call after a page replaced another). */
export function destroyDetachedCharts(): void {
  for (const c of live) {
    if (c.box.isConnected) continue
    c.observer.disconnect()
    c.plot.destroy()
    live.delete(c)
  }
}

const PALETTE = ['#2f7ed8', '#e4572e', '#17a398', '#a259c4', '#f2a541', '#6b8f71', '#d1495b', '#66a5ad']
const HEIGHT = 190

/** The marker class of a change: deploys stand out, then knob changes, then the rest. */
function markerKind(e: ChangeEvent): string {
  if (e.kind === 'deploy') return 'deploy'
  if (e.kind === 'knob') return 'knob'
  if (e.kind === 'controller') return 'controller'
  return 'other'
}

/**
 * A time-series chart (uPlot) with a marker per change: a vertical line over the plot,
 * a DOM element (`.marker.deploy[data-time]`) so that it has a tooltip and can be found.
 * The chart follows its container's width. `data-x-min`/`data-x-max` on the chart element
 * carry the x scale (epoch ms) as drawn.
 */
export function timeChart(o: ChartOptions): HTMLElement {
  const target = h('div', { class: 'chart-canvas' })
  const box = h(
    'figure',
    { class: 'chart', 'data-title': o.title },
    h('figcaption', null, o.title, o.unit !== '' ? h('span', { class: 'unit' }, ` ${o.unit}`) : null),
    target,
  )
  if (o.lines.every((l) => l.points.length === 0)) {
    box.append(h('p', { class: 'empty' }, 'No data in this range.'))
    return box
  }
  const xs = [...new Set(o.lines.flatMap((l) => l.points.map((p) => p[0]!)))].sort((a, b) => a - b)
  const index = new Map(xs.map((x, i) => [x, i]))
  const data: uPlot.AlignedData = [
    xs.map((x) => x / 1000),
    ...o.lines.map((l) => {
      const ys: (number | null)[] = new Array<number | null>(xs.length).fill(null)
      for (const p of l.points) ys[index.get(p[0]!)!] = p[1] ?? null
      return ys
    }),
  ]
  const css = getComputedStyle(document.documentElement)
  const fg = css.getPropertyValue('--muted').trim() || '#666'
  const grid = css.getPropertyValue('--grid').trim() || '#8883'
  const changes = o.changes.filter((e) => {
    const t = Date.parse(e.time)
    return t >= o.from && t <= o.to
  })
  const axis = { stroke: fg, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } }
  const opts: uPlot.Options = {
    width: 600,
    height: HEIGHT,
    scales: { x: { time: true, range: () => [o.from / 1000, o.to / 1000] } },
    axes: [axis, { ...axis, size: 56, values: (_u, ticks) => ticks.map((t) => String(Number(t.toPrecision(4)))) }],
    legend: { show: o.lines.length > 1 },
    cursor: { drag: { x: false, y: false } },
    series: [
      {},
      ...o.lines.map((l, i) => ({
        label: l.label,
        stroke: PALETTE[i % PALETTE.length],
        width: 1.5,
        spanGaps: o.stepped === true,
        ...(o.stepped === true ? { paths: uPlot.paths.stepped!({ align: 1 }) } : {}),
      })),
    ],
    hooks: { draw: [(u) => placeMarkers(u, box, changes)] },
  }
  const plot = new uPlot(opts, data, target)
  // The width is the container's: set once attached, and whenever it changes.
  const fit = () => {
    const w = target.clientWidth
    if (w > 0 && w !== plot.width) plot.setSize({ width: w, height: HEIGHT })
  }
  const observer = new ResizeObserver(fit)
  observer.observe(target)
  live.add({ plot, observer, box })
  requestAnimationFrame(fit)
  return box
}

/** Puts one marker per change over the plot, where its time falls on the x scale. */
function placeMarkers(u: uPlot, box: HTMLElement, changes: readonly ChangeEvent[]): void {
  const min = u.scales.x?.min
  const max = u.scales.x?.max
  if (min === undefined || max === undefined || min === null || max === null) return
  box.dataset.xMin = String(min * 1000)
  box.dataset.xMax = String(max * 1000)
  for (const old of u.over.querySelectorAll('.marker')) old.remove()
  for (const e of changes) {
    const t = Date.parse(e.time)
    const left = u.valToPos(t / 1000, 'x')
    const label = `${when(t)} ${e.kind}: ${e.title}${e.actor !== '' ? ` (${e.actor})` : ''}`
    const m = h('div', {
      class: `marker ${markerKind(e)}`,
      'data-time': t,
      'data-id': e.id,
      title: label,
      'aria-label': label,
    })
    m.style.left = `${left}px` // a CSSOM property, which the Content-Security-Policy allows
    u.over.append(m)
  }
}
