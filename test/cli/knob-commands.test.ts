import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { main } from '../../cli/src/governor.ts'
import { valueOf } from '../../cli/src/knob-commands.ts'
import { startServer } from '../helpers/server.ts'

// `governor knobs …` of @governor/cli against a real listening collector (in this process).

let app: FastifyInstance
let url: string

async function governor(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '',
    stderr = ''
  const code = await main(
    argv,
    { GOVERNOR_URL: url },
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

async function declare(name: string, body: Record<string, unknown>): Promise<void> {
  const res = await fetch(`${url}/api/v1/knobs/checkout/${name}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  expect(res.status).toBe(201)
}

beforeAll(async () => {
  ;({ app, url } = await startServer())
  await declare('pool.size', { type: 'int', default: 20, min: 1, max: 200 })
  await declare('result-cache', { type: 'bool', default: true })
  await declare('greeting', { type: 'string', default: 'hi' })
})
afterAll(async () => {
  await app?.close()
})

describe('governor knobs', () => {
  it('sets, pins, unpins and reverts a knob, each change recorded with who and why', async () => {
    expect(
      await governor(
        'knobs',
        'set',
        '--service',
        'checkout',
        'pool.size',
        '40',
        '--actor',
        'alice',
        '--reason',
        'black friday',
      ),
    ).toEqual({ code: 0, stdout: 'checkout pool.size = 40 (manual, v2)\n', stderr: '' })
    expect(
      (await governor('knobs', 'pin', '--service', 'checkout', 'pool.size', '--actor', 'bob', '--reason', 'hold it'))
        .stdout,
    ).toBe('checkout pool.size = 40 (pinned, v3)\n')
    expect(
      (await governor('knobs', 'unpin', '--service', 'checkout', 'pool.size', '--actor', 'bob', '--reason', 'done'))
        .code,
    ).toBe(0)
    expect(
      (
        await governor(
          'knobs',
          'revert',
          '--service',
          'checkout',
          'pool.size',
          '--version',
          '1',
          '--actor',
          'carol',
          '--reason',
          'back',
        )
      ).stdout,
    ).toMatch(/^checkout pool\.size = 20 \(manual, v\d+\)\n$/)
    const got = await governor('knobs', 'get', '--service', 'checkout', 'pool.size', '--json')
    expect(got.code).toBe(0)
    const knob = JSON.parse(got.stdout) as {
      value: number
      changed_by: string
      history: { value: number; changed_by: string; reason: string }[]
    }
    expect(knob.value).toBe(20)
    // Newest first: every change the commands made, with who and why.
    expect(knob.history.map((h) => [h.value, h.changed_by, h.reason]).slice(0, 4)).toEqual([
      [20, 'carol', 'back'],
      [40, 'bob', 'done'],
      [40, 'bob', 'hold it'],
      [40, 'alice', 'black friday'],
    ])
    const listed = await governor('knobs', 'list', '--service', 'checkout')
    expect(listed.stdout.split('\n')).toContain('checkout\tpool.size\t20\tmanual\tv5')
  })

  it('sends the value as the knob\'s type says: true for a bool knob, "40" for a string knob', async () => {
    expect(
      (
        await governor(
          'knobs',
          'set',
          '--service',
          'checkout',
          'result-cache',
          'false',
          '--actor',
          'a',
          '--reason',
          'r',
        )
      ).stdout,
    ).toBe('checkout result-cache = false (manual, v2)\n')
    expect(
      (await governor('knobs', 'set', '--service', 'checkout', 'greeting', '40', '--actor', 'a', '--reason', 'r'))
        .stdout,
    ).toBe('checkout greeting = "40" (manual, v2)\n')
    expect(valueOf('1e3', 'float')).toBe(1000)
    expect(valueOf('', 'int')).toBe('') // left for the server to refuse
  })

  it("exits 1 with the server's message when it refuses: an unknown knob, a value out of bounds", async () => {
    const unknown = await governor('knobs', 'get', '--service', 'checkout', 'nope')
    expect(unknown.code).toBe(1)
    expect(unknown.stderr).toMatch(/^governor: the server answered 404: GOV_ERR_KNOB_NOT_FOUND: /)
    const outOfBounds = await governor(
      'knobs',
      'set',
      '--service',
      'checkout',
      'pool.size',
      '500',
      '--actor',
      'a',
      '--reason',
      'r',
    )
    expect(outOfBounds.code).toBe(1)
    expect(outOfBounds.stderr).toContain('500 is outside the bounds [1, 200]')
  })

  it('exits 2 on a wrong command line, naming what is wrong', async () => {
    const cases: [string[], string][] = [
      [['knobs'], 'knobs needs a command'],
      [['knobs', 'turn'], 'unknown command "knobs turn"'],
      [['knobs', 'set', 'pool.size', '40', '--actor', 'a', '--reason', 'r'], 'knobs set needs --service'],
      [
        ['knobs', 'set', '--service', 'checkout', 'pool.size', '--actor', 'a', '--reason', 'r'],
        'takes a knob name and a value',
      ],
      [['knobs', 'pin', '--service', 'checkout', 'pool.size', '--actor', 'a'], 'knobs pin needs --reason'],
      [['knobs', 'unpin', '--service', 'checkout', 'pool.size', '--reason', 'r'], 'knobs unpin needs --actor'],
      [
        ['knobs', 'revert', '--service', 'checkout', 'pool.size', '--actor', 'a', '--reason', 'r'],
        'knobs revert needs --version N',
      ],
      [
        ['knobs', 'revert', '--service', 'checkout', 'pool.size', '--version', 'x', '--actor', 'a', '--reason', 'r'],
        '--version must be a whole number',
      ],
      [['knobs', 'list', '--colour'], "Unknown option '--colour'"],
      [['frobnicate'], 'unknown command "frobnicate"'],
    ]
    for (const [argv, message] of cases) {
      const r = await governor(...argv)
      expect({ argv, code: r.code }).toEqual({ argv, code: 2 })
      expect(r.stderr).toContain(message)
    }
  })

  it('exits 3 when Governor cannot be reached, and 0 with the usage for --help', async () => {
    let stderr = ''
    const code = await main(
      ['knobs', 'list'],
      { GOVERNOR_URL: 'http://127.0.0.1:9' },
      {
        stdout: () => {},
        stderr: (s) => {
          stderr += s
        },
      },
    )
    expect(code).toBe(3)
    expect(stderr).toContain('cannot reach Governor at http://127.0.0.1:9')
    const help = await governor('knobs', 'set', '--help')
    expect(help.code).toBe(0)
    expect(help.stdout).toContain('knobs revert')
    expect(help.stdout).toContain('4  the deploy gate denied the deploy')
  })
})
