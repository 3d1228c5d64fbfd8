#!/usr/bin/env node
// The `hypergrad` command. Runs the built library: the one-file bundle of the command
// (dist/cli/main.bundle.js, written by `npm run build`; it loads several times faster than the
// ~100 modules it holds) or else dist/cli/main.js. From a source checkout without a build (or
// with HYPERGRAD_FROM_SOURCE=1), it runs the TypeScript sources through tsx (a development
// dependency).
import { existsSync } from 'node:fs'

const bundle = new URL('../dist/cli/main.bundle.js', import.meta.url)
const built = new URL('../dist/cli/main.js', import.meta.url)
let mod
if (process.env.HYPERGRAD_FROM_SOURCE !== '1' && existsSync(bundle)) {
  mod = await import(bundle.href)
} else if (existsSync(built) && process.env.HYPERGRAD_FROM_SOURCE !== '1') {
  mod = await import(built.href)
} else {
  const { register } = await import('tsx/esm/api')
  register()
  mod = await import(new URL('../src/cli/main.ts', import.meta.url).href)
}
process.exitCode = await mod.main(process.argv.slice(2))
