/**
 * Tuning the L2 strength of logistic regression, side by side with what a Python user does
 * today (../shared/peers/tune_sklearn.py: scikit-learn fits driven by a 100-point
 * warm-started grid, scipy's Brent on log λ, or optuna's TPE with 60 trials), on the same data
 * files and the same objective, in one run:
 *
 *   1. scalar λ, breast-cancer-sized (scikit-learn's Wisconsin set, 300 training and 269
 *      validation rows, 30 standardized features: bench/tuneData.py writes the files) and MNIST
 *      odd/even (the reference split, 5000 + 5000 rows, 784 pixels, written as libsvm files):
 *      seconds until λ is within 1e-2 (relative) of the argmin λ*, from each method's own
 *      clock — the peer's `secondsToTarget` (from its first fit, after its imports) and the
 *      `seconds` of `hypergrad tune`'s trajectory (from its first evaluation, after loading the
 *      data and building the objectives) — and the precision each reaches. The breast-cancer
 *      runs repeat `repeats` times, interleaved (Brent, then each hypergrad configuration), and
 *      the rows give medians; the whole processes are timed too (start-up, imports, data).
 *   2. one λ per pixel on MNIST (784 hyperparameters): the validation loss `hypergrad tune`
 *      reaches within the wall time that optuna's 60 trials take on the scalar problem, against
 *      the best validation loss of every scalar search.
 *   3. the cost of one outer step on MNIST broken down: the set-up done once per run, and per
 *      evaluation the lower-level solve, the linear solve and the rest (outer/ermOracle.ts).
 *
 * λ* is the end point of `tune` (L-BFGS on log λ, exact or AID with Newton-CG, gradTol 1e-12),
 * checked by the sign change of the exact hypergradient at λ*(1 ± δ) (δ = 1e-7, 1e-6 on MNIST).
 * The hypergrad runs use the built command (`npm run build` first: dist/cli/main.bundle.js).
 * The peers need /usr/bin/python3 with numpy, scipy, scikit-learn and optuna (Debian's
 * packages); every peer runs on one thread (OMP/OpenBLAS/MKL_NUM_THREADS=1), as bench/peers.sh
 * runs them.
 *
 * The rcv1 shape of sparse_ref.py (13,494 × 47,236 training rows, 47,236 hyperparameters per
 * feature) is not part of this bench yet; the sparse passes themselves are timed in bench/sparse.ts.
 */
import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import * as E from 'fp-ts/lib/Either.js'
import { loadData, problemFamily, type Splits } from '../src/cli/build.js'
import { formatLibsvm } from '../src/data/libsvm.js'
import { mnistOddEven } from '../src/data/mnist.js'
import { exact } from '../src/hypergrad/exact.js'
import { ermOracle, type ErmMethod, type TimedResult } from '../src/outer/ermOracle.js'
import { tune, type OracleRequest } from '../src/outer/tune.js'
import type { BenchContext, Row } from './harness.js'

const here = dirname(fileURLToPath(import.meta.url))
const root = dirname(here)
const PEERS = process.env['PEERS_DIR'] ?? join(root, '..', 'shared', 'peers')
const PY = process.env['PEERS_PYTHON'] ?? '/usr/bin/python3'
const TOL = 1e-2

interface Ran {
  readonly stdout: string
  readonly stderr: string
  readonly ms: number
}

/** Run a process to its end; its output and wall time. Throws on a non-zero exit. */
const run = (cmd: string, args: ReadonlyArray<string>, env: Record<string, string> = {}): Promise<Ran> =>
  new Promise((resolve, reject) => {
    const t0 = performance.now()
    execFile(cmd, [...args], { env: { ...process.env, ...env }, maxBuffer: 1 << 28, timeout: 3_600_000 }, (e, stdout, stderr) => {
      const ms = performance.now() - t0
      if (e) reject(new Error(`${cmd} ${args.join(' ')}: ${e.message}\n${stderr}`))
      else resolve({ stdout, stderr, ms })
    })
  })

/** One thread for OpenBLAS and friends; no CPU-type overrides (bench/peers.sh's `pinned`). */
const pinned = (): Record<string, string> => {
  const env: Record<string, string> = { OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1', MKL_NUM_THREADS: '1' }
  delete process.env['OPENBLAS_CORETYPE']
  delete process.env['OPENBLAS_L2_SIZE']
  return env
}

interface PeerResult {
  readonly method: string
  readonly seconds: number
  readonly fits: number
  readonly lambda: number
  readonly value: number
  readonly relErr: number
  readonly secondsToTarget: number | null
  /** The whole process (interpreter start, imports, data), ms. */
  readonly processMs: number
}

const peer = async (dir: string, name: string, methods: string, target: number): Promise<PeerResult[]> => {
  const r = await run(PY, [join(PEERS, 'tune_sklearn.py'), join(dir, `${name}-train.svm`), join(dir, `${name}-val.svm`), '--methods', methods, '--target', String(target), '--tol', String(TOL)], pinned())
  return r.stdout
    .trim()
    .split('\n')
    .map((l) => ({ ...(JSON.parse(l) as Omit<PeerResult, 'processMs'>), processMs: r.ms }))
}

interface HgResult {
  readonly lambda: number[]
  readonly value: number
  readonly status: string
  readonly relErr: number
  readonly secondsToTarget: number | null
  readonly seconds: number
  readonly evaluations: number
  readonly processMs: number
  readonly trajectory: ReadonlyArray<{ readonly seconds: number; readonly value: number; readonly lambda: ReadonlyArray<number>; readonly evaluations: number }>
}

const bin = join(root, 'bin', 'hypergrad.js')

/** `hypergrad tune` on a config (the built command), with the time to λ within TOL of λ* from its trajectory. */
const hg = async (dir: string, name: string, cfg: object, target?: number): Promise<HgResult> => {
  const path = join(dir, `${name}.json`)
  writeFileSync(path, JSON.stringify(cfg))
  const r = await run(process.execPath, [bin, 'tune', path, '--json', '--quiet'])
  const out = JSON.parse(r.stdout) as { lambda: number | number[]; value: number; status: string; seconds: number; trajectory: HgResult['trajectory'] }
  const lam = typeof out.lambda === 'number' ? [out.lambda] : out.lambda
  const hit = target === undefined ? undefined : out.trajectory.find((s) => Math.abs(s.lambda[0]! - target) <= TOL * target)
  return {
    lambda: lam,
    value: out.value,
    status: out.status,
    relErr: target === undefined ? NaN : Math.abs(lam[0]! - target) / target,
    secondsToTarget: hit?.seconds ?? null,
    seconds: out.seconds,
    evaluations: out.trajectory.at(-1)?.evaluations ?? 0,
    processMs: r.ms,
    trajectory: out.trajectory,
  }
}

const median = (xs: ReadonlyArray<number>): number => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

const row = (workload: string, ms: ReadonlyArray<number>, baseline: { name: string; ms: number } | undefined, notes: string): Row => ({
  workload,
  medianMs: median(ms),
  minMs: Math.min(...ms),
  maxMs: Math.max(...ms),
  ratio: baseline === undefined ? null : median(ms) / baseline.ms,
  baseline: baseline?.name ?? null,
  notes,
  repeats: ms.length,
})

const or = <A>(e: E.Either<{ readonly message: string }, A>): A => {
  if (E.isLeft(e)) throw new Error(e.left.message)
  return e.right
}

/** λ*: the end point of L-BFGS on log λ (tight), checked by the sign change of the exact ∇f at λ*(1 ± δ). */
const argmin = (splits: Splits, method: ErmMethod, delta: number): number => {
  const cfg = { problem: 'logistic' as const, regularization: 'scalar' as const }
  const at = or(problemFamily(cfg, splits, Float64Array.of(1)))
  const oracle = or(ermOracle(at, { method, initialRelativeTolerance: 1e-8, minRelativeTolerance: 1e-13 }))
  const r = or(tune(Float64Array.of(1), oracle, { optimizer: 'lbfgs', logScale: true, steps: 100, gradTol: 1e-12 }))
  const star = r.lambda[0]!
  const slope = (l: number): number => {
    const x = exact(or(at(Float64Array.of(l))), Float64Array.of(l))
    const res = or(x)
    if (res.status === 'diverged') throw new Error(`exact diverged at λ = ${l}`)
    return res.gradient[0]!
  }
  const lo = slope(star * (1 - delta))
  const hi = slope(star * (1 + delta))
  if (!(lo < 0 && hi > 0)) throw new Error(`λ* = ${star} is not bracketed to ${delta}: f′ = ${lo}, ${hi}`)
  return star
}

const logisticConfig = (name: string, extra: object, outer: object) => ({
  problem: 'logistic',
  data: { train: `${name}-train.svm`, validation: `${name}-val.svm`, nFeatures: name === 'mnist' ? 784 : 30 },
  lambda: 1,
  ...extra,
  outer: { optimizer: 'lbfgs', steps: 60, logScale: true, ...outer },
})

const f3 = (x: number | null): string => (x === null || !Number.isFinite(x) ? '–' : x.toFixed(3))
const e1 = (x: number): string => x.toExponential(1)

export default async function tuneBench(ctx: BenchContext): Promise<ReadonlyArray<Row>> {
  if (!existsSync(join(root, 'dist', 'cli', 'main.bundle.js'))) throw new Error('bench/tune.bench.ts times the built command: run `npm run build` first')
  const dir = mkdtempSync(join(tmpdir(), 'hypergrad-tune-bench-'))
  const rows: Row[] = []
  try {
    // --- data: the same files for both sides
    await run(PY, [join(here, 'tuneData.py'), dir])
    const mn = or(mnistOddEven())
    writeFileSync(join(dir, 'mnist-train.svm'), formatLibsvm(mn.train))
    writeFileSync(join(dir, 'mnist-val.svm'), formatLibsvm(mn.validation))
    const bcSplits = or(loadData({ train: 'bc-train.svm', validation: 'bc-val.svm' }, 'logistic', dir))
    const mnSplits = or(loadData({ train: 'mnist-train.svm', validation: 'mnist-val.svm', nFeatures: 784 }, 'logistic', dir))
    const bcStar = argmin(bcSplits, { name: 'exact' }, 1e-7)
    const mnStar = argmin(mnSplits, { name: 'aid', lower: 'newtonCg', t: 50, k: 10_000 }, 1e-6)
    console.log(`λ*: breast cancer ${bcStar}, MNIST ${mnStar}`)

    // --- 1a. breast cancer, scalar λ: Brent and hypergrad interleaved, `repeats` times
    const repeats = ctx.quick ? 2 : 5
    const configs: ReadonlyArray<[string, object]> = [
      ['default (method left out)', {}],
      ['exact', { method: { name: 'exact' } }],
      ['AID Newton-CG + CG', { method: { name: 'aid', lower: 'newtonCg', linear: 'cg', t: 50, k: 1000 } }],
      ['AID L-BFGS(ℓ) + CG', { method: { name: 'aid', lower: 'lbfgs', linear: 'cg', t: 500, k: 1000 } }],
    ]
    const brent: PeerResult[] = []
    const ours: HgResult[][] = configs.map(() => [])
    for (let r = 0; r < repeats; r++) {
      brent.push(...(await peer(dir, 'bc', 'brent', bcStar)))
      for (const [i, [, extra]] of configs.entries()) ours[i]!.push(await hg(dir, `bc-${i}`, logisticConfig('bc', extra, { gradTol: 1e-10 }), bcStar))
    }
    const [grid, optuna] = await peer(dir, 'bc', 'grid,optuna', bcStar)
    const brentTo = median(brent.map((b) => 1000 * (b.secondsToTarget ?? NaN)))
    const base = { name: 'tune breast cancer 300×30, scalar λ: sklearn + scipy Brent on log λ, s to λ within 1e-2 of λ*', ms: brentTo }
    rows.push(row(base.name, brent.map((b) => 1000 * (b.secondsToTarget ?? NaN)), undefined, `${brent[0]!.fits} fits; final relative error ${e1(brent[0]!.relErr)}; whole process ${f3(median(brent.map((b) => b.processMs)) / 1000)} s; λ* = ${bcStar}`))
    for (const [i, [label]] of configs.entries()) {
      const rs = ours[i]!
      const to = rs.map((x) => 1000 * (x.secondsToTarget ?? NaN))
      rows.push(
        row(
          `tune breast cancer 300×30, scalar λ: hypergrad tune lbfgs log λ, ${label}, s to λ within 1e-2 of λ*`,
          to,
          base,
          `${rs[0]!.evaluations} evaluations, final relative error ${e1(median(rs.map((x) => x.relErr)))} (${rs[0]!.status}); loop ${f3(median(rs.map((x) => x.seconds)))} s; whole process ${f3(median(rs.map((x) => x.processMs)) / 1000)} s (Brent's ${f3(median(brent.map((b) => b.processMs)) / 1000)} s)`,
        ),
      )
    }
    for (const p of [grid!, optuna!])
      rows.push(
        row(`tune breast cancer 300×30, scalar λ: sklearn ${p.method}, s to λ within 1e-2 of λ*`, [1000 * (p.secondsToTarget ?? NaN)], base, `${p.fits} fits, ${f3(p.seconds)} s in all; final relative error ${e1(p.relErr)}${p.secondsToTarget === null ? ' (never within 1e-2)' : ''}`),
      )

    // --- 1b. MNIST, scalar λ: one run of each
    const [mnBrent, mnGrid, mnOptuna] = await peer(dir, 'mnist', 'brent,grid,optuna', mnStar)
    const mnDefault = await hg(dir, 'mnist-default', logisticConfig('mnist', {}, { gradTol: 1e-8 }), mnStar)
    const mnExact = await hg(dir, 'mnist-exact', logisticConfig('mnist', { method: { name: 'exact' } }, { gradTol: 1e-8 }), mnStar)
    const mnBase = { name: 'tune MNIST 5000×784, scalar λ: sklearn + scipy Brent on log λ, s to λ within 1e-2 of λ*', ms: 1000 * (mnBrent!.secondsToTarget ?? NaN) }
    rows.push(row(mnBase.name, [mnBase.ms], undefined, `${mnBrent!.fits} fits, ${f3(mnBrent!.seconds)} s in all; final relative error ${e1(mnBrent!.relErr)}; λ* = ${mnStar}`))
    for (const [label, x] of [['default (AID Newton-CG + CG)', mnDefault], ['exact', mnExact]] as const)
      rows.push(
        row(
          `tune MNIST 5000×784, scalar λ: hypergrad tune lbfgs log λ, ${label}, s to λ within 1e-2 of λ*`,
          [1000 * (x.secondsToTarget ?? NaN)],
          mnBase,
          `${x.evaluations} evaluations, ${f3(x.seconds)} s in all; final relative error ${e1(x.relErr)} (${x.status}); whole process ${f3(x.processMs / 1000)} s`,
        ),
      )
    for (const p of [mnGrid!, mnOptuna!])
      rows.push(row(`tune MNIST 5000×784, scalar λ: sklearn ${p.method}, s to λ within 1e-2 of λ*`, [1000 * (p.secondsToTarget ?? NaN)], mnBase, `${p.fits} fits, ${f3(p.seconds)} s in all; final relative error ${e1(p.relErr)}; f(λ) = ${p.value.toFixed(3)}`))

    // --- 2. MNIST, one λ per pixel, within optuna's wall time on the scalar problem
    const budget = mnOptuna!.seconds
    const pf = await hg(dir, 'mnist-perfeature', { ...logisticConfig('mnist', { regularization: 'perFeature' }, { bounds: [1e-3, 1e4] }), outer: { optimizer: 'lbfgs', steps: 200, logScale: true, bounds: [1e-3, 1e4], maxEvaluations: 400, maxSeconds: Math.max(1, 2 * budget) } })
    const within = pf.trajectory.filter((s) => s.seconds <= budget)
    const reached = within.length === 0 ? NaN : Math.min(...within.map((s) => s.value))
    const bestScalar = Math.min(mnBrent!.value, mnGrid!.value, mnOptuna!.value)
    rows.push(
      row(
        'tune MNIST 5000×784, 784 λ (one per pixel): hypergrad tune lbfgs log λ ∈ [1e-3, 1e4], validation loss within optuna’s 60-trial time',
        [1000 * (within.at(-1)?.seconds ?? NaN)],
        undefined,
        `f = ${reached.toFixed(3)} after ${within.length} steps in ${f3(within.at(-1)?.seconds ?? NaN)} s (budget: optuna's ${f3(budget)} s); best scalar f: grid ${mnGrid!.value.toFixed(3)}, Brent ${mnBrent!.value.toFixed(3)}, optuna ${mnOptuna!.value.toFixed(3)}; ${reached < bestScalar ? 'lower than every scalar search' : 'NOT lower than the best scalar search'}; final f = ${pf.value.toFixed(3)} after ${pf.trajectory.length} steps, ${f3(pf.seconds)} s`,
      ),
    )

    // --- 3. the cost of an outer step on MNIST, broken down (in process, the library's oracle)
    for (const [label, regularization, lam0] of [['scalar λ', 'scalar', [1]], ['784 λ', 'perFeature', Array.from({ length: 784 }, () => 1)]] as const) {
      const t0 = performance.now()
      const at = or(problemFamily({ problem: 'logistic', regularization }, mnSplits, Float64Array.from(lam0)))
      const setupMs = performance.now() - t0
      const timings: TimedResult[] = []
      const oracle = or(ermOracle(at, { method: { name: 'aid', lower: 'newtonCg', t: 50, k: 10_000 } }))
      const recording = (req: OracleRequest) => {
        const r = oracle(req)
        if (E.isRight(r)) timings.push(r.right as TimedResult)
        return r
      }
      const steps = ctx.quick ? 4 : 8
      or(tune(Float64Array.from(lam0), recording, { optimizer: 'lbfgs', logScale: true, steps, bounds: [1e-3, 1e4] }))
      const warm = timings.slice(1)
      const m = (f: (t: TimedResult) => number) => median(warm.map(f))
      rows.push(
        row(
          `tune MNIST 5000×784, ${label}: one evaluation of AID Newton-CG + CG (warm-started), ms`,
          warm.map((t) => t.timing.totalMs),
          undefined,
          `median of ${warm.length} warm evaluations: lower solve ${m((t) => t.timing.lowerMs).toFixed(0)} ms (${m((t) => t.t)} Newton steps), linear solve ${m((t) => t.timing.linearMs).toFixed(0)} ms (${m((t) => t.k)} CG steps), rest ${m((t) => t.timing.setupMs).toFixed(0)} ms; first (cold) evaluation ${timings[0]!.timing.totalMs.toFixed(0)} ms; set-up once per run ${setupMs.toFixed(0)} ms (data checks, objectives, σ_max(X)²)`,
        ),
      )
    }
    console.log(JSON.stringify({ bcStar, mnStar, brent, grid, optuna, ours: configs.map(([l], i) => ({ label: l, runs: ours[i]!.map(({ trajectory: _t, ...x }) => x) })), mnist: { brent: mnBrent, grid: mnGrid, optuna: mnOptuna, default: { ...mnDefault, trajectory: undefined }, exact: { ...mnExact, trajectory: undefined }, perFeature: pf.trajectory.map((s) => ({ seconds: s.seconds, value: s.value, evaluations: s.evaluations })) } }))
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
  return rows
}
