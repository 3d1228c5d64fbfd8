/**
 * The exact hypergradient, by dense direct solves: the reference every other method is
 * compared with (Grazzi et al. 2020; SID eq. 4–5),
 *
 *   w(λ) = Φ(w(λ), λ),   (I − ∂₁Φ(w, λ)ᵀ) v = ∇₁E(w, λ),   ∇f(λ) = ∇₂E(w, λ) + ∂₂Φ(w, λ)ᵀ v.
 *
 * w(λ) solves F(w) = w − Φ(w, λ) = 0 by Newton's method with the dense Jacobian
 * J = I − ∂₁Φ(w, λ), assembled column by column from d products ∂₁Φ eⱼ (jvpW on the unit
 * vectors) and factored by LU with partial pivoting, with a backtracking line search on ‖F‖
 * (the Newton step is a descent direction for ½‖F‖²). Then v solves Jᵀv = ∇₁E at the final w
 * by Cholesky when the problem is symmetric (J is then symmetric positive definite, its
 * spectrum in [1 − q, 1 + q]) and LU otherwise.
 *
 * Cost: per Newton step, d products ∂₁Φ eⱼ (the Jacobian), one LU factorization (O(d³)
 * flops) and one Φ evaluation per line-search trial; then d more products for J at the final
 * w, one factorization and one ∂₂Φᵀ product. For the affine maps of the quadratic, ridge and
 * linear fixed-point problems one Newton step suffices. Practical up to d ≈ 1000 (for an ERM
 * map a product ∂₁Φ eⱼ is a Hessian-vector product, i.e. one pass over the data).
 *
 * A problem that builds I − ∂₁Φ densely itself (`DenseSystemMatrix`: an ERM problem whose lower
 * objective offers its Hessian, J = α∇²ℓ) skips the d products: on MNIST (d = 784, n = 5000)
 * the sparse Gram matrix costs about as much as 75 Hessian-vector products instead of 784, and
 * J, being symmetric positive definite, is factored by Cholesky (half the flops of LU) in the
 * Newton steps too. Counts still charge d Jacobian products per dense J (the same information).
 */
import * as E from 'fp-ts/lib/Either.js'
import { hgError, type HypergradError } from '../errors.js'
import { axpy, nrm2 } from '../linalg/kernels.js'
import { cholesky, choleskySolve, luSolve, matTVec, transpose } from '../linalg/matrix.js'
import { matrix, type Matrix, type RVec, type Vec } from '../linalg/types.js'
import type { BilevelProblem } from '../problem/bilevel.js'
import type { DenseSystemMatrix } from '../problem/erm.js'
import type { Counts, Status } from '../solvers/types.js'
import type { HypergradResult } from './types.js'
import { allFinite, checkContraction, checkCount, checkLambda, checkStart, checkTolerance } from './validate.js'

/** Options of the exact hypergradient. */
export interface ExactOptions {
  /** Newton's start; default 0. */
  readonly w?: RVec
  /** Stop Newton when ‖w − Φ(w, λ)‖ ≤ tol; default 1e-12·(1 + ‖w‖) at the current w. */
  readonly tol?: number
  /** At most this many Newton steps (an integer ≥ 0); default 50. */
  readonly maxNewton?: number
}

/** The exact result: `t` is the number of Newton steps, `lowerResiduals` the ‖F(w)‖ after each. */
export interface ExactResult extends HypergradResult {
  /** When Newton stopped before meeting tol (status 'maxIter'): why. */
  readonly reason?: string
}

const hasDenseSystem = (p: BilevelProblem): p is BilevelProblem & DenseSystemMatrix =>
  typeof (p as Partial<DenseSystemMatrix>).denseSystemMatrix === 'function'

/**
 * The dense J = I − ∂₁Φ(w, λ) (row-major): from the problem's own dense builder when it has
 * one, else from d products ∂₁Φ eⱼ.
 */
const jacobian = (problem: BilevelProblem, w: RVec, lambda: RVec): Matrix => {
  if (hasDenseSystem(problem)) {
    const J = problem.denseSystemMatrix(w, lambda)
    if (J !== undefined) return J
  }
  const d = problem.dim
  const data = new Float64Array(d * d)
  const e = new Float64Array(d)
  for (let j = 0; j < d; j++) {
    e.fill(0)
    e[j] = 1
    const col = problem.jvpW(w, lambda, e)
    for (let i = 0; i < d; i++) data[i * d + j] = (i === j ? 1 : 0) - col[i]!
  }
  return matrix(d, d, data)
}

/** F(w) = w − Φ(w, λ), fresh. */
const residualMap = (problem: BilevelProblem, w: RVec, lambda: RVec): Vec => {
  const f = problem.phi(w, lambda)
  for (let i = 0; i < f.length; i++) f[i] = w[i]! - f[i]!
  return f
}

const norm = (x: RVec): number => nrm2(x.length, x, 1, 0)

/**
 * The exact hypergradient ∇f(λ) by Newton's method on w − Φ(w, λ) = 0 and a dense solve of
 * (I − ∂₁Φᵀ)v = ∇₁E (see the module comment). Validates λ, q < 1, the start w, tol ≥ 0 and
 * maxNewton (Left naming the fault). Status 'converged' when ‖w − Φ(w)‖ ≤ tol was reached;
 * 'maxIter' when Newton hit maxNewton or the line search could not decrease ‖F‖ any more
 * (rounding floor), with the reason. A singular Jacobian or a non-finite result is a Left
 * (kind 'divergence'). `linearResiduals` holds the one residual ‖(I − ∂₁Φᵀ)v − ∇₁E‖ of the
 * dense solve, computed densely.
 */
export const exact = (problem: BilevelProblem, lambda: RVec, opts: ExactOptions = {}): E.Either<HypergradError, ExactResult> => {
  const who = 'exact'
  const d = problem.dim
  const lam = checkLambda(who, problem, lambda)
  if (E.isLeft(lam)) return lam
  const q = checkContraction(who, problem, lam.right)
  if (E.isLeft(q)) return q
  const start = checkStart(who, 'w', opts.w, d)
  if (E.isLeft(start)) return start
  const tolOpt = checkTolerance(who, 'tol', opts.tol)
  if (E.isLeft(tolOpt)) return tolOpt
  const maxNewton = checkCount(who, 'maxNewton', opts.maxNewton ?? 50)
  if (E.isLeft(maxNewton)) return maxNewton
  const L = lam.right
  const tolAt = (w: RVec): number => tolOpt.right ?? 1e-12 * (1 + norm(w))

  const counts: Counts = { phi: 0, jacW: 0, jacLambda: 0 }
  let w: Vec = start.right
  let F = residualMap(problem, w, L)
  counts.phi++
  let nF = norm(F)
  const history: number[] = [nF]
  let status: Status = 'maxIter'
  let reason: string | undefined
  let steps = 0
  for (;;) {
    if (!Number.isFinite(nF)) return E.left(hgError('divergence', `${who}: ‖w − Φ(w)‖ is not finite after ${steps} Newton steps`))
    if (nF <= tolAt(w)) {
      status = 'converged'
      break
    }
    if (steps >= maxNewton.right) {
      reason = `‖w − Φ(w)‖ = ${nF.toExponential(3)} > tol after ${steps} Newton steps`
      break
    }
    const J = jacobian(problem, w, L)
    counts.jacW += d
    const neg = Float64Array.from(F, (x) => -x)
    const chol = problem.symmetric ? cholesky(J) : undefined
    const delta = chol !== undefined ? choleskySolve(chol, neg) : luSolve(J, neg)
    if (delta === undefined || !allFinite(delta))
      return E.left(hgError('divergence', `${who}: the Jacobian I − ∂₁Φ is numerically singular at Newton step ${steps}`))
    // Backtracking on ‖F‖ (Armijo with c = 1e-4 on ½‖F‖²).
    let s = 1
    let accepted = false
    for (let h = 0; h < 60; h++) {
      const wn = Float64Array.from(w)
      axpy(d, s, delta, 1, 0, wn, 1, 0)
      const Fn = residualMap(problem, wn, L)
      counts.phi++
      const nFn = norm(Fn)
      if (Number.isFinite(nFn) && nFn <= (1 - 1e-4 * s) * nF) {
        w = wn
        F = Fn
        nF = nFn
        accepted = true
        break
      }
      s /= 2
    }
    steps++
    history.push(nF)
    if (!accepted) {
      reason = `the line search could not decrease ‖w − Φ(w)‖ = ${nF.toExponential(3)} below tol ${tolAt(w).toExponential(3)} (rounding floor)`
      break
    }
  }

  // v: Jᵀv = ∇₁E at the final w.
  const J = jacobian(problem, w, L)
  counts.jacW += d
  const b = problem.gradUpperW(w, L)
  let v: Vec | undefined
  if (problem.symmetric) {
    const chol = cholesky(J)
    if (chol !== undefined) v = choleskySolve(chol, b)
  }
  if (v === undefined) v = luSolve(transpose(J), b)
  if (v === undefined || !allFinite(v))
    return E.left(hgError('divergence', `${who}: the system (I − ∂₁Φᵀ)v = ∇₁E is numerically singular`))
  const r = matTVec(J, v)
  axpy(d, -1, b, 1, 0, r, 1, 0)
  const gradient = problem.gradUpperLambda(w, L)
  axpy(gradient.length, 1, problem.vjpLambda(w, L, v), 1, 0, gradient, 1, 0)
  counts.jacLambda++
  if (!allFinite(gradient)) return E.left(hgError('divergence', `${who}: the hypergradient is not finite`))
  return E.right({
    method: 'exact',
    gradient,
    value: problem.upper(w, L),
    w,
    v,
    t: steps,
    k: 0,
    lowerResiduals: Float64Array.from(history),
    linearResiduals: Float64Array.of(norm(r)),
    counts,
    status,
    ...(reason === undefined ? {} : { reason }),
  })
}
