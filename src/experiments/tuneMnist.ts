/**
 * `tune-mnist`: hyperparameter optimization on MNIST odd versus even (the logistic problem of
 * SID §6, `logisticProblem`), comparing hypergradient methods with search methods at equal
 * wall-clock time.
 *
 *  - 'aid':    one λ per feature (R = ½wᵀdiag(λ)w, 784 hyperparameters), Adam on θ = log λ
 *              (`tune` with logScale), each hypergradient by AID-CG (Grazzi et al. 2020: heavy
 *              ball on the lower problem, conjugate gradient on (I − ∂₁Φᵀ)v = ∇₁E, SID eq. 4–6)
 *              run to the tolerances tolLower/tolLinear, warm-started from the previous step.
 *  - 'sid':    the same outer loop with SID (SID Algorithm 1) under a preset of SID §6 (default
 *              'stochDec', ηₜ = β/(γ + t)) and a few epochs per outer step, warm-started.
 *  - 'aidAdaptive': 'aid' with adaptive accuracy (`aidAdaptive`, `tune` with tolerance 'adaptive'):
 *              each step runs AID until the a posteriori bound of Ehrhardt & Roberts on
 *              ‖∇̂f − ∇f‖ is ≤ min(initialTolerance, adaptiveFactor·‖∇̂f‖ of the previous step).
 *  - 'aidScalar': AID-CG as in 'aid', on one scalar λ (R = (λ/2)‖w‖²): the hypergradient method
 *              on exactly the search space of the two searches below.
 *  - 'grid':   one scalar λ (R = (λ/2)‖w‖²), a log-spaced grid on [lambdaLow, lambdaHigh]
 *              visited coarse to fine (`gridOrder`), each point solved to tolLower.
 *  - 'random': one scalar λ drawn log-uniformly on the same interval, each solved to tolLower.
 *
 * Every method gets the same box Λ = [lambdaLow, lambdaHigh] and the same wall-clock budget
 * (budgetSeconds, measured in the method's own thread from its first hypergradient or lower
 * solve; loading the data is not counted). A method stops at the first step that would START
 * after the budget (the first step always runs), so its last step may end up to one step past
 * it. The search methods warm-start each lower solve from the solution at the nearest λ already
 * evaluated (in log λ).
 *
 * Reported against seconds (and against passes over the training set, a cost that does not
 * depend on the machine's load): the validation loss E(w) = Σ_val ψ(yᵢxᵢᵀw) of the method's
 * current model (for AID and SID the model of the current outer step, for the searches the best
 * λ so far), its test accuracy and its test loss. After the budget, the final λ of every method is re-solved to
 * tolLower/100 ("refit") so that the final numbers compare models solved to the same accuracy
 * (SID's own iterate is a stochastic one).
 *
 * A pixel that is zero in every training image gives a column of zeros in X: its weight wⱼ stays
 * 0 from w₀ = 0 under every solver (∂ℓ/∂wⱼ = λⱼwⱼ), so ∂f/∂λⱼ = −α wⱼ vⱼ = 0 exactly and Adam
 * leaves λⱼ at its start. The run counts these columns and checks that their λ is unchanged.
 *
 * One task per run and method (worker threads, pool.ts); each task loads its own split. Run r
 * uses seed + r for its split, SID's minibatches and the random search, so run 0 is the
 * experiment with one seed; over several runs the summary and the figures give medians and
 * 10–90% quantiles (the splits differ, so each run has its own best scalar λ, E*).
 */
import * as E from 'fp-ts/lib/Either.js'
import type * as t from 'io-ts'
import { aidCost, fullBatchCost, presetCost } from '../config/cost.js'
import { nonEmpty, oneOf, PositiveInt, PositiveNumber, Seed } from '../config/codecs.js'
import type { Dataset } from '../data/dataset.js'
import { MNIST_D, mnistOddEven } from '../data/mnist.js'
import { hgError, type HypergradError } from '../errors.js'
import { PRESET_NAMES, sidWithPreset, type PresetName } from '../hypergrad/presets.js'
import type { HypergradResult } from '../hypergrad/types.js'
import type { RVec, Vec } from '../linalg/types.js'
import { aidAdaptive } from '../outer/adaptive.js'
import { tune, type HyperOracle, type TuneStep } from '../outer/tune.js'
import type { ErmProblem } from '../problem/erm.js'
import { logisticProblem, psi, type Regularization } from '../problems/logistic.js'
import { seed as rngSeed, uniformsIn } from '../random/rng.js'
import type { Panel, Series } from '../report/figure.js'
import { conjugateGradient } from '../solvers/linear/conjugateGradient.js'
import { heavyBall } from '../solvers/lower/heavyBall.js'
import { heavyBallParamsFor } from '../solvers/params.js'
import { runLower } from '../solvers/run.js'
import type { Status } from '../solvers/types.js'
import { bandNote, bandSeries, finiteOrNull, fixed, maxOf, median, minOf, mnistProblemBytes, mnistSizes, outcomeOf, resultBytes, runSweep, splitBytes, spread, WORKER_BYTES, type ExperimentSweep, type Spread } from './common.js'
import type { Task } from './pool.js'
import { aidHeavyBallCg, warmStartAt } from './aidOracle.js'
import { fieldTable } from './fieldTable.js'
import type { CsvRow, ExperimentCost, ExperimentOutput, FieldSpec, RunOptions, TaskOutcome } from './types.js'

// ── shared helpers (also used by the data-cleaning experiment) ──────────────────────────────

/** Mean logistic loss and accuracy of the linear classifier w on a ±1-labelled set. */
export const classifierScores = (ds: Dataset, w: RVec): { readonly loss: number; readonly accuracy: number } => {
  const { rows, cols, data } = ds.X
  if (w.length !== cols) throw new RangeError(`classifierScores: w has length ${w.length}, X is ${rows}×${cols}`)
  let loss = 0
  let correct = 0
  for (let i = 0; i < rows; i++) {
    let z = 0
    const o = i * cols
    for (let j = 0; j < cols; j++) z += data[o + j]! * w[j]!
    const u = ds.y[i]! * z
    loss += psi(u)
    if (u > 0) correct++
  }
  return { loss: rows === 0 ? NaN : loss / rows, accuracy: rows === 0 ? NaN : correct / rows }
}

/** The outcome of a lower-level solve. */
export interface LowerSolve {
  readonly w: Vec
  /** E(w, λ): the validation loss of w. */
  readonly value: number
  readonly iterations: number
  readonly status: Status
}

/**
 * Solve the lower problem of an ERM bilevel problem at λ by heavy ball (step 4/(√L + √τ)²,
 * momentum ((√L − √τ)/(√L + √τ))² from `curvature(λ)`) until ‖Φ(w) − w‖ ≤ tol or maxIter steps,
 * from w0 (default 0). A diverged solve is a Left of kind 'divergence'.
 */
export const solveLower = (
  problem: ErmProblem,
  lambda: RVec,
  opts: { readonly tol: number; readonly maxIter: number; readonly w0?: RVec },
): E.Either<HypergradError, LowerSolve> => {
  const hb = heavyBallParamsFor(problem, lambda)
  if (E.isLeft(hb)) return hb
  const w0 = opts.w0 ?? new Float64Array(problem.dim)
  const run = runLower(heavyBall(hb.right), problem, lambda, w0, rngSeed(0), { maxIter: opts.maxIter, tol: opts.tol })
  if (E.isLeft(run)) return run
  const r = run.right
  if (r.status === 'diverged') return E.left(hgError('divergence', `solveLower(${problem.name}): ${r.reason ?? 'diverged'}`))
  const w = r.state.w
  return E.right({ w, value: problem.upper(w, lambda), iterations: r.iterations, status: r.status })
}

/**
 * The coarse-to-fine order of a grid of n points (indices 0…n−1): both ends, then the midpoint,
 * then the midpoints of the two halves, and so on, level by level (breadth-first bisection). For
 * n = 2^K + 1 every prefix of length 2^j + 1 is the uniform sub-grid of step 2^(K−j), so that a
 * grid search stopped early has still covered the interval evenly.
 */
export const gridOrder = (n: number): number[] => {
  if (!(Number.isInteger(n) && n >= 1)) throw new RangeError(`gridOrder: n must be an integer ≥ 1, got ${n}`)
  if (n === 1) return [0]
  const order = [0, n - 1]
  let level: Array<readonly [number, number]> = [[0, n - 1]]
  while (level.length > 0) {
    const next: Array<readonly [number, number]> = []
    for (const [a, b] of level) {
      if (b - a < 2) continue
      const mid = (a + b) >> 1
      order.push(mid)
      next.push([a, mid], [mid, b])
    }
    level = next
  }
  return order
}

// ── configuration ────────────────────────────────────────────────────────────────────────────

/** The methods compared (see the module comment). */
export type TuneMnistMethod = 'aid' | 'aidAdaptive' | 'sid' | 'aidScalar' | 'grid' | 'random'
/** Every method, in the order of the summary table. */
export const TUNE_MNIST_METHODS: ReadonlyArray<TuneMnistMethod> = ['aid', 'aidAdaptive', 'sid', 'aidScalar', 'grid', 'random']

/** Legend labels (short: the figure's legend cuts labels beyond about 19 characters). */
export const TUNE_MNIST_LABEL: Readonly<Record<TuneMnistMethod, string>> = {
  aid: 'AID-CG, 784 λ',
  aidAdaptive: 'AID-CG cert., 784 λ',
  sid: 'SID, 784 λ',
  aidScalar: 'AID-CG, one λ',
  grid: 'grid, one λ',
  random: 'random, one λ',
}

/** The configuration of tune-mnist. */
export interface TuneMnistConfig {
  /** Independent runs: run r has seed + r (its split, SID's minibatches, the random search). */
  readonly runs: number
  readonly methods: ReadonlyArray<TuneMnistMethod>
  /** MNIST odd/even sizes (4000 / 3000 / 3000 by default). */
  readonly nTrain: number
  readonly nVal: number
  readonly nTest: number
  /** Seed of the split (mnistOddEven({ seed })), of SID's minibatches and of the random search (run r: seed + r). */
  readonly seed: number
  /** Wall-clock budget of each method, in seconds. */
  readonly budgetSeconds: number
  /** The box Λ = [lambdaLow, lambdaHigh] of every method (the search interval, the bounds of tune). */
  readonly lambdaLow: number
  readonly lambdaHigh: number
  /** Start of the per-feature λ (every entry) for AID and SID. */
  readonly lambda0: number
  /** Inner accuracy: ‖Φ(w) − w‖ ≤ tolLower (absolute) for AID and the searches; CG to tolLinear·‖∇₁E‖. */
  readonly tolLower: number
  readonly tolLinear: number
  /** Caps on the inner iterations of one AID call or one search solve. */
  readonly maxT: number
  readonly maxK: number
  /** AID: at most this many outer steps (Adam on log λ, step aidStepSize). */
  readonly aidSteps: number
  readonly aidStepSize: number
  /** AID on one scalar λ ('aidScalar'): Adam step on log λ (at most aidSteps steps). */
  readonly scalarStepSize: number
  /**
   * 'aidAdaptive': the certified tolerance of step s is min(initialTolerance, adaptiveFactor·‖∇̂f‖
   * of step s − 1). initialTolerance must be below ‖∇f(λ₀)‖ (≈ 0.1 at the defaults): a looser
   * target can be certified at w = 0, where ∇̂f = 0, and the next tolerance is then 0 (an error).
   */
  readonly adaptiveFactor: number
  readonly initialTolerance: number
  /** SID: at most this many outer steps, each with sidEpochs epochs of the preset sidPreset. */
  readonly sidSteps: number
  readonly sidStepSize: number
  readonly sidEpochs: number
  readonly sidPreset: PresetName
  readonly batchSize: number
  /** Grid search: at most this many grid points (log-spaced, visited coarse to fine). */
  readonly gridPoints: number
  /** Random search: at most this many draws. */
  readonly randomPoints: number
}

/**
 * Defaults: the 4000 / 3000 / 3000 split, 40 s per method (five methods on two cores: about
 * 2.5 minutes of wall clock), Λ = [1, 10⁴] (κ = L/τ ≤ 4·10⁴ on 4000 rows), λ₀ = 100, Adam
 * steps on log λ of 0.1 (AID), 0.05 (SID, 4 epochs of 'stochDec' per step, minibatch 50) and
 * 0.25 (AID on a scalar λ); grids of up to 257 points and up to 1000 random draws, so that the
 * searches too are stopped by the budget.
 */
export const tuneMnistDefaults: TuneMnistConfig = {
  runs: 16,
  methods: TUNE_MNIST_METHODS,
  nTrain: 4000,
  nVal: 3000,
  nTest: 3000,
  seed: 0,
  budgetSeconds: 40,
  lambdaLow: 1,
  lambdaHigh: 1e4,
  lambda0: 100,
  tolLower: 1e-5,
  tolLinear: 1e-4,
  maxT: 5000,
  maxK: 500,
  aidSteps: 1000,
  aidStepSize: 0.1,
  scalarStepSize: 0.25,
  adaptiveFactor: 0.1,
  initialTolerance: 0.01,
  sidSteps: 10000,
  sidStepSize: 0.05,
  sidEpochs: 4,
  sidPreset: 'stochDec',
  batchSize: 50,
  gridPoints: 257,
  randomPoints: 1000,
}

const Method = oneOf(TUNE_MNIST_METHODS, 'a method')
const Preset = oneOf(PRESET_NAMES, 'a SID preset')

const tuneMnistTable = fieldTable<TuneMnistConfig>('a tune-mnist configuration', {
  runs: { codec: PositiveInt, kind: 'int', doc: 'independent runs, run r with seed + r (default 16): medians and 10–90% quantiles over them' },
  methods: { codec: nonEmpty(Method, `a non-empty list of methods`), kind: 'enumList', values: TUNE_MNIST_METHODS, doc: 'methods to compare (default aid,aidAdaptive,sid,aidScalar,grid,random)' },
  nTrain: { codec: PositiveInt, kind: 'int', doc: 'MNIST training rows (default 4000)' },
  nVal: { codec: PositiveInt, kind: 'int', doc: 'validation rows (default 3000)' },
  nTest: { codec: PositiveInt, kind: 'int', doc: 'test rows (default 3000)' },
  seed: { codec: Seed, kind: 'int', doc: 'seed of the split, the minibatches and the random search of run 0; run r has seed + r (default 0)' },
  budgetSeconds: { codec: PositiveNumber, kind: 'number', doc: 'wall-clock budget of each method in seconds (default 40)' },
  lambdaLow: { codec: PositiveNumber, kind: 'number', doc: 'lower end of the box Λ for every method (default 1)' },
  lambdaHigh: { codec: PositiveNumber, kind: 'number', doc: 'upper end of Λ (default 1e4)' },
  lambda0: { codec: PositiveNumber, kind: 'number', doc: 'start of every per-feature λ (AID, SID; default 100)' },
  tolLower: { codec: PositiveNumber, kind: 'number', doc: 'lower-level stop ‖Φ(w) − w‖ ≤ tolLower (default 1e-5)' },
  tolLinear: { codec: PositiveNumber, kind: 'number', doc: 'CG stop at relative residual tolLinear (default 1e-4)' },
  maxT: { codec: PositiveInt, kind: 'int', doc: 'cap on lower-level steps per solve (default 5000)' },
  maxK: { codec: PositiveInt, kind: 'int', doc: 'cap on CG steps per AID call (default 500)' },
  aidSteps: { codec: PositiveInt, kind: 'int', doc: 'at most this many AID outer steps (default 1000; the budget stops it first)' },
  aidStepSize: { codec: PositiveNumber, kind: 'number', doc: 'Adam step on log λ for AID (default 0.1)' },
  scalarStepSize: { codec: PositiveNumber, kind: 'number', doc: 'Adam step on log λ for AID on one scalar λ (default 0.25)' },
  adaptiveFactor: { codec: PositiveNumber, kind: 'number', doc: 'aidAdaptive: certified tolerance = adaptiveFactor·‖∇̂f‖ of the previous step (default 0.1)' },
  initialTolerance: { codec: PositiveNumber, kind: 'number', doc: 'aidAdaptive: certified tolerance of the first step, and its cap; keep it below ‖∇f(λ₀)‖, or the first estimate may be 0 (default 0.01)' },
  sidSteps: { codec: PositiveInt, kind: 'int', doc: 'at most this many SID outer steps (default 10000)' },
  sidStepSize: { codec: PositiveNumber, kind: 'number', doc: 'Adam step on log λ for SID (default 0.05)' },
  sidEpochs: { codec: PositiveInt, kind: 'int', doc: 'epochs of SID per outer step (default 4)' },
  sidPreset: { codec: Preset, kind: 'enum', values: PRESET_NAMES, doc: 'SID preset (default stochDec)' },
  batchSize: { codec: PositiveInt, kind: 'int', doc: 'SID minibatch size (default 50)' },
  gridPoints: { codec: PositiveInt, kind: 'int', doc: 'at most this many grid points, visited coarse to fine (default 257)' },
  randomPoints: { codec: PositiveInt, kind: 'int', doc: 'at most this many random draws (default 1000)' },
})

/** The fields, for `hypergrad reproduce list`. */
export const tuneMnistFields: ReadonlyArray<FieldSpec> = tuneMnistTable.fields

/** Decode a tune-mnist configuration (io-ts validation). */
export const decodeTuneMnist = (u: unknown): t.Validation<TuneMnistConfig> => tuneMnistTable.decode(u)

const configError = (message: string): HypergradError => hgError('config', `reproduce tune-mnist: ${message}`)

/** The cross-field constraints of a tune-mnist configuration. */
export const checkTuneMnist = (c: TuneMnistConfig): E.Either<HypergradError, void> => {
  if (new Set(c.methods).size !== c.methods.length) return E.left(configError(`methods lists a method twice: ${c.methods.join(',')}`))
  if (c.nTrain + c.nVal + c.nTest > 10000)
    return E.left(configError(`nTrain + nVal + nTest = ${c.nTrain + c.nVal + c.nTest} exceeds the 10000 MNIST digits of the package`))
  if (!(c.lambdaLow < c.lambdaHigh)) return E.left(configError(`lambdaLow ${c.lambdaLow} must be below lambdaHigh ${c.lambdaHigh}`))
  if (!(c.lambda0 >= c.lambdaLow && c.lambda0 <= c.lambdaHigh))
    return E.left(configError(`lambda0 ${c.lambda0} is outside [lambdaLow, lambdaHigh] = [${c.lambdaLow}, ${c.lambdaHigh}]`))
  if (c.batchSize > c.nTrain) return E.left(configError(`batchSize ${c.batchSize} exceeds nTrain ${c.nTrain}`))
  return E.right(undefined)
}

// ── one task: one method ─────────────────────────────────────────────────────────────────────

/** The input of one task: one method in one run (whose seed is the configuration's seed + run). */
export interface TuneMnistTaskInput extends TuneMnistConfig {
  readonly method: TuneMnistMethod
  readonly run: number
}

/** One point of a method's curve. */
export interface TunePoint {
  /** Outer step (AID, SID) or evaluation index (searches). */
  readonly step: number
  /** Seconds since the method started (its own thread). */
  readonly seconds: number
  /** Validation loss E of the current model (searches: the best λ so far). */
  readonly value: number
  readonly testAccuracy: number
  /** Mean test logistic loss of the current model. */
  readonly testLoss: number
  /** The λ evaluated at this point (searches) or the summary of the current λ (min/median/max). */
  readonly lambdaMin: number
  readonly lambdaMedian: number
  readonly lambdaMax: number
  /** Searches: the λ and validation loss of this evaluation (not the best so far). */
  readonly evaluated?: { readonly lambda: number; readonly value: number }
  /** Inner iterations of this step (lower, linear). */
  readonly t: number
  readonly k: number
  /**
   * Cumulative passes over the training set (a machine-independent cost): t + k per AID step
   * (one Φ or one Hessian-vector product each), (t + k)·b/n per SID step, the lower iterations
   * of each search solve. The O(1) extra products per step (the gradient assembly, residual
   * checks, aidAdaptive's certificate) are not counted.
   */
  readonly passes: number
  /** ‖∇̂f(λ)‖ (AID, SID). */
  readonly gradNorm?: number
  /** aidAdaptive: the certified bound on ‖∇̂f − ∇f‖ and the tolerance it had to meet. */
  readonly bound?: number
  readonly tolerance?: number
}

/** The final model of a method, re-solved to tolLower/100 at its final λ. */
export interface Refit {
  /** The refit model's weights. */
  readonly w: ReadonlyArray<number>
  readonly value: number
  readonly testAccuracy: number
  readonly testLoss: number
  readonly iterations: number
  readonly status: Status
}

/** The result of one method in one run. */
export interface TuneMnistTaskResult {
  readonly run: number
  readonly method: TuneMnistMethod
  readonly points: ReadonlyArray<TunePoint>
  /** The final λ: one per pixel ('aid', 'aidAdaptive', 'sid'), the last scalar ('aidScalar') or the best scalar (searches). */
  readonly lambda: ReadonlyArray<number>
  readonly refit: Refit
  /** How the method ended: budget spent, step cap (or grid exhausted), or diverged. */
  readonly stopped: 'budget' | 'steps' | 'diverged'
  /** Seconds of the method (excluding data loading and the refit). */
  readonly seconds: number
  readonly loadSeconds: number
  readonly refitSeconds: number
  /** Training columns that are zero in every row; for the per-pixel methods, how many kept λⱼ = λ₀ exactly (null otherwise). */
  readonly zeroColumns: number
  readonly zeroColumnsUnchanged: number | null
}

/** Columns of X that are zero in every row. */
export const zeroColumnsOf = (X: Dataset['X']): number[] => {
  const { rows, cols, data } = X
  const nz = new Uint8Array(cols)
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) if (data[i * cols + j] !== 0) nz[j] = 1
  const out: number[] = []
  for (let j = 0; j < cols; j++) if (nz[j] === 0) out.push(j)
  return out
}

const summary = (lambda: ArrayLike<number>): { lambdaMin: number; lambdaMedian: number; lambdaMax: number } => {
  let lo = Infinity
  let hi = -Infinity
  for (let i = 0; i < lambda.length; i++) {
    lo = Math.min(lo, lambda[i]!)
    hi = Math.max(hi, lambda[i]!)
  }
  return { lambdaMin: lo, lambdaMedian: median(lambda), lambdaMax: hi }
}

interface Splits {
  readonly train: Dataset
  readonly validation: Dataset
  readonly test: Dataset
}

const problemAt = (s: Splits, lambda: RVec, regularization: Regularization): E.Either<HypergradError, ErmProblem> =>
  logisticProblem(s.train, s.validation, lambda, { regularization })

/** The refit: solve to tolLower/100 at λ from w0. */
const refitAt = (s: Splits, c: TuneMnistConfig, lambda: RVec, regularization: Regularization, w0: RVec): E.Either<HypergradError, Refit> => {
  const p = problemAt(s, lambda, regularization)
  if (E.isLeft(p)) return p
  const r = solveLower(p.right, lambda, { tol: c.tolLower / 100, maxIter: 20 * c.maxT, w0 })
  if (E.isLeft(r)) return r
  const sc = classifierScores(s.test, r.right.w)
  return E.right({ w: Array.from(r.right.w), value: r.right.value, testAccuracy: sc.accuracy, testLoss: sc.loss, iterations: r.right.iterations, status: r.right.status })
}

/** The hypergradient methods: `tune` with Adam on log λ, stopped by the budget or the step cap. */
const runHypergradient = (s: Splits, c: TuneMnistTaskInput): E.Either<HypergradError, Omit<TuneMnistTaskResult, 'run' | 'loadSeconds' | 'zeroColumns' | 'zeroColumnsUnchanged' | 'refit' | 'refitSeconds'> & { readonly w: Vec }> => {
  const isSid = c.method === 'sid'
  const regularization: Regularization = c.method === 'aidScalar' ? 'scalar' : 'perFeature'
  let deadline = Infinity
  let outOfTime = false
  // The oracle hands back v·α as "v" (α = 2/(L+τ) changes with λ): p = αv solves ∇²ℓ p = ∇₁E,
  // which does not depend on α, so the warm start of the next step is rescaled by 1/α there.
  const oracle: HyperOracle = ({ lambda, warm, step, tolerance }) => {
    if (step > 0 && performance.now() > deadline) {
      outOfTime = true
      return E.left(hgError('config', 'budget spent'))
    }
    const p = problemAt(s, lambda, regularization)
    if (E.isLeft(p)) return p
    const problem = p.right
    const a = problem.alpha
    const starts = warmStartAt(warm, a)
    let r: E.Either<HypergradError, HypergradResult & { readonly bound?: number }>
    const hbE = heavyBallParamsFor(problem, lambda)
    if (E.isLeft(hbE)) return hbE
    const hb = hbE.right
    if (isSid) {
      r = sidWithPreset(c.sidPreset, problem, lambda, { epochs: c.sidEpochs, batchSize: c.batchSize, seed: c.seed * 100003 + step, ...starts })
    } else if (c.method === 'aidAdaptive' && tolerance !== undefined) {
      r = aidAdaptive(problem, lambda, { lower: heavyBall({ beta: hb.beta, eta: hb.eta }), linear: conjugateGradient(), tolerance, maxT: c.maxT, maxK: c.maxK, ...starts })
    } else {
      r = aidHeavyBallCg(problem, lambda, hb, c, starts)
    }
    return E.map((res: HypergradResult & { readonly bound?: number }) => ({ ...res, v: res.v.map((x) => x * a) }))(r)
  }
  const steps: Array<TuneStep & { readonly value: number }> = []
  // evaluate() sees each step's w before onStep() sees the step: keep the w of the last step recorded.
  let pendingW: Vec | undefined
  let lastW: Vec | undefined
  const m = regularization === 'scalar' ? 1 : s.train.X.cols
  deadline = performance.now() + 1000 * c.budgetSeconds
  const r = tune(new Float64Array(m).fill(c.lambda0), oracle, {
    optimizer: 'adam',
    steps: isSid ? c.sidSteps : c.aidSteps,
    stepSize: isSid ? c.sidStepSize : regularization === 'scalar' ? c.scalarStepSize : c.aidStepSize,
    logScale: true,
    bounds: [c.lambdaLow, c.lambdaHigh],
    warmStart: true,
    ...(c.method === 'aidAdaptive' ? { tolerance: 'adaptive' as const, adaptiveFactor: c.adaptiveFactor, initialTolerance: c.initialTolerance } : {}),
    evaluate: (_l, w) => {
      pendingW = Float64Array.from(w)
      const sc = classifierScores(s.test, w)
      return { testAccuracy: sc.accuracy, testLoss: sc.loss }
    },
    onStep: (st) => {
      steps.push(st)
      lastW = pendingW
    },
  })
  if (E.isLeft(r) && !outOfTime) return r
  const stopped: TuneMnistTaskResult['stopped'] = E.isRight(r) && r.right.status === 'diverged' ? 'diverged' : outOfTime ? 'budget' : 'steps'
  const last = steps[steps.length - 1]
  if (last === undefined || lastW === undefined) return E.left(hgError('divergence', `tune-mnist ${c.method}: no outer step completed within the budget`))
  let passes = 0
  const perStep = isSid ? c.batchSize / s.train.X.rows : 1
  const points: TunePoint[] = steps.map((st) => ({
    passes: (passes += (st.t + st.k) * perStep),
    step: st.step,
    seconds: st.seconds,
    value: st.value,
    testAccuracy: st.metrics?.['testAccuracy'] ?? NaN,
    testLoss: st.metrics?.['testLoss'] ?? NaN,
    ...summary(st.lambda),
    t: st.t,
    k: st.k,
    gradNorm: st.gradNorm,
    ...(st.bound !== undefined ? { bound: st.bound } : {}),
    ...(st.tolerance !== undefined ? { tolerance: st.tolerance } : {}),
  }))
  return E.right({ method: c.method, points, lambda: last.lambda, stopped, seconds: last.seconds, w: lastW })
}

/** The searches over a scalar λ: grid (coarse to fine) or log-uniform random draws. */
const runSearch = (s: Splits, c: TuneMnistTaskInput): E.Either<HypergradError, Omit<TuneMnistTaskResult, 'run' | 'loadSeconds' | 'zeroColumns' | 'zeroColumnsUnchanged' | 'refit' | 'refitSeconds'> & { readonly w: Vec }> => {
  const lo = Math.log(c.lambdaLow)
  const hi = Math.log(c.lambdaHigh)
  let candidates: number[]
  if (c.method === 'grid') {
    const n = c.gridPoints
    candidates = gridOrder(n).map((i) => Math.exp(n === 1 ? lo : lo + ((hi - lo) * i) / (n - 1)))
  } else {
    const [u] = uniformsIn(rngSeed(c.seed * 100003 + 77), c.randomPoints, lo, hi)
    candidates = Array.from(u, Math.exp)
  }
  const start = performance.now()
  const deadline = start + 1000 * c.budgetSeconds
  const done: Array<{ readonly log: number; readonly w: Vec }> = []
  const points: TunePoint[] = []
  let best: { lambda: number; value: number; w: Vec; testAccuracy: number; testLoss: number } | undefined
  let stopped: TuneMnistTaskResult['stopped'] = 'steps'
  for (let i = 0; i < candidates.length; i++) {
    if (i > 0 && performance.now() > deadline) {
      stopped = 'budget'
      break
    }
    const lambda = candidates[i]!
    const L = Float64Array.of(lambda)
    const p = problemAt(s, L, 'scalar')
    if (E.isLeft(p)) return p
    // Warm start from the nearest λ already solved (in log λ).
    let w0: Vec | undefined
    let dist = Infinity
    for (const d of done) {
      const dd = Math.abs(d.log - Math.log(lambda))
      if (dd < dist) ((dist = dd), (w0 = d.w))
    }
    const r = solveLower(p.right, L, { tol: c.tolLower, maxIter: c.maxT, ...(w0 !== undefined ? { w0 } : {}) })
    if (E.isLeft(r)) return r
    done.push({ log: Math.log(lambda), w: r.right.w })
    if (best === undefined || r.right.value < best.value) {
      const sc = classifierScores(s.test, r.right.w)
      best = { lambda, value: r.right.value, w: r.right.w, testAccuracy: sc.accuracy, testLoss: sc.loss }
    }
    points.push({
      step: i,
      seconds: (performance.now() - start) / 1000,
      value: best.value,
      testAccuracy: best.testAccuracy,
      testLoss: best.testLoss,
      lambdaMin: best.lambda,
      lambdaMedian: best.lambda,
      lambdaMax: best.lambda,
      evaluated: { lambda, value: r.right.value },
      t: r.right.iterations,
      k: 0,
      passes: (points[points.length - 1]?.passes ?? 0) + r.right.iterations,
    })
  }
  if (best === undefined) return E.left(hgError('divergence', `tune-mnist ${c.method}: no λ evaluated within the budget`))
  const seconds = points[points.length - 1]!.seconds
  return E.right({ method: c.method, points, lambda: [best.lambda], stopped, seconds, w: best.w })
}

/** One task: load the split, run one method within the budget, refit its final λ. */
export const tuneMnistTask = (input: TuneMnistTaskInput): TaskOutcome<TuneMnistTaskResult> => {
  const out = taskEither(input)
  return outcomeOf(out)
}

const taskEither = (c: TuneMnistTaskInput): E.Either<HypergradError, TuneMnistTaskResult> => {
  const t0 = performance.now()
  const d = mnistOddEven({ nTrain: c.nTrain, nVal: c.nVal, nTest: c.nTest, seed: c.seed })
  if (E.isLeft(d)) return d
  const s: Splits = { train: d.right.train, validation: d.right.validation, test: d.right.test! }
  const loadSeconds = (performance.now() - t0) / 1000
  const perFeature = c.method === 'aid' || c.method === 'aidAdaptive' || c.method === 'sid'
  const r = c.method === 'grid' || c.method === 'random' ? runSearch(s, c) : runHypergradient(s, c)
  if (E.isLeft(r)) return r
  const t1 = performance.now()
  const lambda = Float64Array.from(r.right.lambda)
  const refit = refitAt(s, c, lambda, perFeature ? 'perFeature' : 'scalar', r.right.w)
  if (E.isLeft(refit)) return refit
  const zeros = zeroColumnsOf(s.train.X)
  const { w: _w, ...rest } = r.right
  return E.right({
    run: c.run,
    ...rest,
    refit: refit.right,
    refitSeconds: (performance.now() - t1) / 1000,
    loadSeconds,
    zeroColumns: zeros.length,
    // Unchanged: θⱼ = log λ₀ never moved, so λⱼ is λ₀ (step 0) or exp(log λ₀) (after a step).
    zeroColumnsUnchanged: perFeature ? zeros.filter((j) => lambda[j] === c.lambda0 || lambda[j] === Math.exp(Math.log(c.lambda0))).length : null,
  })
}

// ── the experiment ───────────────────────────────────────────────────────────────────────────

/**
 * What tune-mnist costs, before any work: in each run, each method runs until its budget or its step cap,
 * whichever comes first (an AID step is up to maxT lower and maxK linear steps, an SID step
 * its epochs, a search point up to maxT lower steps), then a refit; the per-pixel methods
 * record λ (784 numbers) at every step.
 */
export const tuneMnistCost = (c: TuneMnistConfig): ExperimentCost => {
  const pixels = mnistSizes(c.nTrain, MNIST_D)
  const scalar = mnistSizes(c.nTrain, 1)
  const plan = (m: TuneMnistMethod): { readonly cap: number; readonly step: number; readonly hyper: number } => {
    switch (m) {
      case 'aid':
      case 'aidAdaptive':
        return { cap: c.aidSteps, step: aidCost(pixels, c.maxT, c.maxK).seconds, hyper: MNIST_D }
      case 'aidScalar':
        return { cap: c.aidSteps, step: aidCost(scalar, c.maxT, c.maxK).seconds, hyper: 1 }
      case 'sid':
        return { cap: c.sidSteps, step: presetCost(pixels, c.sidPreset, c.sidEpochs, c.batchSize).seconds, hyper: MNIST_D }
      case 'grid':
        return { cap: c.gridPoints, step: fullBatchCost(scalar, c.maxT).seconds, hyper: 1 }
      case 'random':
        return { cap: c.randomPoints, step: fullBatchCost(scalar, c.maxT).seconds, hyper: 1 }
    }
  }
  let seconds = 0
  let results = 0
  let heap = 0
  for (const m of c.methods) {
    const p = plan(m)
    // The trajectory: at most the cap, and no more steps than the budget allows at one pass each.
    const steps = Math.min(p.cap, Math.ceil(c.budgetSeconds / aidCost(scalar, 1, 0).seconds) + 1)
    seconds += Math.min(c.budgetSeconds, p.cap * p.step) + fullBatchCost(scalar, 20 * c.maxT).seconds
    results += resultBytes(20 * steps + 2 * MNIST_D)
    heap = Math.max(heap, steps * (16 * p.hyper + 600))
  }
  return {
    seconds: c.runs * seconds,
    results: { bytes: c.runs * results, heapBytes: c.runs * results },
    perWorker: { bytes: WORKER_BYTES + splitBytes(c.nTrain + c.nVal + c.nTest) + mnistProblemBytes(c.nTrain) + heap, heapBytes: heap },
    shared: 0,
    tasks: c.runs * c.methods.length,
  }
}

/** The last point of a curve at or before `seconds` (undefined when the curve starts later). */
export const pointAt = (points: ReadonlyArray<TunePoint>, seconds: number): TunePoint | undefined => lastAtOrBefore(points, seconds, (p) => p.seconds)

/** The last point whose coordinate `at(p)` (seconds, passes: increasing along the curve) is ≤ x; undefined before the first. */
const lastAtOrBefore = (points: ReadonlyArray<TunePoint>, x: number, at: (p: TunePoint) => number): TunePoint | undefined => {
  let out: TunePoint | undefined
  for (const p of points) if (at(p) <= x) out = p
  return out
}

/** E*: the best validation loss of a scalar λ found by any scalar method of a run (NaN when the run has none). */
const eStarOf = (rs: ReadonlyArray<TuneMnistTaskResult>): number => {
  const values = rs.filter((r) => r.method === 'aidScalar' || r.method === 'grid' || r.method === 'random').flatMap((r) => r.points.map((p) => p.value))
  return values.length > 0 ? minOf(values) : NaN
}

/** The first point of a curve within 0.1% of E* (undefined when it never gets there). */
const reachPointOf = (r: TuneMnistTaskResult, eStar: number): TunePoint | undefined => r.points.find((p) => p.value <= (1 + 1e-3) * eStar)

/** Points on the x axis of the figures over several runs: a grid from 0 to the largest x of any curve. */
const GRID_POINTS = 60

/**
 * The figure panels against x (seconds or passes): one run's curves as they are; over several
 * runs, for each method, the median and the 10–90% band over the runs of each curve's last value
 * at or before x, on a grid of x (a run whose curve has not started at x does not count there).
 */
const panelsAgainst = (results: ReadonlyArray<TuneMnistTaskResult>, methods: ReadonlyArray<TuneMnistMethod>, runs: number, x: (p: TunePoint) => number): Panel[] => {
  const series = (f: (p: TunePoint) => number): Series[] =>
    methods.map((m) => {
      const rs = results.filter((r) => r.method === m)
      if (runs === 1) return { name: TUNE_MNIST_LABEL[m], x: rs.flatMap((r) => r.points.map(x)), y: rs.flatMap((r) => r.points.map(f)) }
      const end = maxOf(rs.flatMap((r) => r.points.map(x)))
      const grid = Array.from({ length: GRID_POINTS + 1 }, (_, i) => (end * i) / GRID_POINTS)
      return bandSeries(TUNE_MNIST_LABEL[m], grid, grid.map((g) => spread(rs.map((r) => {
        const p = lastAtOrBefore(r.points, g, x)
        return p === undefined ? null : f(p)
      }))))
    })
  return [
    { title: 'validation loss E(w) = Σ_val ψ(y xᵀw)', series: series((p) => p.value) },
    { title: 'test accuracy', series: series((p) => p.testAccuracy) },
    { title: 'test loss (mean ψ)', series: series((p) => p.testLoss) },
  ]
}

/** The summary table of one run: the final and refit numbers, the values at half the budget and the time to come within 0.1% of the best scalar λ. */
const runTable = (config: TuneMnistConfig, results: ReadonlyArray<TuneMnistTaskResult>, eStar: number): string[] => {
  const half = config.budgetSeconds / 2
  const lines = [
    `${'method'.padEnd(26)} ${'steps'.padStart(6)} ${'seconds'.padStart(8)} ${'E at B/2'.padStart(9)} ${'E final'.padStart(9)} ${'E refit'.padStart(9)} ${'test acc'.padStart(9)} ${'test loss'.padStart(9)} ${'t(≤1.001E*)'.padStart(11)} ${'passes'.padStart(7)} ${'to ≤1.001E*'.padStart(11)}  λ (min/median/max)`,
  ]
  for (const r of results) {
    const h = pointAt(r.points, half)
    const last = r.points[r.points.length - 1]!
    const lam = summary(r.lambda)
    const reach = reachPointOf(r, eStar)
    lines.push(
      `${TUNE_MNIST_LABEL[r.method].padEnd(26)} ${String(r.points.length).padStart(6)} ${fixed(r.seconds, 1).padStart(8)} ${(h === undefined ? '—' : fixed(h.value, 1)).padStart(9)} ${fixed(last.value, 1).padStart(9)} ${fixed(r.refit.value, 1).padStart(9)} ${fixed(r.refit.testAccuracy, 4).padStart(9)} ${fixed(r.refit.testLoss, 4).padStart(9)} ${fixed(reach?.seconds ?? NaN, 1).padStart(11)} ${fixed(last.passes, 0).padStart(7)} ${fixed(reach?.passes ?? NaN, 0).padStart(11)}  ${lam.lambdaMin.toPrecision(3)}/${lam.lambdaMedian.toPrecision(3)}/${lam.lambdaMax.toPrecision(3)}` +
        (r.stopped === 'diverged' ? '  DIVERGED' : ''),
    )
  }
  if (Number.isFinite(eStar)) lines.push(`E* = ${eStar.toFixed(2)}: the best validation loss of one scalar λ found by any method; t(≤1.001E*): seconds until the method's current model first came within 0.1% of it (— : never); passes: training-set passes used in all, and until then`)
  return lines
}

/** A method over the runs: its refit model against the run's E*, its test accuracy, and when it came within 0.1% of E*. */
export interface TuneMnistMethodSpread {
  readonly method: TuneMnistMethod
  /** (E refit − E*)/E* of each run (E* of the run's own split). */
  readonly refitGap: Spread
  readonly testAccuracy: Spread
  /** Runs whose current model came within 0.1% of E*, and the seconds and passes it took (over those runs). */
  readonly reached: number
  readonly reachSeconds: Spread
  readonly reachPasses: Spread
  readonly diverged: number
}

const methodSpreads = (methods: ReadonlyArray<TuneMnistMethod>, results: ReadonlyArray<TuneMnistTaskResult>, eStars: ReadonlyMap<number, number>): TuneMnistMethodSpread[] =>
  methods.map((method) => {
    const rs = results.filter((r) => r.method === method)
    const reach = rs.map((r) => reachPointOf(r, eStars.get(r.run) ?? NaN)).filter((p): p is TunePoint => p !== undefined)
    return {
      method,
      refitGap: spread(rs.map((r) => (r.refit.value - (eStars.get(r.run) ?? NaN)) / (eStars.get(r.run) ?? NaN))),
      testAccuracy: spread(rs.map((r) => r.refit.testAccuracy)),
      reached: reach.length,
      reachSeconds: spread(reach.map((p) => p.seconds)),
      reachPasses: spread(reach.map((p) => p.passes)),
      diverged: rs.filter((r) => r.stopped === 'diverged').length,
    }
  })

const pctSpread = (s: Spread): string => `${fixed(100 * s.median, 2)}% [${fixed(100 * s.q10, 2)}%, ${fixed(100 * s.q90, 2)}%], mean ${fixed(100 * s.mean, 2)}%`

/**
 * tune-mnist: one task per run and method; figures tune-mnist.svg (validation loss, test
 * accuracy and test loss against seconds) and tune-mnist-passes.svg (the same against passes
 * over the training set), results.csv (one row per run × method × point), and a summary: for
 * one run the table of the final and refit numbers, the values at half the budget and the
 * time to come within 0.1% of the best scalar λ; over several runs, per method, the gap of the
 * refit model to the run's best scalar λ, its test accuracy and the time to come within 0.1%
 * of it (medians and 10–90% quantiles over the runs, and the means).
 */
export const tuneMnist: ExperimentSweep<TuneMnistConfig> = {
  sweep: (config) => ({
    groups: [
      {
        tasks: Array.from({ length: config.runs }, (_, run) =>
          config.methods.map((method): Task => ({
            module: 'tuneMnist',
            fn: 'tuneMnistTask',
            input: { ...config, methods: [...config.methods], seed: config.seed + run, run, method } satisfies TuneMnistTaskInput,
          })),
        ).flat(),
      },
    ],
  }),
  assemble: (config, raw, timing) => {
    const results = raw as ReadonlyArray<TuneMnistTaskResult>
    const rows: CsvRow[] = results.flatMap((r) =>
      r.points.map((p) => ({
        experiment: 'tune-mnist',
        run: r.run,
        method: r.method,
        step: p.step,
        seconds: p.seconds,
        validation_loss: finiteOrNull(p.value),
        test_accuracy: finiteOrNull(p.testAccuracy),
        test_loss: finiteOrNull(p.testLoss),
        lambda_min: p.lambdaMin,
        lambda_median: p.lambdaMedian,
        lambda_max: p.lambdaMax,
        evaluated_lambda: p.evaluated?.lambda,
        evaluated_value: p.evaluated?.value,
        passes: p.passes,
        t: p.t,
        k: p.k,
        grad_norm: p.gradNorm,
        bound: p.bound,
        tolerance: p.tolerance,
      })),
    )
    const runsOf = Array.from({ length: config.runs }, (_, run) => results.filter((r) => r.run === run))
    const eStars = new Map(runsOf.map((rs, run) => [run, eStarOf(rs)] as const))
    const spreads = methodSpreads(config.methods, results, eStars)
    const head = `tune-mnist: MNIST odd/even ${config.nTrain}/${config.nVal}/${config.nTest}, budget ${config.budgetSeconds} s per method, Λ = [${config.lambdaLow}, ${config.lambdaHigh}]; E = validation loss (sum), refit = final λ re-solved to tolLower/100; test numbers of the refit model`
    const lines =
      config.runs === 1
        ? [head, ...runTable(config, results, eStars.get(0) ?? NaN)]
        : [
            `${head}; ${config.runs} runs (seed + r), median [10%, 90%] over the runs and the mean; E*: the best validation loss of one scalar λ found by any method in the run`,
            ...spreads.map(
              (m) =>
                `${TUNE_MNIST_LABEL[m.method].padEnd(22)} (E refit − E*)/E* ${pctSpread(m.refitGap)}; test acc ${fixed(m.testAccuracy.median, 4)} [${fixed(m.testAccuracy.q10, 4)}, ${fixed(m.testAccuracy.q90, 4)}]; within 0.1% of E* in ${m.reached}/${config.runs} runs, after ${fixed(m.reachSeconds.median, 1)} s [${fixed(m.reachSeconds.q10, 1)}, ${fixed(m.reachSeconds.q90, 1)}], ${fixed(m.reachPasses.median, 0)} passes` +
                (m.diverged > 0 ? `; ${m.diverged} DIVERGED` : ''),
            ),
          ]
    const zero = results.find((r) => r.zeroColumnsUnchanged !== null)
    if (zero !== undefined) {
      const per = results.filter((r) => r.zeroColumnsUnchanged !== null)
      const unchanged = per.filter((r) => r.zeroColumnsUnchanged === r.zeroColumns).length
      lines.push(
        config.runs === 1
          ? `${zero.zeroColumns} pixel columns are zero in every training image: their λⱼ has zero hypergradient and stays at λ₀ (${per.map((r) => `${r.method}: ${r.zeroColumnsUnchanged}/${r.zeroColumns} unchanged`).join(', ')})`
          : `pixel columns that are zero in every training image have zero hypergradient: their λⱼ stayed at λ₀ in ${unchanged} of ${per.length} per-pixel runs`,
      )
    }
    const stats = config.runs === 1 ? '' : `; ${bandNote(config.runs)}`
    return E.right({
      experiment: 'tune-mnist',
      config,
      rows,
      figures: [
        {
          file: 'tune-mnist.svg',
          panels: panelsAgainst(results, config.methods, config.runs, (p) => p.seconds),
          options: {
            title: `MNIST odd/even (${config.nTrain}/${config.nVal}/${config.nTest}): hypergradient tuning vs search, ${config.budgetSeconds} s each${stats}`,
            xLabel: 'seconds',
            yLabel: '',
            columns: 3,
          },
        },
        {
          file: 'tune-mnist-passes.svg',
          panels: panelsAgainst(results, config.methods, config.runs, (p) => p.passes),
          options: {
            title: `MNIST odd/even (${config.nTrain}/${config.nVal}/${config.nTest}): the same runs against the work done${stats}`,
            xLabel: 'passes over the training set',
            yLabel: '',
            columns: 3,
          },
        },
      ],
      summary: lines.join('\n'),
      details: {
        perRun: runsOf.map((rs, run) => ({
          run,
          eStar: finiteOrNull(eStars.get(run) ?? NaN),
          reachSeconds: Object.fromEntries(rs.map((r) => [r.method, finiteOrNull(reachPointOf(r, eStars.get(run) ?? NaN)?.seconds ?? NaN)])),
        })),
        methods: spreads,
        results,
      },
      timing: { ...timing, taskSeconds: results.map((r) => r.loadSeconds + r.seconds + r.refitSeconds) },
    })
  },
}

/** Run tune-mnist (see {@link tuneMnist}). */
export const runTuneMnist = (config: TuneMnistConfig, opts: RunOptions = {}): Promise<E.Either<HypergradError, ExperimentOutput<TuneMnistConfig>>> => runSweep(tuneMnist, config, opts)
