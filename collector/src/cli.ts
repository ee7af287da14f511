import { buildApp } from './app.ts'
import { CLIENT_USAGE, runClientCommand } from './cli/client-commands.ts'
import { runMigrate, runSchema, STORE_USAGE } from './cli/store-commands.ts'
import { isGovernorError } from './errors.ts'
import { loadSettings, settingsHelp } from './settings.ts'

const USAGE = `Usage: governor [command]

Commands:
  start           Run the collector (the default).
  help            Show this help.
${CLIENT_USAGE}
${STORE_USAGE}

Settings (environment variables):
${settingsHelp()}
`

/** Longest a graceful shutdown may take before the process exits anyway. */
const SHUTDOWN_TIMEOUT_MILLIS = 10_000

/** Entry point of the `governor` command; resolves to the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const command = argv[0] ?? 'start'
  if (command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(USAGE)
    return 0
  }
  if (command === 'deploy' || command === 'deploys' || command === 'events' || command === 'gate') {
    return runClientCommand(argv, process.env, {
      stdout: (s) => process.stdout.write(s),
      stderr: (s) => process.stderr.write(s),
    })
  }
  if (command === 'schema' || command === 'migrate') {
    const out = {
      stdout: (s: string) => process.stdout.write(s),
      stderr: (s: string) => process.stderr.write(s),
      stderrIsTTY: process.stderr.isTTY === true,
    }
    try {
      const settings = loadSettings()
      return command === 'schema'
        ? runSchema(argv.slice(1), settings, out)
        : await runMigrate(argv.slice(1), settings, out)
    } catch (err) {
      process.stderr.write(`governor: ${isGovernorError(err) ? `${err.code}: ` : ''}${(err as Error).message}\n`)
      return (err as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS') === true ? 2 : 1
    }
  }
  if (command !== 'start') {
    process.stderr.write(`governor: unknown command ${JSON.stringify(command)}\n\n${USAGE}`)
    return 2
  }
  try {
    return await start()
  } catch (err) {
    const message = isGovernorError(err) ? `${err.code}: ${err.message}` : ((err as Error).stack ?? String(err))
    process.stderr.write(`governor: could not start: ${message}\n`)
    return 1
  }
}

async function start(): Promise<number> {
  const settings = loadSettings()
  const app = await buildApp(settings)
  const { store } = app.governor
  await app.listen({ host: settings.host, port: settings.port })
  const grpc = settings.grpcPort === 0 ? 'off' : `${settings.host}:${settings.grpcPort}`
  app.log.info(
    `Governor is listening on http://${settings.host}:${settings.port} (OTLP/HTTP POST /v1/metrics, /v1/traces, /v1/logs; API /api/v1), OTLP/gRPC ${grpc}; store: ${store.embedded ? 'embedded ClickHouse (chDB) in' : 'ClickHouse server at'} ${store.location}`,
  )
  return new Promise<number>((resolve) => {
    let stopping = false
    const stop = (signal: string) => {
      if (stopping) return
      stopping = true
      app.log.info(`${signal}: flushing and shutting down`)
      const timer = setTimeout(() => {
        app.log.error(`shutdown took longer than ${SHUTDOWN_TIMEOUT_MILLIS} ms; exiting`)
        resolve(1)
      }, SHUTDOWN_TIMEOUT_MILLIS)
      timer.unref()
      app
        .close()
        .then(
          () => resolve(0),
          (err: unknown) => {
            app.log.error({ err }, 'shutdown failed')
            resolve(1)
          },
        )
        .finally(() => clearTimeout(timer))
    }
    process.once('SIGTERM', () => stop('SIGTERM'))
    process.once('SIGINT', () => stop('SIGINT'))
  })
}
