/**
 * Conjugate gradient on the linear system of AID (Grazzi et al. 2020, "AID-CG"),
 *
 *   A v = b,   A = I − ∂₁Φ(w, λ)ᵀ,   b = ∇₁E(w, λ),
 *
 * valid when A is symmetric positive definite: ∂₁Φ symmetric with ‖∂₁Φ‖ ≤ q < 1 puts the
 * spectrum of A in [1 − q, 1 + q]; for Φ = w − α∇₁ℓ, A = α∇²₁ℓ. The classical bound
 *
 *   ‖vₖ − v*‖_A ≤ 2 ((√κ − 1)/(√κ + 1))ᵏ ‖v₀ − v*‖_A,   κ = cond(A) ≤ (1 + q)/(1 − q),
 *
 * holds; for Φ = w − α∇ℓ, κ = L/τ exactly (CG is invariant to the scale α), which equals
 * (1 + q)/(1 − q) only at the step α = 2/(L + τ).
 *
 * The residual reported at each state is the recursive one, rₖ₊₁ = rₖ − αₖ A pₖ (no extra
 * product); in floating point it drifts from the true b − A vₖ once it nears rounding level.
 * `runLinear` given the system recomputes the true residual of the iterate it returns.
 */
import * as E from 'fp-ts/lib/Either.js'
import { hgError, type HypergradError } from '../../errors.js'
import { dot } from '../../linalg/kernels.js'
import { assertDim, type RVec, type Vec } from '../../linalg/types.js'
import { fromIterator, type Stream } from '../../stream/stream.js'
import type { Rng } from '../../random/rng.js'
import type { StopFlag } from '../run.js'
import type { Counts, LinearMethod, LinearState, LinearSystem } from '../types.js'

/** Options of conjugate gradient. */
export interface ConjugateGradientOptions {
  /**
   * Stop at the first iterate whose (recursive) residual is ≤ tol·‖b‖; default 1e-14. Below
   * ~1e-15 the recursive residual has left the true one and further steps buy nothing.
   */
  readonly tol?: number
}

/** A conjugate-gradient state: a LinearState that may end the stream (converged or breakdown). */
export type CgState = LinearState & StopFlag

/** The method object: a LinearMethod that can refuse a system before running (non-symmetric). */
export interface ConjugateGradientMethod extends LinearMethod {
  /** Left (kind 'domain') when the system is not symmetric: CG needs A symmetric positive definite. */
  check(shape: { readonly symmetric: boolean }, steps: number): E.Either<HypergradError, void>
  /** The CG stream (deterministic: the random stream is ignored). */
  iterates(system: LinearSystem, v0: RVec, rng?: Rng): Stream<CgState>
}

const NOT_SYMMETRIC = 'conjugate gradient needs I − ∂₁Φᵀ symmetric positive definite, but the system is not symmetric (∂₁Φ is not symmetric): use fixed point, Neumann or heavy ball'

/**
 * Conjugate gradient on (I − ∂₁Φᵀ)v = b. The stream starts at v₀ (iter 0, residual
 * ‖b − Av₀‖, one product unless v₀ = 0) and makes one product with ∂₁Φᵀ per step. It ENDS at
 * the first state whose residual is ≤ tol·‖b‖ (or is exactly 0), which it flags
 * `stop: 'converged'`: that state carries the iterate that met the tolerance. A system that is
 * not symmetric gives a single state flagged `stop: 'diverged'` with the reason; a breakdown
 * (pᵀAp ≤ 0 or non-finite: A not positive definite) ends the stream with a state flagged
 * `stop: 'diverged'` that carries the last good iterate. Lazy and replayable. Throws a
 * RangeError when tol is negative or not finite.
 */
export const conjugateGradient = (opts: ConjugateGradientOptions = {}): ConjugateGradientMethod => {
  const tol = opts.tol ?? 1e-14
  if (!(Number.isFinite(tol) && tol >= 0)) throw new RangeError(`conjugateGradient: tol must be finite and ≥ 0, got ${tol}`)
  return {
    name: 'cg',
    stochastic: false,
    check: (shape) => (shape.symmetric ? E.right(undefined) : E.left(hgError('domain', NOT_SYMMETRIC))),
    iterates(system: LinearSystem, v0: RVec): Stream<CgState> {
      const n = system.dim
      assertDim('conjugateGradient: v₀', n, v0.length)
      assertDim('conjugateGradient: b', n, system.rhs.length)
      const start = Float64Array.from(v0)
      const b = Float64Array.from(system.rhs)
      const bNorm = Math.sqrt(dot(n, b, 1, 0, b, 1, 0))
      const threshold = tol * bNorm
      const symmetric = system.symmetric
      const applyJT = system.applyJT
      return fromIterator(function* () {
        let products = 0
        const counts = (): Counts => ({ phi: 0, jacW: products, jacLambda: 0 })
        let x: Vec = Float64Array.from(start)
        // r₀ = b − (I − ∂₁Φᵀ)v₀.
        const r = Float64Array.from(b)
        if (start.some((z) => z !== 0)) {
          const jv = applyJT(start)
          assertDim('conjugateGradient: ∂₁Φᵀv', n, jv.length)
          products++
          for (let i = 0; i < n; i++) r[i] = r[i]! - start[i]! + jv[i]!
        }
        let rr = dot(n, r, 1, 0, r, 1, 0)
        if (!symmetric) {
          yield { v: x, iter: 0, residual: Math.sqrt(rr), counts: counts(), stop: 'diverged', reason: NOT_SYMMETRIC }
          return
        }
        if (rr === 0 || Math.sqrt(rr) <= threshold) {
          yield { v: x, iter: 0, residual: Math.sqrt(rr), counts: counts(), stop: 'converged' }
          return
        }
        yield { v: x, iter: 0, residual: Math.sqrt(rr), counts: counts() }
        const p = Float64Array.from(r)
        for (let k = 1; ; k++) {
          // Ap = p − ∂₁Φᵀp.
          const ap = applyJT(p)
          assertDim('conjugateGradient: ∂₁Φᵀp', n, ap.length)
          products++
          for (let i = 0; i < n; i++) ap[i] = p[i]! - ap[i]!
          const pAp = dot(n, p, 1, 0, ap, 1, 0)
          if (!(pAp > 0 && Number.isFinite(pAp))) {
            yield {
              v: x,
              iter: k,
              residual: Math.sqrt(rr),
              counts: counts(),
              stop: 'diverged',
              reason: `conjugate gradient broke down at iteration ${k}: pᵀAp = ${pAp} (I − ∂₁Φᵀ is not positive definite)`,
            }
            return
          }
          const alpha = rr / pAp
          const xNext = Float64Array.from(x)
          for (let i = 0; i < n; i++) {
            xNext[i] = xNext[i]! + alpha * p[i]!
            r[i] = r[i]! - alpha * ap[i]!
          }
          const rrNext = dot(n, r, 1, 0, r, 1, 0)
          x = xNext
          const res = Math.sqrt(rrNext)
          if (rrNext === 0 || res <= threshold) {
            yield { v: x, iter: k, residual: res, counts: counts(), stop: 'converged' }
            return
          }
          yield { v: x, iter: k, residual: res, counts: counts() }
          const beta = rrNext / rr
          for (let i = 0; i < n; i++) p[i] = r[i]! + beta * p[i]!
          rr = rrNext
        }
      })
    },
  }
}
