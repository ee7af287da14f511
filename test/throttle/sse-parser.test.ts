import { describe, expect, it } from 'vitest'
import { SseParser, type SseEvent } from '../../throttle/src/sse-parser.ts'

function parse(chunks: string[]): { events: SseEvent[]; retries: number[]; lastId: string } {
  const events: SseEvent[] = []
  const retries: number[] = []
  const p = new SseParser(
    (e) => events.push(e),
    (r) => retries.push(r),
  )
  for (const c of chunks) p.push(c)
  return { events, retries, lastId: p.lastEventId }
}

const STREAM =
  'retry: 1000\n\nid: ab.1\nevent: snapshot\ndata: {"knobs":[]}\n\n: heartbeat\n\nid: ab.2\nevent: knob\ndata: {"name":"w","value":40}\n\n'

describe('SseParser', () => {
  it('reads the collector stream: retry, events with ids, comments skipped', () => {
    const { events, retries, lastId } = parse([STREAM])
    expect(retries).toEqual([1000])
    expect(events).toEqual([
      { type: 'snapshot', data: '{"knobs":[]}', id: 'ab.1' },
      { type: 'knob', data: '{"name":"w","value":40}', id: 'ab.2' },
    ])
    expect(lastId).toBe('ab.2')
  })

  it('gives the same events however the stream is cut, one character at a time included', () => {
    const whole = parse([STREAM]).events
    expect(parse(STREAM.split('')).events).toEqual(whole)
    for (let cut = 1; cut < STREAM.length; cut += 7)
      expect(parse([STREAM.slice(0, cut), STREAM.slice(cut)]).events).toEqual(whole)
  })

  it('takes LF, CR and CRLF line ends, a CRLF split across chunks included', () => {
    const crlf = STREAM.replaceAll('\n', '\r\n')
    const cr = STREAM.replaceAll('\n', '\r')
    const whole = parse([STREAM]).events
    expect(parse([crlf]).events).toEqual(whole)
    expect(parse([cr]).events).toEqual(whole)
    const at = crlf.indexOf('\r\n', 20) + 1
    expect(parse([crlf.slice(0, at), crlf.slice(at)]).events).toEqual(whole)
    expect(parse(crlf.split('')).events).toEqual(whole)
  })

  it('joins data lines, keeps ids across events, ignores ids with NUL, names unnamed events message', () => {
    const { events } = parse(['\ufeffdata: a\ndata:b\ndata\n\nid: 7\nevent: x\n\ndata: c\n\nid: bad\0\ndata: d\n\n'])
    expect(events).toEqual([
      { type: 'message', data: 'a\nb\n', id: '' },
      // "event: x" with no data dispatches nothing, and the id stays for the next event.
      { type: 'message', data: 'c', id: '7' },
      { type: 'message', data: 'd', id: '7' },
    ])
  })

  it('decodes a multi-byte character cut between chunks when fed through a streaming TextDecoder', () => {
    const bytes = new TextEncoder().encode('event: knob\ndata: {"value":"café ☕"}\n\n')
    const events: SseEvent[] = []
    const p = new SseParser((e) => events.push(e))
    const decoder = new TextDecoder()
    for (let i = 0; i < bytes.length; i += 3) p.push(decoder.decode(bytes.subarray(i, i + 3), { stream: true }))
    expect(events).toEqual([{ type: 'knob', data: '{"value":"café ☕"}', id: '' }])
  })
})
