/**
 * A general linear contraction that is not a gradient step: Φ(w, λ) = Mw + Nλ + c with
 * ‖M‖₂ = q < 1 exactly and M not symmetric, so that conjugate gradient does not apply to
 * (I − Mᵀ)v = ∇₁E and only fixed-point-type solvers do (Grazzi et al. 2020, AID-FP / Neumann).
 *
 * Construction: M = q·U diag(s) Vᵀ with U, V independent random orthogonal matrices, s₁ = 1 and
 * the other sᵢ uniform in [0, 1): the largest singular value of M is exactly q. N (d×m) and c
 * are Gaussian. The upper objective is that of the quadratic test bed,
 * E(w, λ) = ½‖Cw − e‖² + (upperReg/2)‖λ‖².
 *
 * Closed forms (SID eq. 4–5 with ∂₁Φ = M, ∂₂Φ = N):
 *   w(λ) = (I − M)⁻¹(Nλ + c),   ∇f(λ) = upperReg·λ + Nᵀ(I − Mᵀ)⁻¹Cᵀ(C w(λ) − e).
 */
import * as E from 'fp-ts/lib/Either.js'
import { hgError, type HypergradError } from '../errors.js'
import { axpy, dot, gemv, gemvT } from '../linalg/kernels.js'
import { luSolve, matMul, spectralNorm, symmetricEigenvalues, transpose } from '../linalg/matrix.js'
import { assertDim, matrix, type Matrix, type RVec, type Vec } from '../linalg/types.js'
import type { BilevelProblem, ClosedForm } from '../problem/bilevel.js'
import type { UpperObjective } from '../problem/erm.js'
import * as R from '../random/rng.js'
import { affineHypergradient, affineSolution, checkRealLambda, gaussianMatrix, quadraticUpper, randomOrthogonal } from './quadratic.js'

/** Options of `linearFixedPointProblem`. */
export interface LinearFixedPointOptions {
  /** d, the size of w. */
  readonly dim: number
  /** m, the number of hyperparameters. */
  readonly hyperDim: number
  /** The contraction constant q = ‖M‖₂, in [0, 1). */
  readonly q: number
  readonly seed: number
  /** The weight of (1/2)‖λ‖² in E, default 0.1. */
  readonly upperReg?: number
}

/** The exact constants of the linear fixed-point problem (SID Assumption A; Grazzi et al. 2020). */
export interface LinearFixedPointConstants {
  /** q = ‖∂₁Φ‖₂ = ‖M‖₂ (Assumption A(i)). */
  readonly q: number
  /** L_Φ = ‖∂₂Φ‖₂ = ‖N‖₂. */
  readonly LPhi: number
  /** ν₁, ν₂: Lipschitz constants of ∂₁Φ, ∂₂Φ in w; 0, Φ is affine. */
  readonly nu1: number
  readonly nu2: number
  /** μ₁ = ‖CᵀC‖: Lipschitz constant of ∇₁E(·, λ). */
  readonly mu1: number
  /** μ₂: Lipschitz constant of ∇₂E(·, λ) = upperReg·λ in w: 0. */
  readonly mu2: number
  readonly M: Matrix
  readonly N: Matrix
  readonly c: RVec
  readonly C: Matrix
  readonly e: RVec
  readonly upperReg: number
}

/** Φ(w, λ) = Mw + Nλ + c with ‖M‖₂ = q: a non-symmetric contraction with closed forms. */
export class LinearFixedPointProblem implements BilevelProblem, ClosedForm {
  readonly symmetric = false
  readonly dim: number
  readonly hyperDim: number
  /** (I − M)⁻¹, computed once by LU. */
  private readonly inv: Matrix
  private readonly normN: number
  private readonly normCtC: number

  constructor(
    readonly name: string,
    readonly q: number,
    readonly M: Matrix,
    readonly N: Matrix,
    readonly c: RVec,
    readonly C: Matrix,
    readonly e: RVec,
    readonly upperReg: number,
    private readonly upperObjective: UpperObjective,
  ) {
    const d = M.rows
    if (M.cols !== d || N.rows !== d || c.length !== d || C.cols !== d)
      throw new RangeError(`${name}: M is ${M.rows}×${M.cols}, N ${N.rows}×${N.cols}, c ${c.length}, C ${C.rows}×${C.cols}`)
    this.dim = d
    this.hyperDim = N.cols
    const iMinusM = Float64Array.from(M.data, (x) => -x)
    for (let i = 0; i < d; i++) iMinusM[i * d + i] = 1 + iMinusM[i * d + i]!
    const inv = new Float64Array(d * d)
    const unit = new Float64Array(d)
    for (let j = 0; j < d; j++) {
      unit.fill(0)
      unit[j] = 1
      const col = luSolve(matrix(d, d, iMinusM), unit)
      if (col === undefined) throw new RangeError(`${name}: I − M is singular (‖M‖ = ${q} should be < 1)`)
      for (let i = 0; i < d; i++) inv[i * d + j] = col[i]!
    }
    this.inv = matrix(d, d, inv)
    this.normN = spectralNorm(N)
    const ev = symmetricEigenvalues(matMul(transpose(C), C))
    this.normCtC = Math.max(0, ev[ev.length - 1]!)
  }

  private checkW(what: string, w: RVec): void {
    assertDim(`${this.name}.${what}: w`, this.dim, w.length)
  }
  private checkL(what: string, lambda: RVec): void {
    assertDim(`${this.name}.${what}: λ`, this.hyperDim, lambda.length)
  }

  /** λ may be any finite vector of length m. */
  checkLambda(lambda: RVec): E.Either<HypergradError, RVec> {
    return checkRealLambda(this.name, this.hyperDim, lambda)
  }
  /** q = ‖M‖₂, exact. */
  contraction(_lambda: RVec): number {
    return this.q
  }
  /** Mw + Nλ + c. */
  phi(w: RVec, lambda: RVec): Vec {
    this.checkW('phi', w)
    this.checkL('phi', lambda)
    const d = this.dim
    const m = this.hyperDim
    const out = gemv(d, d, 1, this.M.data, d, 0, w, 1, 0, 0, new Float64Array(d), 1, 0)
    gemv(d, m, 1, this.N.data, m, 0, lambda, 1, 0, 1, out, 1, 0)
    return axpy(d, 1, this.c, 1, 0, out, 1, 0)
  }
  /** ∂₁Φ u = Mu. */
  jvpW(w: RVec, _lambda: RVec, u: RVec): Vec {
    return this.product('jvpW', w, this.M, false, u, 'u')
  }
  /** ∂₁Φᵀ v = Mᵀv. */
  vjpW(w: RVec, _lambda: RVec, v: RVec): Vec {
    return this.product('vjpW', w, this.M, true, v, 'v')
  }
  /** ∂₂Φ μ = Nμ. */
  jvpLambda(w: RVec, _lambda: RVec, mu: RVec): Vec {
    return this.product('jvpLambda', w, this.N, false, mu, 'μ')
  }
  /** ∂₂Φᵀ v = Nᵀv. */
  vjpLambda(w: RVec, _lambda: RVec, v: RVec): Vec {
    return this.product('vjpLambda', w, this.N, true, v, 'v')
  }
  /** The derivative product `what`: P·x, or Pᵀ·x when `transposed` (fresh), after checking w and x. */
  private product(what: string, w: RVec, P: Matrix, transposed: boolean, x: RVec, xName: string): Vec {
    this.checkW(what, w)
    assertDim(`${this.name}.${what}: ${xName}`, transposed ? P.rows : P.cols, x.length)
    return transposed
      ? gemvT(P.rows, P.cols, 1, P.data, P.cols, 0, x, 1, 0, 0, new Float64Array(P.cols), 1, 0)
      : gemv(P.rows, P.cols, 1, P.data, P.cols, 0, x, 1, 0, 0, new Float64Array(P.rows), 1, 0)
  }
  /** E(w, λ) = ½‖Cw − e‖² + (upperReg/2)‖λ‖². */
  upper(w: RVec, lambda: RVec): number {
    this.checkL('upper', lambda)
    return this.upperObjective.value(w, lambda)
  }
  /** ∇₁E = Cᵀ(Cw − e). */
  gradUpperW(w: RVec, lambda: RVec): Vec {
    return this.upperObjective.gradW(w, lambda)
  }
  /** ∇₂E = upperReg·λ. */
  gradUpperLambda(w: RVec, lambda: RVec): Vec {
    this.checkL('gradUpperLambda', lambda)
    return this.upperObjective.gradLambda(w, lambda)
  }

  /** w(λ) = (I − M)⁻¹(Nλ + c). */
  solution(lambda: RVec): Vec {
    this.checkL('solution', lambda)
    return affineSolution(this.inv, this.N, this.c, lambda)
  }
  /** ∇f(λ) = upperReg·λ + Nᵀ(I − Mᵀ)⁻¹Cᵀ(C w(λ) − e)  (SID eq. 4–5), with (I − Mᵀ)⁻¹ = ((I − M)⁻¹)ᵀ. */
  hypergradient(lambda: RVec): Vec {
    return affineHypergradient(this.inv, this.N, false, this.upperObjective, this.solution(lambda), lambda)
  }
  /** The exact constants (none depends on λ). */
  constants(lambda: RVec): LinearFixedPointConstants {
    this.checkL('constants', lambda)
    return {
      q: this.q,
      LPhi: this.normN,
      nu1: 0,
      nu2: 0,
      mu1: this.normCtC,
      mu2: 0,
      M: this.M,
      N: this.N,
      c: this.c,
      C: this.C,
      e: this.e,
      upperReg: this.upperReg,
    }
  }
  /**
   * A Lipschitz constant of E(·, λ) on the ball of that radius around w(λ):
   * ‖∇₁E(w(λ), λ)‖ + μ₁·radius (E is quadratic, so not globally Lipschitz; see the quadratic
   * test bed). Exact at radius 0, a safe over-estimate otherwise.
   */
  upperLipschitz(lambda: RVec, radius: number): number {
    if (!(radius >= 0 && Number.isFinite(radius))) throw new RangeError(`${this.name}.upperLipschitz: radius must be finite and ≥ 0, got ${radius}`)
    const g = this.upperObjective.gradW(this.solution(lambda), lambda)
    return Math.sqrt(dot(g.length, g, 1, 0, g, 1, 0)) + this.normCtC * radius
  }
}

/**
 * Build Φ(w, λ) = Mw + Nλ + c with ‖M‖₂ = q exactly (see the module comment), with closed
 * forms and exact constants.
 */
export const linearFixedPointProblem = (opts: LinearFixedPointOptions): E.Either<HypergradError, LinearFixedPointProblem> => {
  const { dim: d, hyperDim: m, q, seed } = opts
  const upperReg = opts.upperReg ?? 0.1
  if (!(Number.isInteger(d) && d >= 1)) return E.left(hgError('domain', `linearFixedPointProblem: dim must be a positive integer, got ${d}`))
  if (!(Number.isInteger(m) && m >= 1)) return E.left(hgError('domain', `linearFixedPointProblem: hyperDim must be a positive integer, got ${m}`))
  if (!(q >= 0 && q < 1)) return E.left(hgError('domain', `linearFixedPointProblem: q must lie in [0, 1), got ${q}`))
  if (!Number.isInteger(seed)) return E.left(hgError('domain', `linearFixedPointProblem: seed must be an integer, got ${seed}`))
  if (!(Number.isFinite(upperReg) && upperReg >= 0))
    return E.left(hgError('domain', `linearFixedPointProblem: upperReg must be finite and ≥ 0, got ${upperReg}`))
  const [rU, rV, rS, rN, rC0, rUp, rE] = R.split(R.seed(seed), 7) as [R.Rng, R.Rng, R.Rng, R.Rng, R.Rng, R.Rng, R.Rng]
  const [U] = randomOrthogonal(rU, d)
  const [V] = randomOrthogonal(rV, d)
  const [s] = R.uniforms(rS, d)
  s[0] = 1
  // M = q · U diag(s) Vᵀ.
  const M = new Float64Array(d * d)
  for (let i = 0; i < d; i++)
    for (let j = 0; j < d; j++) {
      let acc = 0
      for (let k = 0; k < d; k++) acc += U.data[i * d + k]! * s[k]! * V.data[j * d + k]!
      M[i * d + j] = q * acc
    }
  const [N] = gaussianMatrix(rN, d, m)
  const [c] = R.normals(rC0, d)
  const [C] = gaussianMatrix(rUp, d, d, 1 / Math.sqrt(d))
  const [e] = R.normals(rE, d)
  const name = `linearFixedPoint(d=${d}, m=${m}, q=${q})`
  return E.right(new LinearFixedPointProblem(name, q, matrix(d, d, M), N, c, C, e, upperReg, quadraticUpper(C, e, upperReg)))
}
