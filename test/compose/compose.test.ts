import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { loadTokens } from '../../collector/src/auth/tokens.ts'
import { loadSettings, SETTINGS } from '../../collector/src/settings.ts'
import {
  addressesIn,
  checkAddresses,
  checkCompose,
  checkDependsOn,
  checkImagesPinned,
  checkMounts,
  containerPorts,
  environmentOf,
  imageProblem,
  interpolate,
  parseCompose,
  type ComposeFile,
} from '../helpers/compose-check.ts'

// docker-compose.yml, checked without Docker: valid, pinned, its mounts present, its
// services wired to each other's names and ports; and the checks themselves catch what
// they are for.

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const compose = parseCompose(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'))

describe('docker-compose.yml', () => {
  it('has no problem', () => {
    expect(checkCompose(compose, ROOT)).toEqual([])
  })

  it('runs the stack: ClickHouse, Governor, Grafana, Prometheus and the demo app', () => {
    expect(Object.keys(compose.services).sort()).toEqual([
      'clickhouse',
      'demo-app',
      'governor',
      'grafana',
      'prometheus',
    ])
  })

  it('points Governor at the ClickHouse server, with tokens since it listens on every address', () => {
    const env = compose.services.governor!.environment as Record<string, string>
    expect(env.GOVERNOR_CLICKHOUSE_URL).toBe('http://clickhouse:8123')
    expect(env.GOVERNOR_HOST).toBe('0.0.0.0')
    expect(env.GOVERNOR_TOKENS).toMatch(/demo-app=ingest\+deploy:/)
  })

  it('installs the ClickHouse plugin at a pinned version and provisions the generated dashboards', () => {
    const grafana = compose.services.grafana!
    expect((grafana.environment as Record<string, string>).GF_INSTALL_PLUGINS).toMatch(
      /^grafana-clickhouse-datasource \d+\.\d+\.\d+$/,
    )
    const provisioning = parse(
      readFileSync(join(ROOT, 'dashboards/provisioning/dashboards/governor.yaml'), 'utf8'),
    ) as { providers: { options: { path: string } }[] }
    const dashboardsDir = provisioning.providers[0]!.options.path
    expect(grafana.volumes).toContain(`./dashboards/generated:${dashboardsDir}:ro`)
  })

  it('sets only settings Governor knows, with values it accepts (placeholders and an .env alike)', () => {
    const known = new Set(Object.values(SETTINGS).map((s) => s.env))
    for (const env of [
      {},
      { DEMO_APP_TOKEN: 'a'.repeat(24), PROMETHEUS_TOKEN: 'b'.repeat(24), OPS_TOKEN: 'c'.repeat(24) },
    ]) {
      const governor = environmentOf(compose.services.governor!, env)
      for (const name of Object.keys(governor)) expect(known, name).toContain(name)
      const settings = loadSettings({}, governor)
      expect(loadTokens(settings).map((t) => [t.name, [...t.roles].sort().join('+')])).toEqual([
        ['demo-app', 'deploy+ingest'],
        ['prometheus', 'ingest+read'],
        ['ops', 'deploy+operate+read'],
      ])
    }
  })

  it('gives the demo app and Prometheus the tokens Governor knows them by', () => {
    const tokens = loadTokens(loadSettings({}, environmentOf(compose.services.governor!)))
    const hashOf = (name: string) => tokens.find((t) => t.name === name)!.hash
    const demoToken = environmentOf(compose.services['demo-app']!).GOVERNOR_TOKEN!
    const promToken = environmentOf(compose.services.prometheus!).PROMETHEUS_TOKEN!
    expect(loadTokens({ tokens: `x=read:${demoToken}`, tokensFile: '' })[0]!.hash).toEqual(hashOf('demo-app'))
    expect(loadTokens({ tokens: `x=read:${promToken}`, tokensFile: '' })[0]!.hash).toEqual(hashOf('prometheus'))
  })
})

describe('compose checks', () => {
  it('interpolate as compose does', () => {
    expect(interpolate('[${X:-d}][${Y-e}][${Z}][$$HOME][${W:-w}]', { X: '', Y: '', W: 'v' })).toBe('[d][][][$HOME][v]')
    expect(() => interpolate('${X:?set X}', {})).toThrow('X: set X')
  })

  it('refuse unpinned images', () => {
    expect(imageProblem('grafana/grafana')).toMatch(/no tag/)
    expect(imageProblem('grafana/grafana:latest')).toMatch(/moving tag/)
    expect(imageProblem('localhost:5000/app')).toMatch(/no tag/)
    expect(imageProblem('grafana/grafana:11.6.0')).toBeUndefined()
    expect(imageProblem(`app@sha256:${'a'.repeat(64)}`)).toBeUndefined()
    expect(checkImagesPinned({ services: { a: { image: 'redis' }, b: { build: '.' } } })).toEqual([
      'a: image redis has no tag: pin a version',
    ])
  })

  it('find missing mounts, undeclared volumes and dangling depends_on', () => {
    const file: ComposeFile = {
      services: {
        a: {
          image: 'x:1',
          volumes: ['./nope.yml:/etc/nope.yml', 'data:/data', './docker-compose.yml:/c.yml'],
          depends_on: ['b', 'c'],
        },
        b: { image: 'x:1', depends_on: { a: { condition: 'service_healthy' } } },
      },
    }
    expect(checkMounts(file, ROOT)).toEqual([
      'a: mounted ./nope.yml does not exist',
      'a: volume data is not declared under volumes',
    ])
    expect(checkDependsOn(file)).toEqual([
      'a: depends_on c, which is no service',
      'b: waits for a to be healthy, but a has no healthcheck',
    ])
  })

  it('find addresses whose port the named service does not expose, in env, commands and mounted files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'compose-check-'))
    writeFileSync(join(dir, 'ds.yaml'), 'datasources:\n  - jsonData: { host: db, port: 9440 }\n')
    writeFileSync(join(dir, 'prom.yml'), "targets: ['api:9999']\n")
    const file: ComposeFile = {
      services: {
        db: { image: 'x:1', expose: ['8123', 9000] },
        api: {
          image: 'x:1',
          ports: ['127.0.0.1:4318:4318/tcp'],
          environment: ['DB=http://db:8123', 'OTHER=http://db'],
        },
        ui: { image: 'x:1', volumes: ['./ds.yaml:/ds.yaml', './prom.yml:/p.yml'], command: 'wait-for db:9000' },
      },
    }
    expect(containerPorts(file.services.api!)).toEqual(new Set([4318]))
    expect(
      addressesIn('http://db:8123/x and db-other:1 and api:4318', new Set(['db', 'api'])).map(
        (a) => `${a.host}:${a.port}`,
      ),
    ).toEqual(['db:8123', 'api:4318'])
    expect(checkAddresses(file, dir)).toEqual([
      'api: environment OTHER reaches http://db but db exposes 8123, 9000',
      'ui: ./ds.yaml reaches db:9440 but db exposes 8123, 9000',
      'ui: ./prom.yml reaches api:9999 but api exposes 4318',
    ])
  })
})
