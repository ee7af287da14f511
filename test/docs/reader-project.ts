import { existsSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { packAndInstall } from '../helpers/pack.ts'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))

/**
 * The reader's own project, where the docs' commands and programs run, outside this repository:
 *
 * - `@governor/cli` packed and installed from its tarball, so `npx governor` is the pipeline's
 *   command (in an empty directory npx would fetch an unrelated package of that name);
 * - the OpenTelemetry SDK packages the docs import, this repository's copies (linked, nothing
 *   fetched from the registry);
 * - `@governor/throttle` as its TypeScript sources, through the paths of a tsconfig.json that
 *   tsx reads, as this repository runs it (test/throttle/package.test.ts installs the packed
 *   package and runs it under plain node);
 * - `"type": "module"`: an app with top-level `await`, as the docs' programs are.
 *
 * Each page runs in a directory of its own inside it.
 */
export async function makeReaderProject(): Promise<string> {
  const project = await packAndInstall(join(ROOT, 'cli'))
  if (!existsSync(join(project, 'node_modules/.bin/governor')))
    throw new Error(`npm install of @governor/cli left no node_modules/.bin/governor in ${project}`)
  const pkg = JSON.parse(readFileSync(join(project, 'package.json'), 'utf8')) as Record<string, unknown>
  writeFileSync(join(project, 'package.json'), JSON.stringify({ ...pkg, type: 'module' }, null, 2))
  symlinkSync(join(ROOT, 'node_modules/@opentelemetry'), join(project, 'node_modules/@opentelemetry'))
  const throttle = join(ROOT, 'throttle/src')
  writeFileSync(
    join(project, 'tsconfig.json'),
    JSON.stringify(
      {
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          paths: {
            '@governor/throttle': [join(throttle, 'index.ts')],
            '@governor/throttle/*': [join(throttle, '*.ts')],
          },
        },
      },
      null,
      2,
    ),
  )
  return project
}
