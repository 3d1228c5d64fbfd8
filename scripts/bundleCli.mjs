// Bundle the command line into one file, dist/cli/main.bundle.js, after `tsc` has built dist/.
// Node resolves and opens every module of an ES-module graph one by one: the `hypergrad tune`
// path spans some 80 library modules and the CommonJS files of fp-ts, io-ts and commander,
// which cost several hundred milliseconds before any work starts. In one file they load about
// three times faster (bench/tune.bench.ts measures the command end to end). bin/hypergrad.js
// runs the bundle when it exists, else dist/cli/main.js.
//
// Left outside the bundle, and loaded from where they are when a command needs them:
//   - `hypergrad reproduce` (dist/cli/reproduce.js and dist/experiments/*): the worker pool finds
//     the experiment modules next to its own file;
//   - vega, vega-lite (figures) and cli-progress (a progress bar on a terminal), loaded lazily.
// Without esbuild (a production install), the build goes on without the bundle.
import { existsSync, rmSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const entry = `${root}dist/cli/main.js`
const outfile = `${root}dist/cli/main.bundle.js`
if (!existsSync(entry)) {
  console.error(`bundleCli: ${entry} not found (run tsc first)`)
  process.exit(1)
}
let esbuild
try {
  esbuild = await import('esbuild')
} catch {
  rmSync(outfile, { force: true })
  console.error('bundleCli: esbuild is not installed; the command runs from dist/cli/main.js')
  process.exit(0)
}
await esbuild.build({
  entryPoints: [entry],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['vega', 'vega-lite', 'cli-progress', `${root}dist/experiments/*`, `${root}dist/cli/reproduce.js`],
  logLevel: 'warning',
  legalComments: 'none',
  // CommonJS dependencies call require(); give the bundle one.
  banner: { js: "import { createRequire as __hypergradRequire } from 'node:module'; const require = __hypergradRequire(import.meta.url);" },
})
