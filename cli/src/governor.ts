import { CLIENT_USAGE, EXIT, type Fetch, type Out, runClientCommand } from '../../collector/src/cli/client-commands.ts'
import { KNOB_USAGE, runKnobCommand } from './knob-commands.ts'

/** Set by the build from package.json (scripts/build.js); "dev" when run from the sources. */
declare const GOVERNOR_CLI_VERSION: string | undefined
const VERSION = typeof GOVERNOR_CLI_VERSION === 'string' ? GOVERNOR_CLI_VERSION : 'dev'

export const USAGE = `Usage: governor <command> [options]

The commands a pipeline runs against a running Governor (the server itself is the
@governor/collector package).

Commands:
${CLIENT_USAGE.replace('\n\nOptions of every client command:', `\n${KNOB_USAGE}\n\nOptions of every command:`)}
  --help          This help (governor --version: the version of this command)

Exit codes:
  0  done
  1  the server refused (its message is printed on stderr)
  2  the command line is wrong
  3  Governor could not be reached
  4  the deploy gate denied the deploy (gate)
`

const CLIENT_COMMANDS = new Set(['deploy', 'deploys', 'events', 'gate'])

/** Entry point of @governor/cli's `governor` command; resolves to the process exit code. */
export async function main(argv: string[], env: NodeJS.ProcessEnv, out: Out, fetchFn: Fetch = fetch): Promise<number> {
  const command = argv[0]
  if (argv.includes('--help') || argv.includes('-h') || command === 'help') {
    out.stdout(USAGE)
    return EXIT.OK
  }
  if (command === '--version' || command === 'version') {
    out.stdout(`${VERSION}\n`)
    return EXIT.OK
  }
  if (command === 'knobs') return runKnobCommand(argv.slice(1), env, out, fetchFn)
  if (command !== undefined && CLIENT_COMMANDS.has(command)) return runClientCommand(argv, env, out, fetchFn)
  out.stderr(
    command === undefined
      ? USAGE
      : `governor: unknown command ${JSON.stringify(command)} (governor --help lists them)\n`,
  )
  return EXIT.USAGE
}
