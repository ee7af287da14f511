import { describe, expect, it } from 'vitest'
import { isGovernorError } from '../../collector/src/errors.ts'
import { loadSettings, SETTINGS, settingsHelp } from '../../collector/src/settings.ts'

describe('settings', () => {
  it('defaults to the embedded store on 127.0.0.1:4318 with data under ./data', () => {
    const s = loadSettings({}, {})
    expect(s).toMatchObject({
      host: '127.0.0.1',
      port: 4318,
      dataDir: './data',
      clickhouseUrl: '',
      retentionDays: 30,
      maxBodyBytes: 20 * 1024 * 1024,
    })
  })

  it('reads environment variables and converts numbers', () => {
    const s = loadSettings(
      {},
      { GOVERNOR_PORT: '9000', GOVERNOR_CLICKHOUSE_URL: 'http://ch:8123', GOVERNOR_RETENTION_DAYS: '7' },
    )
    expect(s).toMatchObject({ port: 9000, clickhouseUrl: 'http://ch:8123', retentionDays: 7 })
  })

  it.each([
    ['GOVERNOR_PORT', 'abc', /GOVERNOR_PORT="abc": expected a whole number/],
    ['GOVERNOR_PORT', '70000', /GOVERNOR_PORT="70000": above the maximum 65535/],
    ['GOVERNOR_RETENTION_DAYS', '0', /GOVERNOR_RETENTION_DAYS="0": below the minimum 1/],
    ['GOVERNOR_FLUSH_INTERVAL_MILLIS', '1.5', /expected a whole number/],
    ['GOVERNOR_LOG_LEVEL', 'loud', /GOVERNOR_LOG_LEVEL="loud": expected one of/],
    [
      'GOVERNOR_GRPC_PORT',
      '4318',
      /GOVERNOR_GRPC_PORT="4318": the same port as GOVERNOR_PORT: OTLP\/gRPC needs a port of its own/,
    ],
  ])('refuses %s=%s naming the variable and the value', (name, value, message) => {
    let caught: unknown
    try {
      loadSettings({}, { [name]: value })
    } catch (err) {
      caught = err
    }
    expect(isGovernorError(caught) && caught.code).toBe('GOV_ERR_SETTINGS_INVALID')
    expect((caught as Error).message).toMatch(message)
  })

  it('lists every setting in the help text, with its default', () => {
    const help = settingsHelp()
    for (const spec of Object.values(SETTINGS)) expect(help).toContain(spec.env)
    expect(help).toContain('default: 4318 (0..65535)')
  })
})
