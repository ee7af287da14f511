import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { EXIT, runClientCommand } from '../../../collector/src/cli/client-commands.ts'
import { startServer } from '../../helpers/server.ts'
import { api, counter, send } from './seed.ts'

// `governor gate` against a listening collector, as a CI step runs it.

let app: FastifyInstance
let url: string

beforeAll(async () => {
  ;({ app, url } = await startServer({ controllerTickMillis: 0, impactIntervalMillis: 0 }))
  // payments: 20 errors of 100 requests against 99 %: 20 % bad where 1 % is allowed.
  const now = Date.now()
  await send(app, 'payments', [
    counter('requests_total', [
      { ts: now - 60_000, start: now - 120_000, value: 0, attrs: { code: '200' } },
      { ts: now - 5_000, start: now - 120_000, value: 80, attrs: { code: '200' } },
      { ts: now - 60_000, start: now - 120_000, value: 0, attrs: { code: '500' } },
      { ts: now - 5_000, start: now - 120_000, value: 20, attrs: { code: '500' } },
    ]),
  ])
  for (const service of ['payments', 'search']) {
    const res = await api(app, 'PUT', `/slos/${service}/availability`, {
      sli: { type: 'error_ratio', metric: 'requests_total', errors: { code: '5xx' } },
      objective: 99,
      window: '1d',
      actor: 'alice',
      reason: 'r',
    })
    expect(res.status).toBe(201)
  }
})
afterAll(async () => {
  await app?.close()
})

async function gate(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '',
    stderr = ''
  const code = await runClientCommand(
    ['gate', '--url', url, ...args],
    {},
    {
      stdout: (s) => {
        stdout += s
      },
      stderr: (s) => {
        stderr += s
      },
    },
  )
  return { code, stdout, stderr }
}

describe('governor gate', () => {
  it('exits 4 and prints why when the error budget is spent, and the denial is in the change log', async () => {
    const r = await gate('--service', 'payments', '--version', '3.0.0', '--actor', 'ci')
    expect(r.code).toBe(EXIT.DENIED)
    expect(r.stdout).toBe(
      'deploy of payments denied:\n  payments/availability: error budget spent (2000 % used): 20 % of events bad over 1d, 99 % allows 1 %\n',
    )
    const events = (await api(app, 'GET', '/events?kind=gate')).body.events
    expect(events).toMatchObject([
      { actor: 'ci', service: 'payments', title: 'deploy of payments 3.0.0 denied: error budget spent (availability)' },
    ])
  })

  it('exits 0 when the deploy may go out, saying what guards nothing', async () => {
    expect(await gate('--service', 'search')).toEqual({
      code: EXIT.OK,
      stderr: '',
      stdout:
        'deploy of search allowed\n  warning: search/availability: no events over 1d, so it guards nothing (is requests_total being sent?)\n  warning: no SLO of search has data: nothing guards this deploy\n',
    })
  })

  it('exits 4 for a service it does not know (a typo), and with --require-slo for one nothing guards', async () => {
    const typo = await gate('--service', 'paymnets')
    expect(typo.code).toBe(EXIT.DENIED)
    expect(typo.stdout).toContain('no service named "paymnets" is known to Governor')
    expect((await gate('--service', 'search', '--require-slo')).code).toBe(EXIT.DENIED)
  })

  it('exits 0 with --override, printing that it was overridden', async () => {
    const r = await gate('--service', 'payments', '--actor', 'alice', '--override', 'hotfix for INC-42')
    expect(r.code).toBe(EXIT.OK)
    expect(r.stdout).toMatch(
      /^deploy of payments allowed by override\n {2}warning: overridden: payments\/availability: error budget spent/,
    )
  })

  it('exits 2 without --service', async () => {
    expect((await gate()).code).toBe(EXIT.USAGE)
  })
})
