/**
 * A FIFO queue on a circular array that doubles when full: push and shift are O(1) with no
 * copying (`Array.prototype.shift` moves every element), and slots are cleared on shift so
 * that finished tasks can be collected.
 *
 *   [ . . c d e . . . ]    head = 2, length = 3: shift() returns c, push(f) writes at 5
 */
export class RingQueue<T> {
  #items: (T | undefined)[] = new Array(16)
  #head = 0
  #length = 0

  get length(): number {
    return this.#length
  }

  push(item: T): void {
    if (this.#length === this.#items.length) this.#grow()
    this.#items[(this.#head + this.#length) & (this.#items.length - 1)] = item
    this.#length++
  }

  /** The oldest item, removed; undefined when empty. */
  shift(): T | undefined {
    if (this.#length === 0) return undefined
    const item = this.#items[this.#head]
    this.#items[this.#head] = undefined
    this.#head = (this.#head + 1) & (this.#items.length - 1)
    this.#length--
    return item
  }

  #grow(): void {
    const old = this.#items
    const items: (T | undefined)[] = new Array(old.length * 2)
    for (let i = 0; i < this.#length; i++) items[i] = old[(this.#head + i) & (old.length - 1)]
    this.#items = items
    this.#head = 0
  }
}
