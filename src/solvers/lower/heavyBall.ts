/**
 * Heavy-ball (momentum) iteration on the lower-level fixed-point map:
 *
 *   wₜ₊₁ = wₜ + η (Φ(wₜ, λ) − wₜ) + β (wₜ − wₜ₋₁),   w₋₁ = w₀.
 *
 * For Φ = w − α∇₁ℓ this is Polyak's heavy ball with step ηα and momentum β. On an ℓ that is
 * τ-strongly convex and L-smooth, the step 4/(√L + √τ)² and momentum β = q_HB²,
 * q_HB = (√L − √τ)/(√L + √τ), give the asymptotic rate q_HB per step on quadratics (the
 * parameters Ehrhardt & Roberts use for their heavy-ball solvers).
 */
import { assertDim, type RVec, type Vec } from '../../linalg/types.js'
import type { BilevelProblem } from '../../problem/bilevel.js'
import { fromIterator, type Stream } from '../../stream/stream.js'
import type { Counts, LowerMethod, LowerState } from '../types.js'

/** Options of the heavy-ball iteration. */
export interface HeavyBallOptions {
  /** Momentum β ∈ [0, 1). */
  readonly beta: number
  /** Relaxation η > 0 on Φ(w) − w; default 1. */
  readonly eta?: number
}

/** The optimal heavy-ball parameters for a τ-strongly convex, L-smooth quadratic. */
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
 * Optimal heavy-ball parameters for curvature in [τ, L] (Polyak; Ehrhardt & Roberts §3):
 * step 4/(√L + √τ)², β = ((√L − √τ)/(√L + √τ))². Pass the problem's α (Φ = w − α∇ℓ) to get
 * the relaxation η = step/α for `heavyBall`; for the linear system (I − ∂₁Φᵀ)v = b with
 * I − ∂₁Φᵀ = α∇²ℓ the same η serves `heavyBallLinear`. Throws a RangeError unless
 * 0 < τ ≤ L < ∞ and α > 0.
 */
export const heavyBallParams = (tau: number, L: number, alpha = 1): HeavyBallParams => {
  if (!(Number.isFinite(tau) && Number.isFinite(L) && tau > 0 && L >= tau))
    throw new RangeError(`heavyBallParams: need 0 < τ ≤ L < ∞, got τ = ${tau}, L = ${L}`)
  if (!(Number.isFinite(alpha) && alpha > 0)) throw new RangeError(`heavyBallParams: α must be positive and finite, got ${alpha}`)
  const sL = Math.sqrt(L)
  const sT = Math.sqrt(tau)
  const step = 4 / ((sL + sT) * (sL + sT))
  const rate = (sL - sT) / (sL + sT)
  return { step, eta: step / alpha, beta: rate * rate, rate }
}

/** Checks heavy-ball parameters, throwing a RangeError naming the bad one. */
export const checkHeavyBall = (who: string, beta: number, eta: number): void => {
  if (!(Number.isFinite(beta) && beta >= 0 && beta < 1)) throw new RangeError(`${who}: momentum β must lie in [0, 1), got ${beta}`)
  if (!(Number.isFinite(eta) && eta > 0)) throw new RangeError(`${who}: η must be positive and finite, got ${eta}`)
}

/**
 * The heavy-ball lower solver. State t holds wₜ and ‖Φ(wₜ, λ) − wₜ‖ (one Φ evaluation per
 * step, shared with the next step: `counts.phi` of state t is t + 1). The stream starts at w₀
 * (iter 0) with w₋₁ = w₀, is lazy and replayable. Throws a RangeError for β ∉ [0, 1) or η ≤ 0.
 */
export const heavyBall = (opts: HeavyBallOptions): LowerMethod => {
  const beta = opts.beta
  const eta = opts.eta ?? 1
  checkHeavyBall('heavyBall', beta, eta)
  return {
    name: `heavyBall(β=${beta}, η=${eta})`,
    stochastic: false,
    iterates(problem: BilevelProblem, lambda: RVec, w0: RVec): Stream<LowerState> {
      assertDim(`heavyBall(${problem.name}): w₀`, problem.dim, w0.length)
      const start = Float64Array.from(w0)
      const lam = Float64Array.from(lambda)
      return fromIterator(function* () {
        let prev: RVec = start
        let w: Vec = Float64Array.from(start)
        for (let t = 0; ; t++) {
          const next = problem.phi(w, lam) // fresh: becomes wₜ₊₁ in place
          assertDim(`heavyBall(${problem.name}): Φ(w)`, w.length, next.length)
          let s = 0
          for (let i = 0; i < w.length; i++) {
            const wi = w[i]!
            const d = next[i]! - wi
            s += d * d
            next[i] = wi + eta * d + beta * (wi - prev[i]!)
          }
          const counts: Counts = { phi: t + 1, jacW: 0, jacLambda: 0 }
          yield { w, iter: t, residual: Math.sqrt(s), counts }
          prev = w
          w = next
        }
      })
    },
  }
}
