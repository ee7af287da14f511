/** A job as the producer enqueues it. */
export interface Job {
  id: number
  /** When it was enqueued, ms (the clock the queue was given). */
  enqueuedAt: number
}

/**
 * An in-memory FIFO queue standing in for a broker (a Kafka partition, an SQS queue): the
 * producer pushes, the consumer takes the oldest. Its lag, the age of the oldest job still
 * waiting, is what the queue-lag SLO watches; it grows whenever jobs arrive faster than the
 * workers finish them.
 */
export class JobQueue {
  // A head cursor instead of shift(): taking a job is O(1); the array is compacted once the
  // consumed prefix is half of it, so memory stays bounded by the jobs waiting.
  #jobs: Job[] = []
  #head = 0
  #nextId = 1
  readonly #now: () => number

  /** `now`: the clock of enqueue times and lag (ms). */
  constructor(now: () => number = () => performance.now()) {
    this.#now = now
  }

  /** Jobs waiting. */
  get length(): number {
    return this.#jobs.length - this.#head
  }

  /** Age of the oldest waiting job, ms; 0 when none waits. */
  lagMillis(): number {
    const oldest = this.#jobs[this.#head]
    return oldest === undefined ? 0 : Math.max(0, this.#now() - oldest.enqueuedAt)
  }

  /** Enqueues a new job, stamped now. */
  push(): Job {
    const job = { id: this.#nextId++, enqueuedAt: this.#now() }
    this.#jobs.push(job)
    return job
  }

  /** The oldest waiting job, removed; undefined when none waits. */
  take(): Job | undefined {
    const job = this.#jobs[this.#head]
    if (job === undefined) return undefined
    this.#head++
    if (this.#head >= 1024 && this.#head * 2 >= this.#jobs.length) {
      this.#jobs = this.#jobs.slice(this.#head)
      this.#head = 0
    }
    return job
  }
}
