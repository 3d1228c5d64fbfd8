/**
 * Generic estimators of the constants the bounds need, for problems without closed-form
 * constants: the curvature τ, L of ℓ(·, λ) at a point (SID eq. 3, Assumption F) and the
 * contraction constant ‖∂₁Φ(w, λ)‖ (SID Assumption A(i)). All work from operators (Hessian-
 * and Jacobian-vector products), never from dense matrices, by power iteration.
 *
 * Power iteration converges to the largest |eigenvalue| from below: the estimates of L and of
 * ‖∂₁Φ‖ are under-estimates of the truth, by a relative error of the order of `tol` once the
 * iteration has converged (slowly when the two largest eigenvalues are close).
 */
import * as E from 'fp-ts/lib/Either.js'
import { hgError, type HypergradError } from '../errors.js'
import { axpy, nrm2, scal } from '../linalg/kernels.js'
import type { RVec, Vec } from '../linalg/types.js'
import * as R from '../random/rng.js'
import type { BilevelProblem } from './bilevel.js'
import { optimalStep, type LowerObjective } from './erm.js'

/** Options of `powerIteration`. */
export interface PowerIterationOptions {
  /** Iteration cap (default 1000). */
  readonly iters?: number
  /** Stop when successive estimates differ by at most tol·estimate (default 1e-10). */
  readonly tol?: number
}

/** The result of `powerIteration`. */
export interface PowerIterationResult {
  /** The estimate of the largest |eigenvalue|, ‖op(v)‖ at the last unit iterate v (≥ 0). */
  readonly value: number
  /** The last unit iterate (an approximate dominant eigenvector when the dominant eigenvalue is unique). */
  readonly vector: Vec
  /** Iterations run. */
  readonly iterations: number
}

/**
 * The calling convention of the estimators of this module: what to estimate from (`Args`), then
 * the random start's generator and the power-iteration options; a Left names the fault.
 */
export type PowerEstimator<Args extends unknown[], A> = (
  ...args: [...Args, rng: R.Rng, opts?: PowerIterationOptions]
) => E.Either<HypergradError, A>

/**
 * The largest |eigenvalue| of a symmetric operator on Rᵈⁱᵐ by power iteration from a random
 * Gaussian start drawn from `rng`. The estimate ‖op(v)‖ with ‖v‖ = 1 is a Rayleigh quotient of
 * op², so it converges at rate (|λ₂|/|λ₁|)² per step and never exceeds the true value.
 * A Left names the fault: a bad dimension or option, an operator that returns a vector of the
 * wrong length, or a non-finite one (which depends on the data: an overflowing Hessian product).
 */
export const powerIteration: PowerEstimator<[op: (v: RVec) => Vec, dim: number], PowerIterationResult> = (op, dim, rng, opts = {}) => {
  const iters = opts.iters ?? 1000
  const tol = opts.tol ?? 1e-10
  if (!(Number.isInteger(dim) && dim >= 1)) return E.left(hgError('dimension', `powerIteration: dimension must be a positive integer, got ${dim}`))
  if (!(Number.isInteger(iters) && iters >= 1)) return E.left(hgError('domain', `powerIteration: iters must be a positive integer, got ${iters}`))
  if (!(tol >= 0)) return E.left(hgError('domain', `powerIteration: tol must be ≥ 0, got ${tol}`))
  const [v0] = R.normals(rng, dim)
  let v: Vec = v0
  scal(dim, 1 / nrm2(dim, v, 1, 0), v, 1, 0)
  let value = Number.NaN
  for (let k = 1; k <= iters; k++) {
    const av = op(v)
    if (av.length !== dim) return E.left(hgError('dimension', `powerIteration: operator returned length ${av.length}, expected ${dim}`))
    const nav = nrm2(dim, av, 1, 0)
    if (!Number.isFinite(nav)) return E.left(hgError('domain', `powerIteration: operator returned a non-finite vector at iteration ${k}`))
    if (nav === 0) return E.right({ value: 0, vector: v, iterations: k })
    const prev = value
    value = nav
    // Copy before normalising, so that an operator returning a buffer it keeps is never written to.
    v = scal(dim, 1 / nav, Float64Array.from(av), 1, 0)
    if (Math.abs(value - prev) <= tol * value) return E.right({ value, vector: v, iterations: k })
  }
  return E.right({ value, vector: v, iterations: iters })
}

/**
 * Estimates of the curvature of ℓ(·, λ) at w: L = λ_max(∇²_{ww}ℓ(w, λ)) by power iteration on
 * the Hessian, and τ = λ_min = L − λ_max(L·I − ∇²ℓ) by power iteration on the shifted operator
 * (whose eigenvalues L − hᵢ are ≥ 0 for a convex ℓ). Local values at w: for a non-quadratic ℓ
 * they are not the global τ, L of SID eq. 3 (which bound every w).
 */
export const curvatureAt: PowerEstimator<[lower: LowerObjective, w: RVec, lambda: RVec], { readonly tau: number; readonly L: number }> = (lower, w, lambda, rng, opts = {}) => {
  const d = lower.dim
  if (w.length !== d) return E.left(hgError('dimension', `curvatureAt: w has length ${w.length}, expected ${d}`))
  if (lambda.length !== lower.hyperDim) return E.left(hgError('dimension', `curvatureAt: λ has length ${lambda.length}, expected ${lower.hyperDim}`))
  const [r1, r2] = R.split2(rng)
  const hess = (u: RVec): Vec => lower.hvp(w, lambda, u)
  const top = powerIteration(hess, d, r1, opts)
  if (E.isLeft(top)) return top
  const L = top.right.value
  const shifted = (u: RVec): Vec => {
    const hu = hess(u)
    scal(d, -1, hu, 1, 0)
    return axpy(d, L, u, 1, 0, hu, 1, 0)
  }
  return E.map((gap: PowerIterationResult) => ({ tau: L - gap.value, L }))(powerIteration(shifted, d, r2, opts))
}

/**
 * An estimate of ‖∂₁Φ(w, λ)‖₂ (the local contraction constant, SID Assumption A(i)) as the
 * square root of the largest eigenvalue of ∂₁Φᵀ∂₁Φ, by power iteration on u ↦ vjpW(jvpW(u)).
 */
export const contractionEstimate: PowerEstimator<[problem: BilevelProblem, w: RVec, lambda: RVec], number> = (problem, w, lambda, rng, opts = {}) => {
  if (w.length !== problem.dim) return E.left(hgError('dimension', `contractionEstimate: w has length ${w.length}, expected ${problem.dim}`))
  const op = (u: RVec): Vec => problem.vjpW(w, lambda, problem.jvpW(w, lambda, u))
  return E.map((r: PowerIterationResult) => Math.sqrt(r.value))(powerIteration(op, problem.dim, rng, opts))
}

/** α = 2/(L+τ) for a curvature estimate: `optimalStep` from erm.ts (SID §6, footnote 3). */
export const stepFor: (c: { readonly tau: number; readonly L: number }) => number = optimalStep
