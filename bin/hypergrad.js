#!/usr/bin/env node
// The `hypergrad` command. Runs the built library (dist/); from a source checkout without a
// build (or with HYPERGRAD_FROM_SOURCE=1), it runs the TypeScript sources through tsx (a
// development dependency).
import { existsSync } from 'node:fs'

const built = new URL('../dist/cli/main.js', import.meta.url)
let mod
if (existsSync(built) && process.env.HYPERGRAD_FROM_SOURCE !== '1') {
  mod = await import(built.href)
} else {
  const { register } = await import('tsx/esm/api')
  register()
  mod = await import(new URL('../src/cli/main.ts', import.meta.url).href)
}
process.exitCode = await mod.main(process.argv.slice(2))
