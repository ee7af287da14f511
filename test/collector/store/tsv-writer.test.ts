import { describe, expect, it } from 'vitest'
import { TsvWriter } from '../../../collector/src/store/tsv-writer.ts'

function written(f: (w: TsvWriter) => void, initial = 4): string {
  const w = new TsvWriter(initial)
  f(w)
  return w.bytes().toString('latin1')
}

describe('TsvWriter', () => {
  it.each([0, 7, 10, 99, 1_700_000_000_123, Number.MAX_SAFE_INTEGER, -1, -1_234_567])('writes the integer %d as String() does', (n) => {
    expect(written((w) => w.int(n))).toBe(String(n))
  })

  it.each([0, 1.5, -2.25, 0.1 + 0.2, 1e21, 1e-7, -0, 123456789.125, 2 ** 60])('writes the float %d in a form that parses back to the same number', (v) => {
    const text = written((w) => w.float(v))
    expect(Number(text)).toBe(v)
  })

  it('writes non-finite floats as ClickHouse spells them', () => {
    expect(written((w) => { w.float(NaN); w.byte(9); w.float(Infinity); w.byte(9); w.float(-Infinity) })).toBe('nan\tinf\t-inf')
  })

  it('grows past its first buffer without losing bytes', () => {
    const out = written((w) => { for (let i = 0; i < 1000; i++) { w.raw(Buffer.from('ab')); w.int(i); w.byte(10) } }, 1)
    const lines = out.split('\n')
    expect(lines).toHaveLength(1001)
    expect(lines[999]).toBe('ab999')
  })
})
