/**
 * label_replace and label_join. The replacement template follows Go's
 * `Regexp.ExpandString`: `$1`, `${1}`, `$name`, `${name}`, `$$`; a `$` name takes the
 * longest run of letters, digits and `_` (so `$1x` names group "1x", which is empty).
 */
import type { Labels } from './querier.ts'
import { executionError } from './errors.ts'
import { translateRe2 } from './regex.ts'

const LABEL_NAME_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/

/** True for a valid Prometheus label name. */
export function isValidLabelName(name: string): boolean {
  return LABEL_NAME_RE.test(name)
}

/** Go's template expansion of `template` with the match `m`. */
export function expandTemplate(template: string, m: RegExpExecArray): string {
  let out = ''
  for (let i = 0; i < template.length; i++) {
    const c = template[i]!
    if (c !== '$' || i + 1 >= template.length) {
      out += c
      continue
    }
    const next = template[i + 1]!
    if (next === '$') {
      out += '$'
      i++
      continue
    }
    let name: string
    let end: number
    if (next === '{') {
      const close = template.indexOf('}', i + 2)
      name = close < 0 ? '' : template.slice(i + 2, close)
      if (close < 0 || !/^[A-Za-z0-9_]+$/.test(name)) {
        out += c // Malformed: Go writes the `$` literally.
        continue
      }
      end = close + 1
    } else {
      const run = /^[A-Za-z0-9_]+/.exec(template.slice(i + 1))
      if (!run) {
        out += c
        continue
      }
      name = run[0]
      end = i + 1 + name.length
    }
    if (/^\d+$/.test(name)) out += m[Number(name)] ?? ''
    else out += m.groups?.[name] ?? ''
    i = end - 1
  }
  return out
}

/** A label_replace for fixed arguments: maps a label set to its replaced one. */
export function labelReplacer(dst: string, replacement: string, src: string, regex: string): (l: Labels) => Labels {
  let re: RegExp
  try {
    // Go's default: `.` does not match a newline here (no `s` flag).
    const t = translateRe2(regex)
    re = new RegExp(`^(?:${t.source})$`, t.flags.replace('s', ''))
  } catch {
    throw executionError(`invalid regular expression in label_replace(): ${regex}`)
  }
  if (!isValidLabelName(dst)) throw executionError(`invalid destination label name in label_replace(): ${dst}`)
  return (l) => {
    const m = re.exec(l[src] ?? '')
    if (!m) return l
    const res = expandTemplate(replacement, m)
    const out: Record<string, string> = { ...l }
    delete out[dst]
    if (res !== '') out[dst] = res
    return out
  }
}

/** A label_join for fixed arguments. */
export function labelJoiner(dst: string, sep: string, srcs: readonly string[]): (l: Labels) => Labels {
  for (const s of srcs)
    if (!isValidLabelName(s)) throw executionError(`invalid source label name in label_join(): ${s}`)
  if (!isValidLabelName(dst)) throw executionError(`invalid destination label name in label_join(): ${dst}`)
  return (l) => {
    const joined = srcs.map((s) => l[s] ?? '').join(sep)
    const out: Record<string, string> = { ...l }
    delete out[dst]
    if (joined !== '') out[dst] = joined
    return out
  }
}
