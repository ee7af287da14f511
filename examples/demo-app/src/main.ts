import { demoOptionsFromEnv, startDemo } from './demo.ts'

// The demo app: `npx tsx examples/demo-app/src/main.ts` (settings in DEMO_* and GOVERNOR_*
// variables, see README.md). Stops cleanly on SIGTERM and SIGINT, sending its last metrics.
const options = demoOptionsFromEnv()
const demo = await startDemo(options)
console.log(
  `demo-app: ${options.service} ${options.version} deployed (${demo.deploy.id}), serving on :${options.port}, sending to ${options.governorUrl}`,
)
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    void demo.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error(err)
        process.exit(1)
      },
    )
  })
}
