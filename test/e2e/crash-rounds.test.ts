import type { ChildProcess } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { gaugeRequest } from '../helpers/otlp.ts'
import { spawnServer } from '../helpers/server.ts'
import { seeded } from '../helpers/random.ts'

// Ten crashes in a row on one data directory. Each round starts the real `governor` process,
// runs writers of three kinds as fast as they are answered (OTLP points; changes of two knobs
// declared once in the first round; change-log events with ids of their own), kills the
// process with SIGKILL at a random moment, and the next start must hold every write any
// earlier round had acknowledged: each point, each knob version with its value (in the
// knob's history; a version number acknowledged once is never given again), each event.
// The moments come from a seeded generator: GOVERNOR_CRASH_SEED=<seed> replays a run.

const ROUNDS = 10
const POINT_WRITERS = 4
const POINTS_PER_REQUEST = 50
const KNOBS = ['alpha', 'beta']
const WRITERS_PER_KNOB = 2
const EVENT_WRITERS = 2
const SEED = Number(process.env.GOVERNOR_CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31))

const children: ChildProcess[] = []
afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL')
})
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const json = { 'content-type': 'application/json' }

/** Everything any round had acknowledged. */
const acked = {
  points: new Map<string, number[]>(), // `${round}/${writer}` → timestamps
  knobs: new Map<string, Map<number, number>>(KNOBS.map((k) => [k, new Map()])), // knob → version → value
  events: new Map<number, string[]>(), // round → ids
}
const base = Date.now() - 3_600_000

/** What the store lacks of the acknowledged writes, as readable lines (empty: nothing). */
async function missing(url: string): Promise<string[]> {
  const problems: string[] = []
  const q = new URLSearchParams({
    metric: 'crash.rounds',
    service: 'crash',
    from: String(base),
    to: String(base + 10_000_000),
  })
  const res = (await (await fetch(`${url}/api/v1/query?${q}`)).json()) as {
    series: { labels: Record<string, string>; points: number[][] }[]
  }
  const stored = new Map(
    res.series.map((s) => [`${s.labels.round}/${s.labels.writer}`, new Set(s.points.map((p) => p[0]))]),
  )
  for (const [key, ts] of acked.points) {
    const have = stored.get(key) ?? new Set()
    const lost = ts.filter((t) => !have.has(t))
    if (lost.length > 0)
      problems.push(`points of round/writer ${key}: ${lost.length} of ${ts.length} acknowledged are missing`)
  }
  for (const [name, versions] of acked.knobs) {
    const knob = (await (await fetch(`${url}/api/v1/knobs/crash/${name}`)).json()) as {
      history: { version: number; value: number }[]
    }
    const history = new Map(knob.history.map((h) => [h.version, h.value]))
    for (const [version, value] of versions) {
      if (history.get(version) !== value)
        problems.push(
          `knob ${name} version ${version}: acknowledged value ${value}, history has ${history.get(version)}`,
        )
    }
  }
  for (const [round, ids] of acked.events) {
    const list = (await (await fetch(`${url}/api/v1/events?service=crash-events-${round}&limit=1000`)).json()) as {
      events: { id: string }[]
    }
    const have = new Set(list.events.map((e) => e.id))
    const lost = ids.filter((id) => !have.has(id))
    if (lost.length > 0)
      problems.push(
        `events of round ${round}: ${lost.length} of ${ids.length} acknowledged are missing (${lost.slice(0, 3).join(', ')}…)`,
      )
  }
  return problems
}

describe('crash safety, round after round', () => {
  it(`keeps every acknowledged point, knob version and event across ${ROUNDS} SIGKILLs`, async () => {
    const random = seeded(SEED)
    const dataDir = mkdtempSync(join(tmpdir(), 'governor-crash-rounds-'))
    const env = {
      GOVERNOR_DATA_DIR: dataDir,
      GOVERNOR_FLUSH_INTERVAL_MILLIS: '20',
      GOVERNOR_IMPACT_INTERVAL_MILLIS: '0',
    }
    const log: string[] = [`crash rounds: seed ${SEED} (GOVERNOR_CRASH_SEED=${SEED} replays it)`]
    let survived = 0
    let inFlightAtKills = 0
    const failures: string[] = []

    for (let round = 1; round <= ROUNDS + 1; round++) {
      const server = await spawnServer(env)
      children.push(server.child)
      if (round > 1) {
        const problems = await missing(server.url)
        if (problems.length > 0) {
          failures.push(`after crash ${round - 1}: ${problems.join('; ')}`)
          break
        }
        survived++
      }
      if (round > ROUNDS) {
        server.child.kill('SIGTERM')
        break
      }
      if (round === 1) {
        for (const name of KNOBS) {
          const res = await fetch(`${server.url}/api/v1/knobs/crash/${name}`, {
            method: 'PUT',
            headers: json,
            body: JSON.stringify({ type: 'int', default: 0, min: 0, max: 1_000_000_000 }),
          })
          expect(res.status).toBe(201)
        }
      }

      let killed = false
      const inFlight = { points: 0, knobs: 0, events: 0 }
      const count = { points: 0, knobs: 0, events: 0 }
      /** Runs `send` until the kill; `send` resolves true when its write was acknowledged. */
      const writer = async (kind: keyof typeof inFlight, send: (i: number) => Promise<boolean>) => {
        for (let i = 0; !killed; i++) {
          inFlight[kind]++
          try {
            if (await send(i)) count[kind]++
          } catch {
            /* the connection died with the process */
          } finally {
            inFlight[kind]--
          }
        }
      }
      const pointWriter = (w: number) => {
        const ts: number[] = []
        acked.points.set(`${round}/${w}`, ts)
        return writer('points', async (i) => {
          const points = Array.from({ length: POINTS_PER_REQUEST }, (_, j) => ({
            ts: base + i * POINTS_PER_REQUEST + j,
            value: round * 1000 + j,
            attrs: { round: String(round), writer: String(w) },
          }))
          const res = await fetch(`${server.url}/v1/metrics`, {
            method: 'POST',
            headers: json,
            body: JSON.stringify(gaugeRequest('crash', { 'crash.rounds': points })),
          })
          await res.arrayBuffer()
          if (res.status !== 200) return false
          ts.push(...points.map((p) => p.ts))
          return true
        })
      }
      const knobWriter = (name: string, w: number) =>
        writer('knobs', async (i) => {
          const value = round * 1_000_000 + w * 100_000 + i // distinct across rounds and writers
          const res = await fetch(`${server.url}/api/v1/knobs/crash/${name}/value`, {
            method: 'POST',
            headers: json,
            body: JSON.stringify({ value, actor: `writer-${w}`, reason: `round ${round}` }),
          })
          const body = (await res.json()) as { version: number; value: number }
          await sleep(20) // keeps each knob's history under the 1000 versions one GET shows
          if (res.status !== 200) return false
          const versions = acked.knobs.get(name)!
          if (versions.has(body.version))
            failures.push(
              `knob ${name}: version ${body.version} acknowledged twice (${versions.get(body.version)} and ${body.value})`,
            )
          versions.set(body.version, body.value)
          return true
        })
      const ids: string[] = []
      acked.events.set(round, ids)
      const eventWriter = (w: number) =>
        writer('events', async (i) => {
          const id = `r${round}-w${w}-${i}`
          const res = await fetch(`${server.url}/api/v1/events`, {
            method: 'POST',
            headers: json,
            body: JSON.stringify({
              id,
              kind: 'note',
              title: `note ${id}`,
              actor: 'crash-test',
              service: `crash-events-${round}`,
            }),
          })
          await res.arrayBuffer()
          if (res.status !== 201) return false
          ids.push(id)
          return true
        })
      const running = [
        ...Array.from({ length: POINT_WRITERS }, (_, w) => pointWriter(w)),
        ...KNOBS.flatMap((name, k) =>
          Array.from({ length: WRITERS_PER_KNOB }, (_, w) => knobWriter(name, k * WRITERS_PER_KNOB + w)),
        ),
        ...Array.from({ length: EVENT_WRITERS }, (_, w) => eventWriter(w)),
      ]
      const killAfter = 300 + Math.floor(random() * 1200)
      await sleep(killAfter)
      // At a random moment, but not before every kind of write was acknowledged once: on a
      // busy machine the first answers can take longer than the random delay.
      while (count.points === 0 || count.knobs === 0 || count.events === 0) await sleep(20)
      const atKill = { ...inFlight }
      killed = true
      server.child.kill('SIGKILL')
      await Promise.all(running)
      inFlightAtKills += atKill.points + atKill.knobs + atKill.events
      log.push(
        `round ${round}: SIGKILL after ${killAfter} ms; acknowledged ${count.points} point requests, ${count.knobs} knob changes, ${count.events} events; in flight at the kill: ${atKill.points} / ${atKill.knobs} / ${atKill.events}`,
      )
      expect(
        count.points * count.knobs * count.events,
        `round ${round} acknowledged writes of every kind`,
      ).toBeGreaterThan(0)
    }
    log.push(`crash rounds survived: ${survived} of ${ROUNDS}${failures.length > 0 ? `; ${failures.join('; ')}` : ''}`)
    console.log(log.join('\n'))
    expect(failures).toEqual([])
    expect(survived).toBe(ROUNDS)
    expect(inFlightAtKills).toBeGreaterThan(0)
  }, 600_000) // ten starts of a spawned server: minutes on a busy machine
})
