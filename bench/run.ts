/**
 * Run every `bench/*.bench.ts` in one process, in name order, after measuring the memory-read
 * probe; print each file's rows and merge them into `bench/results.json`. The probe is
 * measured again at the end, and a warning printed if it moved by more than 25%.
 *
 *   npm run bench                      # everything
 *   npm run bench -- kernels           # only files whose name contains "kernels"
 *   npm run bench -- --quick           # fewer, shorter repeats (a smoke run)
 *   npm run bench -- --out other.json  # write somewhere else
 *
 * A bench file's default export is a {@link BenchFile}: it receives the run's context (the
 * probe, `measure`) and returns its rows. A file that throws is reported and skipped; the
 * process then exits with status 1.
 */
import { readdirSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import {
  bandwidthRow,
  environment,
  formatRows,
  measure,
  memoryReadProbe,
  PROBE_WORKLOAD,
  RESULTS_FILE,
  sinkValue,
  writeResults,
  type BenchContext,
  type MeasureOptions,
  type Row,
} from './harness.js'

const here = dirname(fileURLToPath(import.meta.url))

const args = process.argv.slice(2)
const quick = args.includes('--quick')
const outAt = args.indexOf('--out')
const out = outAt >= 0 && args[outAt + 1] !== undefined ? resolve(args[outAt + 1]!) : RESULTS_FILE
const filters = args.filter((a, i) => !a.startsWith('--') && !(outAt >= 0 && i === outAt + 1))

const defaults: MeasureOptions = quick ? { repeats: 5, warmup: 2, minMs: 10 } : { repeats: 9, warmup: 3, minMs: 25 }

const files = readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort()

console.log(`hypergrad benchmarks ${JSON.stringify(environment())}${quick ? ' (quick)' : ''}`)
if (files.length === 0) {
  console.log(`no bench/*.bench.ts file matches ${JSON.stringify(filters)}`)
  process.exit(1)
}

const probe = memoryReadProbe(quick ? { repeats: 5 } : {})
const stamp = (r: Row, source: string): Row => ({ ...r, source, measuredAt: new Date().toISOString() })
const probeRow: Row = { ...bandwidthRow(probe, probe, 'the yardstick of every GB/s ratio'), ratio: null, baseline: null }
const rows: Row[] = [stamp(probeRow, 'bench/harness.ts')]
console.log(`\n${formatRows([probeRow])}`)

const ctx: BenchContext = {
  probe,
  quick,
  measure: (name, fn, opts) => measure(name, fn, { ...defaults, ...opts }),
}

let failed = 0
for (const f of files) {
  const t0 = performance.now()
  try {
    const mod = (await import(pathToFileURL(join(here, f)).href)) as { default?: unknown }
    const run = mod.default
    const got = typeof run === 'function' ? await (run as (c: BenchContext) => unknown)(ctx) : []
    const fileRows = Array.isArray(got) ? (got as Row[]) : []
    rows.push(...fileRows.map((r) => stamp(r, `bench/${f}`)))
    console.log(`\n== ${f} (${((performance.now() - t0) / 1000).toFixed(1)} s)\n${formatRows(fileRows)}`)
  } catch (e) {
    failed++
    console.error(`\n== ${f}: FAILED\n${e instanceof Error ? (e.stack ?? e.message) : String(e)}`)
  }
}

// The probe again: if memory bandwidth moved much during the run, the machine was not
// steady (another process, frequency changes) and every ratio above is suspect.
const after = memoryReadProbe(quick ? { repeats: 5 } : {})
const drift = after.gbPerS / probe.gbPerS
const afterRow = bandwidthRow({ ...after, name: `${PROBE_WORKLOAD}, end of run` }, probe, 'the probe repeated after the last bench file')
rows.push(stamp(afterRow, 'bench/harness.ts'))
console.log(`\n${formatRows([afterRow])}`)
if (drift < 0.8 || drift > 1.25)
  console.log(`WARNING: the memory probe moved from ${probe.gbPerS.toFixed(2)} to ${after.gbPerS.toFixed(2)} GB/s during the run: the machine was not steady; rerun on an idle machine.`)

writeResults(rows, out)
console.log(`\n${rows.length} rows merged into ${out} (sink ${Number.isFinite(sinkValue()) ? 'finite' : 'not finite'})`)
if (failed > 0) process.exit(1)
