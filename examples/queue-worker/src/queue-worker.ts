import { bindKnob, connect, WorkerPool, type Knob, type ThrottleClient } from '@governor/throttle'
import { Downstream, type DownstreamOptions } from './downstream.ts'
import { JobQueue } from './job-queue.ts'
import { startTelemetry, type Telemetry } from './telemetry.ts'

/** How the worker runs; `queueWorkerOptionsFromEnv` reads them from the environment. */
export interface QueueWorkerOptions {
  /** Governor's base URL, e.g. `http://127.0.0.1:4318`. */
  governorUrl: string
  /** A token with the `ingest` role (metrics, declaring and following knobs); none in Governor's open local mode. */
  token: string | undefined
  service: string
  /** Jobs the producer enqueues a second. */
  jobsPerSecond: number
  exportIntervalMillis: number
  downstream: DownstreamOptions
}

const env = (name: string, fallback: string): string => process.env[name] ?? fallback

/** Reads `QueueWorkerOptions` from `QUEUE_*`, `DOWNSTREAM_*` and `GOVERNOR_*` variables, with defaults for a local Governor. */
export function queueWorkerOptionsFromEnv(): QueueWorkerOptions {
  return {
    governorUrl: env('GOVERNOR_URL', 'http://127.0.0.1:4318').replace(/\/$/, ''),
    token: process.env.GOVERNOR_TOKEN === '' ? undefined : process.env.GOVERNOR_TOKEN,
    service: env('QUEUE_SERVICE', 'jobs'),
    jobsPerSecond: Number(env('QUEUE_JOBS_PER_SECOND', '300')),
    exportIntervalMillis: Number(env('QUEUE_EXPORT_INTERVAL_MILLIS', '5000')),
    downstream: {
      baseMillis: Number(env('DOWNSTREAM_BASE_MILLIS', '20')),
      comfortableConcurrency: Number(env('DOWNSTREAM_COMFORTABLE_CONCURRENCY', '8')),
      millisPerExtraCall: Number(env('DOWNSTREAM_MILLIS_PER_EXTRA_CALL', '15')),
    },
  }
}

/** A running queue worker. */
export interface QueueWorker {
  governor: ThrottleClient
  /** The knob the pool's size is bound to; Governor's controller turns it. */
  workers: Knob<number>
  pool: WorkerPool
  queue: JobQueue
  downstream: Downstream
  telemetry: Telemetry
  /** Jobs finished, and jobs whose downstream call failed. */
  readonly done: number
  readonly failed: number
  /** Changes the producer's rate, jobs a second (0 stops it). */
  setJobsPerSecond(n: number): void
  /** Stops producing, lets running jobs finish, sends the last metrics, closes the knob client. */
  stop(): Promise<void>
}

/**
 * Starts the worker: declares the knob `workers` (its value is the pool's size, live), a
 * producer that enqueues `jobsPerSecond` jobs, a consumer that takes the oldest job whenever
 * a worker is free and calls the downstream for it, and the OpenTelemetry export of the
 * queue's lag and the downstream calls' durations.
 */
export async function startQueueWorker(o: QueueWorkerOptions): Promise<QueueWorker> {
  const governor = connect({
    url: o.governorUrl,
    service: o.service,
    ...(o.token === undefined ? {} : { token: o.token }),
  })
  const workers = governor.knob('workers', {
    type: 'int',
    default: 4,
    min: 1,
    max: 64,
    unit: '{worker}',
    description: 'queue workers: jobs processed at once',
  })
  await governor.ready()

  const queue = new JobQueue()
  const downstream = new Downstream(o.downstream)
  // The consumer pulls from the queue only when a worker is free, so the pool's own queue stays empty.
  const pool = new WorkerPool({ size: workers.value, maxQueued: 0 })
  const telemetry = startTelemetry(
    { url: o.governorUrl, token: o.token, service: o.service, exportIntervalMillis: o.exportIntervalMillis },
    { lagMillis: () => queue.lagMillis(), depth: () => queue.length, workers: () => pool.size },
  )
  let done = 0
  let failed = 0

  const handle = async (): Promise<void> => {
    const start = performance.now()
    try {
      await downstream.call()
      done++
    } catch {
      failed++
    } finally {
      telemetry.downstreamDuration.record((performance.now() - start) / 1000)
    }
  }
  const pump = (): void => {
    while (pool.running < pool.size && queue.length > 0) {
      queue.take()
      void pool.run(handle).finally(pump)
    }
  }
  const unbind = bindKnob(workers, (n) => {
    pool.resize(n)
    pump()
  })

  // The producer: a few jobs every 50 ms, the fractions carried over.
  let perTick = o.jobsPerSecond / 20
  let owed = 0
  const producer = setInterval(() => {
    owed += perTick
    for (; owed >= 1; owed--) queue.push()
    pump()
  }, 50)

  return {
    governor,
    workers,
    pool,
    queue,
    downstream,
    telemetry,
    get done() {
      return done
    },
    get failed() {
      return failed
    },
    setJobsPerSecond(n) {
      perTick = n / 20
    },
    async stop() {
      clearInterval(producer)
      unbind()
      while (queue.length > 0) queue.take()
      await pool.onIdle()
      await telemetry.provider.shutdown()
      await governor.close()
    },
  }
}
