/**
 * The least-squares test problem of Ehrhardt & Roberts (2024), §4.1 (after Li, Gu & Huang
 * 2022). In their notation: min_w ‖A x(w) − b‖² with x(w) = argmin_x ‖Cw + Dx − e‖².
 * Their w is this library's λ (hyperDim = cols) and their x is this library's w (dim = cols):
 *
 *   lower  ℓ(w, λ) = ‖Cλ + Dw − e‖² = Σᵢ (cᵢᵀλ + dᵢᵀw − eᵢ)²   (a finite sum over the rows),
 *   upper  E(w)    = ‖Aw − b‖².
 *
 * A, C, D are rows×cols with entries U(0, 1) (default 1000×10). The data are generated from a
 * seed: x_true ~ U(0,1)^cols, λ_true ~ U(0,1)^cols, e = Cλ_true + D x_true + 0.01·N(0, I),
 * b = A x_true + 0.01·N(0, I). E&R evaluate the hypergradient at λ = 1 (`lambda0`).
 *
 * A minibatch B of rows gives the unbiased estimate (n/|B|) Σ_{i∈B} (cᵢᵀλ + dᵢᵀw − eᵢ)². The
 * cross term ∇²_{wλ}ℓ̂ᵢ = 2dᵢcᵢᵀ depends on the row, so the problem is not separable.
 *
 * Closed forms: w(λ) = (DᵀD)⁻¹Dᵀ(e − Cλ) and
 *   ∇f(λ) = −Bᵀ H⁻¹ ∇₁E = −2 CᵀD (DᵀD)⁻¹ Aᵀ(A w(λ) − b),  H = 2DᵀD, B = ∂_λ∇_wℓ = 2DᵀC.
 */
import * as E from 'fp-ts/lib/Either.js'
import { hgError, type HypergradError } from '../errors.js'
import { axpy, dot, gemv, gemvT } from '../linalg/kernels.js'
import { cholesky, choleskySolve, matMul, spectralNorm, symmetricEigenvalues, transpose } from '../linalg/matrix.js'
import { assertDim, matrix, type Matrix, type RVec, type Vec } from '../linalg/types.js'
import type { Batch, ClosedForm } from '../problem/bilevel.js'
import { ErmProblem, ermProblem, gdContraction, optimalStep, type LowerObjective, type UpperObjective } from '../problem/erm.js'
import * as R from '../random/rng.js'
import { checkRealLambda, finiteSumShape } from './quadratic.js'

/** Options of `erQuadraticProblem`. */
export interface ErQuadraticOptions {
  /** Rows of A, C, D (default 1000). */
  readonly rows?: number
  /** Columns of A, C, D: dim = hyperDim = cols (default 10). */
  readonly cols?: number
  readonly seed: number
  /** The step α of Φ = w − α∇ℓ, default 2/(L+μ); must lie in (0, 2/L). */
  readonly alpha?: number
  /** Standard deviation of the noise on e and b (default 0.01). */
  readonly noise?: number
}

/** The generated data, read-only. */
export interface ErQuadraticData {
  readonly A: Matrix
  readonly b: RVec
  readonly C: Matrix
  readonly D: Matrix
  readonly e: RVec
  readonly xTrue: RVec
  readonly lambdaTrue: RVec
}

/** The constants Ehrhardt & Roberts' bounds use, exact for this problem. */
export interface ErQuadraticConstants {
  /** L = 2σ_max(D)²: smoothness of ℓ(·, λ). */
  readonly L: number
  /** μ = 2σ_min(D)²: strong convexity of ℓ(·, λ) (the library's τ). */
  readonly mu: number
  readonly tau: number
  /** L_f = 2‖A‖²: Lipschitz constant of ∇E. */
  readonly Lf: number
  /** L_B, L_H: Lipschitz constants of B = ∂_λ∇_wℓ and of the Hessian in w; both 0 (ℓ is quadratic). */
  readonly LB: number
  readonly LH: number
  /** ‖B‖ = 2‖DᵀC‖ with B = ∂_λ∇_wℓ (constant). */
  readonly normB: number
  /** q = max(|1 − αμ|, |1 − αL|): the contraction constant of Φ = w − α∇ℓ. */
  readonly q: number
  readonly alpha: number
}

/** E&R §4.1 as an ERM bilevel problem, with closed forms and its constants. */
export class ErQuadraticProblem extends ErmProblem implements ClosedForm {
  /** λ = (1, …, 1), where E&R evaluate the hypergradient. */
  readonly lambda0: RVec
  private readonly dtdFactor: Matrix
  private readonly consts: Omit<ErQuadraticConstants, 'q' | 'alpha'>

  constructor(lower: LowerObjective, upper: UpperObjective, alpha: number, name: string, readonly data: ErQuadraticData) {
    super(lower, upper, alpha, name)
    const { A, C, D } = data
    this.lambda0 = new Float64Array(C.cols).fill(1)
    const dtd = matMul(transpose(D), D)
    const f = cholesky(dtd)
    if (f === undefined) throw new RangeError(`${name}: DᵀD is not positive definite (D has deficient column rank)`)
    this.dtdFactor = f
    const { tau, L } = lower.curvature(this.lambda0)
    this.consts = { L, mu: tau, tau, Lf: 2 * spectralNorm(A) ** 2, LB: 0, LH: 0, normB: 2 * spectralNorm(matMul(transpose(D), C)) }
  }

  /** w(λ) = (DᵀD)⁻¹Dᵀ(e − Cλ). */
  solution(lambda: RVec): Vec {
    assertDim(`${this.name}.solution: λ`, this.hyperDim, lambda.length)
    const { C, D, e } = this.data
    const r = gemv(C.rows, C.cols, -1, C.data, C.cols, 0, lambda, 1, 0, 0, new Float64Array(C.rows), 1, 0)
    axpy(r.length, 1, e, 1, 0, r, 1, 0)
    const rhs = gemvT(D.rows, D.cols, 1, D.data, D.cols, 0, r, 1, 0, 0, new Float64Array(D.cols), 1, 0)
    return choleskySolve(this.dtdFactor, rhs)
  }

  /** ∇f(λ) = −2 CᵀD (DᵀD)⁻¹ Aᵀ(A w(λ) − b). */
  hypergradient(lambda: RVec): Vec {
    const { C, D } = this.data
    const w = this.solution(lambda)
    const g = this.upperObjective.gradW(w, lambda) // 2Aᵀ(Aw − b)
    const z = choleskySolve(this.dtdFactor, g)
    const dz = gemv(D.rows, D.cols, 1, D.data, D.cols, 0, z, 1, 0, 0, new Float64Array(D.rows), 1, 0)
    return gemvT(C.rows, C.cols, -1, C.data, C.cols, 0, dz, 1, 0, 0, new Float64Array(C.cols), 1, 0)
  }

  /** The constants of E&R's bounds (none depends on λ). */
  constants(lambda: RVec): ErQuadraticConstants {
    assertDim(`${this.name}.constants: λ`, this.hyperDim, lambda.length)
    return { ...this.consts, alpha: this.alpha, q: gdContraction(this.alpha, this.consts) }
  }
}

const erLower = (C: Matrix, D: Matrix, e: RVec, name: string): LowerObjective => {
  const n = D.rows
  const d = D.cols
  const m = C.cols
  let curv: { readonly tau: number; readonly L: number } | undefined
  const shape = finiteSumShape(name, d, m, n)
  /** Row residual cᵢᵀλ + dᵢᵀw − eᵢ. */
  const res = (i: number, w: RVec, lambda: RVec): number =>
    dot(m, C.data, 1, i * m, lambda, 1, 0) + dot(d, D.data, 1, i * d, w, 1, 0) - e[i]!
  /** The rows to sum and the weight of each. */
  const rowsOf = (batch: Batch | undefined, what: string): { readonly count: number; readonly row: (k: number) => number; readonly scale: number } => {
    if (batch === undefined) return { count: n, row: (k) => k, scale: 1 }
    shape.batch(what, batch)
    return { count: batch.length, row: (k) => batch[k]!, scale: n / batch.length }
  }
  /**
   * The product `what` of a second derivative, a sum of rank-one terms: Σᵢ 2·scale·(pᵢᵀx)·qᵢ over
   * the rows (or the batch), pᵢ and qᵢ the rows of P and Q (∇²_ww ℓ̂ᵢ = 2dᵢdᵢᵀ, ∇²_wλ ℓ̂ᵢ = 2dᵢcᵢᵀ).
   */
  const rankOneProduct = (what: string, w: RVec, x: RVec, xName: string, batch: Batch | undefined, P: Matrix, Q: Matrix): Vec => {
    shape.w(what, w)
    assertDim(`${name}.${what}: ${xName}`, P.cols, x.length)
    const { count, row, scale } = rowsOf(batch, what)
    const out = new Float64Array(Q.cols)
    for (let k = 0; k < count; k++) {
      const i = row(k)
      axpy(Q.cols, 2 * scale * dot(P.cols, P.data, 1, i * P.cols, x, 1, 0), Q.data, 1, i * Q.cols, out, 1, 0)
    }
    return out
  }

  return {
    ...shape.sizes,
    separable: false,
    checkLambda: (lambda) => checkRealLambda(name, m, lambda),
    value: (w, lambda, batch) => {
      shape.args('value', w, lambda)
      const { count, row, scale } = rowsOf(batch, 'value')
      let s = 0
      for (let k = 0; k < count; k++) {
        const r = res(row(k), w, lambda)
        s += r * r
      }
      return scale * s
    },
    grad: (w, lambda, batch) => {
      shape.args('grad', w, lambda)
      const { count, row, scale } = rowsOf(batch, 'grad')
      const g = new Float64Array(d)
      for (let k = 0; k < count; k++) {
        const i = row(k)
        axpy(d, 2 * scale * res(i, w, lambda), D.data, 1, i * d, g, 1, 0)
      }
      return g
    },
    hvp: (w, _lambda, u, batch) => rankOneProduct('hvp', w, u, 'u', batch, D, D),
    // ∇²_{wλ} ℓ̂ᵢ = 2 dᵢ cᵢᵀ.
    crossJvp: (w, _lambda, mu, batch) => rankOneProduct('crossJvp', w, mu, 'μ', batch, C, D),
    crossVjp: (w, _lambda, v, batch) => rankOneProduct('crossVjp', w, v, 'v', batch, D, C),
    curvature: () => {
      if (curv === undefined) {
        const ev = symmetricEigenvalues(matMul(transpose(D), D))
        curv = { tau: 2 * Math.max(0, ev[0]!), L: 2 * ev[ev.length - 1]! }
      }
      return curv
    },
  }
}

/** E(w) = ‖Aw − b‖². */
const erUpper = (A: Matrix, b: RVec, m: number): UpperObjective => {
  const residual = (w: RVec): Vec => {
    assertDim('erQuadratic upper: w against A.cols', A.cols, w.length)
    const r = gemv(A.rows, A.cols, 1, A.data, A.cols, 0, w, 1, 0, 0, new Float64Array(A.rows), 1, 0)
    return axpy(A.rows, -1, b, 1, 0, r, 1, 0)
  }
  return {
    value: (w) => {
      const r = residual(w)
      return dot(r.length, r, 1, 0, r, 1, 0)
    },
    gradW: (w) => gemvT(A.rows, A.cols, 2, A.data, A.cols, 0, residual(w), 1, 0, 0, new Float64Array(A.cols), 1, 0),
    gradLambda: (_w, lambda) => {
      assertDim('erQuadratic upper: λ', m, lambda.length)
      return new Float64Array(m)
    },
  }
}

/**
 * Build the Ehrhardt & Roberts §4.1 problem from a seed (see the module comment). The step
 * defaults to α = 2/(L+μ) with L = 2σ_max(D)², μ = 2σ_min(D)².
 */
export const erQuadraticProblem = (opts: ErQuadraticOptions): E.Either<HypergradError, ErQuadraticProblem> => {
  const rows = opts.rows ?? 1000
  const cols = opts.cols ?? 10
  const noise = opts.noise ?? 0.01
  if (!(Number.isInteger(cols) && cols >= 1)) return E.left(hgError('domain', `erQuadraticProblem: cols must be a positive integer, got ${cols}`))
  if (!(Number.isInteger(rows) && rows >= cols))
    return E.left(hgError('domain', `erQuadraticProblem: rows must be an integer ≥ cols = ${cols} (D needs full column rank), got ${rows}`))
  if (!Number.isInteger(opts.seed)) return E.left(hgError('domain', `erQuadraticProblem: seed must be an integer, got ${opts.seed}`))
  if (!(Number.isFinite(noise) && noise >= 0)) return E.left(hgError('domain', `erQuadraticProblem: noise must be finite and ≥ 0, got ${noise}`))
  const [rA, rC, rD, rX, rL, rNe, rNb] = R.split(R.seed(opts.seed), 7) as [R.Rng, R.Rng, R.Rng, R.Rng, R.Rng, R.Rng, R.Rng]
  const [a] = R.uniforms(rA, rows * cols)
  const [c] = R.uniforms(rC, rows * cols)
  const [dd] = R.uniforms(rD, rows * cols)
  const A = matrix(rows, cols, a)
  const C = matrix(rows, cols, c)
  const D = matrix(rows, cols, dd)
  const [xTrue] = R.uniforms(rX, cols)
  const [lambdaTrue] = R.uniforms(rL, cols)
  const [ne] = R.normals(rNe, rows)
  const [nb] = R.normals(rNb, rows)
  const e = gemv(rows, cols, 1, C.data, cols, 0, lambdaTrue, 1, 0, 0, new Float64Array(rows), 1, 0)
  gemv(rows, cols, 1, D.data, cols, 0, xTrue, 1, 0, 1, e, 1, 0)
  axpy(rows, noise, ne, 1, 0, e, 1, 0)
  const b = gemv(rows, cols, 1, A.data, cols, 0, xTrue, 1, 0, 0, new Float64Array(rows), 1, 0)
  axpy(rows, noise, nb, 1, 0, b, 1, 0)

  const name = `erQuadratic(${rows}×${cols})`
  const lower = erLower(C, D, e, name)
  const curv = lower.curvature(new Float64Array(cols))
  if (!(curv.tau > 0)) return E.left(hgError('data', `erQuadraticProblem: D is (numerically) rank deficient, σ_min(D)² = ${curv.tau / 2}`))
  const alpha = opts.alpha ?? optimalStep(curv)
  if (!(Number.isFinite(alpha) && alpha > 0 && alpha < 2 / curv.L))
    return E.left(hgError('domain', `erQuadraticProblem: step α must lie in (0, 2/L) = (0, ${2 / curv.L}), got ${alpha}`))
  const upper = erUpper(A, b, cols)
  const data: ErQuadraticData = { A, b, C, D, e, xTrue, lambdaTrue }
  return E.map(() => new ErQuadraticProblem(lower, upper, alpha, name, data))(ermProblem(lower, upper, { alpha, name }))
}
