import { describe, expect, it } from 'vitest'
import { isGovernorError } from '../../../collector/src/errors.ts'
import { loadSinks, parseSinks, redactUrl, sinkAccepts } from '../../../collector/src/sinks/sink-config.ts'

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'

function refusal(f: () => unknown): string {
  try {
    f()
  } catch (err) {
    expect(isGovernorError(err) && err.code).toBe('GOV_ERR_SETTINGS_INVALID')
    return (err as Error).message
  }
  throw new Error('expected a refusal')
}

describe('sink configuration', () => {
  it('reads slack and webhook sinks with their filters and key', () => {
    const [chat, hook] = parseSinks(
      JSON.stringify([
        { name: 'ops-chat', type: 'slack', url: 'https://hooks.slack.com/services/T0/B0/abc', kinds: ['deploy'] },
        { name: 'audit', type: 'webhook', url: 'http://127.0.0.1:9/x', secret: SECRET, services: ['checkout'] },
      ]),
      'GOVERNOR_SINKS',
    )
    expect(chat).toMatchObject({
      name: 'ops-chat',
      type: 'slack',
      key: undefined,
      kinds: ['deploy'],
      services: undefined,
    })
    expect(hook).toMatchObject({ name: 'audit', type: 'webhook', kinds: undefined, services: ['checkout'] })
    expect(hook!.key).toEqual(Buffer.from('MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'base64'))
  })

  it('names the sink and every problem', () => {
    const msg = refusal(() =>
      parseSinks(
        JSON.stringify([
          { name: 'ok', type: 'slack', url: 'https://x/y' },
          { name: 'audit', type: 'webhook', url: 'ftp://x/y', secret: 'hunter2', kinds: [] },
          { name: 'chat', type: 'irc', url: 'https://x', service: ['a'] },
        ]),
        'GOVERNOR_SINKS',
      ),
    )
    expect(msg).toMatch(/^GOVERNOR_SINKS: /)
    expect(msg).toContain('sink "audit": url "ftp://x/***" is not an absolute http or https URL')
    expect(msg).toContain('secret must start with "whsec_"')
    expect(msg).toContain('kinds is empty')
    expect(msg).toContain('sink "chat": unknown field "service"')
    expect(msg).toContain('type must be "slack" or "webhook", got "irc"')
    expect(msg).not.toContain('hunter2')
    expect(msg).not.toContain('sink "ok"')
  })

  it('requires a secret for webhooks and refuses one for slack', () => {
    expect(refusal(() => parseSinks('[{"name":"a","type":"webhook","url":"https://x"}]', 'S'))).toContain(
      'sink "a": secret is required',
    )
    expect(
      refusal(() => parseSinks(`[{"name":"a","type":"slack","url":"https://x","secret":"${SECRET}"}]`, 'S')),
    ).toContain('secret applies to webhook sinks only')
  })

  it('refuses bad JSON, a non-array and duplicate names, across the variable and the file', () => {
    expect(refusal(() => parseSinks('{', 'GOVERNOR_SINKS'))).toMatch(/^GOVERNOR_SINKS: not valid JSON/)
    expect(refusal(() => parseSinks('{}', 'GOVERNOR_SINKS'))).toContain('expected a JSON array')
    const one = '[{"name":"a","type":"slack","url":"https://x"}]'
    expect(refusal(() => loadSinks({ sinks: one, sinksFile: '/etc/sinks.json' }, () => one))).toContain(
      'sink "a" is configured twice',
    )
    expect(
      refusal(() =>
        loadSinks({ sinks: '', sinksFile: '/nope.json' }, () => {
          throw new Error('ENOENT')
        }),
      ),
    ).toBe('GOVERNOR_SINKS_FILE="/nope.json": cannot read the file: ENOENT')
    expect(loadSinks({ sinks: '', sinksFile: '' })).toEqual([])
  })
})

describe('filters', () => {
  it('take the kinds and services listed, everything when absent', () => {
    const deploy = { kind: 'deploy', service: 'checkout' }
    const note = { kind: 'note', service: 'search' }
    expect(sinkAccepts({ kinds: undefined, services: undefined }, note)).toBe(true)
    expect(sinkAccepts({ kinds: ['deploy'], services: undefined }, deploy)).toBe(true)
    expect(sinkAccepts({ kinds: ['deploy'], services: undefined }, note)).toBe(false)
    expect(sinkAccepts({ kinds: undefined, services: ['checkout'] }, deploy)).toBe(true)
    expect(sinkAccepts({ kinds: undefined, services: ['checkout'] }, note)).toBe(false)
    expect(sinkAccepts({ kinds: ['note'], services: ['checkout'] }, note)).toBe(false)
  })
})

describe('URL redaction', () => {
  it('hides tokens in the path, query values and user info', () => {
    expect(redactUrl('https://hooks.slack.com/services/T0001/B0002/XXXXXXXXXXXXXXXXXXXXXXXX')).toBe(
      'https://hooks.slack.com/services/***/***/***',
    )
    expect(redactUrl('https://user:pw@example.com:8443/hooks/governor?token=s3cr3t&x=1')).toBe(
      'https://***@example.com:8443/hooks/***?token=***&x=***',
    )
  })

  it('hides short and plain-looking path secrets too', () => {
    expect(redactUrl('https://chat.example.com/api/v1/webhooks/abc/Secret')).toBe(
      'https://chat.example.com/api/v1/webhooks/***/***',
    )
    expect(redactUrl('https://example.com/k')).toBe('https://example.com/***')
  })
})
