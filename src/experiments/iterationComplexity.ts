/**
 * The experiment of Grazzi, Franceschi, Pontil, Salzo, "On the Iteration Complexity of
 * Hypergradient Computation" (ICML 2020): the hypergradient error against the number of
 * iterations t (with k = t) of ITD (reverse mode), AID-FP (fixed-point iteration on the linear
 * system) and AID-CG (conjugate gradient on it), all on top of t steps of the fixed-point
 * iteration wᵢ₊₁ = Φ(wᵢ, λ) from w₀ = 0, on two problems:
 *
 *  - logistic regression on an MNIST odd/even subset (default 2000/2000 rows) with one
 *    regularization parameter per feature, λᵢ = s·e^{εᵢ}, εᵢ ~ U[0, 2], s = 100 (ground truth
 *    from truth.ts). The scale s keeps κ = L/τ ≈ (σ_max(X)²/4 + max λ)/min λ near 200 (q ≈ 0.99),
 *    so that every method moves within a few hundred steps; with SID Fig. 2's εᵢ ~ U[−2, 2]
 *    (κ ≈ 10⁵) no method leaves its starting error in 500 steps (see sid-fig2).
 *  - the quadratic test bed (`quadraticProblem`, closed-form ∇f), with the same κ by default.
 *
 * Besides the true relative error ‖∇̂f − ∇f‖/‖∇f‖, each method's a priori bound of Grazzi et
 * al. 2020 (bounds/grazzi2020.ts: O(t qᵗ) for ITD, O(qᵗ + qᵏ) for AID-FP, O(qᵗ + ρᵏ) with
 * ρ = (√κ − 1)/(√κ + 1) for AID-CG), divided by ‖∇f‖, is reported as a reference series.
 *
 * The sweep over t is errorSweep.ts's, shared with the grazzi-* experiments: the lower-level
 * iterates are computed once up to the largest t and AID at t starts from the stored wₜ (exactly
 * AID's result with t steps from 0); ITD is run afresh for each t.
 */
import * as E from 'fp-ts/lib/Either.js'
import { grazziConstantsFor, lipschitzConstants } from '../bounds/constants.js'
import { aidCost, exactCost, fullBatchCost, itdCost, STATE_BYTES, type Sizes } from '../config/cost.js'
import { MNIST_D } from '../data/mnist.js'
import { aidConjugateGradientBound, aidFixedPointBound, itdReverseBound, type GrazziConstants } from '../bounds/grazzi2020.js'
import { hgError, type HypergradError } from '../errors.js'
import type { RVec, Vec } from '../linalg/types.js'
import { norm } from '../linalg/vector.js'
import type { ErmProblem } from '../problem/erm.js'
import { logisticProblem } from '../problems/logistic.js'
import { quadraticProblem } from '../problems/quadratic.js'
import { seed as rngSeed, uniformsIn } from '../random/rng.js'
import type { Panel, Series } from '../report/figure.js'
import type { CsvRow, ExperimentCost, ExperimentOutput, RunOptions, TaskOutcome } from './types.js'
import {
  bandNote,
  bandSeries,
  finiteOrNull,
  fmtSpreadMean,
  mnistProblemBytes,
  mnistSizes,
  outcomeOf,
  resultBytes,
  runSweep,
  splitBytes,
  splitOf,
  spread,
  WORKER_BYTES,
  type ExperimentSweep,
  type SharedSplit,
  type Sweep,
  type TaskGroup,
} from './common.js'
import { errorsAgainstT } from './errorSweep.js'
import { sidSeedOf } from './sidFigures.js'
import { logisticTruth } from './truth.js'

/** The three methods, as Grazzi et al. 2020 name them. */
export type IcMethod = 'itd' | 'aidFp' | 'aidCg'

/** The methods in the order of the figure's legend. */
export const IC_METHODS: ReadonlyArray<IcMethod> = ['itd', 'aidFp', 'aidCg']

/** The legend label of each method. */
export const IC_LABEL: Readonly<Record<IcMethod, string>> = { itd: 'ITD (reverse)', aidFp: 'AID-FP', aidCg: 'AID-CG' }

/** The configuration of the iteration-complexity experiment. */
export interface IterationComplexityConfig {
  /** Independent runs per problem (logistic: its own split and λ draw; quadratic: its own instance). */
  readonly runs: number
  /** The values of t (= k) on the x axis. */
  readonly iterations: ReadonlyArray<number>
  /** MNIST rows of the logistic problem. */
  readonly nTrain: number
  readonly nVal: number
  /** λᵢ = lambdaScale · e^{εᵢ}, εᵢ ~ U[epsLow, epsHigh]. */
  readonly lambdaScale: number
  readonly epsLow: number
  readonly epsHigh: number
  /** The quadratic test bed: d, m, and the spectrum [τ, L] of its Hessian. */
  readonly quadDim: number
  readonly quadHyperDim: number
  readonly quadTau: number
  readonly quadL: number
  /** Add each method's a priori bound (Grazzi et al. 2020) as a reference series. */
  readonly bounds: boolean
  readonly seed: number
}

/**
 * Defaults: 16 runs (the figure's quantiles), t = k ∈ {0, …, 500}, MNIST 2000/2000 with
 * λᵢ = 100·e^{U[0,2]}, quadratic d = 50, m = 10, κ = 200.
 */
export const iterationComplexityDefaults: IterationComplexityConfig = {
  runs: 16,
  iterations: [0, 10, 25, 50, 100, 150, 200, 300, 400, 500],
  nTrain: 2000,
  nVal: 2000,
  lambdaScale: 100,
  epsLow: 0,
  epsHigh: 2,
  quadDim: 50,
  quadHyperDim: 10,
  quadTau: 1,
  quadL: 200,
  bounds: true,
  seed: 0,
}

/** The input of one task: one problem instance. */
export interface IcTaskInput extends IterationComplexityConfig {
  readonly problem: 'logistic' | 'quadratic'
  readonly run: number
  /** The run's split, posted with the task by `runOutcomes` (loaded by the task when absent). */
  readonly sharedSplit?: SharedSplit
}

/** One method at one t. */
export interface IcPoint {
  readonly method: IcMethod
  readonly t: number
  /** Linear-system steps actually run (CG may stop early at its tolerance). */
  readonly k: number
  readonly error: number | null
  readonly relError: number | null
  /** The a priori bound on ‖∇̂f − ∇f‖ (null when not computed or not finite). */
  readonly bound: number | null
  readonly status: 'converged' | 'maxIter' | 'diverged'
}

/** The result of one task: every method at every t on one problem instance. */
export interface IcTaskResult {
  readonly problem: 'logistic' | 'quadratic'
  readonly run: number
  readonly q: number
  readonly kappa: number
  /** ‖∇f(λ)‖. */
  readonly gradNorm: number
  readonly points: ReadonlyArray<IcPoint>
  readonly seconds: number
}

/** The a priori bounds' constants for per-feature logistic regression (∂₂Φ = −α diag(w), so ‖∂₂Φ(w)‖ = α max|wⱼ|). */
const logisticConstants = (problem: ErmProblem, lambda: RVec, w: RVec, radius: number): E.Either<HypergradError, GrazziConstants> => {
  const lip = lipschitzConstants(problem, lambda)
  if (E.isLeft(lip)) return lip
  const { nu1, nu2, mu1, mu2 } = lip.right
  let wMax = 0
  for (const x of w) wMax = Math.max(wMax, Math.abs(x))
  const { tau, L } = problem.lower.curvature(lambda)
  const q = problem.contraction(lambda)
  return E.right({
    q,
    nu1,
    nu2,
    mu1,
    mu2,
    gradUpperNormStar: norm(problem.gradUpperW(w, lambda)) + mu1 * radius,
    LPhi: problem.alpha * wMax + nu2 * radius,
    D: norm(w) + radius,
    kappa: Math.min(L / tau, (1 + q) / (1 - q)),
  })
}

interface Instance {
  readonly problem: ErmProblem
  readonly lambda: Vec
  readonly truth: Vec
  readonly constants: GrazziConstants | undefined
}

const logisticInstance = (input: IcTaskInput): E.Either<HypergradError, Instance> => {
  const data = splitOf('seeded', input.seed + input.run, input.nTrain, input.nVal, input.sharedSplit)
  if (E.isLeft(data)) return data
  const { train, validation } = data.right
  const [eps] = uniformsIn(rngSeed(2_000_000_011 + sidSeedOf(input.seed, input.run)), train.X.cols, input.epsLow, input.epsHigh)
  const lambda = eps.map((e) => input.lambdaScale * Math.exp(e))
  const problem = logisticProblem(train, validation, lambda, { regularization: 'perFeature' })
  if (E.isLeft(problem)) return problem
  const truth = logisticTruth(train, validation, lambda, 'perFeature')
  if (E.isLeft(truth)) return truth
  if (!truth.right.converged) return E.left(hgError('divergence', `iteration-complexity: the ground truth did not converge (${truth.right.reason})`))
  const constants = input.bounds ? logisticConstants(problem.right, lambda, truth.right.w, truth.right.radius) : E.right(undefined)
  if (E.isLeft(constants)) return constants
  return E.right({ problem: problem.right, lambda, truth: truth.right.gradient, constants: constants.right })
}

const quadraticInstance = (input: IcTaskInput): E.Either<HypergradError, Instance> => {
  const problem = quadraticProblem({
    dim: input.quadDim,
    hyperDim: input.quadHyperDim,
    nSamples: 4,
    seed: sidSeedOf(input.seed, input.run),
    tau: input.quadTau,
    L: input.quadL,
  })
  if (E.isLeft(problem)) return problem
  const lambda = new Float64Array(input.quadHyperDim).fill(1)
  const constants = input.bounds ? grazziConstantsFor(problem.right, lambda) : E.right(undefined)
  if (E.isLeft(constants)) return constants
  return E.right({ problem: problem.right, lambda, truth: problem.right.hypergradient(lambda), constants: constants.right })
}

const boundOf = (method: IcMethod, c: GrazziConstants | undefined, t: number): number | null => {
  if (c === undefined) return null
  const b = method === 'itd' ? itdReverseBound(c, t) : method === 'aidFp' ? aidFixedPointBound(c, t, t) : aidConjugateGradientBound(c, t, t)
  return E.isRight(b) ? finiteOrNull(b.right) : null
}

/**
 * One task: ITD, AID-FP and AID-CG at every t of the grid (k = t) on one problem instance,
 * with the true error and (optionally) the a priori bound. Returns a structured-clone outcome.
 */
export const iterationComplexityTask = (input: IcTaskInput): TaskOutcome<IcTaskResult> => {
  const out = taskEither(input)
  return outcomeOf(out)
}

const taskEither = (input: IcTaskInput): E.Either<HypergradError, IcTaskResult> => {
  const started = performance.now()
  const inst = input.problem === 'logistic' ? logisticInstance(input) : quadraticInstance(input)
  if (E.isLeft(inst)) return inst
  const { problem, lambda, truth, constants } = inst.right
  const gNorm = norm(truth)
  const grid = [...new Set(input.iterations)].sort((a, b) => a - b)
  const sweep = errorsAgainstT(problem, lambda, truth, grid, IC_METHODS)
  if (E.isLeft(sweep)) return sweep
  const points: IcPoint[] = sweep.right.map((p) => ({ ...p, method: p.method as IcMethod, bound: boundOf(p.method as IcMethod, constants, p.t) }))
  const { tau, L } = problem.lower.curvature(lambda)
  return E.right({
    problem: input.problem,
    run: input.run,
    q: problem.contraction(lambda),
    kappa: L / tau,
    gradNorm: gNorm,
    points,
    seconds: (performance.now() - started) / 1000,
  })
}

/**
 * What iteration-complexity costs, before any work: per instance the lower stream to the
 * largest t, then at every t of the grid ITD reverse (t stored iterates) and AID-FP and AID-CG
 * with k = t; the logistic instances on MNIST (with a ground truth by Newton's method), the
 * quadratic ones on a dense d × d Hessian (and, with bounds, its eigenvalues).
 */
export const iterationComplexityCost = (c: IterationComplexityConfig): ExperimentCost => {
  const grid = [...new Set(c.iterations)].sort((a, b) => a - b)
  const maxT = grid[grid.length - 1] ?? 0
  const sweep = (s: Sizes) =>
    fullBatchCost(s, maxT).seconds + grid.reduce((a, t) => a + itdCost(s, t, 'reverse').seconds + 2 * aidCost(s, 0, t).seconds, 0)
  const logistic = mnistSizes(c.nTrain, MNIST_D)
  const d = c.quadDim
  const quadratic: Sizes = { rows: d, cols: d, nnz: d * d, hyper: c.quadHyperDim }
  const held = (s: Sizes) => itdCost(s, maxT, 'reverse').bytes + grid.length * (8 * s.cols + STATE_BYTES.bytes)
  const logisticBytes = splitBytes(c.nTrain + c.nVal) + mnistProblemBytes(c.nTrain) + held(logistic)
  const quadraticBytes = exactCost(quadratic).bytes + 2 * 8 * d * c.quadHyperDim + held(quadratic)
  const perTask = resultBytes(3 * grid.length * 8 + 10)
  return {
    seconds: c.runs * (exactCost(logistic).seconds + sweep(logistic) + exactCost(quadratic).seconds + sweep(quadratic)),
    results: { bytes: 2 * c.runs * perTask, heapBytes: 2 * c.runs * perTask },
    perWorker: {
      bytes: WORKER_BYTES + Math.max(logisticBytes, quadraticBytes),
      heapBytes: Math.max(itdCost(logistic, maxT, 'reverse').heapBytes, itdCost(quadratic, maxT, 'reverse').heapBytes) + grid.length * STATE_BYTES.heapBytes,
    },
    shared: 0,
    tasks: 2 * c.runs,
  }
}

const PROBLEM_TITLE = { logistic: 'logistic regression, MNIST, λ per feature', quadratic: 'quadratic test bed' } as const

/** One task per (problem, run), the logistic runs each with its split. */
const iterationComplexitySweep = (config: IterationComplexityConfig): Sweep => {
  const groups: TaskGroup[] = []
  for (const problem of ['logistic', 'quadratic'] as const)
    for (let run = 0; run < config.runs; run++)
      groups.push({
        ...(problem === 'logistic' ? { split: { split: 'seeded' as const, seed: config.seed + run, nTrain: config.nTrain, nVal: config.nVal } } : {}),
        tasks: [{ module: 'iterationComplexity', fn: 'iterationComplexityTask', input: { ...config, iterations: [...config.iterations], problem, run } satisfies IcTaskInput }],
      })
  return { groups }
}

/**
 * The iteration-complexity experiment: one task per (problem, run); figure
 * iteration-complexity.svg with one panel per problem (relative error against t = k, log scale,
 * median and 10–90% band over the runs, with the median of each a priori bound as a reference
 * series).
 */
export const iterationComplexity: ExperimentSweep<IterationComplexityConfig> = {
  sweep: iterationComplexitySweep,
  assemble: (config, raw, timing) => {
    const results = raw as ReadonlyArray<IcTaskResult>
    const grid = [...new Set(config.iterations)].sort((a, b) => a - b)
    const panels: Panel[] = []
    const rows: CsvRow[] = []
    const lines = [`iteration-complexity: relative error ‖∇̂f − ∇f‖/‖∇f‖ at t = k = ${grid[grid.length - 1]}: median [10%, 90%] over ${config.runs} runs, and the mean`]
    const aggregate: unknown[] = []
    for (const prob of ['logistic', 'quadratic'] as const) {
      const rs = results.filter((r) => r.problem === prob)
      const kappa = spread(rs.map((r) => r.kappa)).median
      const series: Series[] = []
      const cells: string[] = []
      for (const m of IC_METHODS) {
        const at = grid.map((t) => spread(rs.map((r) => r.points.find((p) => p.method === m && p.t === t)?.relError ?? null), 'unbounded'))
        series.push(bandSeries(IC_LABEL[m], grid, at, true))
        cells.push(`${IC_LABEL[m]} ${fmtSpreadMean(at[at.length - 1]!)}`)
        aggregate.push({ problem: prob, method: m, t: grid, relError: at })
        if (config.bounds) {
          const b = grid.map((t) =>
            spread(
              rs.map((r) => {
                const p = r.points.find((q) => q.method === m && q.t === t)
                return p?.bound == null ? null : p.bound / r.gradNorm
              }),
            ),
          )
          series.push({ name: `${IC_LABEL[m]} bound`, x: grid, y: b.map((a) => a.median) })
        }
      }
      panels.push({ title: `${PROBLEM_TITLE[prob]} (κ ≈ ${kappa.toExponential(1)})`, series })
      lines.push(`${prob.padEnd(10)} κ ≈ ${kappa.toExponential(2)}: ${cells.join(' | ')}`)
      for (const r of rs)
        for (const p of r.points)
          rows.push({
            experiment: 'iteration-complexity',
            problem: prob,
            run: r.run,
            kappa: r.kappa,
            q: r.q,
            method: p.method,
            t: p.t,
            k: p.k,
            error: p.error,
            rel_error: p.relError,
            bound: p.bound,
            true_grad_norm: r.gradNorm,
            status: p.status,
          })
    }
    return E.right({
      experiment: 'iteration-complexity',
      config,
      rows,
      figures: [
        {
          file: 'iteration-complexity.svg',
          panels,
          options: {
            title: `Grazzi et al. 2020: hypergradient error against t = k; ${bandNote(config.runs)}`,
            xLabel: 't = k (iterations)',
            yLabel: '‖∇̂f − ∇f‖ / ‖∇f‖',
            logY: true,
            width: 360,
            height: 260,
          },
        },
      ],
      summary: lines.join('\n'),
      details: { aggregate, tasks: results.map(({ seconds: _s, ...rest }) => rest) },
      timing: { ...timing, taskSeconds: results.map((r) => r.seconds) },
    })
  },
}

/** Run iteration-complexity (see {@link iterationComplexity}). */
export const runIterationComplexity = (config: IterationComplexityConfig, opts: RunOptions = {}): Promise<E.Either<HypergradError, ExperimentOutput<IterationComplexityConfig>>> =>
  runSweep(iterationComplexity, config, opts)
