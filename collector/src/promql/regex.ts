/**
 * Prometheus' regular expressions are RE2, fully anchored. This turns one into a JS RegExp:
 * `^(?:…)$` with the `s` flag (`.` matches a newline too), leading inline flags `(?i)` /
 * `(?s)` moved to JS flags, `(?P<name>` named groups, `\A`/`\z`, POSIX classes
 * (`[[:alpha:]]`) and `\pL` Unicode classes translated. What JS cannot express throws.
 */

const POSIX: Record<string, string> = {
  alnum: '0-9A-Za-z',
  alpha: 'A-Za-z',
  ascii: '\\x00-\\x7F',
  blank: '\\t ',
  cntrl: '\\x00-\\x1F\\x7F',
  digit: '0-9',
  graph: '!-~',
  lower: 'a-z',
  print: ' -~',
  punct: '!-\\/:-@\\[-`{-~',
  space: '\\t\\n\\v\\f\\r ',
  upper: 'A-Z',
  word: '0-9A-Za-z_',
  xdigit: '0-9A-Fa-f',
}

/** Translates RE2 syntax into a JS pattern and its flags (without anchoring). */
export function translateRe2(re: string): { source: string; flags: string } {
  let flags = 's'
  let src = re
  const lead = /^\(\?([imsU]+)\)/.exec(src)
  if (lead) {
    for (const f of lead[1]!) if ((f === 'i' || f === 'm') && !flags.includes(f)) flags += f
    src = src.slice(lead[0].length)
  }
  let out = ''
  let unicode = false
  let inClass = false
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!
    if (c === '\\') {
      const n = src[i + 1]
      if (n === undefined) throw new Error('trailing backslash at end of expression')
      if (n === 'A' && !inClass) {
        out += '^'
        i++
        continue
      }
      if (n === 'z' && !inClass) {
        out += '$(?![\\s\\S])'
        i++
        continue
      }
      if (n === 'Q') {
        const end = src.indexOf('\\E', i + 2)
        const lit = end < 0 ? src.slice(i + 2) : src.slice(i + 2, end)
        out += lit.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&')
        i = end < 0 ? src.length : end + 1
        continue
      }
      if (n === 'p' || n === 'P') {
        unicode = true
        const brace = src[i + 2] === '{'
        const name = brace ? src.slice(i + 3, src.indexOf('}', i + 3)) : src[i + 2]
        if (name === undefined || name === '') throw new Error('invalid character class range')
        // One or two letters name a general category (L, Lu); longer names are scripts (Greek).
        out += `\\${n}{${name.length <= 2 ? name : `Script=${name}`}}`
        i += brace ? name.length + 3 : 2
        continue
      }
      out += c + n
      i++
      continue
    }
    if (inClass) {
      if (c === '[' && src[i + 1] === ':') {
        const end = src.indexOf(':]', i + 2)
        if (end > 0) {
          let name = src.slice(i + 2, end)
          const negated = name.startsWith('^')
          if (negated) name = name.slice(1)
          const set = POSIX[name]
          if (set === undefined) throw new Error(`invalid character class range: [:${name}:]`)
          if (negated) throw new Error('negated POSIX classes are not supported')
          out += set
          i = end + 1
          continue
        }
      }
      if (c === ']') inClass = false
      if (c === '[') {
        out += '\\['
        continue
      }
      out += c
      continue
    }
    if (c === '[') {
      inClass = true
      out += c
      if (src[i + 1] === '^') {
        out += '^'
        i++
      }
      if (src[i + 1] === ']') {
        out += '\\]'
        i++
      }
      continue
    }
    if (c === '(' && src[i + 1] === '?' && src[i + 2] === 'P' && src[i + 3] === '<') {
      out += '(?<'
      i += 3
      continue
    }
    out += c
  }
  if (unicode) flags += 'u'
  return { source: out, flags }
}

/** The anchored JS RegExp for a Prometheus regex matcher. Throws Go-like messages on bad syntax. */
export function compileAnchored(re: string): RegExp {
  const { source, flags } = translateRe2(re)
  try {
    return new RegExp(`^(?:${source})$`, flags)
  } catch (err) {
    throw new Error(`error parsing regexp: ${(err as Error).message.replace(/^Invalid regular expression: /, '')}`)
  }
}
