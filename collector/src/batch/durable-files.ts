import { closeSync, fsyncSync, openSync, renameSync, writeFileSync } from 'node:fs'

/** Writes a file under a temporary name, fsyncs it and renames it into place: all of it or nothing. */
export function writeDurably(path: string, bytes: Buffer): void {
  const tmp = `${path}.tmp`
  writeFileSync(tmp, bytes)
  const fd = openSync(tmp, 'r+')
  try {
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  renameSync(tmp, path)
}

/** Makes the names created in a directory durable (a new or renamed file survives a power loss). */
export function syncDir(dir: string): void {
  let fd: number | undefined
  try {
    fd = openSync(dir, 'r')
    fsyncSync(fd)
  } catch {
    // Some platforms and file systems refuse to fsync a directory; the files' data was synced.
  } finally {
    if (fd !== undefined) closeSync(fd)
  }
}
