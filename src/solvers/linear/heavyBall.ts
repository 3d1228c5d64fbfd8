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
import { allOf, checkPositive, checkUnitInterval } from '../check.js'
import { complementOf } from '../linearSystem.js'
import type { LinearSolver, LinearState, LinearSystem } from '../types.js'
import { fullBatch } from '../solver.js'

/** Options of the heavy-ball linear solver. */
export interface HeavyBallLinearOptions {
  /** Momentum β ∈ [0, 1). */
  readonly beta: number
  /** Step η > 0 on the residual; default 1. */
  readonly eta?: number
}

/** A heavy-ball state: vₖ, ‖A vₖ − b‖ and vₖ₊₁. */
export interface HeavyBallLinearState extends LinearState {
  readonly residual: number
  readonly ahead: Vec
}

/**
 * The heavy-ball linear solver. State k reports the true residual ‖A vₖ − b‖ from the product
 * the step uses (one product per step; `counts.jacW` of state k is k + 1). Starts at v₀ with
 * v₋₁ = v₀. Its check refuses β ∉ [0, 1) and η ≤ 0.
 */
export const heavyBallLinear = (opts: HeavyBallLinearOptions): LinearSolver<HeavyBallLinearState> => {
  const beta = opts?.beta
  const eta = opts?.eta ?? 1
  const name = `heavyBall(β=${beta}, η=${eta})`
  const at = (system: LinearSystem, v: Vec, prev: RVec, iter: number, rng: Rng): HeavyBallLinearState => {
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
    ...fullBatch('linear', name),
    check: () => allOf(checkUnitInterval(name, 'momentum β', beta), checkPositive(name, 'η', eta)),
    init: (system, v0, rng) => {
      const v = Float64Array.from(v0)
      return at(system, v, v, 0, rng)
    },
    step: (system, s) => at(system, s.ahead, s.v, s.iter + 1, s.rng),
  }
}
