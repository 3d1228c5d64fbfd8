/**
 * Ehrhardt & Roberts, "Analyzing Inexact Hypergradients for Bilevel Learning" (2024), §4.1: a
 * fixed total budget B of iterations split between the lower-level solver (t steps) and the
 * linear-system solver (k = B − t steps), on their least-squares test problem
 * (`erQuadraticProblem`, A, C, D of size 1000 × 10, at λ = 1). For each pair of a lower solver
 * (gradient descent, heavy ball, FISTA) and a linear solver (gradient descent, heavy ball,
 * conjugate gradient), and each split t = 0, s, 2s, …, B: t steps of the lower solver from
 * w₀ = 0, then k = B − t steps of the linear solver from v₀ = 0 on the system at wₜ, and
 * ∇̂f = ∇₂E(wₜ) + ∂₂Φ(wₜ)ᵀvₖ against the closed-form ∇f, with both bounds of E&R:
 *
 *  - a priori (bounds/ehrhardtRoberts.ts `aPrioriBoundAfter`): the lower solver's rate — GD
 *    (R7), heavy ball (R10), FISTA (R14) — with the exact ‖w₀ − w*‖, and the linear solver's
 *    residual rate (R8, R10, R11/R12);
 *  - a posteriori (`aPosterioriBound`) at the computed (wₜ, vₖ).
 *
 * Solver settings: GD is the fixed-point iteration of Φ = w − α∇ℓ with α = 2/(L + τ) (and
 * AID-FP on the linear system); heavy ball has E&R's tuning (step 4/(√L + √τ)², momentum
 * q_HB²) on both levels; FISTA runs without restarts at step 1/(L + τ) (the setting its bound
 * (R14) covers); conjugate gradient has no tolerance (it runs its k steps; a breakdown once its
 * residual is at rounding level keeps the last good iterate, with its bound for the steps that
 * made it). Each instance has its own seed; figures show mean ± std over the instances.
 */
import * as E from 'fp-ts/lib/Either.js'
import type * as t from 'io-ts'
import { aPosterioriInputsAt } from '../bounds/constants.js'
import { aPosterioriBound, aPrioriBoundAfter, heavyBallParams, type LinearSolverSpec, type LowerSolverSpec } from '../bounds/ehrhardtRoberts.js'
import { NonNegativeInt, PositiveInt, Seed } from '../config/codecs.js'
import { exactCost, fullBatchCost, STATE_BYTES, type Sizes } from '../config/cost.js'
import { hgError, type HypergradError } from '../errors.js'
import type { RVec, Vec } from '../linalg/types.js'
import { distance, isFiniteVec, norm } from '../linalg/vector.js'
import { seed as rngSeed } from '../random/rng.js'
import type { Panel, Series } from '../report/figure.js'
import { linearSystemAt } from '../solvers/linearSystem.js'
import { heavyBallParams as hbRelaxation } from '../solvers/params.js'
import { unfold } from '../solvers/solver.js'
import { ER_LINEAR, ER_LINEAR_LABEL, ER_LOWER, ER_LOWER_LABEL, erSolvers, type ErLinear, type ErLower } from './erSolvers.js'
import { erInstance } from './boundsExperiment.js'
import { bandNote, bandSeries, finiteOrNull, fmt, outcomeOf, resultBytes, spread, WORKER_BYTES, type ExperimentSweep, type Sweep, type SweepTiming, type TaskGroup } from './common.js'
import { fieldTable } from './fieldTable.js'
import type { CsvRow, ExperimentCost, ExperimentOutput, FieldSpec, RunOptions, TaskOutcome } from './types.js'

/** The configuration of er-budget-split. */
export interface BudgetSplitConfig {
  /** Problem instances (seeds seed, seed + 1, …). */
  readonly runs: number
  /** Size of A, C, D (1000 × 10 in E&R §4.1). */
  readonly rows: number
  readonly cols: number
  /** The total budget B = t + k. */
  readonly budget: number
  /** The splits t = 0, step, 2·step, …, B. */
  readonly step: number
  readonly seed: number
}

/** Defaults: 5 instances of the 1000 × 10 problem, B = 100, t in steps of 2. */
export const budgetSplitDefaults: BudgetSplitConfig = { runs: 5, rows: 1000, cols: 10, budget: 100, step: 2, seed: 0 }

const budgetSplitTable = fieldTable<BudgetSplitConfig>('an er-budget-split configuration', {
  runs: { codec: PositiveInt, kind: 'int', doc: 'problem instances (default 5)' },
  rows: { codec: PositiveInt, kind: 'int', doc: 'rows of A, C, D (default 1000)' },
  cols: { codec: PositiveInt, kind: 'int', doc: 'columns of A, C, D = dim w = dim λ (default 10)' },
  budget: { codec: NonNegativeInt, kind: 'int', doc: 'the total budget B = t + k of lower and linear iterations (default 100)' },
  step: { codec: PositiveInt, kind: 'int', doc: 'the splits t = 0, step, 2·step, …, B (default 2)' },
  seed: { codec: Seed, kind: 'int', doc: 'seed of the first instance (default 0)' },
})

/** The fields, for `hypergrad reproduce list`. */
export const budgetSplitFields: ReadonlyArray<FieldSpec> = budgetSplitTable.fields

/** Decode a configuration (io-ts). */
export const decodeBudgetSplit = (u: unknown): t.Validation<BudgetSplitConfig> => budgetSplitTable.decode(u)

/** The cross-field constraints. */
export const checkBudgetSplit = (c: BudgetSplitConfig): E.Either<HypergradError, void> =>
  c.rows >= c.cols ? E.right(undefined) : E.left(hgError('config', `reproduce er-budget-split: rows ${c.rows} must be ≥ cols ${c.cols}`))

/** The splits t of the grid. */
export const splitsOf = (c: Pick<BudgetSplitConfig, 'budget' | 'step'>): number[] => {
  const out: number[] = []
  for (let s = 0; s < c.budget; s += c.step) out.push(s)
  out.push(c.budget)
  return out
}

/** One split of one solver pair. */
export interface SplitPoint {
  readonly lower: ErLower
  readonly linear: ErLinear
  /** Lower steps t; the linear solver had k = B − t. */
  readonly t: number
  /** Linear steps that made vₖ (fewer than B − t after a CG breakdown at rounding level). */
  readonly k: number
  readonly error: number | null
  readonly aPriori: number | null
  readonly aPosteriori: number | null
}

/** The result of one instance. */
export interface SplitTaskResult {
  readonly run: number
  readonly gradNorm: number
  readonly tau: number
  readonly L: number
  readonly points: ReadonlyArray<SplitPoint>
  readonly seconds: number
}

/** The input of one task. */
export interface SplitTaskInput extends BudgetSplitConfig {
  readonly run: number
}

const valueOr = (e: E.Either<HypergradError, number>): number | null => (E.isRight(e) ? finiteOrNull(e.right) : null)

/** One task: every solver pair at every split on one instance. */
export const budgetSplitTask = (input: SplitTaskInput): TaskOutcome<SplitTaskResult> => outcomeOf(taskEither(input))

const taskEither = (input: SplitTaskInput): E.Either<HypergradError, SplitTaskResult> => {
  const started = performance.now()
  const inst = erInstance(input)
  if (E.isLeft(inst)) return inst
  const { problem, lambda, truth, wStar, c } = inst.right
  const hb = heavyBallParams(c)
  const hbE = hbRelaxation(c.tau, c.L, problem.alpha)
  if (E.isLeft(hbE)) return hbE
  const { beta, eta } = hbE.right
  const solvers = erSolvers({ beta, eta })
  const lowerSpec: Readonly<Record<ErLower, LowerSolverSpec>> = { gd: { kind: 'gd' }, heavyBall: { kind: 'heavyBall', params: hb }, fista: { kind: 'fista', step: 0.5 * problem.alpha } }
  const linearSpec: Readonly<Record<ErLinear, LinearSolverSpec>> = { gd: { kind: 'gd' }, heavyBall: { kind: 'heavyBall', params: hb }, cg: { kind: 'cg' } }
  const B = input.budget
  const splits = splitsOf(input)
  const dist0 = norm(wStar)
  /** ∇̂f = ∇₂E(w) + ∂₂Φ(w)ᵀv. */
  const estimate = (w: RVec, v: RVec): Vec => {
    const g = problem.gradUpperLambda(w, lambda)
    const cross = problem.vjpLambda(w, lambda, v)
    for (let i = 0; i < g.length; i++) g[i] = g[i]! + cross[i]!
    return g
  }
  const points: SplitPoint[] = []
  for (const lo of ER_LOWER) {
    const ws: Vec[] = []
    for (const s of unfold(solvers.lower[lo], { problem, lambda }, new Float64Array(problem.dim), rngSeed(0))) {
      if (!isFiniteVec(s.w)) return E.left(hgError('divergence', `er-budget-split: the ${ER_LOWER_LABEL[lo]} lower solver diverged at t = ${s.iter}`))
      ws.push(s.w)
      if (s.iter >= B) break
    }
    for (const li of ER_LINEAR)
      for (const tt of splits) {
        const w = ws[Math.min(tt, ws.length - 1)]!
        // k = B − t steps from v₀ = 0; a state flagged 'diverged' (CG's breakdown at rounding level) keeps the last good iterate.
        let v: Vec = new Float64Array(problem.dim)
        let k = 0
        for (const s of unfold(solvers.linear[li], linearSystemAt(problem, lambda, w), new Float64Array(problem.dim), rngSeed(0))) {
          if (s.stop === 'diverged' || !isFiniteVec(s.v)) break
          v = s.v
          k = s.iter
          if (s.iter >= B - tt || s.stop !== undefined) break
        }
        const prior = aPrioriBoundAfter(c, { t: tt, k, lower: lowerSpec[lo], linear: linearSpec[li], dist0 })
        const post = E.flatMap(aPosterioriInputsAt(problem, lambda, w, v), aPosterioriBound)
        points.push({ lower: lo, linear: li, t: tt, k, error: finiteOrNull(distance(estimate(w, v), truth)), aPriori: valueOr(prior), aPosteriori: valueOr(post) })
      }
  }
  return E.right({ run: input.run, gradNorm: norm(truth), tau: c.tau, L: c.L, points, seconds: (performance.now() - started) / 1000 })
}

/**
 * What er-budget-split costs, before any work: per instance the closed forms, three lower
 * streams of B steps and, for each of the nine solver pairs and each split, B − t linear steps.
 */
export const budgetSplitCost = (c: BudgetSplitConfig): ExperimentCost => {
  const s: Sizes = { rows: c.rows, cols: c.cols, nnz: c.rows * c.cols, hyper: c.cols }
  const splits = splitsOf(c)
  const linearSteps = splits.reduce((a, tt) => a + (c.budget - tt), 0)
  const seconds = exactCost(s).seconds + 3 * fullBatchCost(s, c.budget).seconds + 9 * fullBatchCost(s, linearSteps).seconds
  const perTask = resultBytes(9 * splits.length * 7 + 10)
  return {
    seconds: c.runs * seconds,
    results: { bytes: c.runs * perTask, heapBytes: c.runs * perTask },
    perWorker: {
      bytes: WORKER_BYTES + 3 * 8 * s.nnz + exactCost(s).bytes + (c.budget + 1) * (8 * c.cols + STATE_BYTES.bytes) + perTask,
      heapBytes: (c.budget + 1) * STATE_BYTES.heapBytes + perTask,
    },
    shared: 0,
    tasks: c.runs,
  }
}

/** Where the error is least, and where each bound would put the split, for one solver pair. */
export interface SplitChoice {
  readonly lower: ErLower
  readonly linear: ErLinear
  /** The split with the least mean error, and that error. */
  readonly bestT: number
  readonly bestError: number
  /** The split that minimizes the mean a posteriori (a priori) bound, and the mean error there. */
  readonly aPosterioriT: number
  readonly errorAtAPosterioriT: number
  readonly aPrioriT: number
  readonly errorAtAPrioriT: number
  /** Splits where a bound fell below the true error by more than 1e-9‖∇f‖ (violations; expected 0). */
  readonly violations: number
}

const argmin = (xs: ReadonlyArray<number>): number => {
  let best = 0
  for (let i = 1; i < xs.length; i++) if (xs[i]! < xs[best]! || !Number.isFinite(xs[best]!)) best = i
  return best
}

/**
 * The experiment: one task per instance; the figure er-budget-split.svg, one panel per solver
 * pair (true error, a priori and a posteriori bounds against t, with k = B − t; log scale;
 * median and 10–90% band over the instances).
 */
const budgetSplitSweep = (config: BudgetSplitConfig): Sweep => {
  const groups: TaskGroup[] = []
  for (let run = 0; run < config.runs; run++) groups.push({ tasks: [{ module: 'budgetSplit', fn: 'budgetSplitTask', input: { ...config, run } satisfies SplitTaskInput }] })
  return { groups }
}

const assembleBudgetSplit = (config: BudgetSplitConfig, raw: ReadonlyArray<unknown>, timing: SweepTiming): E.Either<HypergradError, ExperimentOutput<BudgetSplitConfig>> => {
  const results = raw as ReadonlyArray<SplitTaskResult>
  const splits = splitsOf(config)
  const panels: Panel[] = []
  const choices: SplitChoice[] = []
  const lines = [
    `er-budget-split (E&R §4.1, ${config.rows}×${config.cols}, λ = 1, B = ${config.budget}, ${config.runs} instances): the split t (k = B − t) of least median error, and the median error at the split each bound would choose (medians over the instances)`,
  ]
  for (const lo of ER_LOWER)
    for (const li of ER_LINEAR) {
      const at = (f: (p: SplitPoint) => number | null) =>
        splits.map((tt) => spread(results.map((r) => { const p = r.points.find((q) => q.lower === lo && q.linear === li && q.t === tt); return p === undefined ? null : f(p) })))
      const err = at((p) => p.error)
      const pri = at((p) => p.aPriori)
      const post = at((p) => p.aPosteriori)
      const series: Series[] = [
        bandSeries('true error', splits, err),
        bandSeries('a priori', splits, pri),
        bandSeries('a posteriori', splits, post),
      ]
      panels.push({ title: `lower ${ER_LOWER_LABEL[lo]}, linear ${ER_LINEAR_LABEL[li]}`, series })
      let violations = 0
      for (const r of results)
        for (const p of r.points)
          if (p.lower === lo && p.linear === li && p.error !== null)
            for (const b of [p.aPriori, p.aPosteriori]) if (b !== null && b + 1e-9 * r.gradNorm < p.error) violations++
      const e = err.map((a) => a.median)
      const best = argmin(e)
      const bPost = argmin(post.map((a) => a.median))
      const bPri = argmin(pri.map((a) => a.median))
      const choice: SplitChoice = {
        lower: lo,
        linear: li,
        bestT: splits[best]!,
        bestError: e[best]!,
        aPosterioriT: splits[bPost]!,
        errorAtAPosterioriT: e[bPost]!,
        aPrioriT: splits[bPri]!,
        errorAtAPrioriT: e[bPri]!,
        violations,
      }
      choices.push(choice)
      lines.push(
        `${`${ER_LOWER_LABEL[lo]} + ${ER_LINEAR_LABEL[li]}`.padEnd(22)} best t = ${String(choice.bestT).padStart(3)} (error ${fmt(choice.bestError)}); a posteriori picks t = ${String(choice.aPosterioriT).padStart(3)} (error ${fmt(choice.errorAtAPosterioriT)}); a priori picks t = ${String(choice.aPrioriT).padStart(3)} (error ${fmt(choice.errorAtAPrioriT)})` +
          (violations > 0 ? `  VIOLATIONS: ${violations}` : ''),
      )
    }
  const rows: CsvRow[] = []
  for (const r of results)
    for (const p of r.points)
      rows.push({ experiment: 'er-budget-split', run: r.run, lower: p.lower, linear: p.linear, budget: config.budget, t: p.t, k: p.k, error: p.error, a_priori: p.aPriori, a_posteriori: p.aPosteriori, true_grad_norm: r.gradNorm })
  return E.right({
    experiment: 'er-budget-split',
    config,
    rows,
    figures: [
      {
        file: 'er-budget-split.svg',
        panels,
        options: {
          title: `E&R §4.1 (${config.rows}×${config.cols}, λ = 1): a budget of B = ${config.budget} iterations, t lower and B − t linear; ${bandNote(config.runs, 'instance')}`,
          xLabel: 't (lower-level iterations; the linear solver has B − t)',
          yLabel: '‖∇̂f − ∇f‖ and its bounds',
          logY: true,
          columns: 3,
          width: 240,
          height: 170,
        },
      },
    ],
    summary: lines.join('\n'),
    details: { choices, tasks: results.map(({ seconds: _s, ...rest }) => rest) },
    timing: { ...timing, taskSeconds: results.map((r) => r.seconds) },
  })
}

/** The er-budget-split experiment: one task per instance, assembled into the figure and the choices of split. */
export const budgetSplit: ExperimentSweep<BudgetSplitConfig> = { sweep: budgetSplitSweep, assemble: assembleBudgetSplit }
