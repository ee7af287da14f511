/** One Server-Sent Event: its type (`message` when the server names none), data and id. */
export interface SseEvent {
  type: string
  data: string
  /** The last `id:` the stream has set, as `Last-Event-ID` sends it back on reconnect. */
  id: string
}

/**
 * A Server-Sent Events parser as the WHATWG spec reads a stream: lines end in LF, CR or
 * CRLF (a CRLF may be split across chunks), `field: value` lines, `:` comments, a blank line
 * dispatches, `data:` lines join with LF, an `id` holding NUL is ignored, `retry` is digits.
 * Pure: it is fed decoded text and calls back; reading the socket is the caller's.
 */
export class SseParser {
  readonly #onEvent: (event: SseEvent) => void
  readonly #onRetry: (millis: number) => void
  #pending = ''
  #skipLF = false
  #started = false
  #type = ''
  #data = ''
  #lastId = ''

  constructor(onEvent: (event: SseEvent) => void, onRetry: (millis: number) => void = () => {}) {
    this.#onEvent = onEvent
    this.#onRetry = onRetry
  }

  /** The last event id the stream has set. */
  get lastEventId(): string {
    return this.#lastId
  }

  /** Feeds the next piece of decoded text. */
  push(chunk: string): void {
    const n = chunk.length
    let i = 0
    if (!this.#started && n > 0) {
      this.#started = true
      if (chunk.charCodeAt(0) === 0xfeff) i = 1
    }
    if (this.#skipLF && i < n) {
      if (chunk.charCodeAt(i) === 10) i++
      this.#skipLF = false
    }
    let lineStart = i
    for (; i < n; i++) {
      const c = chunk.charCodeAt(i)
      if (c !== 10 && c !== 13) continue
      const line = this.#pending === '' ? chunk.slice(lineStart, i) : this.#pending + chunk.slice(lineStart, i)
      this.#pending = ''
      if (c === 13) {
        if (i + 1 < n) {
          if (chunk.charCodeAt(i + 1) === 10) i++
        } else this.#skipLF = true
      }
      lineStart = i + 1
      this.#line(line)
    }
    if (lineStart < n) this.#pending += chunk.slice(lineStart)
  }

  #line(line: string): void {
    if (line === '') return this.#dispatch()
    if (line.charCodeAt(0) === 58 /* : */) return
    const colon = line.indexOf(':')
    const field = colon < 0 ? line : line.slice(0, colon)
    let value = ''
    if (colon >= 0) value = line.charCodeAt(colon + 1) === 32 ? line.slice(colon + 2) : line.slice(colon + 1)
    switch (field) {
      case 'event':
        this.#type = value
        break
      case 'data':
        this.#data += value + '\n'
        break
      case 'id':
        if (!value.includes('\0')) this.#lastId = value
        break
      case 'retry':
        if (/^\d+$/.test(value)) this.#onRetry(Number(value))
        break
    }
  }

  #dispatch(): void {
    if (this.#data === '') {
      this.#type = ''
      return
    }
    const event: SseEvent = {
      type: this.#type === '' ? 'message' : this.#type,
      data: this.#data.slice(0, -1),
      id: this.#lastId,
    }
    this.#type = ''
    this.#data = ''
    this.#onEvent(event)
  }
}
