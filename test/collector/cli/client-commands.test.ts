import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { EXIT, runClientCommand } from '../../../collector/src/cli/client-commands.ts'
import { startServer } from '../../helpers/server.ts'

// `governor deploy` against a listening collector: a pipeline that retries a step sends the
// same deploy (same --id) twice, and must be told the second time that nothing new was recorded.

let app: FastifyInstance
let url: string
beforeAll(async () => {
  ;({ app, url } = await startServer({ controllerTickMillis: 0, impactIntervalMillis: 0 }))
})
afterAll(async () => {
  await app?.close()
})

async function governor(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '',
    stderr = ''
  const code = await runClientCommand(
    [args[0]!, '--url', url, ...args.slice(1)],
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

describe('governor deploy', () => {
  it('prints "recorded" for a new deploy and "already recorded" when the same id comes again', async () => {
    const args = ['deploy', '--service', 'api', '--version', '1.4.2', '--actor', 'ci', '--id', 'pipeline-77']
    const first = await governor(...args)
    expect(first).toEqual({
      code: EXIT.OK,
      stderr: '',
      stdout: 'recorded deploy api 1.4.2 to production (id pipeline-77)\n',
    })
    const again = await governor(...args)
    expect(again).toEqual({
      code: EXIT.OK,
      stderr: '',
      stdout: 'already recorded: deploy api 1.4.2 to production (id pipeline-77)\n',
    })
  })

  it('is told by the API with 200 and "created": false', async () => {
    const body = { service: 'web', version: '2', actor: 'ci', id: 'pipeline-78' }
    const first = await app.inject({ method: 'POST', url: '/api/v1/deploys', payload: body })
    expect([first.statusCode, first.json().created]).toEqual([201, true])
    const again = await app.inject({ method: 'POST', url: '/api/v1/deploys', payload: body })
    expect([again.statusCode, again.json().created]).toEqual([200, false])
  })
})
