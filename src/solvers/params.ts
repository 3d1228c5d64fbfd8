/**
 * Parameters of the solvers derived from a problem's constants: the heavy-ball step and
 * momentum that give the optimal asymptotic rate on a τ-strongly convex, L-smooth quadratic
 * (Polyak; the parameters Ehrhardt & Roberts use for their heavy-ball solvers).
 */
import * as E from 'fp-ts/lib/Either.js'
import type { HypergradError } from '../errors.js'
import type { RVec } from '../linalg/types.js'
import type { ErmProblem } from '../problem/erm.js'
import { fail } from './check.js'

/** The optimal heavy-ball parameters for curvature in [τ, L]. */
export interface HeavyBallParams {
  /** The gradient step 4/(√L + √τ)². */
  readonly step: number
  /** The relaxation η = step/α to pass for a map Φ = w − α∇ℓ (α given to heavyBallParams, default 1). */
  readonly eta: number
  /** The momentum β = q_HB². */
  readonly beta: number
  /** q_HB = (√L − √τ)/(√L + √τ) = (√κ − 1)/(√κ + 1), κ = L/τ: the asymptotic rate per step. */
  readonly rate: number
}

/**
 * Optimal heavy-ball parameters for curvature in [τ, L]: step 4/(√L + √τ)²,
 * β = ((√L − √τ)/(√L + √τ))². Pass the problem's α (Φ = w − α∇ℓ) to get the relaxation
 * η = step/α for `heavyBall`; for the linear system (I − ∂₁Φᵀ)v = b with I − ∂₁Φᵀ = α∇²ℓ the
 * same η serves `heavyBallLinear`. Left unless 0 < τ ≤ L < ∞ and α > 0.
 */
export const heavyBallParams = (tau: number, L: number, alpha = 1): E.Either<HypergradError, HeavyBallParams> => {
  if (!(Number.isFinite(tau) && Number.isFinite(L) && tau > 0 && L >= tau)) return fail('domain', 'heavyBallParams', `need 0 < τ ≤ L < ∞, got τ = ${tau}, L = ${L}`)
  if (!(Number.isFinite(alpha) && alpha > 0)) return fail('domain', 'heavyBallParams', `α must be positive and finite, got ${alpha}`)
  const sL = Math.sqrt(L)
  const sT = Math.sqrt(tau)
  const step = 4 / ((sL + sT) * (sL + sT))
  const rate = (sL - sT) / (sL + sT)
  return E.right({ step, eta: step / alpha, beta: rate * rate, rate })
}

/**
 * The optimal heavy-ball parameters of an ERM problem at λ: from the curvature bounds τ, L of
 * ℓ(·, λ) and the problem's step α (Φ = w − α∇ℓ). Pass them to `heavyBall` or `heavyBallLinear`.
 */
export const heavyBallParamsFor = (problem: ErmProblem, lambda: RVec): E.Either<HypergradError, HeavyBallParams> => {
  const { tau, L } = problem.lower.curvature(lambda)
  return heavyBallParams(tau, L, problem.alpha)
}
