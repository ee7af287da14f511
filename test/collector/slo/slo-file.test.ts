import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../../collector/src/app.ts'
import { isGovernorError } from '../../../collector/src/errors.ts'
import { applySloFile, loadSloFile } from '../../../collector/src/slo/index.ts'
import { testSettings } from '../../helpers/settings.ts'
import { api } from './seed.ts'

const dir = mkdtempSync(join(tmpdir(), 'governor-slo-file-'))
function file(name: string, text: string): string {
  const path = join(dir, name)
  writeFileSync(path, text)
  return path
}

const GOOD = `# the SLOs of the shop, reviewed like code
slos:
  - service: checkout
    name: latency
    sli: { type: latency, metric: http.server.request.duration, percentile: 99, threshold_ms: 300 }
    objective: 99.9
    window: 30d
    reason: agreed in the SLO review of March
  - service: checkout
    name: errors
    sli:
      type: error_ratio
      metric: http.server.request.duration
      errors: { http.response.status_code: 5xx }
    objective: 99.95
    window: 7d
`

function refusal(path: string): string {
  try {
    loadSloFile(path)
  } catch (err) {
    expect(isGovernorError(err) && err.code).toBe('GOV_ERR_SETTINGS_INVALID')
    return (err as Error).message
  }
  throw new Error('expected the file to be refused')
}

describe('loadSloFile', () => {
  it('reads a list under slos:, and a list at the top level', () => {
    expect(
      loadSloFile(file('good.yaml', GOOD)).map((s) => [s.service, s.name, s.definition.objective, s.reason]),
    ).toEqual([
      ['checkout', 'latency', 99.9, 'agreed in the SLO review of March'],
      ['checkout', 'errors', 99.95, `applied from ${join(dir, 'good.yaml')}`],
    ])
    expect(
      loadSloFile(
        file(
          'list.yaml',
          '- {service: a, name: b, sli: {type: gauge_max, metric: q, max: 5}, objective: 99, window: 1h}\n',
        ),
      ),
    ).toHaveLength(1)
    expect(loadSloFile(file('empty.yaml', '# nothing yet\n'))).toEqual([])
  })

  it('names the file, the entry and every problem', () => {
    const path = file('bad.yaml', GOOD.replace('objective: 99.95', 'objective: 1.5\n    owner: bob'))
    expect(refusal(path)).toBe(
      `GOVERNOR_SLO_FILE ${path}: slos[1] (checkout/errors): unknown field owner (fields: sli, objective, window, description, actor, reason)`,
    )
    const twice = file('twice.yaml', GOOD.replace('name: errors', 'name: latency'))
    expect(refusal(twice)).toBe(`GOVERNOR_SLO_FILE ${twice}: slos[1] (checkout/latency): defined twice`)
    const yaml = file('broken.yaml', 'slos: [\n')
    expect(refusal(yaml)).toMatch(new RegExp(`^GOVERNOR_SLO_FILE ${yaml}: `))
    expect(refusal(join(dir, 'missing.yaml'))).toMatch(/ENOENT/)
  })

  it('stops the start before the store opens', async () => {
    const path = file(
      'bad-start.yaml',
      'slos:\n  - service: checkout\n    name: x\n    objective: 99\n    window: 30d\n    sli: {type: latency}\n',
    )
    await expect(buildApp(testSettings({ sloFile: path }), { logger: false })).rejects.toThrow(
      /slos\[0\] \(checkout\/x\): sli\.metric must be a metric name/,
    )
  })
})

describe('GOVERNOR_SLO_FILE at start', () => {
  let app: FastifyInstance
  const path = file('start.yaml', GOOD)
  beforeAll(async () => {
    app = await buildApp(testSettings({ sloFile: path, controllerTickMillis: 0, impactIntervalMillis: 0 }), {
      logger: false,
    })
  })
  afterAll(async () => {
    await app?.close()
  })

  it('applies the file as changes by actor file:<path>', async () => {
    const { body } = await api(app, 'GET', '/slos?service=checkout')
    expect(body.slos.map((s: Record<string, unknown>) => [s.name, s.version, s.changed_by, s.reason])).toEqual([
      ['errors', 1, `file:${path}`, `applied from ${path}`],
      ['latency', 1, `file:${path}`, 'agreed in the SLO review of March'],
    ])
    expect((await api(app, 'GET', '/events?kind=slo')).body.events).toHaveLength(2)
  })

  it('changes nothing when the same definitions are applied again, and records what a new version of the file changes', async () => {
    expect(await applySloFile(app.governor.slos, path, loadSloFile(path))).toEqual({ changed: 0 })
    expect((await api(app, 'GET', '/events?kind=slo')).body.events).toHaveLength(2)
    writeFileSync(path, GOOD.replace('objective: 99.95', 'objective: 99.9'))
    expect(await applySloFile(app.governor.slos, path, loadSloFile(path))).toEqual({ changed: 1 })
    const events = (await api(app, 'GET', '/events?kind=slo')).body.events
    expect(events).toHaveLength(3)
    expect(events[0]).toMatchObject({
      actor: `file:${path}`,
      title: `file:${path} changed SLO checkout/errors: objective 99.95 → 99.9`,
    })
  })
})
