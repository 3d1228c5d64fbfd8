/**
 * The constants the deterministic bounds need (grazzi2020.ts, ehrhardtRoberts.ts), computed
 * exactly or safely over-estimated for the problems of src/problems:
 *
 *  - Lipschitz constants in w at a fixed λ (`lipschitzConstants`): ν₁, ν₂ of ∂₁Φ, ∂₂Φ; μ₁, μ₂ of
 *    ∇₁E, ∇₂E (SID Assumption A(ii)–(iii)); for ERM maps Φ = w − α∇ℓ also L_H, L_B of
 *    ∇²_{ww}ℓ, ∇²_{wλ}ℓ (ν₁ = αL_H, ν₂ = αL_B).
 *  - the exact solution w(λ), or an approximation with a certified radius (`certifiedSolution`),
 *  - the values at w(λ): L_E = ‖∇₁E(w(λ))‖, L_Φ = ‖∂₂Φ(w(λ))‖, ‖B(w(λ))‖, D = ‖w₀ − w(λ)‖,
 *    over-estimated by value-at-ŵ + Lipschitz constant × radius when only ŵ is known
 *    (`grazziConstantsFor`, `erConstantsFor`),
 *  - the computable inputs of the a posteriori bound at an AID output (`aPosterioriInputsAt`).
 *
 * Derivations of every constant: docs/theory/deterministic.md §8.
 */
import * as E from 'fp-ts/lib/Either.js'
import { hgError, type HypergradError } from '../errors.js'
import { rowNorms, type DesignMatrix } from '../linalg/csr.js'
import { cholesky, choleskySolve, denseOf } from '../linalg/matrix.js'
import { assertDim, type RVec, type Vec } from '../linalg/types.js'
import { distance, norm, sub } from '../linalg/vector.js'
import type { BilevelProblem, StochasticBilevelProblem } from '../problem/bilevel.js'
import { ErmProblem } from '../problem/erm.js'
import { ErQuadraticProblem } from '../problems/erQuadratic.js'
import { LinearFixedPointProblem } from '../problems/linearFixedPoint.js'
import { DataCleaningObjective } from '../problems/dataCleaning.js'
import { dsigmoid, LogisticObjective, LogisticUpper, maxLabelSq, sigmoid, squaredSpectralNorm } from '../problems/logistic.js'
import { QuadraticProblem } from '../problems/quadratic.js'
import { RidgeProblem } from '../problems/ridge.js'
import type { APosterioriInputs, ErConstants } from './ehrhardtRoberts.js'
import type { GrazziConstants } from './grazzi2020.js'
import { operatorNorm } from './norms.js'
import { remark42Sigma1p, thm43Sigmas } from './sid.js'
import { perSampleJacobianNorm } from './variance.js'

/**
 * Lipschitz constants in w at a fixed λ. nu1, nu2, mu1, mu2 as in SID Assumption A; for ERM
 * problems also LH (of w ↦ ∇²_{ww}ℓ) and LB (of w ↦ ∇²_{wλ}ℓ), with ν₁ = αL_H, ν₂ = αL_B.
 */
export interface LipschitzInW {
  readonly nu1: number
  readonly nu2: number
  readonly mu1: number
  readonly mu2: number
  readonly LH?: number
  readonly LB?: number
  /** True when the lower objective is quadratic in w (L_H = 0): heavy ball's a priori bound applies. */
  readonly quadraticLower: boolean
}

/** max |ψ'''| for the logistic loss ψ(u) = log(1 + e^{−u}): ψ''' = σ(1−σ)(1−2σ), maximal at σ = (3 ± √3)/6. */
export const LOGISTIC_PSI3_MAX = 1 / (6 * Math.sqrt(3))

/** A design matrix, dense or CSR. */
type Design = DesignMatrix

/**
 * A Lipschitz constant of w ↦ Σᵢ sᵢ ψ''(yᵢxᵢᵀw) yᵢ² xᵢxᵢᵀ (the data part of the logistic
 * Hessian, with optional sample weights sᵢ ∈ [0, 1], default 1) in the spectral norm
 * (docs eq. (K3)):
 *   L_H ≤ M · min( Σᵢ sᵢ|yᵢ|³‖xᵢ‖³,  maxᵢ sᵢ|yᵢ|³‖xᵢ‖ · σ_max(X)² ),   M = max|ψ'''| = 1/(6√3).
 * σ_max(X)² is the cached safe upper bound `squaredSpectralNorm`.
 */
export const logisticHessianLipschitz = (X: Design, y: RVec, weights?: RVec): number => {
  assertDim('logisticHessianLipschitz: labels y against the rows of X', X.rows, y.length)
  if (weights !== undefined) assertDim('logisticHessianLipschitz: weights against the rows of X', X.rows, weights.length)
  const r = rowNorms(X)
  let sumCubes = 0
  let maxRow = 0
  for (let i = 0; i < X.rows; i++) {
    const c = (weights?.[i] ?? 1) * Math.abs(y[i]!) ** 3 * r[i]!
    sumCubes += c * r[i]! * r[i]!
    maxRow = Math.max(maxRow, c)
  }
  return LOGISTIC_PSI3_MAX * Math.min(sumCubes, maxRow * squaredSpectralNorm(X))
}

/**
 * A Lipschitz constant of w ↦ B(w) = ∇²_{wλ}ℓ for data cleaning, whose column i is
 * σ'(λᵢ)ψ'(yᵢxᵢᵀw)yᵢxᵢ (docs eq. (K4)): B(w) − B(w') = Xᵀdiag(cᵢ) with
 * |cᵢ| ≤ σ'(λᵢ)yᵢ²|xᵢᵀ(w − w')|/4, so
 *   L_B ≤ ¼ · min( σ_max(X) · maxᵢ σ'(λᵢ)yᵢ²‖xᵢ‖,  (Σᵢ σ'(λᵢ)²yᵢ⁴‖xᵢ‖⁴)^{1/2} ).
 */
export const dataCleaningCrossLipschitz = (X: Design, y: RVec, lambda: RVec): number => {
  assertDim('dataCleaningCrossLipschitz: labels y against the rows of X', X.rows, y.length)
  assertDim('dataCleaningCrossLipschitz: λ against the rows of X', X.rows, lambda.length)
  const r = rowNorms(X)
  let maxC = 0
  let sumSq = 0
  for (let i = 0; i < X.rows; i++) {
    const c = dsigmoid(lambda[i]!) * y[i]! * y[i]! * r[i]!
    maxC = Math.max(maxC, c)
    sumSq += c * c * r[i]! * r[i]!
  }
  return 0.25 * Math.min(Math.sqrt(squaredSpectralNorm(X)) * maxC, Math.sqrt(sumSq))
}

/** (1/n) Σᵢ yᵢ²‖xᵢ‖² over the rows of X (E‖x‖² for labels ±1). */
export const meanSquaredLabelledNorm = (X: Design, y: RVec): number => {
  assertDim('meanSquaredLabelledNorm: labels y against the rows of X', X.rows, y.length)
  const r = rowNorms(X)
  let s = 0
  for (let i = 0; i < X.rows; i++) s += y[i]! * y[i]! * r[i]! * r[i]!
  return s / X.rows
}

/**
 * σ₁′ and σ₂′ = 0 of SID Remark 4.2 (`remark42Sigma1p`) for the library's logistic-regression
 * and data-cleaning problems, which are SUM losses ℓ = Σᵢ sᵢψ(yᵢxᵢᵀw) + R(w, λ) with minibatch
 * estimates (n/b)Σ_{i∈B}: Lip(ψ) = 1 for the logistic loss, the weights sᵢ = σ(λᵢ) ≤ 1 (data
 * cleaning) or 1, so σ₁′ = n² · (1/n)Σᵢ yᵢ²‖xᵢ‖² · batch factor. A Left of kind 'domain' for
 * another problem or an invalid batch.
 */
export const remark42Sigma1pFor = (
  problem: BilevelProblem,
  batch: { readonly b: number; readonly replace: boolean },
): E.Either<HypergradError, { readonly sigma1p: number; readonly sigma2p: 0 }> => {
  if (!(problem instanceof ErmProblem && (problem.lower instanceof LogisticObjective || problem.lower instanceof DataCleaningObjective)))
    return E.left(hgError('domain', `bounds/constants: Remark 4.2 needs a logistic or data-cleaning lower objective, got ${problem.name}`))
  const { X, y } = problem.lower.train
  return remark42Sigma1p({ lipPsi: 1, meanSquaredNorm: meanSquaredLabelledNorm(X, y), loss: 'sum', n: X.rows, batch })
}

/**
 * σ₂ of Assumption D(iii) for the linear-system map of SID eq. (29) at w,
 *   Ψ̂_w(v, B) = ∂₁Φ̂(w, λ, B)ᵀv + ∇₁E(w, λ),
 * by Thm 4.3: Ψ̂_w(·, B) is Lipschitz with constant ‖∂₁Φ̂(w, λ, B)‖ ≤ L_T̂ = maxᵢ‖∂₁Φ̂ᵢ(w, λ)‖
 * (`perSampleJacobianNorm`; a batch average has at most the largest per-sample norm) and its mean
 * Ψ_w contracts with q = `problem.contraction(λ)`, so σ₂ = 2(L_T̂² + q²)/(1 − q)². It is positive
 * whenever the per-sample maps are: the noise of (29) grows with ‖v‖, and the constant step of
 * Thm 4.1 on (29) must satisfy η ≤ 1/(1 + σ₂). This is the σ₂ the 'twoPhase' schedule of the
 * linear system needs (σ₂ = 0 would be the ERM lower level of Remark 4.2, not this map).
 */
export const linearSystemSigma2 = (problem: StochasticBilevelProblem, lambda: RVec, w: RVec): E.Either<HypergradError, number> =>
  E.chain((LThat: number) => E.map((s: { readonly sigma2: number }) => s.sigma2)(thm43Sigmas({ varianceAtFixedPoint: 0, LThat, q: problem.contraction(lambda) })))(
    perSampleJacobianNorm(problem, w, lambda),
  )

const unknown = (problem: BilevelProblem): E.Either<HypergradError, never> =>
  E.left(hgError('domain', `bounds/constants: no known Lipschitz constants for problem ${problem.name}; supply them by hand`))

/**
 * The Lipschitz constants in w of the problem at λ (docs §8): exact for the quadratic, linear
 * fixed-point, ridge and E&R problems; safe over-estimates for logistic regression and data
 * cleaning. A Left of kind 'domain' for a problem whose constants are not known here.
 */
export const lipschitzConstants = (problem: BilevelProblem, lambda: RVec): E.Either<HypergradError, LipschitzInW> => {
  const lam = problem.checkLambda(lambda)
  if (E.isLeft(lam)) return lam
  if (problem instanceof QuadraticProblem) {
    const c = problem.constants(lambda)
    return E.right({ nu1: c.nu1, nu2: c.nu2, mu1: c.mu1, mu2: c.mu2, LH: 0, LB: 0, quadraticLower: true })
  }
  if (problem instanceof LinearFixedPointProblem) {
    const c = problem.constants(lambda)
    return E.right({ nu1: c.nu1, nu2: c.nu2, mu1: c.mu1, mu2: c.mu2, quadraticLower: true })
  }
  if (problem instanceof ErQuadraticProblem) {
    const c = problem.constants(lambda)
    const a = problem.alpha
    return E.right({ nu1: a * c.LH, nu2: a * c.LB, mu1: c.Lf, mu2: 0, LH: c.LH, LB: c.LB, quadraticLower: true })
  }
  if (problem instanceof RidgeProblem) {
    // B(w) = w (scalar) or diag(w) (per feature): ‖B(w) − B(w')‖ ≤ ‖w − w'‖, L_B = 1; ∇₁E = X_valᵀ(X_val w − y_val).
    const mu1 = squaredSpectralNorm(problem.validation.X)
    return E.right({ nu1: 0, nu2: problem.alpha, mu1, mu2: 0, LH: 0, LB: 1, quadraticLower: true })
  }
  if (problem instanceof ErmProblem && problem.lower instanceof LogisticObjective && problem.upperObjective instanceof LogisticUpper) {
    const train = problem.lower.train
    const val = problem.upperObjective.validation
    const LH = logisticHessianLipschitz(train.X, train.y)
    // ∇₁E = Σ ψ'(yᵢxᵢᵀw) yᵢxᵢ: Lipschitz with max yᵢ² · σ_max(X_val)²/4 (ψ'' ≤ 1/4).
    const mu1 = (maxLabelSq(val.y) * squaredSpectralNorm(val.X)) / 4
    return E.right({ nu1: problem.alpha * LH, nu2: problem.alpha, mu1, mu2: 0, LH, LB: 1, quadraticLower: false })
  }
  if (problem instanceof ErmProblem && problem.lower instanceof DataCleaningObjective && problem.upperObjective instanceof LogisticUpper) {
    const train = problem.lower.train
    const val = problem.upperObjective.validation
    const LH = logisticHessianLipschitz(train.X, train.y, Float64Array.from(lambda, sigmoid))
    const LB = dataCleaningCrossLipschitz(train.X, train.y, lambda)
    const mu1 = (maxLabelSq(val.y) * squaredSpectralNorm(val.X)) / 4
    return E.right({ nu1: problem.alpha * LH, nu2: problem.alpha * LB, mu1, mu2: 0, LH, LB, quadraticLower: false })
  }
  return unknown(problem)
}

/** An approximation ŵ of w(λ) with a certified radius: ‖ŵ − w(λ)‖ ≤ radius. */
export interface SolutionEstimate {
  readonly w: Vec
  readonly radius: number
}

/** Options of `certifiedSolution`. */
export interface CertifiedSolutionOptions {
  /** Stop once the certified radius is ≤ tol (default 1e-13). */
  readonly tol?: number
  /** Cap on fixed-point steps (default 200 000). */
  readonly maxIter?: number
  /** Start (default 0). */
  readonly w0?: RVec
}

const hasSolution = (p: BilevelProblem): p is BilevelProblem & { solution(lambda: RVec): Vec } =>
  typeof (p as { solution?: unknown }).solution === 'function'

/**
 * The certified radius of ŵ (docs eq. (K1)): ‖ŵ − w(λ)‖ ≤ ‖Φ(ŵ) − ŵ‖/(1 − q) for any
 * q-contraction, and ≤ ‖∇₁ℓ(ŵ)‖/τ for an ERM map (strong convexity); the smaller of the two.
 */
export const certifiedRadius = (problem: BilevelProblem, lambda: RVec, w: RVec): number => {
  const q = problem.contraction(lambda)
  const viaPhi = distance(problem.phi(w, lambda), w) / (1 - q)
  if (!(problem instanceof ErmProblem)) return viaPhi
  const { tau } = problem.lower.curvature(lambda)
  return Math.min(viaPhi, norm(problem.lower.grad(w, lambda)) / tau)
}

/**
 * w(λ) with a certified radius. Closed-form problems return their `solution(λ)` with radius 0
 * (exact up to rounding). Otherwise: fixed-point iteration wᵢ₊₁ = Φ(wᵢ) until the radius of
 * `certifiedRadius` is ≤ 1e-4, then, for ERM problems with d ≤ 400, Newton steps on ℓ (dense
 * Hessian, Cholesky), each kept only when it lowers the radius; then fixed-point iteration again
 * down to `tol`. The radius returned is always the certified one of the final iterate.
 * Left (kind 'divergence') when an iterate is not finite.
 */
export const certifiedSolution = (problem: BilevelProblem, lambda: RVec, opts: CertifiedSolutionOptions = {}): E.Either<HypergradError, SolutionEstimate> => {
  const lam = problem.checkLambda(lambda)
  if (E.isLeft(lam)) return lam
  if (hasSolution(problem)) return E.right({ w: problem.solution(lambda), radius: 0 })
  const tol = opts.tol ?? 1e-13
  const maxIter = opts.maxIter ?? 200_000
  const d = problem.dim
  let w: Vec = opts.w0 === undefined ? new Float64Array(d) : Float64Array.from(opts.w0)
  assertDim('certifiedSolution: w₀', d, w.length)
  let radius = certifiedRadius(problem, lambda, w)
  const fixedPoint = (target: number, budget: number): number => {
    let it = 0
    while (radius > target && it < budget && Number.isFinite(radius)) {
      w = problem.phi(w, lambda)
      radius = certifiedRadius(problem, lambda, w)
      it++
    }
    return it
  }
  const used = fixedPoint(Math.max(tol, 1e-4), maxIter)
  if (problem instanceof ErmProblem && d <= 400) {
    for (let s = 0; s < 20 && radius > tol && Number.isFinite(radius); s++) {
      const H = denseOf(d, (u) => problem.lower.hvp(w, lambda, u))
      const f = cholesky(H)
      if (f === undefined) break
      const step = choleskySolve(f, problem.lower.grad(w, lambda))
      const cand = sub(w, step)
      const r = certifiedRadius(problem, lambda, cand)
      if (!(r < radius)) break
      w = cand
      radius = r
    }
  }
  fixedPoint(tol, maxIter - used)
  if (!Number.isFinite(radius)) return E.left(hgError('divergence', `certifiedSolution(${problem.name}): the iteration left the finite numbers`))
  return E.right({ w, radius })
}

/**
 * ‖∂₂Φ(w, λ)‖, the spectral norm of the d×m Jacobian, without building it: α‖B(w)‖ for an ERM
 * map (`crossHessianNorm`), else `operatorNorm` on the products ∂₂Φ μ and ∂₂Φᵀv.
 */
export const crossJacobianNorm = (problem: BilevelProblem, lambda: RVec, w: RVec): number =>
  problem instanceof ErmProblem
    ? problem.alpha * crossHessianNorm(problem, lambda, w)
    : operatorNorm({
        rows: problem.dim,
        cols: problem.hyperDim,
        apply: (mu) => problem.jvpLambda(w, lambda, mu),
        applyT: (v) => problem.vjpLambda(w, lambda, v),
      })

/** The regularization of a ridge or logistic-regression lower objective, where B(w)μ = μ₀w or μ ⊙ w. */
const regularizationOf = (problem: ErmProblem): 'scalar' | 'perFeature' | undefined =>
  problem instanceof RidgeProblem ? problem.regularization : problem.lower instanceof LogisticObjective ? problem.lower.regularization : undefined

/**
 * ‖B(w)‖ = ‖∇²_{wλ}ℓ(w, λ)‖ of an ERM problem (= ‖∂₂Φ(w)‖/α), from the structure where it is
 * known — ridge and logistic regression: B(w) = w (one λ, norm ‖w‖) or diag(w) (one λ per
 * feature, norm maxⱼ|wⱼ|) — else by `operatorNorm` on the products crossJvp and crossVjp.
 * Time O(d) or a few products; memory O(d + m), never O(d·m).
 */
export const crossHessianNorm = (problem: ErmProblem, lambda: RVec, w: RVec): number => {
  assertDim('crossHessianNorm: w', problem.dim, w.length)
  const reg = regularizationOf(problem)
  if (reg === 'scalar') return norm(w)
  if (reg === 'perFeature') {
    let m = 0
    for (let j = 0; j < w.length; j++) m = Math.max(m, Math.abs(w[j]!))
    return m
  }
  return operatorNorm({
    rows: problem.dim,
    cols: problem.hyperDim,
    apply: (mu) => problem.lower.crossJvp(w, lambda, mu),
    applyT: (v) => problem.lower.crossVjp(w, lambda, v),
  })
}

/** Options of `grazziConstantsFor`. */
export interface GrazziConstantsOptions {
  /** The lower solver's start w₀ (default 0), for D = ‖w₀ − w(λ)‖. */
  readonly w0?: RVec
  /** A precomputed w(λ) estimate (default: `certifiedSolution`). */
  readonly solution?: SolutionEstimate
}

/**
 * The constants of the Grazzi et al. 2020 bounds for a problem at λ (docs §8): q from
 * `problem.contraction`, ν₁, ν₂, μ₁, μ₂ from `lipschitzConstants`, and, with ŵ, ρ from
 * `certifiedSolution`: L_E = ‖∇₁E(ŵ)‖ + μ₁ρ, L_Φ = ‖∂₂Φ(ŵ)‖ + ν₂ρ, D = ‖w₀ − ŵ‖ + ρ (exact when
 * ρ = 0). κ = L/τ for symmetric ERM maps (cond(αA) = L/τ ≤ (1 + q)/(1 − q)), unset otherwise.
 */
export const grazziConstantsFor = (problem: BilevelProblem, lambda: RVec, opts: GrazziConstantsOptions = {}): E.Either<HypergradError, GrazziConstants> => {
  const lip = lipschitzConstants(problem, lambda)
  if (E.isLeft(lip)) return lip
  const sol = opts.solution === undefined ? certifiedSolution(problem, lambda) : E.right(opts.solution)
  if (E.isLeft(sol)) return sol
  const { w, radius } = sol.right
  const w0 = opts.w0 ?? new Float64Array(problem.dim)
  assertDim('grazziConstantsFor: w₀', problem.dim, w0.length)
  const { nu1, nu2, mu1, mu2 } = lip.right
  const q = problem.contraction(lambda)
  const base: GrazziConstants = {
    q,
    nu1,
    nu2,
    mu1,
    mu2,
    gradUpperNormStar: norm(problem.gradUpperW(w, lambda)) + mu1 * radius,
    LPhi: crossJacobianNorm(problem, lambda, w) + nu2 * radius,
    D: distance(w0, w) + radius,
  }
  if (problem instanceof ErmProblem && problem.symmetric) {
    const { tau, L } = problem.lower.curvature(lambda)
    return E.right({ ...base, kappa: Math.min(L / tau, (1 + q) / (1 - q)) })
  }
  return E.right(base)
}

/**
 * The constants of the Ehrhardt & Roberts bounds for an ERM problem at λ (docs §8): τ, L from
 * `lower.curvature`, L_B, L_H, L_f = μ₁, μ₂ from `lipschitzConstants`, and with ŵ, ρ from
 * `certifiedSolution`: ‖B(w*)‖ ≤ ‖B(ŵ)‖ + L_Bρ, ‖∇₁E(w*)‖ ≤ ‖∇₁E(ŵ)‖ + L_fρ.
 */
export const erConstantsFor = (problem: ErmProblem, lambda: RVec, opts: { readonly solution?: SolutionEstimate } = {}): E.Either<HypergradError, ErConstants> => {
  const lip = lipschitzConstants(problem, lambda)
  if (E.isLeft(lip)) return lip
  const sol = opts.solution === undefined ? certifiedSolution(problem, lambda) : E.right(opts.solution)
  if (E.isLeft(sol)) return sol
  const { w, radius } = sol.right
  const { tau, L } = problem.lower.curvature(lambda)
  const LB = lip.right.LB ?? 0
  const LH = lip.right.LH ?? 0
  const Lf = lip.right.mu1
  return E.right({
    tau,
    L,
    LB,
    LH,
    Lf,
    mu2: lip.right.mu2,
    BNormStar: crossHessianNorm(problem, lambda, w) + LB * radius,
    gradUpperNormStar: norm(problem.gradUpperW(w, lambda)) + Lf * radius,
    quadraticLower: lip.right.quadraticLower,
  })
}

/**
 * The computable inputs of the a posteriori bound (`aPosterioriBound`) at an AID output (ŵ, v)
 * of an ERM problem (docs §7): ‖∇₁ℓ(ŵ)‖, the true residual ‖(I − ∂₁Φ(ŵ)ᵀ)v − ∇₁E(ŵ)‖ (= ‖A p − ∇₁E‖
 * with p = αv), ‖B(ŵ)‖, ‖∇₁E(ŵ)‖, τ, and the Lipschitz constants.
 */
export const aPosterioriInputsAt = (
  problem: ErmProblem,
  lambda: RVec,
  w: RVec,
  v: RVec,
): E.Either<HypergradError, APosterioriInputs> => {
  const lip = lipschitzConstants(problem, lambda)
  if (E.isLeft(lip)) return lip
  assertDim('aPosterioriInputsAt: w', problem.dim, w.length)
  assertDim('aPosterioriInputsAt: v', problem.dim, v.length)
  const g = problem.gradUpperW(w, lambda)
  const jv = problem.vjpW(w, lambda, v)
  let r2 = 0
  for (let i = 0; i < v.length; i++) {
    const r = v[i]! - jv[i]! - g[i]!
    r2 += r * r
  }
  const { tau } = problem.lower.curvature(lambda)
  return E.right({
    gradLowerNorm: norm(problem.lower.grad(w, lambda)),
    residualNorm: Math.sqrt(r2),
    BNorm: crossHessianNorm(problem, lambda, w),
    gradUpperNorm: norm(g),
    tau,
    LB: lip.right.LB ?? 0,
    Lf: lip.right.mu1,
    LH: lip.right.LH ?? 0,
    mu2: lip.right.mu2,
  })
}
