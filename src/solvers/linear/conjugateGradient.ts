/**
 * Conjugate gradient on A v = b (Grazzi et al. 2020, "AID-CG" for A = I − ∂₁Φᵀ, b = ∇₁E), valid
 * when A is symmetric positive definite: ∂₁Φ symmetric with ‖∂₁Φ‖ ≤ q < 1 puts the spectrum of A
 * in [1 − q, 1 + q]. ‖vₖ − v*‖_A ≤ 2((√κ − 1)/(√κ + 1))ᵏ‖v₀ − v*‖_A, κ = cond(A) (= L/τ for
 * Φ = w − α∇ℓ). States report the recursive residual; the driver recomputes the true one
 * (docs/theory/solvers.md §6).
 */
import * as E from 'fp-ts/lib/Either.js'
import { dot } from '../../linalg/kernels.js'
import { assertDim, type RVec, type Vec } from '../../linalg/types.js'
import { checkTolerance, firstOf, fail } from '../check.js'
import { complementOf } from '../linearSystem.js'
import type { LinearSolver, LinearState, Monitored } from '../types.js'
import { fullBatch } from '../solver.js'

/** Options of conjugate gradient. */
export interface ConjugateGradientOptions {
  /**
   * Stop at the first iterate whose (recursive) residual is ≤ tol·‖b‖; default 1e-14. Below
   * ~1e-15 the recursive residual has left the true one and further steps buy nothing.
   */
  readonly tol?: number
}

/** A conjugate-gradient state: vₖ, the recursive residual rₖ, the direction pₖ, rₖᵀrₖ. */
export interface CgState extends Monitored<LinearState> {
  readonly r: RVec
  readonly p: RVec
  readonly rr: number
  /** tol·‖b‖. */
  readonly threshold: number
  /** ‖b‖. */
  readonly bNorm: number
}

/** Residuals below ROUNDING·‖b‖ are at the rounding level of b. */
const ROUNDING = 1e-14

const NOT_SYMMETRIC = 'conjugate gradient needs a symmetric positive definite system (I − ∂₁Φᵀ with ∂₁Φ symmetric), but the system is not symmetric: use fixed point, Neumann or heavy ball'

/**
 * Conjugate gradient on A v = b. The stream starts at v₀ (iter 0, residual ‖b − Av₀‖, one
 * product unless v₀ = 0) and makes one product with A per step. It ENDS at the first state whose
 * residual is ≤ tol·‖b‖ (or is exactly 0), which it flags `stop: 'converged'`: that state
 * carries the iterate that met the tolerance. Its check refuses a system that is not symmetric;
 * a breakdown (pᵀAp ≤ 0 or non-finite: A not positive definite) ends the stream with a state
 * flagged `stop: 'diverged'` that carries the last good iterate.
 */
export const conjugateGradient = (opts: ConjugateGradientOptions = {}): LinearSolver<CgState> => {
  const tol = opts?.tol ?? 1e-14
  const name = 'cg'
  return {
    ...fullBatch('linear', name),
    check: (shape) =>
      firstOf(
        () => checkTolerance(name, 'tol', tol),
        () => (shape.symmetric ? E.right(undefined) : fail('domain', name, NOT_SYMMETRIC)),
      ),
    init: (system, v0, rng) => {
      const n = system.dim
      const b = system.rhs
      const bNorm = Math.sqrt(dot(n, b, 1, 0, b, 1, 0))
      const threshold = tol * bNorm
      const v = Float64Array.from(v0)
      // r₀ = b − (I − ∂₁Φᵀ)v₀, in the fixed-point form b − v₀ + ∂₁Φᵀv₀.
      const r = Float64Array.from(b)
      let products = 0
      if (v.some((z) => z !== 0)) {
        const jv = complementOf(system)(v)
        assertDim('conjugateGradient: ∂₁Φᵀv', n, jv.length)
        products++
        for (let i = 0; i < n; i++) r[i] = r[i]! - v[i]! + jv[i]!
      }
      const rr = dot(n, r, 1, 0, r, 1, 0)
      const base = { v, iter: 0, residual: Math.sqrt(rr), r, p: r, rr, threshold, bNorm, rng, counts: { phi: 0, jacW: products, jacLambda: 0 } }
      if (!system.symmetric) return { ...base, stop: 'diverged', reason: NOT_SYMMETRIC }
      if (rr === 0 || Math.sqrt(rr) <= threshold) return { ...base, stop: 'converged' }
      return base
    },
    step: (system, s) => {
      const n = system.dim
      const { p, r: r0, rr, threshold } = s
      const k = s.iter + 1
      // Ap = p − ∂₁Φᵀp.
      const ap = system.matvec(p)
      assertDim('conjugateGradient: Ap', n, ap.length)
      const counts = { phi: 0, jacW: s.counts.jacW + 1, jacLambda: 0 }
      const pAp = dot(n, p, 1, 0, ap, 1, 0)
      // pᵀAp = 0 with a residual at the rounding level of b is the end of the iteration (the
      // recursion has nothing left to reduce), not a breakdown of positive definiteness.
      if (pAp === 0 && Math.sqrt(rr) <= ROUNDING * s.bNorm) return { ...s, iter: k, counts, stop: 'converged', reason: 'conjugate gradient reached the rounding level of b' }
      if (!(pAp > 0 && Number.isFinite(pAp)))
        return {
          ...s,
          iter: k,
          counts,
          stop: 'diverged',
          reason: `conjugate gradient broke down at iteration ${k}: pᵀAp = ${pAp} (the system is not positive definite)`,
        }
      const alpha = rr / pAp
      const v: Vec = Float64Array.from(s.v)
      const r = new Float64Array(n)
      for (let i = 0; i < n; i++) {
        v[i] = v[i]! + alpha * p[i]!
        r[i] = r0[i]! - alpha * ap[i]!
      }
      const rrNext = dot(n, r, 1, 0, r, 1, 0)
      const residual = Math.sqrt(rrNext)
      if (rrNext === 0 || residual <= threshold) return { ...s, v, iter: k, residual, r, rr: rrNext, counts, stop: 'converged' }
      const beta = rrNext / rr
      const pNext = new Float64Array(n)
      for (let i = 0; i < n; i++) pNext[i] = r[i]! + beta * p[i]!
      return { ...s, v, iter: k, residual, r, p: pNext, rr: rrNext, counts }
    },
  }
}
