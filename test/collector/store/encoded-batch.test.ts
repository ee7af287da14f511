import { describe, expect, it } from 'vitest'
import { COMMIT_TABLES, JoinArena, joinChunks } from '../../../collector/src/store/encoded-batch.ts'

const chunks = (...texts: (string | undefined)[]) => ({
  chunks: COMMIT_TABLES.map((_, t) => (texts[t] === undefined ? undefined : Buffer.from(texts[t]!))),
})

describe('joinChunks', () => {
  const batches = [chunks('s1\n', 'a\n', undefined), chunks(undefined, 'b\nc\n', 'h\n'), chunks('s2\n', '', 'i\n')]

  it('joins each table in batch order, undefined where no batch has rows', () => {
    const joined = joinChunks(batches)
    expect(joined.map((b) => b?.toString())).toEqual(
      COMMIT_TABLES.map((_, t) => ['s1\ns2\n', 'a\nb\nc\n', 'h\ni\n'][t]),
    )
  })

  it('writes the same bytes into an arena', () => {
    const arena = new JoinArena()
    expect(joinChunks(batches, arena).map((b) => b?.toString())).toEqual(joinChunks(batches).map((b) => b?.toString()))
  })
})

describe('JoinArena', () => {
  it("reuses a table's memory from one take to the next, and keeps the tables apart", () => {
    const arena = new JoinArena(1024)
    const first = arena.take(0, 100).fill(1)
    const other = arena.take(1, 100).fill(2)
    const again = arena.take(0, 50)
    expect(again.buffer).toBe(first.buffer)
    expect(again.byteOffset).toBe(first.byteOffset)
    expect(other.buffer).not.toBe(first.buffer)
    expect(again.length).toBe(50)
    expect([...again].every((b) => b === 1)).toBe(true)
  })

  it('grows when a take needs more than it keeps', () => {
    const arena = new JoinArena(1024)
    const small = arena.take(0, 10)
    const large = arena.take(0, 600)
    expect(large.length).toBe(600)
    expect(large.buffer).not.toBe(small.buffer)
    expect(arena.take(0, 600).buffer).toBe(large.buffer)
  })

  it('gives a take larger than it may keep memory of its own, not kept', () => {
    const arena = new JoinArena(1024)
    const kept = arena.take(0, 100)
    const huge = arena.take(0, 4096)
    expect(huge.length).toBe(4096)
    expect(huge.buffer).not.toBe(kept.buffer)
    expect(arena.take(0, 100).buffer).toBe(kept.buffer)
  })
})
