/**
 * The four problems of Grazzi, Franceschi, Pontil, Salzo, "On the Iteration Complexity of
 * Hypergradient Computation" (ICML 2020) §5 beyond logistic regression (which
 * `iteration-complexity` reproduces): the hypergradient error against t (k = t) of ITD (reverse
 * mode), AID-FP (fixed-point iteration on the linear system) and AID-CG (conjugate gradient on
 * it), each after t steps of the fixed-point iteration wᵢ₊₁ = Φ(wᵢ, λ) from w₀ = 0, at one λ,
 * against the exact hypergradient (`exact`: Newton's method and a dense solve):
 *
 *  - `grazzi-krr`: kernel ridge regression with a Gaussian kernel on the cars table of the npm
 *    package vega-datasets (`kernelRidgeProblem`; λ = (log σ, log μ), the dual coefficients as
 *    the lower variable);
 *  - `grazzi-biased-reg`: biased regularization ℓ = Σ loss + (ρ/2)‖w − λ‖² on MNIST odd/even
 *    (`biasedRegularizationProblem`, logistic loss by default), at a bias λ drawn N(0, s²);
 *  - `grazzi-hyper-rep`: hyper-representation h(x) = tanh(Λx) on MNIST digits pooled to 7 × 7
 *    with a ridge head on the odd/even label (`hyperRepresentationProblem`), at a random Λ;
 *  - `grazzi-equilibrium`: an equilibrium model on pooled MNIST digits, the fixed point of
 *    w ↦ tanh(Aw + Bx + c) per digit with a softmax read-out (`equilibriumProblem`). Its ∂₁Φ is
 *    not symmetric, so conjugate gradient does not apply (aid refuses it); the third method is
 *    AID with GMRES (gmres.ts), the Krylov method for non-symmetric systems, whose residual is
 *    never above the fixed-point iteration's bound qᵏ‖r₀‖. A is set so that ‖A‖₂ = normA.
 *
 * The paper's exact data and settings are not all available here (its data sets, λ values and
 * sizes are not in the summary the library has): the choices are the library's, stated per
 * field. The sweep over t is errorSweep.ts's (shared with iteration-complexity).
 */
import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { aidCost, exactCost, fullBatchCost, itdCost, STATE_BYTES, type Sizes } from '../config/cost.js'
import { FiniteNumber, nonEmpty, NonNegativeInt, oneOf, PositiveInt, PositiveNumber, Seed, strict } from '../config/codecs.js'
import { carsRegression, CARS_ROWS } from '../data/cars.js'
import { MNIST_D, MNIST_N } from '../data/mnist.js'
import { mnistPooled, POOLED_D } from '../data/mnistPooled.js'
import { hgError, type HypergradError } from '../errors.js'
import { exact } from '../hypergrad/exact.js'
import type { Matrix, RVec, Vec } from '../linalg/types.js'
import { norm } from '../linalg/vector.js'
import type { BilevelProblem } from '../problem/bilevel.js'
import { powerIteration } from '../problem/constants.js'
import type { ErmProblem } from '../problem/erm.js'
import { biasedRegularizationProblem, type DenseData } from '../problems/biasedRegularization.js'
import { equilibriumLayout, equilibriumProblem } from '../problems/equilibrium.js'
import { hyperRepresentationProblem } from '../problems/hyperRepresentation.js'
import { kernelRidgeProblem } from '../problems/kernelRidge.js'
import { normals, seed as rngSeed } from '../random/rng.js'
import type { Panel } from '../report/figure.js'
import {
  fmt,
  meanStd,
  spread,
  type ExperimentSweep,
  mnistProblemBytes,
  mnistSizes,
  outcomeOf,
  releaseSplitCache,
  resultBytes,
  runOutcomes,
  splitBytes,
  splitOf,
  WORKER_BYTES,
  type SharedSplit,
  type TaskGroup,
} from './common.js'
import { errorsAgainstT, sweepBands, sweepOutput, type SweepMethod, type SweepPoint } from './errorSweep.js'
import type { ExperimentCost, ExperimentOutput, FieldSpec, RunOptions, TaskOutcome } from './types.js'

// ── configurations ─────────────────────────────────────────────────────────────────────────

/** The four problems. */
export type GzProblem = 'krr' | 'biasedReg' | 'hyperRep' | 'equilibrium'

/** The experiment name of each problem. */
export const GZ_NAME: Readonly<Record<GzProblem, string>> = {
  krr: 'grazzi-krr',
  biasedReg: 'grazzi-biased-reg',
  hyperRep: 'grazzi-hyper-rep',
  equilibrium: 'grazzi-equilibrium',
}

/** What every configuration has. */
interface Common {
  /** Independent instances (data split and λ drawn from seed + run). */
  readonly runs: number
  /** The values of t (= k) on the x axis. */
  readonly iterations: ReadonlyArray<number>
  readonly seed: number
}

/** grazzi-krr: kernel ridge regression on the cars table. */
export interface GzKrrConfig extends Common {
  readonly nTrain: number
  readonly nVal: number
  /** λ = (log σ, log μ). */
  readonly logSigma: number
  readonly logMu: number
}

/** grazzi-biased-reg: biased regularization on MNIST odd/even. */
export interface GzBiasedRegConfig extends Common {
  readonly nTrain: number
  readonly nVal: number
  readonly rho: number
  /** The bias λ ~ N(0, biasScale²) per pixel. */
  readonly biasScale: number
  readonly loss: 'logistic' | 'squared'
}

/** grazzi-hyper-rep: hyper-representation on pooled MNIST. */
export interface GzHyperRepConfig extends Common {
  readonly nTrain: number
  readonly nVal: number
  /** k, the features of h(x) = tanh(Λx). */
  readonly features: number
  readonly rho: number
  /** Λ has entries N(0, lambdaScale²/p). */
  readonly lambdaScale: number
}

/** grazzi-equilibrium: an equilibrium model on pooled MNIST. */
export interface GzEquilibriumConfig extends Common {
  /** Digits n (the lower variable has n·hidden entries). */
  readonly digits: number
  readonly hidden: number
  /** ‖A‖₂, the contraction constant q of Φ (in (0, 0.9)). */
  readonly normA: number
}

const ITERATIONS = [0, 10, 25, 50, 100, 150, 200, 300, 400, 500]

/** Defaults: 3 instances, t = k up to 500, 200/192 cars, σ = e^{0.5}, μ = 1 (κ ≈ 40). */
export const gzKrrDefaults: GzKrrConfig = { runs: 3, iterations: ITERATIONS, nTrain: 200, nVal: 192, logSigma: 0.5, logMu: 0, seed: 0 }
/** Defaults: 3 instances, t = k up to 500, MNIST 1000/1000, ρ = 100 (κ ≈ 100), bias N(0, 0.1²), logistic loss. */
export const gzBiasedRegDefaults: GzBiasedRegConfig = { runs: 3, iterations: ITERATIONS, nTrain: 1000, nVal: 1000, rho: 100, biasScale: 0.1, loss: 'logistic', seed: 0 }
/** Defaults: 3 instances, t = k up to 500, 500/500 pooled digits, k = 10 features, ρ = 10 (κ ≈ 30), Λ entries N(0, 1/49). */
export const gzHyperRepDefaults: GzHyperRepConfig = { runs: 3, iterations: ITERATIONS, nTrain: 500, nVal: 500, features: 10, rho: 10, lambdaScale: 1, seed: 0 }
/** Defaults: 3 instances, t = k up to 100, 200 pooled digits, 10 hidden units, ‖A‖₂ = 0.8. */
export const gzEquilibriumDefaults: GzEquilibriumConfig = { runs: 3, iterations: [0, 5, 10, 20, 30, 40, 60, 80, 100], digits: 200, hidden: 10, normA: 0.8, seed: 0 }

const commonFields = (t: string): FieldSpec[] => [
  { name: 'runs', kind: 'int', doc: 'independent instances, each its own data split and λ (default 3)' },
  { name: 'iterations', kind: 'intList', doc: `the values of t = k (default ${t})` },
  { name: 'seed', kind: 'int', doc: 'base seed of splits and λ draws (default 0)' },
]

/** The fields of each experiment, for `hypergrad reproduce list`. */
export const GZ_FIELDS: Readonly<Record<GzProblem, ReadonlyArray<FieldSpec>>> = {
  krr: [
    ...commonFields(ITERATIONS.join(',')),
    { name: 'nTrain', kind: 'int', doc: 'training cars = dual coefficients (default 200)' },
    { name: 'nVal', kind: 'int', doc: 'validation cars (default 192; nTrain + nVal ≤ 392)' },
    { name: 'logSigma', kind: 'number', doc: 'λ₁ = log σ, the kernel width on standardized features (default 0.5)' },
    { name: 'logMu', kind: 'number', doc: 'λ₂ = log μ, the ridge weight (default 0)' },
  ],
  biasedReg: [
    ...commonFields(ITERATIONS.join(',')),
    { name: 'nTrain', kind: 'int', doc: 'MNIST training rows (default 1000)' },
    { name: 'nVal', kind: 'int', doc: 'MNIST validation rows (default 1000)' },
    { name: 'rho', kind: 'number', doc: 'the weight ρ of (ρ/2)‖w − λ‖² (default 100)' },
    { name: 'biasScale', kind: 'number', doc: 'the bias λ ~ N(0, biasScale²) per pixel (default 0.1)' },
    { name: 'loss', kind: 'enum', values: ['logistic', 'squared'], doc: "the data loss: 'logistic' (default) or 'squared' (then ITD = AID-FP exactly)" },
  ],
  hyperRep: [
    ...commonFields(ITERATIONS.join(',')),
    { name: 'nTrain', kind: 'int', doc: 'pooled MNIST training digits (default 500)' },
    { name: 'nVal', kind: 'int', doc: 'pooled MNIST validation digits (default 500)' },
    { name: 'features', kind: 'int', doc: 'k, the features of h(x) = tanh(Λx) = the lower dimension (default 10)' },
    { name: 'rho', kind: 'number', doc: 'the ridge weight ρ of the head (default 10)' },
    { name: 'lambdaScale', kind: 'number', doc: 'Λ has entries N(0, lambdaScale²/49) (default 1)' },
  ],
  equilibrium: [
    ...commonFields(gzEquilibriumDefaults.iterations.join(',')),
    { name: 'digits', kind: 'int', doc: 'pooled MNIST digits n (default 200; the lower variable has n·hidden entries)' },
    { name: 'hidden', kind: 'int', doc: 'hidden units k per digit (default 10)' },
    { name: 'normA', kind: 'number', doc: '‖A‖₂ = q, the contraction constant (default 0.8; at most about 0.85)' },
  ],
}

const CommonProps = { runs: PositiveInt, iterations: nonEmpty(NonNegativeInt, 'a non-empty list of integers ≥ 0'), seed: Seed }
type Props<C> = Record<keyof C, t.Mixed>
const Codecs = {
  krr: strict('a grazzi-krr configuration', { ...CommonProps, nTrain: PositiveInt, nVal: PositiveInt, logSigma: FiniteNumber, logMu: FiniteNumber } satisfies Props<GzKrrConfig>),
  biasedReg: strict('a grazzi-biased-reg configuration', {
    ...CommonProps,
    nTrain: PositiveInt,
    nVal: PositiveInt,
    rho: PositiveNumber,
    biasScale: PositiveNumber,
    loss: oneOf(['logistic', 'squared'] as const, 'a loss'),
  } satisfies Props<GzBiasedRegConfig>),
  hyperRep: strict('a grazzi-hyper-rep configuration', {
    ...CommonProps,
    nTrain: PositiveInt,
    nVal: PositiveInt,
    features: PositiveInt,
    rho: PositiveNumber,
    lambdaScale: PositiveNumber,
  } satisfies Props<GzHyperRepConfig>),
  equilibrium: strict('a grazzi-equilibrium configuration', { ...CommonProps, digits: PositiveInt, hidden: PositiveInt, normA: PositiveNumber } satisfies Props<GzEquilibriumConfig>),
}

/** The configuration of each problem. */
export interface GzConfigs {
  readonly krr: GzKrrConfig
  readonly biasedReg: GzBiasedRegConfig
  readonly hyperRep: GzHyperRepConfig
  readonly equilibrium: GzEquilibriumConfig
}

/** Decode a configuration of the given problem (io-ts). */
export const decodeGrazzi =
  <P extends GzProblem>(p: P) =>
  (u: unknown): t.Validation<GzConfigs[P]> =>
    Codecs[p].decode(u) as t.Validation<GzConfigs[P]>

const configError = (p: GzProblem, message: string): E.Either<HypergradError, never> => E.left(hgError('config', `reproduce ${GZ_NAME[p]}: ${message}`))

/** The cross-field constraints of each configuration. */
export const checkGrazzi =
  <P extends GzProblem>(p: P) =>
  (c: GzConfigs[P]): E.Either<HypergradError, void> => {
    const x = c as GzConfigs[GzProblem]
    if ('logSigma' in x) {
      if (x.nTrain < 2 || x.nTrain + x.nVal > CARS_ROWS) return configError(p, `need nTrain ≥ 2 and nTrain + nVal ≤ ${CARS_ROWS} (the complete rows of the cars table), got ${x.nTrain} + ${x.nVal}`)
    } else if ('normA' in x) {
      if (!(x.normA < 0.9)) return configError(p, `normA ${x.normA} must be below 0.9 (A = 0.9Ã/√(1 + ‖Ã‖²_F))`)
      if (x.digits * x.runs > MNIST_N) return configError(p, `digits × runs = ${x.digits * x.runs} exceeds the ${MNIST_N} MNIST digits (runs take disjoint digits)`)
    } else if ('features' in x) {
      if ((x.nTrain + x.nVal) * x.runs > MNIST_N)
        return configError(p, `(nTrain + nVal) × runs = ${(x.nTrain + x.nVal) * x.runs} exceeds the ${MNIST_N} MNIST digits (runs take disjoint digits)`)
    } else if (x.nTrain + x.nVal > MNIST_N) return configError(p, `nTrain + nVal = ${x.nTrain + x.nVal} exceeds the ${MNIST_N} MNIST digits`)
    return E.right(undefined)
  }

// ── instances ──────────────────────────────────────────────────────────────────────────────


interface Instance {
  readonly problem: BilevelProblem
  readonly lambda: Vec
  readonly methods: ReadonlyArray<SweepMethod>
  /** κ = L/τ of the lower objective (ERM problems), else NaN. */
  readonly kappa: number
}

/** The input of one task. */
export interface GzTaskInput {
  readonly problem: GzProblem
  readonly config: GzConfigs[GzProblem]
  readonly run: number
  /** The run's MNIST split (biased regularization), posted by `runOutcomes`. */
  readonly sharedSplit?: SharedSplit
}

/** A data set whose X is dense (the builders' input), or a 'data' error. */
const dense = (d: { readonly X: unknown; readonly y: RVec }): E.Either<HypergradError, DenseData> => {
  const X = d.X as Partial<Matrix> & { readonly layout?: unknown }
  return X.layout === undefined && X.data instanceof Float64Array ? E.right({ X: X as Matrix, y: d.y }) : E.left(hgError('data', 'grazzi: the builders need a dense data matrix'))
}

const ERM_METHODS: ReadonlyArray<SweepMethod> = ['itd', 'aidFp', 'aidCg']

const ermInstance = (problem: E.Either<HypergradError, ErmProblem>, lambda: Vec): E.Either<HypergradError, Instance> =>
  E.map((p: ErmProblem) => {
    const { tau, L } = p.lower.curvature(lambda)
    return { problem: p, lambda, methods: ERM_METHODS, kappa: L / tau }
  })(problem)

/** The digits rows [offset, offset + n) pooled, with labels ±1 (even / odd). */
const pooledOddEven = (n: number, offset: number): E.Either<HypergradError, DenseData> =>
  E.map((d: { readonly X: Matrix; readonly labels: Float64Array }) => ({ X: d.X, y: d.labels.map((l) => (l % 2 === 0 ? 1 : -1)) }))(mnistPooled(n, offset))

/** The seed of run r's draws (λ, data order), apart from the data split's. */
const drawSeed = (seed: number, run: number): number => 1_000_003 * (seed + 1) + 7919 * run

/**
 * Ã such that A = 0.9Ã/√(1 + ‖Ã‖²_F) has ‖A‖₂ = q. Since ‖A‖_F < 0.9, an A with q near 0.9 is
 * close to rank one, and the fixed-point iteration contracts asymptotically at A's spectral
 * radius, which for a rank-one uvᵀ is |vᵀu|‖A‖₂ (about ‖A‖₂/√k for random u, v): so
 * Ã = s·(G + 3‖G‖_F uuᵀ/‖u‖²), a Gaussian G plus a dominant symmetric rank-one part, whose
 * spectral radius is near ‖A‖₂ (the rate the paper's bounds use), q up to about 0.85
 * reachable, and s solving 0.9 s‖G‖₂ = q √(1 + s²‖G‖²_F).
 */
const matrixWithNorm = (k: number, q: number, seed: number): E.Either<HypergradError, Vec> => {
  const [g, r1] = normals(rngSeed(seed), k * k)
  const [u] = normals(r1, k)
  const fro = Math.sqrt(g.reduce((a, x) => a + x * x, 0))
  const scale = (3 * fro) / (norm(u) * norm(u))
  const G = g.map((x, i) => x + scale * u[Math.floor(i / k)]! * u[i % k]!)
  const top = powerIteration((x) => {
    const Gx = new Float64Array(k)
    for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) Gx[i] = Gx[i]! + G[i * k + j]! * x[j]!
    const out = new Float64Array(k)
    for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) out[j] = out[j]! + G[i * k + j]! * Gx[i]!
    return out
  }, k, rngSeed(seed + 1))
  if (E.isLeft(top)) return top
  const s2 = top.right.value
  const sigma = Math.sqrt(s2)
  const F2 = G.reduce((a, x) => a + x * x, 0)
  const denom = 0.81 * s2 - q * q * F2
  if (!(denom > 0)) return E.left(hgError('config', `grazzi-equilibrium: ‖A‖₂ = ${q} is out of reach for ${k} hidden units (at most ${((0.9 * sigma) / Math.sqrt(F2)).toFixed(3)})`))
  const s = q / Math.sqrt(denom)
  return E.right(G.map((x) => s * x))
}

const instanceOf = (input: GzTaskInput): E.Either<HypergradError, Instance> => {
  const { run } = input
  const c = input.config
  const rs = drawSeed(c.seed, run)
  switch (input.problem) {
    case 'krr': {
      const k = c as GzKrrConfig
      const split = carsRegression({ nTrain: k.nTrain, nVal: k.nVal, seed: k.seed + run })
      if (E.isLeft(split)) return split
      const lambda = Float64Array.of(k.logSigma, k.logMu)
      return ermInstance(kernelRidgeProblem(split.right.train, split.right.validation, lambda), lambda)
    }
    case 'biasedReg': {
      const b = c as GzBiasedRegConfig
      const split = splitOf('seeded', b.seed + run, b.nTrain, b.nVal, input.sharedSplit)
      if (E.isLeft(split)) return split
      const train = dense(split.right.train)
      const validation = dense(split.right.validation)
      if (E.isLeft(train)) return train
      if (E.isLeft(validation)) return validation
      const lambda = normals(rngSeed(rs), MNIST_D)[0].map((x) => b.biasScale * x)
      return ermInstance(biasedRegularizationProblem(train.right, validation.right, b.rho, lambda, { loss: b.loss }), lambda)
    }
    case 'hyperRep': {
      const h = c as GzHyperRepConfig
      const offset = run * (h.nTrain + h.nVal)
      const train = pooledOddEven(h.nTrain, offset)
      const validation = pooledOddEven(h.nVal, offset + h.nTrain)
      if (E.isLeft(train)) return train
      if (E.isLeft(validation)) return validation
      const k = h.features
      const lambda = normals(rngSeed(rs), k * POOLED_D)[0].map((x) => (h.lambdaScale * x) / Math.sqrt(POOLED_D))
      // α from the curvature at this Λ (power iteration: exact, ℓ is quadratic in w), not the global bound.
      const first = hyperRepresentationProblem(train.right, validation.right, k, h.rho, lambda)
      if (E.isLeft(first)) return first
      const zero = new Float64Array(k)
      const top = powerIteration((u) => first.right.lower.hvp(zero, lambda, u), k, rngSeed(0))
      if (E.isLeft(top)) return top
      const L = top.right.value * (1 + 1e-8)
      return ermInstance(hyperRepresentationProblem(train.right, validation.right, k, h.rho, lambda, { L: () => L }), lambda)
    }
    case 'equilibrium': {
      const q = c as GzEquilibriumConfig
      const digits = mnistPooled(q.digits, run * q.digits)
      if (E.isLeft(digits)) return digits
      const k = q.hidden
      const at = equilibriumLayout(k, POOLED_D, 10)
      const A = matrixWithNorm(k, q.normA, rs)
      if (E.isLeft(A)) return A
      const lambda = new Float64Array(at.size)
      const [b, r1] = normals(rngSeed(rs + 1), k * POOLED_D)
      const [r] = normals(r1, k * 10)
      lambda.set(A.right, at.A)
      lambda.set(b.map((x) => x / Math.sqrt(POOLED_D)), at.B)
      lambda.set(r.map((x) => 0.5 * x), at.R)
      return E.map((problem: BilevelProblem) => ({ problem, lambda, methods: ['itd', 'aidFp', 'aidGmres'] as const, kappa: NaN }))(equilibriumProblem(digits.right, k, lambda))
    }
  }
}

// ── one task ───────────────────────────────────────────────────────────────────────────────

/** The result of one task: every method at every t on one instance. */
export interface GzTaskResult {
  readonly problem: GzProblem
  readonly run: number
  readonly dim: number
  readonly hyperDim: number
  readonly q: number
  readonly kappa: number
  /** ‖∇f(λ)‖ (by exact). */
  readonly gradNorm: number
  /** Newton steps of the ground truth and its final ‖w − Φ(w)‖. */
  readonly truthSteps: number
  readonly points: ReadonlyArray<SweepPoint>
  readonly seconds: number
}

/** One task: build the instance, its exact hypergradient, and the errors at every t. */
export const grazziTask = (input: GzTaskInput): TaskOutcome<GzTaskResult> => outcomeOf(taskEither(input))

const taskEither = (input: GzTaskInput): E.Either<HypergradError, GzTaskResult> => {
  const started = performance.now()
  const inst = instanceOf(input)
  if (E.isLeft(inst)) return inst
  const { problem, lambda, methods, kappa } = inst.right
  const truth = exact(problem, lambda)
  if (E.isLeft(truth)) return truth
  if (truth.right.status !== 'converged') return E.left(hgError('divergence', `${GZ_NAME[input.problem]}: the exact hypergradient did not converge (${truth.right.reason ?? truth.right.status})`))
  const gradient = truth.right.gradient
  const points = errorsAgainstT(problem, lambda, gradient, input.config.iterations, methods)
  if (E.isLeft(points)) return points
  return E.right({
    problem: input.problem,
    run: input.run,
    dim: problem.dim,
    hyperDim: problem.hyperDim,
    q: problem.contraction(lambda),
    kappa,
    gradNorm: norm(gradient),
    truthSteps: truth.right.t,
    points: points.right,
    seconds: (performance.now() - started) / 1000,
  })
}

// ── costs ──────────────────────────────────────────────────────────────────────────────────

/**
 * The sizes of one pass of each problem, in the units of config/cost.ts: the entries a product
 * touches (KRR: the n × n kernel, recomputed and exponentiated at each product, counted 10 times
 * for the engine's exp; the equilibrium model: its n × k states times the k × k and the k × p
 * blocks), the dimension of w and of λ.
 */
const sizesOf = (p: GzProblem, c: GzConfigs[GzProblem]): Sizes => {
  switch (p) {
    case 'krr': {
      const k = c as GzKrrConfig
      return { rows: k.nTrain, cols: k.nTrain, nnz: 10 * k.nTrain * (k.nTrain + k.nVal), hyper: 2 }
    }
    case 'biasedReg': {
      const b = c as GzBiasedRegConfig
      return mnistSizes(b.nTrain, MNIST_D)
    }
    case 'hyperRep': {
      const h = c as GzHyperRepConfig
      return { rows: h.nTrain, cols: h.features, nnz: (h.nTrain + h.nVal) * POOLED_D * h.features, hyper: h.features * POOLED_D }
    }
    case 'equilibrium': {
      const q = c as GzEquilibriumConfig
      return { rows: q.digits, cols: q.digits * q.hidden, nnz: q.digits * q.hidden * (q.hidden + POOLED_D + 10), hyper: equilibriumLayout(q.hidden, POOLED_D, 10).size }
    }
  }
}

/**
 * What a run costs, before any work: per instance the exact hypergradient (a dense d × d
 * Jacobian by d products per Newton step, a few Newton steps, and its factorization), the lower
 * stream to the largest t, and at every t ITD reverse and two AIDs with k = t.
 */
export const grazziCost =
  <P extends GzProblem>(p: P) =>
  (c: GzConfigs[P]): ExperimentCost => {
    const s = sizesOf(p, c)
    const grid = [...new Set(c.iterations)].sort((a, b) => a - b)
    const maxT = grid[grid.length - 1] ?? 0
    const newton = p === 'krr' ? 2 : 5
    const truth = newton * (exactCost(s).seconds + fullBatchCost(s, s.cols).seconds)
    const sweep = fullBatchCost(s, maxT).seconds + grid.reduce((a, tt) => a + itdCost(s, tt, 'reverse').seconds + 2 * aidCost(s, 0, tt).seconds, 0)
    const data = p === 'biasedReg' ? splitBytes(s.rows * 2) + mnistProblemBytes(s.rows) : p === 'krr' ? 8 * s.nnz : 8 * MNIST_N * MNIST_D
    const perTask = resultBytes(4 * 3 * grid.length + 12)
    // GMRES keeps its k basis vectors.
    const basis = p === 'equilibrium' ? maxT * 8 * s.cols : 0
    return {
      seconds: c.runs * (truth + sweep),
      results: { bytes: c.runs * perTask, heapBytes: c.runs * perTask },
      perWorker: {
        bytes: WORKER_BYTES + data + exactCost(s).bytes + itdCost(s, maxT, 'reverse').bytes + grid.length * (8 * s.cols + STATE_BYTES.bytes) + basis,
        heapBytes: itdCost(s, maxT, 'reverse').heapBytes + grid.length * STATE_BYTES.heapBytes,
      },
      shared: 0,
      tasks: c.runs,
    }
  }

// ── the run ────────────────────────────────────────────────────────────────────────────────

const TITLE: Readonly<Record<GzProblem, string>> = {
  krr: 'kernel ridge regression, cars (vega-datasets), λ = (log σ, log μ)',
  biasedReg: 'biased regularization, MNIST odd/even, λ = the bias',
  hyperRep: 'hyper-representation tanh(Λx), pooled MNIST, ridge head',
  equilibrium: 'equilibrium model tanh(Aw + Bx + c), pooled MNIST',
}

/**
 * One of the four experiments as a sweep: one task per instance; the figure `<name>.svg`
 * (relative error against t = k, log scale, median and 10–90% band over the instances), results.csv with one row per
 * instance × method × t, and a summary of the errors at the largest t.
 */
export const grazziSweep = <P extends GzProblem>(p: P): ExperimentSweep<GzConfigs[P]> => ({
  sweep: (config) => {
    const groups: TaskGroup[] = []
    for (let run = 0; run < config.runs; run++)
      groups.push({
        ...(p === 'biasedReg' ? { split: { split: 'seeded' as const, seed: config.seed + run, nTrain: (config as GzBiasedRegConfig).nTrain, nVal: (config as GzBiasedRegConfig).nVal } } : {}),
        tasks: [{ module: 'grazziProblems', fn: 'grazziTask', input: { problem: p, config: { ...config, iterations: [...config.iterations] }, run } satisfies GzTaskInput }],
      })
    return { groups }
  },
  assemble: (config, raw, timing) => {
    const results = raw as ReadonlyArray<GzTaskResult>
    const name = GZ_NAME[p]
    const grid = [...new Set(config.iterations)].sort((a, b) => a - b)
    const methods = [...new Set(results.flatMap((r) => r.points.map((q) => q.method)))]
    const { series, cells, aggregate } = sweepBands(grid, methods, results)
    const q = spread(results.map((r) => r.q)).median
    const kappa = spread(results.map((r) => r.kappa)).median
    const shape = `d = ${results[0]?.dim ?? '—'}, m = ${results[0]?.hyperDim ?? '—'}, q ≈ ${q.toFixed(4)}${Number.isFinite(kappa) ? `, κ ≈ ${kappa.toFixed(0)}` : ''}`
    const panels: Panel[] = [{ title: `${TITLE[p]} (${shape})`, series }]
    return E.right(sweepOutput(name, config, results, { grid, panels, title: 'Grazzi et al. 2020 §5: hypergradient error against t = k', shape, cells, aggregate }, timing))
  },
})

