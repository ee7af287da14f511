import { numberOption } from '../check-option.ts'
import { ThrottleError } from '../errors.ts'
import { RingQueue } from './ring-queue.ts'

/** Options of `WorkerPool`. */
export interface WorkerPoolOptions {
  /** Tasks run at once (0 pauses the pool). A knob can move it: `resize`. */
  size: number
  /** Tasks that may wait; one more is rejected with THROTTLE_ERR_QUEUE_FULL. Default 1000. */
  maxQueued?: number
}

interface Queued {
  task: () => unknown
  resolve: (value: unknown) => void
  reject: (reason: unknown) => void
}

/**
 * A pool of `size` concurrent workers for async tasks, resizable live: a larger size starts
 * queued tasks at once; a smaller one lets the running tasks finish and starts no more until
 * fewer than `size` run. Queued tasks start in the order they came. The queue is bounded: a
 * task that finds it full is rejected at once, not buffered.
 *
 * ```ts
 * const pool = new WorkerPool({ size: workers.value, maxQueued: 500 })
 * bindKnob(workers, (n) => pool.resize(n))
 * const result = await pool.run(() => render(job))
 * ```
 */
export class WorkerPool {
  #size: number
  readonly #maxQueued: number
  #running = 0
  readonly #queue = new RingQueue<Queued>()
  #idle: (() => void)[] = []

  constructor(options: WorkerPoolOptions) {
    this.#size = numberOption('WorkerPool', 'size', options.size, NaN, 'nonNegativeInteger')
    this.#maxQueued = numberOption('WorkerPool', 'maxQueued', options.maxQueued, 1000, 'nonNegativeInteger')
  }

  /** Workers: tasks allowed to run at once. */
  get size(): number {
    return this.#size
  }

  /** Tasks running now (above `size` for a while after a shrink). */
  get running(): number {
    return this.#running
  }

  /** Tasks waiting. */
  get queued(): number {
    return this.#queue.length
  }

  /**
   * Runs `task` when a worker is free (now if one is) and settles with its result. Rejects with
   * THROTTLE_ERR_QUEUE_FULL, without running it, when every worker is busy and the queue is full.
   */
  run<T>(task: () => T | Promise<T>): Promise<T> {
    if (this.#running < this.#size) return this.#start(task)
    if (this.#queue.length >= this.#maxQueued) {
      return Promise.reject(
        new ThrottleError(
          'THROTTLE_ERR_QUEUE_FULL',
          `worker pool queue is full (${this.#maxQueued} waiting, ${this.#running} running on ${this.#size} workers): task rejected`,
        ),
      )
    }
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ task, resolve: resolve as (value: unknown) => void, reject })
    })
  }

  /** Sets the number of workers (a whole number, 0 pauses). Growing starts queued tasks at once; shrinking waits for running ones. */
  resize(size: number): void {
    this.#size = numberOption('WorkerPool', 'size', size, NaN, 'nonNegativeInteger')
    this.#drain()
  }

  /** Resolves when nothing runs and nothing waits (at once if so now). */
  onIdle(): Promise<void> {
    if (this.#running === 0 && this.#queue.length === 0) return Promise.resolve()
    return new Promise((resolve) => this.#idle.push(resolve))
  }

  #start<T>(task: () => T | Promise<T>): Promise<T> {
    this.#running++
    let result: Promise<T>
    try {
      result = Promise.resolve(task())
    } catch (err) {
      result = Promise.reject(err)
    }
    return result.finally(() => {
      this.#running--
      this.#drain()
    })
  }

  #drain(): void {
    while (this.#running < this.#size && this.#queue.length > 0) {
      const next = this.#queue.shift()!
      this.#start(next.task).then(next.resolve, next.reject)
    }
    if (this.#running === 0 && this.#queue.length === 0 && this.#idle.length > 0) {
      const idle = this.#idle
      this.#idle = []
      for (const resolve of idle) resolve()
    }
  }
}
