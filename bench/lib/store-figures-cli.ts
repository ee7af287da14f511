/**
 * `node --import tsx bench/lib/store-figures-cli.ts DATA_DIR`: storeFigures of a stopped
 * Governor's embedded store, printed as one JSON line. A process of its own per store, since
 * the embedded engine is one per process.
 */
import { storeFigures } from './store-figures.ts'

const dir = process.argv[2]
if (dir === undefined) throw new Error('usage: store-figures-cli.ts DATA_DIR')
const f = await storeFigures(dir, 0)
process.stdout.write(`${JSON.stringify({ storedPoints: f.storedPoints, bytesPerPoint: f.bytesPerPoint })}\n`)
