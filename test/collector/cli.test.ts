import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { SETTINGS } from '../../collector/src/settings.ts'

const BIN = fileURLToPath(new URL('../../collector/bin/governor.js', import.meta.url))
const run = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 30_000 })

describe('the governor command', () => {
  it('--help lists every setting with its default', () => {
    const r = run(['--help'])
    expect(r.status).toBe(0)
    for (const spec of Object.values(SETTINGS)) expect(r.stdout).toContain(spec.env)
    expect(r.stdout).toMatch(/GOVERNOR_PORT[^\n]*\n[^\n]*default: 4318/)
  })

  it('refuses an unknown command with the usage', () => {
    const r = run(['launch'])
    expect(r.status).toBe(2)
    expect(r.stderr).toContain('unknown command "launch"')
    expect(r.stderr).toContain('Usage: governor')
  })

  it('refuses to start on an invalid setting, naming it and the value', () => {
    const r = run(['start'], { GOVERNOR_PORT: 'eighty' })
    expect(r.status).toBe(1)
    expect(r.stderr).toContain('GOV_ERR_SETTINGS_INVALID: GOVERNOR_PORT="eighty": expected a whole number')
  })
})
