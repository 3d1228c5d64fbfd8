/**
 * Ehrhardt & Roberts, "Analyzing Inexact Hypergradients for Bilevel Learning" (2024), §4.1: the
 * true hypergradient error against the a priori and the a posteriori bounds
 * (bounds/ehrhardtRoberts.ts, constants from bounds/constants.ts) on their least-squares test
 * problem (`erQuadraticProblem`, A, C, D of size 1000×10, evaluated at λ = 1).
 *
 *  - Lower-level solvers: gradient descent (the fixed-point iteration of Φ = w − α∇ℓ with the
 *    optimal α = 2/(L+τ)) and heavy ball (step 4/(√L+√τ)², momentum q_HB²), t = 0…100 from
 *    w₀ = 0, each wₜ followed by an accurate linear solve (conjugate gradient run for 200 steps
 *    with no tolerance, so that its a priori residual bound is negligible too). The a priori
 *    bound uses the solver's rate for ‖wₜ − w*‖ and the CG residual bound for the steps run.
 *  - Linear-system solvers at the exact lower solution w* (closed form): gradient descent
 *    (AID-FP: GD with step α on A p = ∇₁E), heavy ball (the same tuning) and conjugate gradient,
 *    k = 0…200 from v₀ = 0. The a priori bound uses the solver's residual rate with ‖wₜ − w*‖ = 0.
 *
 * The a posteriori bound is evaluated at each computed (wₜ, vₖ) from ‖∇₁ℓ(wₜ)‖ and the true
 * linear residual (`aPosterioriInputsAt`); the a priori one needs only the constants and the
 * iteration counts. A run is one problem instance (its own seed); the figure shows the median
 * and the 10–90% quantiles over the runs.
 */
import * as E from 'fp-ts/lib/Either.js'
import { aPosterioriInputsAt, erConstantsFor } from '../bounds/constants.js'
import {
  aPosterioriBound,
  aPrioriBoundAfter,
  type ErConstants,
  type LinearSolverSpec,
  type LowerSolverSpec,
} from '../bounds/ehrhardtRoberts.js'
import { exactCost, fullBatchCost, STATE_BYTES, workSeconds, type Sizes } from '../config/cost.js'
import { hgError, type HypergradError } from '../errors.js'
import type { RVec, Vec } from '../linalg/types.js'
import { distance, isFiniteVec, norm } from '../linalg/vector.js'
import { erQuadraticProblem, type ErQuadraticProblem } from '../problems/erQuadratic.js'
import { seed as rngSeed } from '../random/rng.js'
import type { Panel, Series } from '../report/figure.js'
import { linearSystemAt } from '../solvers/linearSystem.js'
import { conjugateGradient } from '../solvers/linear/conjugateGradient.js'
import { fixedPointLinear } from '../solvers/linear/fixedPoint.js'
import { heavyBallLinear } from '../solvers/linear/heavyBall.js'
import { fixedPointIteration } from '../solvers/lower/fixedPoint.js'
import { heavyBall } from '../solvers/lower/heavyBall.js'
import { heavyBallParams } from '../solvers/params.js'
import { unfold } from '../solvers/solver.js'
import type { LinearSolver, LowerSolver } from '../solvers/types.js'
import type { CsvRow, ExperimentCost, ExperimentOutput, RunOptions, TaskOutcome } from './types.js'
import { bandNote, bandSeries, finiteOrNull, fmt, median, outcomeOf, resultBytes, runSweep, spread, WORKER_BYTES, type ExperimentSweep } from './common.js'

/** The configuration of the bounds experiment. */
export interface BoundsConfig {
  /** Problem instances (seeds seed, seed + 1, …). */
  readonly runs: number
  /** Size of A, C, D (1000×10 in E&R §4.1). */
  readonly rows: number
  readonly cols: number
  /** Lower-level iterations t = 0…lowerIterations (100 in E&R). */
  readonly lowerIterations: number
  /** Linear-solver iterations k = 0…linearIterations (200 in E&R). */
  readonly linearIterations: number
  readonly seed: number
}

/** Defaults: 16 instances of the 1000×10 problem (the figures' quantiles), 100 lower and 200 linear iterations. */
export const boundsDefaults: BoundsConfig = { runs: 16, rows: 1000, cols: 10, lowerIterations: 100, linearIterations: 200, seed: 0 }

/** The five panels: two lower-level solvers, three linear solvers. */
export type BoundsSolver = 'lowerGd' | 'lowerHeavyBall' | 'linearGd' | 'linearHeavyBall' | 'linearCg'

/** The panels, in the order of the figures. */
export const BOUNDS_SOLVERS: ReadonlyArray<BoundsSolver> = ['lowerGd', 'lowerHeavyBall', 'linearGd', 'linearHeavyBall', 'linearCg']

/** The title of each panel. */
export const BOUNDS_LABEL: Readonly<Record<BoundsSolver, string>> = {
  lowerGd: 'lower level: gradient descent',
  lowerHeavyBall: 'lower level: heavy ball',
  linearGd: 'linear system: gradient descent',
  linearHeavyBall: 'linear system: heavy ball',
  linearCg: 'linear system: conjugate gradient',
}

/** The input of one task: one problem instance. */
export interface BoundsTaskInput extends BoundsConfig {
  readonly run: number
}

/** One iterate: its true error and both bounds (null when not finite). */
export interface BoundsPoint {
  readonly solver: BoundsSolver
  /** t (lower panels) or k (linear panels). */
  readonly iter: number
  readonly error: number | null
  /** A priori bound with the exact ‖w₀ − w*‖ (from the closed form). */
  readonly aPriori: number | null
  /**
   * Lower panels only: the a priori bound with the computable ‖w₀ − w*‖ ≤ ‖∇₁ℓ(w₀)‖/τ in place
   * of the exact distance (what a user without w* can evaluate); null on linear panels.
   */
  readonly aPrioriComputable: number | null
  readonly aPosteriori: number | null
}

/** The result of one task: every solver's iterates on one problem instance. */
export interface BoundsTaskResult {
  readonly run: number
  /** ‖∇f(λ)‖, τ, L and κ of the instance. */
  readonly gradNorm: number
  readonly tau: number
  readonly L: number
  readonly points: ReadonlyArray<BoundsPoint>
  readonly seconds: number
}

const valueOr = (e: E.Either<HypergradError, number>): number | null => (E.isRight(e) ? finiteOrNull(e.right) : null)

/**
 * One task: build the instance, then the five solver sweeps with the true error and both
 * bounds at every iterate. Returns a structured-clone outcome.
 */
export const boundsTask = (input: BoundsTaskInput): TaskOutcome<BoundsTaskResult> => {
  const out = taskEither(input)
  return outcomeOf(out)
}

const aPosterioriAt = (problem: ErQuadraticProblem, lambda: RVec, w: RVec, v: RVec): number | null => {
  const inputs = aPosterioriInputsAt(problem, lambda, w, v)
  return E.isRight(inputs) ? valueOr(aPosterioriBound(inputs.right)) : null
}

/** One instance of the Ehrhardt–Roberts problem at λ₀, with what the bounds need there. */
export interface ErInstance {
  readonly problem: ErQuadraticProblem
  readonly lambda: RVec
  /** The true hypergradient ∇f(λ₀) and the true lower solution w*(λ₀). */
  readonly truth: Vec
  readonly wStar: Vec
  readonly c: ErConstants
}

/** Run `run` of the instances seeded from `seed`: the rows × cols problem built with seed + run, at its λ₀. */
export const erInstance = (input: { readonly rows: number; readonly cols: number; readonly seed: number; readonly run: number }): E.Either<HypergradError, ErInstance> => {
  const problemE = erQuadraticProblem({ rows: input.rows, cols: input.cols, seed: input.seed + input.run })
  if (E.isLeft(problemE)) return problemE
  const problem = problemE.right
  const lambda = problem.lambda0
  const truth = problem.hypergradient(lambda)
  const wStar = problem.solution(lambda)
  const cE = erConstantsFor(problem, lambda)
  if (E.isLeft(cE)) return cE
  return E.right({ problem, lambda, truth, wStar, c: cE.right })
}

const taskEither = (input: BoundsTaskInput): E.Either<HypergradError, BoundsTaskResult> => {
  const started = performance.now()
  const inst = erInstance(input)
  if (E.isLeft(inst)) return inst
  const { problem, lambda, truth, wStar, c } = inst.right
  const { tau, L } = c
  const hbE = heavyBallParams(tau, L, problem.alpha)
  if (E.isLeft(hbE)) return hbE
  const hb = hbE.right
  const dist0 = norm(wStar) // ‖w₀ − w*‖ with w₀ = 0
  const dist0Computable = norm(problem.lower.grad(new Float64Array(problem.dim), lambda)) / tau // ≥ ‖w₀ − w*‖
  // Conjugate gradient without a tolerance: it runs all its steps, so that its a priori residual
  // bound (which decreases with the steps run) is as small as its actual, rounding-level residual.
  const accurate = conjugateGradient({ tol: 0 })
  const points: BoundsPoint[] = []

  /**
   * The iterates of a linear solver on the system at w, for k = 0…linearIterations, each with
   * the number of steps that produced it. A stream that ends early (a breakdown of conjugate
   * gradient once its residual is at rounding level) keeps its last good iterate, which the
   * flagged state carries, produced by one step fewer than the flag's index.
   */
  const linearIterates = (method: LinearSolver, w: RVec, solver: BoundsSolver): E.Either<HypergradError, Array<{ readonly v: Vec; readonly steps: number }>> => {
    const out: Array<{ readonly v: Vec; readonly steps: number }> = []
    for (const s of unfold(method, linearSystemAt(problem, lambda, w), new Float64Array(problem.dim), rngSeed(0))) {
      if (!isFiniteVec(s.v)) return E.left(hgError('divergence', `bounds: ${BOUNDS_LABEL[solver]}: a linear iterate is not finite at k = ${s.iter}`))
      const broke = s.stop === 'diverged'
      out.push({ v: s.v, steps: broke ? Math.max(0, s.iter - 1) : s.iter })
      if (broke || s.iter >= input.linearIterations) break
    }
    return E.right(out)
  }
  /** ∇̂f = ∇₂E(w) + ∂₂Φ(w)ᵀv. */
  const estimate = (w: RVec, v: RVec): Vec => {
    const g = problem.gradUpperLambda(w, lambda)
    const cross = problem.vjpLambda(w, lambda, v)
    for (let i = 0; i < g.length; i++) g[i] = g[i]! + cross[i]!
    return g
  }

  // Lower-level sweeps: wₜ, then the accurate CG solve at wₜ.
  const lowerSweep = (solver: BoundsSolver, method: LowerSolver, spec: LowerSolverSpec): E.Either<HypergradError, void> => {
    const ws: Vec[] = []
    for (const s of unfold(method, { problem, lambda }, new Float64Array(problem.dim), rngSeed(0))) {
      if (!isFiniteVec(s.w)) return E.left(hgError('divergence', `bounds: ${BOUNDS_LABEL[solver]} diverged at t = ${s.iter}`))
      ws.push(s.w)
      if (s.iter >= input.lowerIterations) break
    }
    for (let t = 0; t < ws.length; t++) {
      const w = ws[t]!
      const its = linearIterates(accurate, w, solver)
      if (E.isLeft(its)) return its
      const last = its.right[its.right.length - 1]!
      const prior = aPrioriBoundAfter(c, { t, k: last.steps, lower: spec, linear: { kind: 'cg' }, dist0 })
      const priorComputable = aPrioriBoundAfter(c, { t, k: last.steps, lower: spec, linear: { kind: 'cg' }, dist0: dist0Computable })
      points.push({
        solver,
        iter: t,
        error: finiteOrNull(distance(estimate(w, last.v), truth)),
        aPriori: valueOr(prior),
        aPrioriComputable: valueOr(priorComputable),
        aPosteriori: aPosterioriAt(problem, lambda, w, last.v),
      })
    }
    return E.right(undefined)
  }

  // Linear sweeps at w*: every iterate vₖ (a stream that ended early keeps its last iterate,
  // whose a priori bound is the one for the steps that produced it).
  const linearSweep = (solver: BoundsSolver, method: LinearSolver, spec: LinearSolverSpec): E.Either<HypergradError, void> => {
    const its = linearIterates(method, wStar, solver)
    if (E.isLeft(its)) return its
    const vs = its.right
    for (let k = 0; k <= input.linearIterations; k++) {
      const { v, steps } = vs[Math.min(k, vs.length - 1)]!
      const prior = aPrioriBoundAfter(c, { t: 0, k: steps, lower: { kind: 'gd' }, linear: spec, dist0: 0 })
      points.push({
        solver,
        iter: k,
        error: finiteOrNull(distance(estimate(wStar, v), truth)),
        aPriori: valueOr(prior),
        aPrioriComputable: null,
        aPosteriori: aPosterioriAt(problem, lambda, wStar, v),
      })
    }
    return E.right(undefined)
  }

  const hbSpec = { kind: 'heavyBall' as const, params: { step: hb.step, momentum: hb.beta } }
  const steps: Array<() => E.Either<HypergradError, void>> = [
    () => lowerSweep('lowerGd', fixedPointIteration(), { kind: 'gd' }),
    () => lowerSweep('lowerHeavyBall', heavyBall({ beta: hb.beta, eta: hb.eta }), hbSpec),
    () => linearSweep('linearGd', fixedPointLinear(), { kind: 'gd' }),
    () => linearSweep('linearHeavyBall', heavyBallLinear({ beta: hb.beta, eta: hb.eta }), hbSpec),
    () => linearSweep('linearCg', accurate, { kind: 'cg' }),
  ]
  for (const step of steps) {
    const r = step()
    if (E.isLeft(r)) return r
  }
  return E.right({ run: input.run, gradNorm: norm(truth), tau, L, points, seconds: (performance.now() - started) / 1000 })
}

/**
 * What the bounds experiment costs, before any work: per instance the rows × cols matrices A,
 * C, D and their closed forms, then for each lower iterate (two lower solvers) an accurate
 * conjugate-gradient solve of up to linearIterations steps, and the three linear sweeps; every
 * iterate gives a point with its bounds (kept by the worker, then by the main thread).
 */
export const boundsCost = (c: BoundsConfig): ExperimentCost => {
  const s: Sizes = { rows: c.rows, cols: c.cols, nnz: c.rows * c.cols, hyper: c.cols }
  const lower = c.lowerIterations + 1
  const linear = c.linearIterations + 1
  const points = 2 * lower + 3 * linear
  const seconds =
    exactCost(s).seconds + 2 * fullBatchCost(s, lower).seconds + (2 * lower + 3) * fullBatchCost(s, linear).seconds + workSeconds(points * 2 * s.nnz, points)
  const perTask = resultBytes(6 * points + 10)
  return {
    seconds: c.runs * seconds,
    results: { bytes: c.runs * perTask, heapBytes: c.runs * perTask },
    perWorker: {
      bytes: WORKER_BYTES + 3 * 8 * s.nnz + exactCost(s).bytes + (lower + linear) * (8 * c.cols + STATE_BYTES.bytes) + perTask,
      heapBytes: (lower + linear) * STATE_BYTES.heapBytes + perTask,
    },
    shared: 0,
    tasks: c.runs,
  }
}

/** How the bounds compare with the true error on one panel. */
export interface BoundsComparison {
  readonly solver: BoundsSolver
  /** Median over the iterates (all runs) of bound/error, for errors above 1e-12‖∇f‖ (rounding excluded). */
  readonly medianRatioAPriori: number
  readonly medianRatioAPrioriComputable: number
  readonly medianRatioAPosteriori: number
  /** Fraction of iterates where the a posteriori bound is ≤ the a priori one (exact ‖w₀ − w*‖). */
  readonly aPosterioriTighterFraction: number
  /** The same against the a priori bound with the computable ‖w₀ − w*‖ (lower panels; NaN otherwise). */
  readonly aPosterioriTighterThanComputableFraction: number
  /** Iterates where a bound fell below the true error by more than 1e-9‖∇f‖ (a violation; expected 0). */
  readonly violations: number
}

/** Compare the bounds with the errors over every run and iterate of one panel. */
export const compareBounds = (results: ReadonlyArray<BoundsTaskResult>, solver: BoundsSolver): BoundsComparison => {
  const ratios = { prior: [] as number[], computable: [] as number[], post: [] as number[] }
  const tighter = { prior: 0, priorBoth: 0, computable: 0, computableBoth: 0 }
  let violations = 0
  for (const r of results) {
    const slack = 1e-9 * r.gradNorm
    for (const p of r.points) {
      if (p.solver !== solver || p.error === null) continue
      const err = p.error
      for (const b of [p.aPriori, p.aPrioriComputable, p.aPosteriori]) if (b !== null && b + slack < err) violations++
      if (p.aPosteriori !== null && p.aPriori !== null) {
        tighter.priorBoth++
        if (p.aPosteriori <= p.aPriori) tighter.prior++
      }
      if (p.aPosteriori !== null && p.aPrioriComputable !== null) {
        tighter.computableBoth++
        if (p.aPosteriori <= p.aPrioriComputable) tighter.computable++
      }
      if (err > 1e-12 * r.gradNorm) {
        if (p.aPriori !== null) ratios.prior.push(p.aPriori / err)
        if (p.aPrioriComputable !== null) ratios.computable.push(p.aPrioriComputable / err)
        if (p.aPosteriori !== null) ratios.post.push(p.aPosteriori / err)
      }
    }
  }
  return {
    solver,
    medianRatioAPriori: median(ratios.prior),
    medianRatioAPrioriComputable: median(ratios.computable),
    medianRatioAPosteriori: median(ratios.post),
    aPosterioriTighterFraction: tighter.priorBoth === 0 ? NaN : tighter.prior / tighter.priorBoth,
    aPosterioriTighterThanComputableFraction: tighter.computableBoth === 0 ? NaN : tighter.computable / tighter.computableBoth,
    violations,
  }
}

const pct = (x: number): string => (Number.isFinite(x) ? `${(100 * x).toFixed(0)}%` : '—')

/**
 * The bounds experiment: one task per instance; figures bounds-lower.svg (the two lower-level
 * solvers) and bounds-linear.svg (the three linear solvers), one panel per solver: the true
 * error, the a priori and the a posteriori bounds, log scale, median and 10–90% band over the
 * instances. "a priori" uses the exact ‖w₀ − w*‖ (from the closed form); "a priori (est. D)"
 * replaces it by ‖∇ℓ(w₀)‖/τ, which a user without w* can evaluate.
 */
export const boundsExperiment: ExperimentSweep<BoundsConfig> = {
  sweep: (config) => ({
    groups: Array.from({ length: config.runs }, (_, run) => ({ tasks: [{ module: 'boundsExperiment', fn: 'boundsTask', input: { ...config, run } satisfies BoundsTaskInput }] })),
  }),
  assemble: (config, raw, timing) => {
    const results = raw as ReadonlyArray<BoundsTaskResult>
    const panels: Panel[] = []
    const comparisons: BoundsComparison[] = []
    const rows: CsvRow[] = []
    const lines = [
      `bounds (E&R §4.1, ${config.rows}×${config.cols}, λ = 1, ${config.runs} instances): median of bound/error over the iterates, and how often the a posteriori bound is the tighter one`,
    ]
    for (const solver of BOUNDS_SOLVERS) {
      const maxIter = solver.startsWith('lower') ? config.lowerIterations : config.linearIterations
      const xs = Array.from({ length: maxIter + 1 }, (_, i) => i)
      const pick = (f: (p: BoundsPoint) => number | null) =>
        xs.map((i) =>
          spread(
            results.map((r) => {
              const p = r.points.find((q) => q.solver === solver && q.iter === i)
              return p === undefined ? null : f(p)
            }),
          ),
        )
      const series: Series[] = [
        bandSeries('true error', xs, pick((p) => p.error)),
        bandSeries('a priori', xs, pick((p) => p.aPriori)),
        ...(solver.startsWith('lower') ? [bandSeries('a priori (est. D)', xs, pick((p) => p.aPrioriComputable))] : []),
        bandSeries('a posteriori', xs, pick((p) => p.aPosteriori)),
      ]
      panels.push({ title: BOUNDS_LABEL[solver], series })
      const cmp = compareBounds(results, solver)
      comparisons.push(cmp)
      const computable = solver.startsWith('lower')
        ? `, a priori with computable D ×${fmt(cmp.medianRatioAPrioriComputable)} (a posteriori tighter at ${pct(cmp.aPosterioriTighterThanComputableFraction)})`
        : ''
      lines.push(
        `${BOUNDS_LABEL[solver].padEnd(34)} a posteriori ×${fmt(cmp.medianRatioAPosteriori)}, a priori ×${fmt(cmp.medianRatioAPriori)} (a posteriori tighter at ${pct(cmp.aPosterioriTighterFraction)} of iterates)${computable}` +
          (cmp.violations > 0 ? `  VIOLATIONS: ${cmp.violations}` : ''),
      )
    }
    for (const r of results)
      for (const p of r.points)
        rows.push({
          experiment: 'bounds',
          run: r.run,
          solver: p.solver,
          iter: p.iter,
          error: p.error,
          a_priori: p.aPriori,
          a_priori_computable: p.aPrioriComputable,
          a_posteriori: p.aPosteriori,
          true_grad_norm: r.gradNorm,
        })
    const stats = bandNote(config.runs, 'instance')
    return E.right({
      experiment: 'bounds',
      config,
      rows,
      figures: [
        {
          file: 'bounds-lower.svg',
          panels: panels.slice(0, 2),
          options: {
            title: `E&R §4.1 (${config.rows}×${config.cols}, λ = 1): lower-level solvers, accurate linear solve; ${stats}`,
            xLabel: 't (lower-level iterations)',
            yLabel: '‖∇̂f − ∇f‖ and its bounds',
            logY: true,
          },
        },
        {
          file: 'bounds-linear.svg',
          panels: panels.slice(2),
          options: {
            title: `E&R §4.1 (${config.rows}×${config.cols}, λ = 1): linear solvers at the exact w*; ${stats}`,
            xLabel: 'k (linear-solver iterations)',
            yLabel: '‖∇̂f − ∇f‖ and its bounds',
            logY: true,
          },
        },
      ],
      summary: lines.join('\n'),
      details: { comparisons, tasks: results.map(({ seconds: _s, ...rest }) => rest) },
      timing: { ...timing, taskSeconds: results.map((r) => r.seconds) },
    })
  },
}

/** Run the bounds experiment (see {@link boundsExperiment}). */
export const runBounds = (config: BoundsConfig, opts: RunOptions = {}): Promise<E.Either<HypergradError, ExperimentOutput<BoundsConfig>>> => runSweep(boundsExperiment, config, opts)
