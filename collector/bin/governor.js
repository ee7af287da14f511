#!/usr/bin/env node
// Runs the TypeScript sources directly: tsx compiles each module as it loads.
import { register } from 'tsx/esm/api'

register()
const { main } = await import('../src/cli.ts')
process.exit(await main(process.argv.slice(2)))
