import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { ThrottleError } from '../../throttle/src/errors.ts'
import { createMemoryClient } from '../../throttle/src/memory-client.ts'
import { readStateFile, stateFileText, StateFileWriter } from '../../throttle/src/state-file.ts'

const dir = () => mkdtempSync(join(tmpdir(), 'throttle-state-'))
const info = {
  mode: 'manual' as const,
  version: 3,
  changeId: 'c-3',
  changedBy: 'alice',
  reason: 'load',
  changedAt: '2026-01-01T00:00:00.000Z',
}

describe('the state file', () => {
  it('round-trips the last known good values with the change that produced them', () => {
    const path = join(dir(), 'knobs.json')
    writeFileSync(
      path,
      stateFileText(
        'checkout',
        new Map([
          ['workers', { value: 40, info }],
          ['mode', { value: 'dark', info }],
        ]),
        new Date(),
      ),
    )
    const { knobs, error } = readStateFile(path, 'checkout')
    expect(error).toBeUndefined()
    expect(knobs.get('workers')).toEqual({ value: 40, info })
    expect(knobs.get('mode')!.value).toBe('dark')
  })

  it("reads a missing file as empty, and a corrupted one or another service's as empty with an error", () => {
    const d = dir()
    expect(readStateFile(join(d, 'none.json'), 'checkout')).toEqual({ knobs: new Map() })
    writeFileSync(join(d, 'half.json'), '{"format": "governor.throttle.state/1", "serv')
    const half = readStateFile(join(d, 'half.json'), 'checkout')
    expect(half.knobs.size).toBe(0)
    expect(half.error?.code).toBe('THROTTLE_ERR_STATE_FILE_CORRUPT')
    writeFileSync(join(d, 'other.json'), stateFileText('cart', new Map([['workers', { value: 40, info }]]), new Date()))
    expect(readStateFile(join(d, 'other.json'), 'checkout').error?.message).toMatch(
      /holds the knobs of service "cart", not "checkout"/,
    )
    writeFileSync(
      join(d, 'bad-value.json'),
      JSON.stringify({ format: 'governor.throttle.state/1', service: 'checkout', knobs: { w: { value: null } } }),
    )
    expect(readStateFile(join(d, 'bad-value.json'), 'checkout').error?.code).toBe('THROTTLE_ERR_STATE_FILE_CORRUPT')
  })

  it('writes through a temporary file renamed over the old one, coalescing writes asked for meanwhile', async () => {
    const d = dir()
    const path = join(d, 'sub', 'knobs.json')
    let n = 0
    const writer = new StateFileWriter(
      path,
      () => `{"n": ${++n}}`,
      (e) => {
        throw e
      },
    )
    for (let i = 0; i < 10; i++) writer.schedule()
    await writer.flush()
    expect(n).toBeLessThanOrEqual(2) // the first write, then one for the nine asked for meanwhile
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({ n })
    expect(readdirSync(join(d, 'sub'))).toEqual(['knobs.json']) // no temporary file left behind
  })

  it('reports a write that fails, and leaves no temporary file', async () => {
    const d = dir()
    writeFileSync(join(d, 'file'), 'x')
    const errors: ThrottleError[] = []
    const writer = new StateFileWriter(
      join(d, 'file', 'knobs.json'),
      () => '{}',
      (e) => errors.push(e),
    )
    writer.schedule()
    await writer.flush()
    expect(errors.map((e) => e.code)).toEqual(['THROTTLE_ERR_STATE_FILE_WRITE'])
    expect(readdirSync(d)).toEqual(['file'])
  })

  it('starts a client on the stored values that still fit, reporting a corrupted file and ignoring it', async () => {
    const d = dir()
    const path = join(d, 'knobs.json')
    writeFileSync(
      path,
      stateFileText(
        'checkout',
        new Map([
          ['workers', { value: 40, info }],
          ['batch', { value: 5000, info }],
        ]),
        new Date(),
      ),
    )
    const client = createMemoryClient({ service: 'checkout', stateFile: path })
    const workers = client.knob('workers', { type: 'int', default: 20, min: 1, max: 200 })
    const batch = client.knob('batch', { type: 'int', default: 100, min: 1, max: 1000 }) // 5000 no longer fits
    expect(workers.value).toBe(40)
    expect(workers.info).toMatchObject({ source: 'state-file', changeId: 'c-3', changedBy: 'alice' })
    expect(batch.value).toBe(100)
    writeFileSync(path, 'garbage')
    const errors: ThrottleError[] = []
    const again = createMemoryClient({ service: 'checkout', stateFile: path, onError: (e) => errors.push(e) })
    expect(again.knob('workers', { type: 'int', default: 20, min: 1, max: 200 }).value).toBe(20)
    await new Promise((r) => setImmediate(r))
    expect(errors.map((e) => e.code)).toEqual(['THROTTLE_ERR_STATE_FILE_CORRUPT'])
  })
})
