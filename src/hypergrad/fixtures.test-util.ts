/**
 * Test fixtures for the deterministic solvers and hypergradient methods: small problems built
 * on the library's test beds, affine maps built here (including ones that are not
 * contractions, or that lie about their contraction constant), and dense reference
 * quantities computed independently of the methods under test.
 */
import * as E from 'fp-ts/lib/Either.js'
import type { Dataset } from '../data/dataset.js'
import { hgError } from '../errors.js'
import { cholesky, choleskySolve, denseOf, luSolve, matTVec, matVec, spectralNorm, symmetricEigenvalues, transpose } from '../linalg/matrix.js'
import { matrix, type Matrix, type RVec, type Vec } from '../linalg/types.js'
import type { BilevelProblem } from '../problem/bilevel.js'
import { linearFixedPointProblem, type LinearFixedPointProblem } from '../problems/linearFixedPoint.js'
import { logisticProblem } from '../problems/logistic.js'
import { quadraticProblem, type QuadraticProblem } from '../problems/quadratic.js'
import { ridgeProblem, type RidgeProblem } from '../problems/ridge.js'
import type { ErmProblem } from '../problem/erm.js'
import * as R from '../random/rng.js'
import type { LinearSystem } from '../solvers/types.js'
import type { HypergradResult } from './types.js'

/** Unwrap a Right or fail the test with the Left's message. */
export const right = <A>(e: E.Either<{ readonly message: string }, A>): A => {
  if (E.isLeft(e)) throw new Error(`expected Right, got Left: ${e.left.message}`)
  return e.right
}

/** Unwrap an estimate: a Right whose status is not 'diverged' (else fail the test with what happened). */
export const estimateOf = <R extends HypergradResult>(e: E.Either<{ readonly message: string }, R>): Extract<R, { status: 'converged' | 'maxIter' }> => {
  const r = right(e)
  if (r.status === 'diverged') throw new Error(`expected an estimate, got a divergence at the ${r.divergedAt.stage} stage, iteration ${r.divergedAt.iter}: ${r.reason}`)
  return r as Extract<R, { status: 'converged' | 'maxIter' }>
}

/** Unwrap a divergence (else fail the test). */
export const divergenceOf = <R extends HypergradResult>(e: E.Either<{ readonly message: string }, R>): Extract<R, { status: 'diverged' }> => {
  const r = right(e)
  if (r.status !== 'diverged') throw new Error(`expected a divergence, got status ${r.status}`)
  return r as Extract<R, { status: 'diverged' }>
}

export const norm = (x: RVec): number => Math.sqrt(x.reduce((s, v) => s + v * v, 0))
export const diff = (x: RVec, y: RVec): number => {
  if (x.length !== y.length) throw new RangeError(`diff: lengths ${x.length} and ${y.length}`)
  let s = 0
  for (let i = 0; i < x.length; i++) s += (x[i]! - y[i]!) ** 2
  return Math.sqrt(s)
}
/** ‖x − y‖ / max(‖y‖, tiny). */
export const relErr = (x: RVec, y: RVec): number => diff(x, y) / Math.max(norm(y), 1e-300)

/** The quadratic test bed (closed forms; ∂₁Φ = I − αA, ∂₂Φ = αB constant in w). */
export const quadratic = (seed: number, dim = 6, hyperDim = 3, tau = 1, L = 10): QuadraticProblem =>
  right(quadraticProblem({ dim, hyperDim, nSamples: 4, seed, tau, L }))

/** The non-symmetric linear contraction Φ = Mw + Nλ + c with ‖M‖ = q. */
export const linearFP = (seed: number, q = 0.8, dim = 6, hyperDim = 3): LinearFixedPointProblem =>
  right(linearFixedPointProblem({ dim, hyperDim, q, seed }))

/** A random regression (kind 'regression') or ±1 classification dataset. */
export const dataset = (seed: number, n: number, p: number, kind: 'regression' | 'classification'): Dataset => {
  const [rx, ry, rn] = R.split(R.seed(seed), 3) as [R.Rng, R.Rng, R.Rng]
  const [x] = R.normals(rx, n * p)
  const [wTrue] = R.normals(ry, p)
  const [noise] = R.normals(rn, n)
  const X = matrix(n, p, x)
  const s = matVec(X, wTrue)
  const y = new Float64Array(n)
  for (let i = 0; i < n; i++) y[i] = kind === 'regression' ? s[i]! + 0.5 * noise[i]! : s[i]! + noise[i]! >= 0 ? 1 : -1
  return { X, y }
}

/** Ridge regression with one λ per feature (closed forms; ∂₂Φ = −α diag(w) depends on w). */
export const ridge = (seed: number, n = 20, p = 5, lambda: RVec = Float64Array.from({ length: p }, (_, j) => 0.5 + 0.25 * j)): { problem: RidgeProblem; lambda: Vec } => ({
  problem: right(ridgeProblem(dataset(seed, n, p, 'regression'), dataset(seed + 1000, n, p, 'regression'), lambda, { regularization: 'perFeature' })),
  lambda: Float64Array.from(lambda),
})

/** Logistic regression with one λ per feature (no closed form; ∂₁Φ and ∂₂Φ depend on w). */
export const logistic = (seed: number, n = 40, p = 5, lambdaValue = 0.1): { problem: ErmProblem; lambda: Vec } => {
  const lambda = new Float64Array(p).fill(lambdaValue)
  return {
    problem: right(logisticProblem(dataset(seed, n, p, 'classification'), dataset(seed + 1000, n, p, 'classification'), lambda, { regularization: 'perFeature' })),
    lambda,
  }
}

/**
 * An affine map Φ(w, λ) = Mw + Nλ + c with E(w, λ) = ½‖w − u‖² + ½‖λ‖², built here from
 * explicit matrices, reporting `claimedQ` as its contraction constant (which may be false: a
 * problem that lies about q, to test divergence detection). symmetric iff M is.
 */
export const affineProblem = (M: Matrix, N: Matrix, c: RVec, u: RVec, claimedQ: number, name = 'affine'): BilevelProblem & { M: Matrix; N: Matrix } => {
  const d = M.rows
  const m = N.cols
  let sym = true
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) if (M.data[i * d + j] !== M.data[j * d + i]) sym = false
  return {
    name,
    dim: d,
    hyperDim: m,
    symmetric: sym,
    M,
    N,
    checkLambda: (l) => (l.length === m ? E.right(l) : E.left(hgError('dimension', `${name}: λ has length ${l.length}, expected ${m}`))),
    contraction: () => claimedQ,
    phi: (w, l) => {
      const out = matVec(M, w)
      const nl = matVec(N, l)
      for (let i = 0; i < d; i++) out[i] = out[i]! + nl[i]! + c[i]!
      return out
    },
    jvpW: (_w, _l, x) => matVec(M, x),
    vjpW: (_w, _l, x) => matTVec(M, x),
    jvpLambda: (_w, _l, x) => matVec(N, x),
    vjpLambda: (_w, _l, x) => matTVec(N, x),
    upper: (w, l) => 0.5 * diff(w, u) ** 2 + 0.5 * norm(l) ** 2,
    gradUpperW: (w) => Float64Array.from(w, (x, i) => x - u[i]!),
    gradUpperLambda: (_w, l) => Float64Array.from(l),
  }
}

/** s·I + (a small symmetric perturbation) of size d, so that ‖M‖ ≈ s. */
export const scaledIdentity = (d: number, s: number): Matrix => {
  const out = new Float64Array(d * d)
  for (let i = 0; i < d; i++) out[i * d + i] = s
  return matrix(d, d, out)
}

/** A random d×m Gaussian matrix. */
export const gaussian = (seed: number, rows: number, cols: number): Matrix => matrix(rows, cols, R.normals(R.seed(seed), rows * cols)[0])
export const gaussianVec = (seed: number, n: number): Vec => R.normals(R.seed(seed), n)[0]

/** A LinearSystem from a dense Jᵀ-matrix (the matrix of v ↦ ∂₁Φᵀv) and b. */
export const denseSystem = (JT: Matrix, b: RVec, symmetric: boolean, q = spectralNorm(JT)): LinearSystem => {
  const complement = (v: RVec): Vec => matVec(JT, v)
  return {
    dim: JT.rows,
    complement,
    matvec: (v) => {
      const out = complement(v)
      for (let i = 0; i < out.length; i++) out[i] = v[i]! - out[i]!
      return out
    },
    rhs: b,
    symmetric,
    q,
  }
}

/** Dense reference quantities of a problem at (w, λ), computed by direct solves. */
export interface Dense {
  /** A = I − ∂₁Φ(w, λ)ᵀ (the system matrix, row-major). */
  readonly A: Matrix
  /** b = ∇₁E(w, λ). */
  readonly b: Vec
  /** v* = A⁻¹b. */
  readonly v: Vec
  /** ∂₂Φ(w, λ) (d×m). */
  readonly D2: Matrix
  /** ‖∂₂Φ(w, λ)‖₂. */
  readonly normD2: number
  /** The eigenvalues of A when it is symmetric (ascending); empty otherwise. */
  readonly eig: Vec
}

export const denseAt = (problem: BilevelProblem, w: RVec, lambda: RVec): Dense => {
  const d = problem.dim
  const JT = denseOf(d, (v) => problem.vjpW(w, lambda, v))
  const a = new Float64Array(d * d)
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) a[i * d + j] = (i === j ? 1 : 0) - JT.data[i * d + j]!
  const A = matrix(d, d, a)
  const b = problem.gradUpperW(w, lambda)
  let v: Vec | undefined
  if (problem.symmetric) {
    const sym = Float64Array.from(a)
    for (let i = 0; i < d; i++) for (let j = 0; j < i; j++) sym[i * d + j] = sym[j * d + i] = 0.5 * (a[i * d + j]! + a[j * d + i]!)
    const l = cholesky(matrix(d, d, sym))
    if (l !== undefined) v = choleskySolve(l, b)
  }
  v ??= luSolve(A, b)
  if (v === undefined) throw new Error('denseAt: singular system')
  const D2 = denseOf(problem.hyperDim, (mu) => problem.jvpLambda(w, lambda, mu), d)
  return {
    A,
    b,
    v,
    D2,
    normD2: spectralNorm(D2),
    eig: problem.symmetric ? symmetricEigenvalues(A) : new Float64Array(0),
  }
}

/** ‖x‖_A = √(xᵀAx) for a symmetric positive definite A. */
export const aNorm = (A: Matrix, x: RVec): number => {
  const ax = matVec(A, x)
  let s = 0
  for (let i = 0; i < x.length; i++) s += x[i]! * ax[i]!
  return Math.sqrt(Math.max(0, s))
}

/** Aᵀ, to build systems from dense matrices. */
export const t = transpose

/** A deep copy of the inputs, to check purity afterwards. */
export const snapshot = (...xs: ReadonlyArray<RVec>): ReadonlyArray<Vec> => xs.map((x) => Float64Array.from(x))
