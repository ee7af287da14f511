const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const

/** A window as written in an SLO (`30d`, `7d`, `6h`, `90m`, `4w`), in ms; undefined when it is not one. */
export function parseWindow(v: unknown): number | undefined {
  if (typeof v !== 'string') return undefined
  const m = /^(\d+)(m|h|d|w)$/.exec(v.trim())
  if (m === null) return undefined
  const ms = Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS]
  return ms > 0 ? ms : undefined
}

/** A duration for people, in the units that say it exactly: `30d`, `1h`, `14m`, `1m10s`, `5h36m`; `250ms` below a second. */
export function formatDuration(ms: number): string {
  if (ms < 1000 || ms % 1000 !== 0) return `${Math.round(ms)}ms`
  let rest = ms / 1000
  let out = ''
  for (const [unit, seconds] of [
    ['d', 86_400],
    ['h', 3_600],
    ['m', 60],
    ['s', 1],
  ] as const) {
    const n = Math.floor(rest / seconds)
    if (n > 0) out += `${n}${unit}`
    rest -= n * seconds
  }
  return out
}
