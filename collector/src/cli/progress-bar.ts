import type { CopyProgress } from '../store/copy-store.ts'

const WIDTH = 30

/**
 * Reports a copy's progress on a stream: on a terminal, one bar redrawn in place
 * (`\r`); elsewhere (a log file, CI) one line as each table starts and ends, so the log
 * stays readable. `done()` ends the bar's line.
 */
export function progressBar(
  write: (s: string) => void,
  isTTY: boolean,
): { update: (p: CopyProgress) => void; done: () => void } {
  let drawn = false
  let lastTable = ''
  return {
    update: (p) => {
      const share = p.total === 0 ? 1 : Math.min(1, p.copied / p.total)
      const label = `[${p.tableIndex + 1}/${p.tables}] ${p.table}`
      if (isTTY) {
        const filled = Math.round(share * WIDTH)
        write(
          `\r${label.padEnd(30)} [${'#'.repeat(filled)}${'.'.repeat(WIDTH - filled)}] ${String(Math.round(share * 100)).padStart(3)} % ${p.copied.toLocaleString('en')} rows\x1b[K`,
        )
        drawn = true
        return
      }
      if (p.table !== lastTable) write(`${label}: ${p.total.toLocaleString('en')} rows\n`)
      lastTable = p.table
    },
    done: () => {
      if (drawn) write('\n')
      drawn = false
    },
  }
}
