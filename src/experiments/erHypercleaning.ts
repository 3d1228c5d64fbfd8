/**
 * `er-hypercleaning`: Ehrhardt & Roberts, "Analyzing Inexact Hypergradients for Bilevel
 * Learning" (2024), §4.2 — data hyper-cleaning with the 10-class softmax model on MNIST
 * (`softmaxCleaningProblem`): a fraction of the training labels (10%) is replaced by a uniformly
 * random other class (`corruptLabels`), each training sample i is weighed by σ(λᵢ), and
 *
 *   ℓ(W, λ) = Σᵢ σ(λᵢ) CE(Wᵀxᵢ, yᵢ) + (ρ/2)‖W‖²,   E(W) = Σ_val CE(Wᵀxᵢ, yᵢ),   W ∈ R^{784×10}.
 *
 * The hypergradient at λ = lambda0 (every weight σ(0) = ½ by default: the first step of the
 * cleaning) is computed by the 3 × 3 solver pairs of the paper — lower solver gradient descent
 * (the fixed-point iteration of Φ = W − α∇ℓ, α = 2/(L + τ)), heavy ball (E&R's tuning from τ, L)
 * or FISTA (without restarts, step 1/(L + τ)); linear solver gradient descent (AID-FP), heavy ball
 * or conjugate gradient — each at two tolerances of each solver (36 settings), within a fixed
 * total budget B of iterations:
 *
 *   the lower solver runs from W₀ = 0 until ‖Φ(Wₜ) − Wₜ‖ ≤ tolLower·‖Φ(0)‖ or t = B;
 *   the linear solver then runs from v₀ = 0 until ‖(I − ∂₁Φᵀ)vₖ − ∇₁E‖ ≤ tolLinear·‖∇₁E‖ or t + k = B;
 *   ∇̂f = ∇₂E(Wₜ) + ∂₂Φ(Wₜ)ᵀvₖ.
 *
 * A setting whose tolerance the budget does not reach returns what it has when the budget runs
 * out (as a fixed-budget run does); results say whether each tolerance was met. The error is
 * measured against a reference: d·C = 7840 is too large for `exact` (a dense 7840² Jacobian and
 * its factorization), so the truth is AID to the rounding level (`aidTruth`: Newton-CG and
 * conjugate gradient), with its certificate. The bounds of E&R are not reported: the library
 * has no Lipschitz constants of B = ∂²_{Wλ}ℓ and ∇₁E for softmax cleaning
 * (bounds/constants.ts `lipschitzConstants` refuses it), so only the errors are.
 *
 * The figure: for each lower solver and lower tolerance, the error of the estimate held after k
 * linear steps (the last iterate once the tighter linear tolerance or the budget stops the
 * solver), for the three linear solvers.
 */
import * as E from 'fp-ts/lib/Either.js'
import type * as t from 'io-ts'
import { Fraction, FiniteNumber, nonEmpty, PositiveInt, PositiveNumber, Seed } from '../config/codecs.js'
import { fullBatchCost, type Sizes } from '../config/cost.js'
import { MNIST_D, MNIST_N, mnist } from '../data/mnist.js'
import { corruptLabels } from '../data/split.js'
import type { Dataset } from '../data/dataset.js'
import { hgError, type HypergradError } from '../errors.js'
import type { RVec, Vec } from '../linalg/types.js'
import { distance, isFiniteVec, norm } from '../linalg/vector.js'
import type { ErmProblem } from '../problem/erm.js'
import { softmaxCleaningProblem } from '../problems/softmax.js'
import { seed as rngSeed } from '../random/rng.js'
import type { Panel, Series } from '../report/figure.js'
import { linearSystemAt } from '../solvers/linearSystem.js'
import { heavyBallParamsFor } from '../solvers/params.js'
import { unfold } from '../solvers/solver.js'
import { fieldTable } from './fieldTable.js'
import { ER_LINEAR, ER_LINEAR_LABEL, ER_LOWER, ER_LOWER_LABEL, erSolvers, type ErLinear, type ErLower } from './erSolvers.js'
import { aidTruth } from './aidTruth.js'
import { bandNote, bandSeries, fmt, fmtSpread, outcomeOf, resultBytes, spread, WORKER_BYTES, type ExperimentSweep, type TaskGroup } from './common.js'
import type { CsvRow, ExperimentCost, FieldSpec, TaskOutcome } from './types.js'

// ── configuration ──────────────────────────────────────────────────────────────────────────

/** The configuration of er-hypercleaning. */
export interface ErCleaningConfig {
  /** Independent instances (split, corruption: seed + run). */
  readonly runs: number
  readonly nTrain: number
  readonly nVal: number
  /** Fraction of the training labels replaced by another class. */
  readonly corruptFraction: number
  /** The ridge ρ of ℓ. */
  readonly rho: number
  /** λᵢ = lambda0 for every sample (σ(0) = ½). */
  readonly lambda0: number
  /** The total budget B = t + k of lower and linear iterations. */
  readonly budget: number
  /** Lower tolerances, relative to ‖Φ(0) − 0‖ (two in the paper). */
  readonly lowerTols: ReadonlyArray<number>
  /** Linear tolerances, relative to ‖∇₁E(Wₜ)‖ (two in the paper). */
  readonly linearTols: ReadonlyArray<number>
  /** Points of the figure's k axis (0…B). */
  readonly curvePoints: number
  readonly seed: number
}

/**
 * Defaults: 8 instances of 500 training (10% corrupted) and 500 validation digits, ρ = 10,
 * λ = 0, B = 500, lower tolerances 1e-1 and 1e-3, linear tolerances 1e-2 and 1e-4; κ = L/τ ≈ 10³
 * from the library's bound L = ρ + σ_max(X)²/2 (the step α = 2/(L + τ) follows it). The paper's
 * 10⁻³‖W‖² on the mean loss is ρ = 2·10⁻³·n = 1 for the library's summed loss: κ ≈ 10⁴, where
 * (measured) gradient descent needs about 250 steps to cut ‖Φ(W) − W‖ tenfold and the hypergradient
 * error stays above 10% for every setting within budgets this machine affords (`rho` runs it).
 * At ρ = 10, measured: heavy ball cuts ‖Φ(W) − W‖ a thousandfold in about 100 steps, FISTA
 * (without restarts) in about 600, gradient descent tenfold in about 180.
 */
export const erCleaningDefaults: ErCleaningConfig = {
  runs: 8,
  nTrain: 500,
  nVal: 500,
  corruptFraction: 0.1,
  rho: 10,
  lambda0: 0,
  budget: 500,
  lowerTols: [1e-1, 1e-3],
  linearTols: [1e-2, 1e-4],
  curvePoints: 20,
  seed: 0,
}

const erCleaningTable = fieldTable<ErCleaningConfig>('an er-hypercleaning configuration', {
  runs: { codec: PositiveInt, kind: 'int', doc: 'independent instances, each its own split and corruption (default 8): medians and 10–90% quantiles over them' },
  nTrain: { codec: PositiveInt, kind: 'int', doc: 'MNIST training digits = hyperparameters (default 500; the paper 20,000, more than the package has)' },
  nVal: { codec: PositiveInt, kind: 'int', doc: 'validation digits (default 500; the paper 5000)' },
  corruptFraction: { codec: Fraction, kind: 'number', doc: 'fraction of training labels replaced by a random other class (default 0.1)' },
  rho: { codec: PositiveNumber, kind: 'number', doc: 'the ridge ρ of (ρ/2)‖W‖² on the summed loss (default 10; the paper\'s 10⁻³ on the mean loss is 2·10⁻³·nTrain = 1 at nTrain 500)' },
  lambda0: { codec: FiniteNumber, kind: 'number', doc: 'λᵢ for every sample, weight σ(lambda0) (default 0)' },
  budget: { codec: PositiveInt, kind: 'int', doc: 'the total budget B = t + k of lower and linear iterations (default 500)' },
  lowerTols: { codec: nonEmpty(PositiveNumber, 'a non-empty list of positive numbers'), kind: 'numberList', doc: 'lower tolerances on ‖Φ(W) − W‖/‖Φ(0)‖ (default 1e-1,1e-3)' },
  linearTols: { codec: nonEmpty(PositiveNumber, 'a non-empty list of positive numbers'), kind: 'numberList', doc: 'linear tolerances on the relative residual (default 1e-2,1e-4)' },
  curvePoints: { codec: PositiveInt, kind: 'int', doc: 'points of the figure\'s k axis (default 20)' },
  seed: { codec: Seed, kind: 'int', doc: 'base seed of the splits and the corruption (default 0)' },
})

/** The fields, for `hypergrad reproduce list`. */
export const erCleaningFields: ReadonlyArray<FieldSpec> = erCleaningTable.fields

/** Decode a configuration (io-ts). */
export const decodeErCleaning = (u: unknown): t.Validation<ErCleaningConfig> => erCleaningTable.decode(u)

/** The cross-field constraints. */
export const checkErCleaning = (c: ErCleaningConfig): E.Either<HypergradError, void> => {
  const bad = (m: string) => E.left(hgError('config', `reproduce er-hypercleaning: ${m}`))
  if (c.nTrain + c.nVal > MNIST_N) return bad(`nTrain + nVal = ${c.nTrain + c.nVal} exceeds the ${MNIST_N} MNIST digits of the package`)
  if (Math.round(c.corruptFraction * c.nTrain) < 1) return bad(`nTrain ${c.nTrain} is too small for corruptFraction ${c.corruptFraction} (no label would be corrupted)`)
  for (const [k, xs] of [['lowerTols', c.lowerTols], ['linearTols', c.linearTols]] as const)
    if (xs.some((x) => !(x < 1))) return bad(`${k}: every tolerance must be below 1, got ${xs.join(',')}`)
  return E.right(undefined)
}

// ── one task: one instance ─────────────────────────────────────────────────────────────────

/** The input of one task. */
export interface ErCleaningTaskInput extends ErCleaningConfig {
  readonly run: number
}

/** One of the settings: a solver pair at a lower and a linear tolerance. */
export interface CleaningPoint {
  readonly lower: ErLower
  readonly linear: ErLinear
  readonly lowerTol: number
  readonly linearTol: number
  /** Lower and linear iterations used (t + k ≤ B). */
  readonly t: number
  readonly k: number
  /** Whether each tolerance was met within the budget. */
  readonly lowerReached: boolean
  readonly linearReached: boolean
  readonly relError: number | null
}

/** The figure's curve of one lower solver at one lower tolerance and one linear solver. */
export interface CleaningCurve {
  readonly lower: ErLower
  readonly lowerTol: number
  readonly linear: ErLinear
  readonly t: number
  /** Relative errors at the k of the grid. */
  readonly relError: ReadonlyArray<number | null>
}

/** The result of one instance. */
export interface ErCleaningTaskResult {
  readonly run: number
  /** Corrupted training labels. */
  readonly corrupted: number
  readonly tau: number
  readonly L: number
  readonly gradNorm: number
  /** The reference's certificate (aidTruth.ts). */
  readonly truth: { readonly relGradLower: number; readonly radius: number; readonly relResidual: number; readonly newtonSteps: number; readonly products: number }
  readonly points: ReadonlyArray<CleaningPoint>
  readonly curves: ReadonlyArray<CleaningCurve>
  readonly seconds: number
}

/** The k of the figure's axis: round(i·B/points), i = 0…points, without repeats. */
export const curveGrid = (c: Pick<ErCleaningConfig, 'budget' | 'curvePoints'>): number[] =>
  [...new Set(Array.from({ length: c.curvePoints + 1 }, (_, i) => Math.round((i * c.budget) / c.curvePoints)))]

/** The seed of run r's label corruption (apart from the split's). */
const corruptionSeed = (seed: number, run: number): number => 2_000_003 * (seed + 1) + 104_729 * run

/** The data of run r: the seeded 10-class split, and its training set with corrupted labels. */
export const erCleaningData = (
  c: Pick<ErCleaningConfig, 'nTrain' | 'nVal' | 'corruptFraction' | 'seed'>,
  run: number,
): E.Either<HypergradError, { readonly clean: Dataset; readonly train: Dataset; readonly validation: Dataset; readonly corrupted: Int32Array }> => {
  const split = mnist({ classes: 10, nTrain: c.nTrain, nVal: c.nVal, seed: c.seed + run })
  if (E.isLeft(split)) return split
  const bad = corruptLabels(split.right.train, c.corruptFraction, rngSeed(corruptionSeed(c.seed, run)))
  if (E.isLeft(bad)) return bad
  return E.right({ clean: split.right.train, train: bad.right.data, validation: split.right.validation, corrupted: bad.right.corrupted })
}

/** One task: every setting on one instance. */
export const erCleaningTask = (input: ErCleaningTaskInput): TaskOutcome<ErCleaningTaskResult> => outcomeOf(taskEither(input))

const taskEither = (c: ErCleaningTaskInput): E.Either<HypergradError, ErCleaningTaskResult> => {
  const started = performance.now()
  const data = erCleaningData(c, c.run)
  if (E.isLeft(data)) return data
  const lambda = new Float64Array(c.nTrain).fill(c.lambda0)
  const built = softmaxCleaningProblem(data.right.train, data.right.validation, lambda, { rho: c.rho })
  if (E.isLeft(built)) return built
  const problem: ErmProblem = built.right
  const truthE = aidTruth(problem, lambda)
  if (E.isLeft(truthE)) return truthE
  const truth = truthE.right
  const gNorm = norm(truth.gradient)
  const hb = heavyBallParamsFor(problem, lambda)
  if (E.isLeft(hb)) return hb
  const { beta, eta } = hb.right
  /** The relative error of ∇̂f = ∇₂E(w) + ∂₂Φ(w)ᵀv. */
  const relErrorAt = (w: RVec, v: RVec): number | null => {
    const g = problem.gradUpperLambda(w, lambda)
    const cross = problem.vjpLambda(w, lambda, v)
    for (let i = 0; i < g.length; i++) g[i] = g[i]! + cross[i]!
    const e = distance(g, truth.gradient) / gNorm
    return Number.isFinite(e) ? e : null
  }
  const B = c.budget
  const lowerTols = [...new Set(c.lowerTols)].sort((a, b) => b - a)
  const linearTols = [...new Set(c.linearTols)].sort((a, b) => b - a)
  const grid = curveGrid(c)
  const zero = new Float64Array(problem.dim)
  const r0 = distance(problem.phi(zero, lambda), zero)
  const points: CleaningPoint[] = []
  const curves: CleaningCurve[] = []
  for (const lo of ER_LOWER) {
    // The lower stream to the budget, keeping the first iterate below each tolerance.
    const stops: Array<{ t: number; w: Vec; reached: boolean }> = []
    let last: { t: number; w: Vec } = { t: 0, w: zero }
    for (const s of unfold(erSolvers({ beta, eta }).lower[lo], { problem, lambda }, zero, rngSeed(0))) {
      if (!isFiniteVec(s.w)) return E.left(hgError('divergence', `er-hypercleaning: the ${ER_LOWER_LABEL[lo]} lower solver diverged at t = ${s.iter}`))
      last = { t: s.iter, w: s.w }
      // FISTA reports no residual: one more Φ evaluation, for the stopping test only (not counted in the budget).
      const res = s.residual ?? distance(problem.phi(s.w, lambda), s.w)
      while (stops.length < lowerTols.length && res <= lowerTols[stops.length]! * r0) stops.push({ t: s.iter, w: s.w, reached: true })
      if (stops.length === lowerTols.length || s.iter >= B || s.stop !== undefined) break
    }
    while (stops.length < lowerTols.length) stops.push({ ...last, reached: false })
    lowerTols.forEach((lowerTol, j) => {
      const { t: tt, w, reached: lowerReached } = stops[j]!
      const system = linearSystemAt(problem, lambda, w)
      const b = norm(system.rhs)
      for (const li of ER_LINEAR) {
        const found: Array<{ k: number; v: Vec; reached: boolean }> = []
        const curve: Array<number | null> = []
        let v: Vec = zero
        let k = 0
        let g = 0
        for (const s of unfold(erSolvers({ beta, eta }).linear[li], system, zero, rngSeed(0))) {
          if (s.stop === 'diverged' || !isFiniteVec(s.v)) break
          v = s.v
          k = s.iter
          while (g < grid.length && grid[g] === k) (curve.push(relErrorAt(w, v)), g++)
          const rel = (s.residual ?? Infinity) / b
          while (found.length < linearTols.length && rel <= linearTols[found.length]!) found.push({ k, v, reached: true })
          if (found.length === linearTols.length || tt + k >= B || s.stop !== undefined) break
        }
        // After the stop the estimate is the last one, for the rest of the axis.
        const final = g < grid.length ? relErrorAt(w, v) : null
        while (g < grid.length) (curve.push(final), g++)
        while (found.length < linearTols.length) found.push({ k, v, reached: false })
        curves.push({ lower: lo, lowerTol, linear: li, t: tt, relError: curve })
        linearTols.forEach((linearTol, i) => {
          const f = found[i]!
          points.push({ lower: lo, linear: li, lowerTol, linearTol, t: tt, k: f.k, lowerReached, linearReached: f.reached, relError: relErrorAt(w, f.v) })
        })
      }
    })
  }
  const { tau, L } = problem.lower.curvature(lambda)
  return E.right({
    run: c.run,
    corrupted: data.right.corrupted.length,
    tau,
    L,
    gradNorm: gNorm,
    truth: { relGradLower: truth.relGradLower, radius: truth.radius, relResidual: truth.relResidual, newtonSteps: truth.newtonSteps, products: truth.products },
    points,
    curves,
    seconds: (performance.now() - started) / 1000,
  })
}

// ── cost ───────────────────────────────────────────────────────────────────────────────────

/**
 * What a run costs, before any work (a pass touches the n × 784 training matrix 10 times over:
 * C dots and C axpys per row). Per instance: the reference (counted as 400 passes: Newton-CG
 * and CG took about 350 measured at the defaults), three lower streams of B steps (FISTA's
 * residual one more pass each), and for each lower solver and tolerance the three linear
 * solvers for up to B steps, plus the figure's estimates.
 */
export const erCleaningCost = (c: ErCleaningConfig): ExperimentCost => {
  const C = 10
  const s: Sizes = { rows: c.nTrain, cols: MNIST_D * C, nnz: c.nTrain * MNIST_D * C, hyper: c.nTrain }
  const tols = new Set(c.lowerTols).size
  const passes = 400 + 4 * c.budget + tols * 3 * (c.budget + curveGrid(c).length + 2 * new Set(c.linearTols).size)
  const perTask = resultBytes(9 * tols * (8 * new Set(c.linearTols).size + curveGrid(c).length) + 20)
  const data = 8 * (MNIST_N * MNIST_D + 3 * (c.nTrain + c.nVal) * (MNIST_D + 1))
  return {
    seconds: c.runs * fullBatchCost(s, passes).seconds,
    results: { bytes: c.runs * perTask, heapBytes: c.runs * perTask },
    perWorker: { bytes: WORKER_BYTES + data + 20 * 8 * s.cols + 8 * 8 * c.nTrain + perTask, heapBytes: perTask },
    shared: 0,
    tasks: c.runs,
  }
}

// ── the sweep ──────────────────────────────────────────────────────────────────────────────

const tolLabel = (x: number): string => x.toExponential(0).replace('e-', 'e−')

/**
 * The experiment: one task per instance; the figure er-hypercleaning.svg (a panel per lower
 * solver and lower tolerance: the error after k linear steps for each linear solver, median and
 * 10–90% band), results.csv with one row per instance × setting, and a summary table of the
 * 36 settings with the linear solver of least median error for each lower setting.
 */
export const erHypercleaning: ExperimentSweep<ErCleaningConfig> = {
  sweep: (config) => {
    const groups: TaskGroup[] = []
    for (let run = 0; run < config.runs; run++)
      groups.push({
        tasks: [{ module: 'erHypercleaning', fn: 'erCleaningTask', input: { ...config, lowerTols: [...config.lowerTols], linearTols: [...config.linearTols], run } satisfies ErCleaningTaskInput }],
      })
    return { groups }
  },
  assemble: (config, raw, timing) => {
    const results = raw as ReadonlyArray<ErCleaningTaskResult>
    const name = 'er-hypercleaning'
    const lowerTols = [...new Set(config.lowerTols)].sort((a, b) => b - a)
    const linearTols = [...new Set(config.linearTols)].sort((a, b) => b - a)
    const grid = curveGrid(config)
    const panels: Panel[] = []
    const aggregate: unknown[] = []
    for (const lo of ER_LOWER)
      for (const lowerTol of lowerTols) {
        const series: Series[] = []
        for (const li of ER_LINEAR) {
          const cs = results.map((r) => r.curves.find((q) => q.lower === lo && q.lowerTol === lowerTol && q.linear === li))
          const at = grid.map((_, g) => spread(cs.map((q) => q?.relError[g] ?? null), 'unbounded'))
          series.push(bandSeries(`linear ${ER_LINEAR_LABEL[li]}`, grid, at))
        }
        const tMed = spread(results.map((r) => r.curves.find((q) => q.lower === lo && q.lowerTol === lowerTol)?.t ?? null)).median
        panels.push({ title: `lower ${ER_LOWER_LABEL[lo]} to ${tolLabel(lowerTol)} (median t = ${tMed})`, series })
      }
    const lines = [
      `${name} (E&R §4.2, MNIST 10 classes, n = ${config.nTrain}, ${Math.round(100 * config.corruptFraction)}% corrupted, ρ = ${config.rho}, λ = ${config.lambda0}, budget B = t + k = ${config.budget}, ${config.runs} instances): relative error ‖∇̂f − ∇f‖/‖∇f‖, median [10%, 90%]; t, k medians; (tolerance met in how many instances)`,
    ]
    let cgWins = 0
    let ties = 0
    let cells = 0
    const bests: unknown[] = []
    for (const lo of ER_LOWER)
      for (const lowerTol of lowerTols)
        for (const linearTol of linearTols) {
          const rows = ER_LINEAR.map((li) => {
            const ps = results.map((r) => r.points.find((q) => q.lower === lo && q.linear === li && q.lowerTol === lowerTol && q.linearTol === linearTol)!)
            const err = spread(ps.map((p) => p.relError), 'unbounded')
            aggregate.push({ lower: lo, linear: li, lowerTol, linearTol, relError: err })
            return { li, err, ps }
          })
          const best = rows.reduce((a, b) => (b.err.median < a.err.median ? b : a))
          // A winner only when its median is at least 1% below every other's (no linear budget left: all equal).
          const clear = rows.every((r) => r === best || best.err.median < 0.99 * r.err.median)
          cells++
          if (clear && best.li === 'cg') cgWins++
          if (!clear) ties++
          bests.push({ lower: lo, lowerTol, linearTol, best: clear ? best.li : null })
          for (const { li, err, ps } of rows) {
            const met = (f: (p: CleaningPoint) => boolean) => ps.filter(f).length
            lines.push(
              `${`${ER_LOWER_LABEL[lo]} ${tolLabel(lowerTol)} + ${ER_LINEAR_LABEL[li]} ${tolLabel(linearTol)}`.padEnd(30)} ${fmtSpread(err)}  t ${spread(ps.map((p) => p.t)).median} (${met((p) => p.lowerReached)}/${ps.length}), k ${spread(ps.map((p) => p.k)).median} (${met((p) => p.linearReached)}/${ps.length})${clear && li === best.li ? '  ← least' : ''}`,
            )
          }
        }
    const worst = (f: (r: ErCleaningTaskResult) => number) => results.reduce((a, r) => Math.max(a, f(r)), 0)
    lines.push(`CG has the least median error (by at least 1%) in ${cgWins} of ${cells} (lower solver, lower tolerance, linear tolerance) settings; ${ties} with no clear least (e.g. no budget left for the linear solver)`)
    lines.push(
      `reference (Newton-CG + CG): worst ‖∇ℓ(ŵ)‖/‖∇ℓ(0)‖ = ${fmt(worst((r) => r.truth.relGradLower))}, worst ‖ŵ − w(λ)‖ ≤ ${fmt(worst((r) => r.truth.radius))}, worst relative residual ${fmt(worst((r) => r.truth.relResidual))}; κ = L/τ ≈ ${spread(results.map((r) => r.L / r.tau)).median.toFixed(0)} (the library's bound)`,
    )
    const csv: CsvRow[] = []
    for (const r of results)
      for (const p of r.points)
        csv.push({ experiment: name, run: r.run, lower: p.lower, lower_tol: p.lowerTol, linear: p.linear, linear_tol: p.linearTol, budget: config.budget, t: p.t, k: p.k, lower_reached: p.lowerReached, linear_reached: p.linearReached, rel_error: p.relError, true_grad_norm: r.gradNorm })
    return E.right({
      experiment: name,
      config,
      rows: csv,
      figures: [
        {
          file: `${name}.svg`,
          panels,
          options: {
            title: `E&R §4.2 hyper-cleaning (MNIST, 10 classes, ${Math.round(100 * config.corruptFraction)}% corrupted), budget B = ${config.budget}: error after k linear steps (stopped at ${tolLabel(linearTols[linearTols.length - 1]!)} or t + k = B); ${bandNote(config.runs, 'instance')}`,
            xLabel: 'k (linear-solver iterations)',
            yLabel: '‖∇̂f − ∇f‖ / ‖∇f‖',
            logY: true,
            columns: lowerTols.length,
            width: 260,
            height: 170,
          },
        },
      ],
      summary: lines.join('\n'),
      details: { aggregate, bests, cgWins, ties, settings: cells, tasks: results.map(({ seconds: _s, ...rest }) => rest) },
      timing: { ...timing, taskSeconds: results.map((r) => r.seconds) },
    })
  },
}
