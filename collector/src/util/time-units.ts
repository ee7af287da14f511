/**
 * Below this many epoch milliseconds (1973-03-03) a time can only be a unit mistake: epoch
 * seconds of any year from 2001 on fall here (1e9 s), and nothing Governor records is older.
 */
const MIN_PLAUSIBLE_MILLIS = 1e11
/** Above this (year 5138) a time is microseconds or nanoseconds, not milliseconds. */
const MAX_PLAUSIBLE_MILLIS = 1e14

/**
 * Why `millis`, read as epoch milliseconds from field `name`, must be another unit, or
 * undefined when it is a plausible time. The message names the field, the likely unit and
 * the value it would be in milliseconds, so a caller can fix it at once:
 *
 *   started_at=1733123456 looks like epoch seconds (2024-12-02T07:10:56.000Z): send 1733123456000, or ISO 8601
 */
export function unitMistake(name: string, millis: number): string | undefined {
  if (millis >= MIN_PLAUSIBLE_MILLIS && millis < MAX_PLAUSIBLE_MILLIS) return undefined
  if (millis >= 1e8 && millis < MIN_PLAUSIBLE_MILLIS) {
    return `${name}=${millis} looks like epoch seconds (${new Date(millis * 1000).toISOString()}): send ${millis * 1000} (milliseconds), or ISO 8601`
  }
  if (millis >= 1e17 && millis < 1e20) {
    const ms = Math.floor(millis / 1e6)
    return `${name}=${millis} looks like epoch nanoseconds (${new Date(ms).toISOString()}): send ${ms} (milliseconds), or ISO 8601`
  }
  if (millis >= MAX_PLAUSIBLE_MILLIS && millis < 1e17) {
    const ms = Math.floor(millis / 1e3)
    return `${name}=${millis} looks like epoch microseconds (${new Date(ms).toISOString()}): send ${ms} (milliseconds), or ISO 8601`
  }
  return `${name}=${millis} is not a plausible time in epoch milliseconds (before 1973 or after year 5000): send epoch milliseconds or ISO 8601`
}
