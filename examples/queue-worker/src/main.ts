import { queueWorkerOptionsFromEnv, startQueueWorker } from './queue-worker.ts'

// The queue worker: `npx tsx examples/queue-worker/src/main.ts` (settings in QUEUE_*,
// DOWNSTREAM_* and GOVERNOR_* variables, see README.md). Prints its state every 5 s; stops
// cleanly on SIGTERM and SIGINT, sending its last metrics.
const options = queueWorkerOptionsFromEnv()
const worker = await startQueueWorker(options)
console.log(
  `queue-worker: ${options.service}, ${options.jobsPerSecond} jobs/s, ${worker.workers.value} workers, sending to ${options.governorUrl}`,
)
const report = setInterval(() => {
  console.log(
    `workers ${worker.pool.size}, queue ${worker.queue.length} (lag ${Math.round(worker.queue.lagMillis())} ms), done ${worker.done}, downstream in flight ${worker.downstream.inflight}`,
  )
}, 5_000)
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    clearInterval(report)
    void worker.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error(err)
        process.exit(1)
      },
    )
  })
}
