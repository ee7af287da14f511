import { GovernorError } from '../errors.ts'

/**
 * Bounds the reads of points that run at once (PromQL, the query API, SQL): each holds
 * its rows in memory while it runs, so memory grows with the number running, not with the
 * number asked. Up to `maxRunning` run; up to `maxWaiting` more wait their turn in arrival
 * order; past that a read is refused at once (503, Retry-After) rather than queued.
 *
 * Waiters sit in an array read from a moving head index, not shifted (O(1) per turn); the
 * array is compacted when the head has passed half of it.
 */
export class ReadGate {
  readonly #maxRunning: number
  readonly #maxWaiting: number
  #running = 0
  #queue: (() => void)[] = []
  #head = 0

  constructor(options: { maxRunning: number; maxWaiting: number }) {
    this.#maxRunning = options.maxRunning
    this.#maxWaiting = options.maxWaiting
  }

  /** Reads running now. */
  get running(): number {
    return this.#running
  }

  /** Reads waiting for their turn. */
  get waiting(): number {
    return this.#queue.length - this.#head
  }

  /** Runs `read` when its turn comes; throws GOV_ERR_QUERY_BUSY at once when the queue is full. */
  async run<T>(read: () => Promise<T>): Promise<T> {
    if (this.#running >= this.#maxRunning) {
      if (this.waiting >= this.#maxWaiting) {
        throw new GovernorError(
          'GOV_ERR_QUERY_BUSY',
          `${this.#running} reads are running and ${this.waiting} waiting (GOVERNOR_MAX_CONCURRENT_READS): retry later`,
        )
      }
      await new Promise<void>((resolve) => this.#queue.push(resolve))
    } else {
      this.#running++
    }
    try {
      return await read()
    } finally {
      this.#release()
    }
  }

  #release(): void {
    if (this.#head < this.#queue.length) {
      // The slot passes straight to the next waiter: `running` stays as it is.
      const next = this.#queue[this.#head]!
      this.#head++
      if (this.#head * 2 >= this.#queue.length) {
        this.#queue = this.#queue.slice(this.#head)
        this.#head = 0
      }
      next()
    } else {
      this.#running--
    }
  }
}
