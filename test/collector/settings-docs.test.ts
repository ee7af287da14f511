import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { SETTINGS } from '../../collector/src/settings.ts'

// docs/reference/settings.md is the settings table people read: every setting of the registry
// is in it with its default, and it names no setting the registry does not have.

const page = readFileSync(new URL('../../docs/reference/settings.md', import.meta.url), 'utf8')
const rows = new Map(
  page.split('\n').flatMap((l) => {
    const m = /^\| `(GOVERNOR_[A-Z0-9_]+)` \| ([^|]*) \|/.exec(l)
    return m === null ? [] : [[m[1]!, m[2]!.trim()] as const]
  }),
)

describe('docs/reference/settings.md', () => {
  it.each(Object.values(SETTINGS).map((s) => [s.env, s] as const))('documents %s with its default', (env, spec) => {
    const cell = rows.get(env)
    expect(cell, `${env} is missing from docs/reference/settings.md`).toBeDefined()
    const d = spec.default as string | number
    if (d === '' || (spec as { secret?: boolean }).secret === true) return // "unset", or a secret's default shown as words
    expect(cell, `${env}: the default in the docs`).toContain(`\`${d}\``)
  })

  it('names only settings that exist', () => {
    const known = new Set<string>(Object.values(SETTINGS).map((s) => s.env))
    expect([...rows.keys()].filter((env) => !known.has(env))).toEqual([])
  })
})
