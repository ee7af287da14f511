import { createHash } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import { build } from 'esbuild'

/** One file of the web UI, held in memory and served as is. */
export interface UiAsset {
  /** Served at `/ui/<name>`; the name carries a hash of the content, so it can be cached forever. */
  name: string
  contentType: string
  body: Buffer
  /** The body gzipped, for clients that take it (every browser). */
  gzipped: Buffer
}

/** The web UI, built: its page and its assets. */
export interface UiBundle {
  /** The page served at `/`, naming the hashed assets. */
  html: string
  /** Strong validator of `html`. */
  etag: string
  assets: ReadonlyMap<string, UiAsset>
  /** How long esbuild took, in milliseconds. */
  buildMillis: number
}

const ENTRY = fileURLToPath(new URL('../../ui/main.ts', import.meta.url))
const TSCONFIG = fileURLToPath(new URL('../../ui/tsconfig.json', import.meta.url))

const TYPES: Record<string, string> = { '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8' }

/**
 * Builds the web UI from its TypeScript sources (`collector/ui/`) in memory: one minified
 * script and one stylesheet (uPlot's included), named after a hash of their content. Nothing
 * is written to disk, so nothing built can go stale: the UI served is always the sources'.
 */
export async function buildUiBundle(): Promise<UiBundle> {
  const started = performance.now()
  const result = await build({
    entryPoints: { app: ENTRY },
    tsconfig: TSCONFIG,
    bundle: true,
    minify: true,
    format: 'esm',
    target: ['es2022', 'chrome111', 'firefox114', 'safari16.4'],
    outdir: 'ui',
    write: false,
    logLevel: 'silent',
    legalComments: 'eof',
  })
  const buildMillis = performance.now() - started
  const assets = new Map<string, UiAsset>()
  const names: Record<string, string> = {}
  for (const file of result.outputFiles) {
    const ext = file.path.slice(file.path.lastIndexOf('.'))
    const contentType = TYPES[ext]
    if (contentType === undefined) continue
    const body = Buffer.from(file.contents)
    const name = `app-${hash(body).slice(0, 16)}${ext}`
    names[ext] = name
    assets.set(name, { name, contentType, body, gzipped: gzipSync(body, { level: 9 }) })
  }
  const html = page(names['.js'] ?? '', names['.css'] ?? '')
  return { html, etag: `"${hash(Buffer.from(html)).slice(0, 27)}"`, assets, buildMillis }
}

function hash(body: Buffer): string {
  return createHash('sha256').update(body).digest('base64url')
}

/** The page: no inline script or style, so the Content-Security-Policy needs no exception. */
function page(js: string, css: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>Governor</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/ui/${css}">
<script type="module" src="/ui/${js}"></script>
</head>
<body>
<noscript>Governor's web UI needs JavaScript.</noscript>
</body>
</html>
`
}
