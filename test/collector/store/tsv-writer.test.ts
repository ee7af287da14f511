import { describe, expect, it } from 'vitest'
import { TsvWriter } from '../../../collector/src/store/tsv-writer.ts'

function written(f: (w: TsvWriter) => void, initial = 4): string {
  const w = new TsvWriter(initial)
  f(w)
  return w.bytes().toString('latin1')
}

describe('TsvWriter', () => {
  it.each([0, 7, 10, 99, 1_700_000_000_123, Number.MAX_SAFE_INTEGER, -1, -1_234_567])(
    'writes the integer %d as String() does',
    (n) => {
      expect(written((w) => w.int(n))).toBe(String(n))
    },
  )

  it.each([0, 1.5, -2.25, 0.1 + 0.2, 1e21, 1e-7, -0, 123456789.125, 2 ** 60])(
    'writes the float %d in a form that parses back to the same number',
    (v) => {
      const text = written((w) => w.float(v))
      expect(Number(text)).toBe(v)
    },
  )

  it('writes non-finite floats as ClickHouse spells them', () => {
    expect(
      written((w) => {
        w.float(NaN)
        w.byte(9)
        w.float(Infinity)
        w.byte(9)
        w.float(-Infinity)
      }),
    ).toBe('nan\tinf\t-inf')
  })

  it('grows past its first buffer without losing bytes', () => {
    const out = written((w) => {
      for (let i = 0; i < 1000; i++) {
        w.raw(Buffer.from('ab'))
        w.int(i)
        w.byte(10)
      }
    }, 1)
    const lines = out.split('\n')
    expect(lines).toHaveLength(1001)
    expect(lines[999]).toBe('ab999')
  })
})

describe('encodeSamples', () => {
  it('writes each row as the plain template would, timestamps repeated or not, within a batch and across batches', async () => {
    const { encodeSamples } = await import('../../../collector/src/store/encode-tsv.ts')
    const { PointBatch } = await import('../../../collector/src/model/batch.ts')
    const series = [11n, 1234567890123456789n].map((id) => ({
      id,
      metric: 'm',
      type: 'gauge' as const,
      temporality: 'unspecified' as const,
      monotonic: false,
      unit: '',
      description: '',
      service: 's',
      scope: '',
      resource: {},
      attributes: {},
    }))
    const a = new PointBatch(),
      b = new PointBatch()
    const rows: string[] = []
    const times = [1_700_000_000_000, 1_700_000_000_000, 1_700_000_000_000, 5, 5, 1_700_000_010_000, 1_700_000_000_000]
    times.forEach((ts, i) => {
      const s = series[i % 2]!
      const batch = i < 4 ? a : b // the repeat carries over from one batch to the next
      batch.samples.push(s, ts, i === 3 ? 42 : 0, i % 2, i + 0.5)
      rows.push(`${s.id}\t${ts}\t${i === 3 ? 42 : 0}\t${i % 2}\t${i + 0.5}\n`)
    })
    for (let k = 0; k < 3000; k++) {
      // a long run of one time
      b.samples.push(series[0]!, 1_700_000_020_000, 0, 0, k)
      rows.push(`11\t1700000020000\t0\t0\t${k}\n`)
    }
    expect(encodeSamples([a, b])!.toString()).toBe(rows.join(''))
  })
})
