/**
 * Heavy-ball (momentum) iteration on the linear system of AID, (I − ∂₁Φᵀ)v = b:
 *
 *   vₖ₊₁ = vₖ + η (b − (I − ∂₁Φᵀ)vₖ) + β (vₖ − vₖ₋₁),   v₋₁ = v₀.
 *
 * With β = 0 and η = 1 it is the fixed-point iteration (fixedPoint.ts). Ehrhardt & Roberts
 * show that differentiating through heavy ball on the lower level is heavy ball on this
 * system. When I − ∂₁Φᵀ is symmetric with spectrum in [μ, L] (for Φ = w − α∇ℓ: μ = ατ,
 * L = αL_ℓ), η = 4/(√L + √μ)² and β = ((√L − √μ)/(√L + √μ))² give the asymptotic rate
 * (√κ − 1)/(√κ + 1), κ = L/μ (`heavyBallParams` in params.ts gives them).
 */
import { assertDim, type RVec, type Vec } from '../../linalg/types.js'
import type { Rng } from '../../random/rng.js'
import { heavyBallSettings, type HeavyBallOptions } from '../lower/heavyBall.js'
import { complementOf } from '../linearSystem.js'
import type { LinearSolver, LinearState, LinearSystem, LookAhead } from '../types.js'

/** Options of the heavy-ball linear solver: those of the lower-level heavy ball, η being the step on the residual b − A v. */
export type HeavyBallLinearOptions = HeavyBallOptions

/** A heavy-ball state: vₖ, ‖A vₖ − b‖ and vₖ₊₁. */
export type HeavyBallLinearState = LookAhead<LinearState>

/**
 * The heavy-ball linear solver. State k reports the true residual ‖A vₖ − b‖ from the product
 * the step uses (one product per step; `counts.jacW` of state k is k + 1). Starts at v₀ with
 * v₋₁ = v₀. Its check refuses β ∉ [0, 1) and η ≤ 0.
 */
export const heavyBallLinear = (opts: HeavyBallLinearOptions): LinearSolver<HeavyBallLinearState> => {
  const { beta, eta, fields } = heavyBallSettings('linear', opts)
  const at = (system: LinearSystem, v: Vec, iter: number, rng: Rng, prev: RVec = v): HeavyBallLinearState => {
    const b = system.rhs
    const ahead = complementOf(system)(v) // fresh: ∂₁Φᵀvₖ, then vₖ₊₁ in place
    assertDim('heavyBallLinear: ∂₁Φᵀv', v.length, ahead.length)
    let s = 0
    for (let i = 0; i < v.length; i++) {
      const vi = v[i]!
      const r = b[i]! - vi + ahead[i]!
      s += r * r
      ahead[i] = vi + eta * r + beta * (vi - prev[i]!)
    }
    return { v, iter, residual: Math.sqrt(s), ahead, rng, counts: { phi: 0, jacW: iter + 1, jacLambda: 0 } }
  }
  return {
    ...fields,
    init: (system, v0, rng) => at(system, Float64Array.from(v0), 0, rng),
    step: (system, s) => at(system, s.ahead, s.iter + 1, s.rng, s.v),
  }
}
