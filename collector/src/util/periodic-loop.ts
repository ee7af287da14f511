/**
 * The shell of a background loop (CONVENTIONS #11): runs `run` every `intervalMillis`
 * after the previous run ended, never two at once (a tick that finds one running is
 * answered with `skipped` and does nothing), never keeps the process alive on its own, and
 * `stop` waits for a running tick at most `stopTimeoutMillis`. `run` itself must not throw.
 */
export class PeriodicLoop<T> {
  readonly #run: () => Promise<T>
  readonly #skipped: T
  readonly #intervalMillis: number
  readonly #stopTimeoutMillis: number
  #timer: NodeJS.Timeout | undefined
  #running: Promise<T> | undefined
  #stopped = false

  constructor(run: () => Promise<T>, skipped: T, options: { intervalMillis: number; stopTimeoutMillis: number }) {
    this.#run = run
    this.#skipped = skipped
    this.#intervalMillis = options.intervalMillis
    this.#stopTimeoutMillis = options.stopTimeoutMillis
  }

  get stopped(): boolean {
    return this.#stopped
  }

  /** Ticks every interval until `stop`; the first tick comes one interval after start. 0 never ticks. */
  start(): void {
    if (this.#intervalMillis <= 0 || this.#stopped || this.#timer !== undefined) return
    const next = () => {
      this.#timer = setTimeout(() => {
        void this.tick().finally(() => {
          if (!this.#stopped) next()
        })
      }, this.#intervalMillis)
      this.#timer.unref()
    }
    next()
  }

  /** One run now, unless one is running (then `skipped`). */
  tick(): Promise<T> {
    if (this.#running !== undefined) return Promise.resolve(this.#skipped)
    const run = this.#run().finally(() => {
      this.#running = undefined
    })
    this.#running = run
    return run
  }

  /** Stops ticking and waits for a running tick, at most `stopTimeoutMillis`. */
  async stop(): Promise<void> {
    this.#stopped = true
    clearTimeout(this.#timer)
    this.#timer = undefined
    const running = this.#running
    if (running === undefined) return
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.#stopTimeoutMillis)
    })
    await Promise.race([running.then(() => undefined), timeout])
    clearTimeout(timer)
  }
}
