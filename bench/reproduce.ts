/**
 * `hypergrad reproduce` on one worker against two: wall time and peak memory of the built
 * command (`dist/`, so run `npm run build` first), run as child processes in alternating
 * order (1, 2, 2, 1, 1, 2, …) so that a drift of the machine's speed affects both alike.
 *
 *   npm run bench:reproduce                          # sid-fig1 with defaults, 3 pairs
 *   npm run bench:reproduce -- --pairs 5
 *   npm run bench:reproduce -- --experiment sid-fig2 --set runs=4
 *   npm run bench:reproduce -- --out /tmp/r.json     # write the rows elsewhere
 *
 * Before and after the runs, a compute probe measures what a second thread can give on this
 * machine right now: the same CPU-bound loop (no memory traffic) in one thread, then in two at
 * once; its speedup (2 × one-thread time ÷ two-thread time) is the ceiling for any parallel
 * workload, as the memory-read probe is for a bandwidth row. Peak memory is the process's
 * VmHWM (peak resident set, main thread and workers together), read from /proc while it runs.
 * Every run must give the same `details` in results.json (the experiments are deterministic
 * whatever the worker count); the script fails otherwise.
 */
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import { environment, formatRows, RESULTS_FILE, writeResults, type Row } from './harness.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const cli = join(root, 'bin', 'hypergrad.js')
const built = join(root, 'dist', 'cli', 'main.js')

const args = process.argv.slice(2)
const opt = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`)
  return i >= 0 ? args[i + 1] : undefined
}
const pairs = Number(opt('pairs') ?? 3)
const experiment = opt('experiment') ?? 'sid-fig1'
const out = opt('out') !== undefined ? resolve(opt('out')!) : RESULTS_FILE
const sets = args.flatMap((a, i) => (a === '--set' && args[i + 1] !== undefined ? ['--set', args[i + 1]!] : []))
if (!(Number.isInteger(pairs) && pairs >= 1)) {
  console.error(`bench/reproduce: --pairs must be a positive integer, got ${opt('pairs')}`)
  process.exit(2)
}
if (!existsSync(built)) {
  console.error(`bench/reproduce: ${built} is missing; run \`npm run build\` first`)
  process.exit(2)
}

// ── the compute probe ─────────────────────────────────────────────────────────────────────────

const SPIN = `
  const { parentPort, workerData } = require('node:worker_threads')
  const spin = (n) => {
    let s = 0
    for (let i = 1; i <= n; i++) s += 1 / (i * i)
    return s
  }
  const t0 = performance.now()
  const s = spin(workerData)
  parentPort.postMessage({ ms: performance.now() - t0, s })
`
const spinIn = (threads: number, n: number): Promise<number> => {
  const t0 = performance.now()
  return Promise.all(
    Array.from(
      { length: threads },
      () =>
        new Promise<void>((ok, fail) => {
          const w = new Worker(SPIN, { eval: true, workerData: n })
          w.on('message', () => ok())
          w.on('error', fail)
        }),
    ),
  ).then(() => performance.now() - t0)
}
/** The two-thread speedup of a CPU-bound loop (≈ 2 on two idle cores), median of 3. */
const computeProbe = async (): Promise<{ speedup: number; oneMs: number; twoMs: number }> => {
  const n = 2e9
  const speedups: Array<{ speedup: number; oneMs: number; twoMs: number }> = []
  await spinIn(1, 1e7) // warm-up
  for (let r = 0; r < 3; r++) {
    const oneMs = await spinIn(1, n)
    const twoMs = await spinIn(2, n)
    speedups.push({ speedup: (2 * oneMs) / twoMs, oneMs, twoMs })
  }
  return speedups.sort((a, b) => a.speedup - b.speedup)[1]!
}

// ── the runs ──────────────────────────────────────────────────────────────────────────────────

interface RunResult {
  readonly workers: number
  readonly wallS: number
  /** CPU seconds of the process (all threads), as the command records them. */
  readonly cpuS: number
  /** The experiment's own wall time and the sum of its tasks' times (busy threads = sum ÷ wall). */
  readonly experimentS: number
  readonly taskSumS: number
  readonly peakMiB: number
  readonly details: string
}

const peakOf = (pid: number): number | undefined => {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m === null ? undefined : Number(m[1]) / 1024
  } catch {
    return undefined
  }
}

const runOnce = (workers: number, dir: string): Promise<RunResult> =>
  new Promise((ok, fail) => {
    const t0 = performance.now()
    const child = spawn(process.execPath, [cli, 'reproduce', experiment, '--workers', String(workers), '--quiet', '--out', dir, ...sets], {
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    let stderr = ''
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()))
    let peak = 0
    const poll = setInterval(() => {
      peak = Math.max(peak, peakOf(child.pid!) ?? 0)
    }, 50)
    child.on('error', fail)
    child.on('exit', (code) => {
      clearInterval(poll)
      const wallS = (performance.now() - t0) / 1000
      if (code !== 0) {
        fail(new Error(`reproduce ${experiment} --workers ${workers} exited with ${code}: ${stderr.trim()}`))
        return
      }
      const results = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as {
        details: unknown
        timing: { maxRssMiB?: number; cpuSeconds?: number; wallSeconds?: number; taskSeconds?: number[] }
      }
      const t = results.timing
      // VmHWM read last just before exit; the command's own maxRSS is the fallback off Linux.
      ok({
        workers,
        wallS,
        cpuS: t.cpuSeconds ?? NaN,
        experimentS: t.wallSeconds ?? NaN,
        taskSumS: (t.taskSeconds ?? []).reduce((a, b) => a + b, 0),
        peakMiB: peak > 0 ? peak : (t.maxRssMiB ?? NaN),
        details: JSON.stringify(results.details),
      })
    })
  })

const median = (xs: ReadonlyArray<number>): number => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

console.log(`bench/reproduce: ${experiment}${sets.length > 0 ? ` ${sets.join(' ')}` : ''}, ${pairs} pairs ${JSON.stringify(environment())}`)
const before = await computeProbe()
console.log(`compute probe: two threads ${before.speedup.toFixed(2)}× one (${before.oneMs.toFixed(0)} ms vs ${before.twoMs.toFixed(0)} ms for twice the work)`)
const tmp = mkdtempSync(join(tmpdir(), 'hypergrad-bench-'))
const runs: RunResult[] = []
try {
  for (let p = 0; p < pairs; p++) {
    const order = p % 2 === 0 ? [1, 2] : [2, 1]
    const pair: RunResult[] = []
    for (const w of order) {
      const r = await runOnce(w, join(tmp, `p${p}-w${w}`))
      pair.push(r)
      runs.push(r)
      console.log(
        `  pair ${p + 1}, ${w} worker${w > 1 ? 's' : ''}: ${r.wallS.toFixed(1)} s, cpu ${r.cpuS.toFixed(1)} s, ` +
          `tasks ${r.taskSumS.toFixed(1)} s in ${r.experimentS.toFixed(1)} s (${(r.taskSumS / r.experimentS).toFixed(2)} busy), peak ${r.peakMiB.toFixed(0)} MiB`,
      )
    }
    const one = pair.find((r) => r.workers === 1)!
    const two = pair.find((r) => r.workers === 2)!
    console.log(`  pair ${p + 1}: speedup ${(one.wallS / two.wallS).toFixed(2)}×`)
  }
} finally {
  rmSync(tmp, { recursive: true, force: true })
}
const after = await computeProbe()
console.log(`compute probe after: ${after.speedup.toFixed(2)}×`)

if (new Set(runs.map((r) => r.details)).size !== 1) {
  console.error('bench/reproduce: the runs gave different results (details differ between runs)')
  process.exit(1)
}

const of = (w: number) => runs.filter((r) => r.workers === w)
const ms = (rs: ReadonlyArray<RunResult>) => rs.map((r) => r.wallS * 1000)
const speedups = of(1).map((r, i) => r.wallS / of(2)[i]!.wallS)
const row = (w: number, extra: Partial<Row>): Row => {
  const rs = of(w)
  return {
    workload: `reproduce ${experiment}${sets.length > 0 ? ` ${sets.filter((s) => s !== '--set').join(' ')}` : ''}, ${w} worker${w > 1 ? 's' : ''}`,
    medianMs: median(ms(rs)),
    minMs: Math.min(...ms(rs)),
    maxMs: Math.max(...ms(rs)),
    ratio: null,
    baseline: null,
    notes:
      `peak memory ${Math.max(...rs.map((r) => r.peakMiB)).toFixed(0)} MiB (max over runs; median ${median(rs.map((r) => r.peakMiB)).toFixed(0)}); ` +
      `cpu ${median(rs.map((r) => r.cpuS)).toFixed(1)} s, busy threads ${median(rs.map((r) => r.taskSumS / r.experimentS)).toFixed(2)} (medians)`,
    repeats: rs.length,
    source: 'bench/reproduce.ts',
    measuredAt: new Date().toISOString(),
    ...extra,
  }
}
const oneRow = row(1, {})
const rows: Row[] = [
  {
    workload: 'compute probe: CPU-bound loop, 2 threads vs 1',
    medianMs: before.twoMs,
    minMs: Math.min(before.twoMs, after.twoMs),
    maxMs: Math.max(before.twoMs, after.twoMs),
    ratio: before.twoMs / before.oneMs,
    baseline: 'the same loop, half the work, one thread',
    notes: `speedup of a second thread: ${before.speedup.toFixed(2)}× before the runs, ${after.speedup.toFixed(2)}× after (2 = two idle cores)`,
    repeats: 3,
    source: 'bench/reproduce.ts',
    measuredAt: new Date().toISOString(),
  },
  oneRow,
  row(2, {
    ratio: median(ms(of(2))) / oneRow.medianMs,
    baseline: oneRow.workload,
    notes: `${row(2, {}).notes}; speedup per pair ${speedups.map((s) => s.toFixed(2)).join(', ')} (median ${median(speedups).toFixed(2)}×)`,
  }),
]
console.log(`\n${formatRows(rows)}`)
writeResults(rows, out)
console.log(`\n${rows.length} rows merged into ${out}`)
