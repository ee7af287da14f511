/**
 * Where a real answer lacks what an answer shown in the docs has: every key of every object
 * shown, each value of the same JSON type, the first element of an array shown against the
 * first of the real one. Values themselves are the reader's data and are not compared, and a
 * null on either side stands for any value (`"analysis_id": null` until an analysis is stored).
 * Keys the real answer has beyond those shown are fine: the docs show what matters.
 */
export function shapeDifferences(shown: unknown, actual: unknown, path = '$'): string[] {
  if (shown === null || actual === null) return []
  if (Array.isArray(shown)) {
    if (!Array.isArray(actual)) return [`${path}: an array is shown, the answer has ${kindOf(actual)}`]
    return shown.length > 0 && actual.length > 0 ? shapeDifferences(shown[0], actual[0], `${path}[0]`) : []
  }
  if (typeof shown === 'object') {
    if (typeof actual !== 'object' || Array.isArray(actual))
      return [`${path}: an object is shown, the answer has ${kindOf(actual)}`]
    return Object.entries(shown as Record<string, unknown>).flatMap(([key, value]) =>
      key in (actual as Record<string, unknown>)
        ? shapeDifferences(value, (actual as Record<string, unknown>)[key], `${path}.${key}`)
        : [`${path}.${key}: shown, but not in the answer`],
    )
  }
  return typeof shown === typeof actual ? [] : [`${path}: ${kindOf(shown)} shown, the answer has ${kindOf(actual)}`]
}

function kindOf(value: unknown): string {
  return Array.isArray(value) ? 'an array' : value === null ? 'null' : `a ${typeof value}`
}
