// A second embedded store in a process of its own (the engine holds one per process), driven
// over IPC as the target of `governor migrate`: it stands in for the ClickHouse server.
import { countRows } from '../../../collector/src/store/copy-store.ts'
import { loadSettings } from '../../../collector/src/settings.ts'
import { Store } from '../../../collector/src/store/store.ts'

interface Request {
  id: number
  op: 'count' | 'insert' | 'query' | 'close'
  table?: string
  columns?: string[]
  tsv?: Uint8Array
  sql?: string
}

const store = await Store.open(loadSettings({ dataDir: process.argv[2]!, logLevel: 'silent' }, {}))
process.send!({ ready: true })

process.on('message', (m: Request) => {
  const run = async (): Promise<unknown> => {
    switch (m.op) {
      case 'count':
        return countRows(store, m.table!)
      case 'insert':
        return store.insertTsv(m.table!, m.columns!, Buffer.from(m.tsv!))
      case 'query':
        return (await store.client.query({ query: m.sql!, format: 'JSONEachRow' })).json()
      case 'close':
        await store.close()
        setImmediate(() => process.exit(0))
        return null
    }
  }
  run().then(
    (result) => process.send!({ id: m.id, result }),
    (err: Error) => process.send!({ id: m.id, error: err.message }),
  )
})
