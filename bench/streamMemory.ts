/**
 * Memory of the stream solvers against the number of steps: every lower-level and linear-system
 * solver the law suite discovers (laws/solvers.ts), on a finite-sum quadratic (d = 200,
 * n = 100), is advanced to t₁ steps and to t₂ = 10·t₁ steps while its iterator is held; after a
 * full garbage collection at each point, the live memory (V8 heap + array buffers) is read. A
 * solver whose memory is constant in t retains nothing per step: the growth per step is zero
 * up to noise (a few bytes), where keeping each d-vector state would retain 1.6 kB per step.
 *
 *   npm run bench:memory                 # t₁ = 2000
 *   npm run bench:memory -- --steps 500  # shorter
 *
 * Needs `--expose-gc` (the npm script passes it). Rows are merged into bench/results.json.
 */
import { orThrow } from '../src/errors.js'
import { quadraticProblem } from '../src/problems/quadratic.js'
import { seed } from '../src/random/rng.js'
import { linearSystemAt } from '../src/solvers/linearSystem.js'
import { linearSolvers, lowerSolvers } from '../laws/solvers.js'
import { formatRows, RESULTS_FILE, writeResults, type Row } from './harness.js'
import { unfold } from '../src/solvers/solver.js'

const gc = (globalThis as { gc?: () => void }).gc
if (gc === undefined) {
  console.error('bench/streamMemory: run with node --expose-gc (npm run bench:memory)')
  process.exit(2)
}
const args = process.argv.slice(2)
const at = args.indexOf('--steps')
const t1 = at >= 0 ? Number(args[at + 1]) : 2000
if (!(Number.isInteger(t1) && t1 >= 10)) {
  console.error(`bench/streamMemory: --steps must be an integer ≥ 10, got ${args[at + 1]}`)
  process.exit(2)
}
const t2 = 10 * t1

const d = 200
const problem = orThrow(quadraticProblem({ dim: d, hyperDim: 5, nSamples: 100, seed: 3 }))
const lambda = Float64Array.of(0.5, -0.3, 1, 0.2, 0.7)
const w0 = new Float64Array(d)
const system = linearSystemAt(problem, lambda, problem.solution(lambda))

const live = (): number => {
  gc()
  gc()
  const m = process.memoryUsage()
  return m.heapUsed + m.arrayBuffers
}

/** Advance an iterator to step `to` (from `from`); false when the stream ended first. */
const advance = (it: Iterator<unknown>, from: number, to: number): boolean => {
  for (let t = from; t < to; t++) if (it.next().done === true) return false
  return true
}

const rows: Row[] = []
const measureStream = (name: string, open: () => Iterator<unknown>): void => {
  const base = live()
  const it = open()
  const s0 = performance.now()
  if (!advance(it, 0, t1)) {
    console.log(`${name}: the stream ended before ${t1} steps (a solver that stops at its tolerance); skipped`)
    return
  }
  const m1 = live()
  const s1 = performance.now()
  const ok = advance(it, t1, t2)
  const ms = performance.now() - s1
  const m2 = live()
  void s0
  const perStep = (m2 - m1) / (t2 - t1)
  rows.push({
    workload: `stream memory: ${name}, steps ${t1} → ${t2}`,
    medianMs: ms / (t2 - t1),
    minMs: ms / (t2 - t1),
    maxMs: ms / (t2 - t1),
    ratio: null,
    baseline: null,
    notes: `${ok ? '' : 'stream ended early; '}live memory at t₁ ${((m1 - base) / 1024).toFixed(0)} kB over the start, growth ${perStep.toFixed(2)} bytes per step (a retained d-vector: ${8 * d} bytes)`,
    repeats: 1,
    source: 'bench/streamMemory.ts',
    measuredAt: new Date().toISOString(),
  })
}

for (const s of lowerSolvers())
  if (s.kind === 'solver') {
    const method = s.make({ problem, lambda0: lambda })
    if (method !== undefined) measureStream(`lower ${s.exportName}`, () => unfold(method, { problem, lambda }, w0, seed(1))[Symbol.iterator]())
  }
for (const s of linearSolvers())
  if (s.kind === 'solver') {
    const method = s.make({ problem, lambda0: lambda, system })
    if (method !== undefined) measureStream(`linear ${s.exportName}`, () => unfold(method, system, new Float64Array(d), seed(2))[Symbol.iterator]())
  }

console.log(formatRows(rows))
const worst = Math.max(...rows.map((r) => Number(/growth (-?[\d.]+) bytes/.exec(r.notes)?.[1] ?? NaN)))
console.log(`\nlargest growth: ${worst.toFixed(2)} bytes per step over ${rows.length} solvers`)
writeResults(rows, RESULTS_FILE)
