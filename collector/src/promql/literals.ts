/**
 * PromQL's literals: quoted strings (Go escapes), durations (`1h30m`), numbers (decimal,
 * hex, Go's octal quirk, Inf/NaN), and Go's `FormatFloat(f, 'f', -1, 64)`, the way
 * Prometheus writes sample values in its API and in count_values labels.
 */

/** Unquotes a PromQL string literal (`"…"`, `'…'` with Go escapes; `` `…` `` raw). Throws a message on bad input. */
export function unquoteString(text: string): string {
  const q = text[0]
  if (text.length < 2 || text[text.length - 1] !== q) throw new Error('unterminated quoted string')
  const body = text.slice(1, -1)
  if (q === '`') return body
  let out = ''
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!
    if (c !== '\\') {
      if (c === q) throw new Error(`invalid syntax in string ${text}`)
      out += c
      continue
    }
    const e = body[++i]
    switch (e) {
      case 'a':
        out += '\x07'
        break
      case 'b':
        out += '\b'
        break
      case 'f':
        out += '\f'
        break
      case 'n':
        out += '\n'
        break
      case 'r':
        out += '\r'
        break
      case 't':
        out += '\t'
        break
      case 'v':
        out += '\v'
        break
      case '\\':
        out += '\\'
        break
      case '"':
      case "'":
        out += e
        break
      case 'x':
        out += String.fromCharCode(hex(body.slice(i + 1, i + 3), 2))
        i += 2
        break
      case 'u':
        out += String.fromCodePoint(hex(body.slice(i + 1, i + 5), 4))
        i += 4
        break
      case 'U':
        out += String.fromCodePoint(hex(body.slice(i + 1, i + 9), 8))
        i += 8
        break
      default:
        if (e !== undefined && e >= '0' && e <= '7') {
          const oct = body.slice(i, i + 3)
          if (!/^[0-7]{3}$/.test(oct)) throw new Error(`invalid escape sequence in ${text}`)
          out += String.fromCharCode(parseInt(oct, 8))
          i += 2
          break
        }
        throw new Error(`unknown escape sequence in ${text}`)
    }
  }
  return out
}

function hex(s: string, len: number): number {
  if (s.length !== len || !/^[0-9a-fA-F]+$/.test(s)) throw new Error('invalid escape sequence')
  return parseInt(s, 16)
}

const UNIT_MILLIS: Record<string, number> = {
  y: 365 * 86_400_000,
  w: 7 * 86_400_000,
  d: 86_400_000,
  h: 3_600_000,
  m: 60_000,
  s: 1000,
  ms: 1,
}
const DURATION_RE = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/
const DURATION_UNITS = ['y', 'w', 'd', 'h', 'm', 's', 'ms'] as const

/** Milliseconds of a Prometheus duration (`5m`, `1h30m`, `90s`), or undefined when the text is not one. */
export function parseDurationMillis(text: string): number | undefined {
  if (text === '') return undefined
  const m = DURATION_RE.exec(text)
  if (!m) return undefined
  let total = 0
  for (let i = 0; i < DURATION_UNITS.length; i++) {
    const g = m[i + 1]
    if (g !== undefined) total += Number(g) * UNIT_MILLIS[DURATION_UNITS[i]!]!
  }
  return total
}

/**
 * A PromQL number as Prometheus 2.x reads it: first as a Go integer with base prefix
 * (`0x1f`, and `010` as octal — a quirk kept), else as a float (`1e3`, `Inf`, `NaN`).
 */
export function parseNumber(text: string): number | undefined {
  const t = text.replace(/_/g, '')
  const lower = t.toLowerCase()
  if (lower === 'inf' || lower === '+inf' || lower === 'infinity') return Infinity
  if (lower === '-inf' || lower === '-infinity') return -Infinity
  if (lower === 'nan') return NaN
  if (/^0[xX][0-9a-fA-F]+$/.test(t)) return parseInt(t.slice(2), 16)
  if (/^0[0-7]+$/.test(t)) return parseInt(t.slice(1), 8)
  if (/^(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/.test(t)) return Number(t)
  return undefined
}

/** Go's `strconv.FormatFloat(f, 'f', -1, 64)`: shortest round-trip digits, never an exponent; `NaN`, `+Inf`, `-Inf`. */
export function formatFloat(f: number): string {
  if (Number.isNaN(f)) return 'NaN'
  if (f === Infinity) return '+Inf'
  if (f === -Infinity) return '-Inf'
  if (Object.is(f, -0)) return '-0'
  const s = String(f)
  const e = s.indexOf('e')
  if (e < 0) return s
  // Expand JS exponent notation (only below 1e-6 and from 1e21): digits and a shift of the point.
  const neg = s[0] === '-'
  const mant = s.slice(neg ? 1 : 0, e)
  const exp = Number(s.slice(e + 1))
  const dot = mant.indexOf('.')
  const digits = dot < 0 ? mant : mant.slice(0, dot) + mant.slice(dot + 1)
  const intLen = (dot < 0 ? mant.length : dot) + exp
  let out: string
  if (intLen <= 0) out = '0.' + '0'.repeat(-intLen) + digits
  else if (intLen >= digits.length) out = digits + '0'.repeat(intLen - digits.length)
  else out = digits.slice(0, intLen) + '.' + digits.slice(intLen)
  return neg ? '-' + out : out
}
