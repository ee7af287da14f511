/**
 * Numbers as the change log shows them in a controller's reasons: short, stable, and exact
 * where it matters (whole numbers stay whole).
 */

/** 412.35 → "412", 3.14159 → "3.14", 0.0012345 → "0.00123", 40 → "40". */
export function formatNumber(n: number): string {
  if (!Number.isFinite(n)) return String(n)
  if (Number.isInteger(n)) return String(n)
  const abs = Math.abs(n)
  if (abs >= 100) return String(Math.round(n))
  if (abs >= 1) return String(Math.round(n * 100) / 100)
  return String(Number(n.toPrecision(3)))
}

/** The SLI's distance from the target, signed: "+37 %", "-60 %", "+0.4 %". */
export function formatRelative(sli: number, target: number): string {
  const pct = ((sli - target) / target) * 100
  const shown = Math.abs(pct) < 1 ? Math.round(pct * 10) / 10 : Math.round(pct)
  return `${shown >= 0 ? '+' : ''}${shown} %`
}

/** 800 → "800 ms", 12_000 → "12 s", 300_000 → "5 min". */
export function formatDuration(millis: number): string {
  if (millis < 1000) return `${Math.round(millis)} ms`
  if (millis < 120_000) return `${formatNumber(Math.round(millis / 100) / 10)} s`
  return `${formatNumber(Math.round(millis / 6000) / 10)} min`
}
