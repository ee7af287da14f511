/**
 * The server of the simulation: a fixed number of slots (a worker pool, a connection pool to a
 * database) in front of one FIFO queue. Admitted jobs start at once on a free slot or wait;
 * the caller draws each job's service time when it starts and tells the server when it ends.
 * It keeps no clock of its own: the caller passes the time to `advance` so that it can
 * integrate the busy slots (the utilisation).
 *
 *   arrive ─▶ [ queue (FIFO) ] ─▶ [ slot × N ] ─▶ finish
 *
 * Jobs whose client has given up are still served (a server rarely knows): that wasted work is
 * what makes goodput collapse without a limiter.
 */
export class Server<J> {
  #slots: number
  #busy = 0
  // A FIFO as an array and a head cursor: shift() would be O(n) per job.
  #queue: J[] = []
  #head = 0
  #busyMillis = 0
  #last = 0

  /** A server with `slots` slots (a whole number above 0). */
  constructor(slots: number) {
    if (!(Number.isInteger(slots) && slots > 0))
      throw new RangeError(`a server needs whole slots above 0; got ${slots}`)
    this.#slots = slots
  }

  /** Slots now. */
  get slots(): number {
    return this.#slots
  }

  /** Jobs in service. */
  get busy(): number {
    return this.#busy
  }

  /** Jobs waiting. */
  get queued(): number {
    return this.#queue.length - this.#head
  }

  /** Slot-milliseconds spent serving so far (up to the last `advance`). */
  get busyMillis(): number {
    return this.#busyMillis
  }

  /** Moves the server's time to `now`, adding the busy slots × elapsed time to `busyMillis`. */
  advance(now: number): void {
    this.#busyMillis += this.#busy * (now - this.#last)
    this.#last = now
  }

  /** A job arrives: true when it starts now (a slot was free), false when it waits in the queue. */
  arrive(job: J): boolean {
    if (this.#busy < this.#slots) {
      this.#busy++
      return true
    }
    this.#queue.push(job)
    return false
  }

  /**
   * A job in service ended: its slot frees, and the next waiting job, if any and if the
   * slots allow, starts on it and is returned.
   */
  finish(): J | undefined {
    this.#busy--
    return this.next()
  }

  /** The job waiting longest, left in the queue; undefined when none waits. */
  oldest(): J | undefined {
    return this.#head === this.#queue.length ? undefined : this.#queue[this.#head]
  }

  /** Starts and returns the next waiting job when a slot is free (after `setSlots` grew the server). */
  next(): J | undefined {
    if (this.#busy >= this.#slots || this.#head === this.#queue.length) return undefined
    const job = this.#queue[this.#head]!
    this.#queue[this.#head++] = undefined as J // let the job be collected
    if (this.#head > 4096 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head) // compact now and then: amortised O(1) per job
      this.#head = 0
    }
    this.#busy++
    return job
  }

  /**
   * Changes the slots (capacity halved, restored). Fewer slots: jobs in service finish, no new
   * one starts until the busy slots are under the new count. More: call `next` until it returns
   * undefined to start the waiting jobs.
   */
  setSlots(slots: number): void {
    if (!(Number.isInteger(slots) && slots > 0))
      throw new RangeError(`a server needs whole slots above 0; got ${slots}`)
    this.#slots = slots
  }
}
