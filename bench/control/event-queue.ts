/**
 * The simulator's agenda: events ordered by time, ties broken by the order they were
 * scheduled, so that a run is the same for the same seed whatever the heap's internal layout.
 *
 * A binary min-heap over parallel arrays (times, sequence numbers, payloads): one push and one
 * pop are O(log n), and no wrapper object is allocated per event (the caller reads the time
 * with `peekTime` before `pop`).
 */
export class EventQueue<T> {
  #times: number[] = []
  #seqs: number[] = []
  #items: T[] = []
  #next = 0

  /** Events waiting. */
  get size(): number {
    return this.#items.length
  }

  /** The time of the earliest event, or Infinity when there is none. */
  peekTime(): number {
    return this.#times.length === 0 ? Infinity : this.#times[0]!
  }

  /** Schedules `item` at `time` (ms). Equal times come out in the order they went in. */
  push(time: number, item: T): void {
    if (Number.isNaN(time)) throw new RangeError('an event needs a time; got NaN')
    const times = this.#times,
      seqs = this.#seqs,
      items = this.#items
    let i = items.length
    const seq = this.#next++
    times.push(time)
    seqs.push(seq)
    items.push(item)
    // Sift up: move the hole toward the root while the parent comes later.
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!before(time, seq, times[parent]!, seqs[parent]!)) break
      times[i] = times[parent]!
      seqs[i] = seqs[parent]!
      items[i] = items[parent]!
      i = parent
    }
    times[i] = time
    seqs[i] = seq
    items[i] = item
  }

  /** Removes and returns the earliest event (read its time with `peekTime` first), or undefined when there is none. */
  pop(): T | undefined {
    const times = this.#times,
      seqs = this.#seqs,
      items = this.#items
    const n = items.length
    if (n === 0) return undefined
    const top = items[0]!
    const lastTime = times.pop()!,
      lastSeq = seqs.pop()!,
      lastItem = items.pop()!
    const size = n - 1
    if (size === 0) return top
    // Sift down: the last element takes the root's place and sinks below earlier children.
    let i = 0
    for (;;) {
      const l = 2 * i + 1
      if (l >= size) break
      const r = l + 1
      const c = r < size && before(times[r]!, seqs[r]!, times[l]!, seqs[l]!) ? r : l
      if (!before(times[c]!, seqs[c]!, lastTime, lastSeq)) break
      times[i] = times[c]!
      seqs[i] = seqs[c]!
      items[i] = items[c]!
      i = c
    }
    times[i] = lastTime
    seqs[i] = lastSeq
    items[i] = lastItem
    return top
  }
}

function before(t1: number, s1: number, t2: number, s2: number): boolean {
  return t1 < t2 || (t1 === t2 && s1 < s2)
}
