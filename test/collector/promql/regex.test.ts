import { describe, expect, it } from 'vitest'
import { compileAnchored } from '../../../collector/src/promql/regex.ts'

describe('RE2 matchers in JavaScript', () => {
  const m = (re: string, s: string): boolean => compileAnchored(re).test(s)
  it('anchors the whole pattern, alternation included', () => {
    expect(m('a|b', 'a')).toBe(true)
    expect(m('a|b', 'ab')).toBe(false)
    expect(m('api', 'api-2')).toBe(false)
    expect(m('', '')).toBe(true)
  })
  it('translates leading flags, named groups, \\A \\z, \\Q…\\E, POSIX and Unicode classes', () => {
    expect(m('(?i)GET', 'get')).toBe(true)
    expect(m('(?P<x>a)b', 'ab')).toBe(true)
    expect(m('\\Aab\\z', 'ab')).toBe(true)
    expect(m('\\Q.*\\E', '.*')).toBe(true)
    expect(m('\\Q.*\\E', 'ab')).toBe(false)
    expect(m('[[:digit:]]+', '123')).toBe(true)
    expect(m('[[:alpha:]_]+', 'a_b')).toBe(true)
    expect(m('\\pL+', 'héllo')).toBe(true)
    expect(m('\\p{Greek}', 'λ')).toBe(true)
  })
  it('lets . match a newline', () => {
    expect(m('a.b', 'a\nb')).toBe(true)
  })
  it('refuses what it cannot parse', () => {
    expect(() => compileAnchored('(')).toThrow(/error parsing regexp/)
  })
})
