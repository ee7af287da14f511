// The `governor` executable: dist/governor.js is this file, bundled (scripts/build.js).
import { main } from './governor.ts'
import { httpFetch } from './http-fetch.ts'

const out = {
  stdout: (s: string) => {
    process.stdout.write(s)
  },
  stderr: (s: string) => {
    process.stderr.write(s)
  },
}

/** Exits once what was written has gone out (a pipe may still hold it). */
function exit(code: number): void {
  process.stdout.write('', () => process.stderr.write('', () => process.exit(code)))
}

main(process.argv.slice(2), process.env, out, httpFetch).then(exit, (err: unknown) => {
  process.stderr.write(`governor: ${(err as Error)?.stack ?? String(err)}\n`)
  exit(1)
})
