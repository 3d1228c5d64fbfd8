/**
 * Heavy-ball (momentum) iteration on the linear system of AID, (I − ∂₁Φᵀ)v = b:
 *
 *   vₖ₊₁ = vₖ + η (b − (I − ∂₁Φᵀ)vₖ) + β (vₖ − vₖ₋₁),   v₋₁ = v₀.
 *
 * With β = 0 and η = 1 it is the fixed-point iteration (fixedPoint.ts). Ehrhardt & Roberts
 * show that differentiating through heavy ball on the lower level is heavy ball on this
 * system. When I − ∂₁Φᵀ is symmetric with spectrum in [μ, L] (for Φ = w − α∇ℓ: μ = ατ,
 * L = αL_ℓ), η = 4/(√L + √μ)² and β = ((√L − √μ)/(√L + √μ))² give the asymptotic rate
 * (√κ − 1)/(√κ + 1), κ = L/μ (`heavyBallParams` in lower/heavyBall.ts gives them).
 */
import { assertDim, type RVec, type Vec } from '../../linalg/types.js'
import { fromIterator, type Stream } from '../../stream/stream.js'
import { checkHeavyBall } from '../lower/heavyBall.js'
import type { Counts, LinearMethod, LinearState, LinearSystem } from '../types.js'

/** Options of the heavy-ball linear solver. */
export interface HeavyBallLinearOptions {
  /** Momentum β ∈ [0, 1). */
  readonly beta: number
  /** Step η > 0 on the residual; default 1. */
  readonly eta?: number
}

/**
 * The heavy-ball linear solver. State k reports the true residual ‖(I − ∂₁Φᵀ)vₖ − b‖ from the
 * product ∂₁Φᵀvₖ the step uses (one product per step; `counts.jacW` of state k is k + 1).
 * Starts at v₀ (iter 0) with v₋₁ = v₀; lazy and replayable. Throws a RangeError for
 * β ∉ [0, 1) or η ≤ 0.
 */
export const heavyBallLinear = (opts: HeavyBallLinearOptions): LinearMethod => {
  const beta = opts.beta
  const eta = opts.eta ?? 1
  checkHeavyBall('heavyBallLinear', beta, eta)
  return {
    name: `heavyBall(β=${beta}, η=${eta})`,
    stochastic: false,
    iterates(system: LinearSystem, v0: RVec): Stream<LinearState> {
      assertDim('heavyBallLinear: v₀', system.dim, v0.length)
      assertDim('heavyBallLinear: b', system.dim, system.rhs.length)
      const start = Float64Array.from(v0)
      const b = Float64Array.from(system.rhs)
      return fromIterator(function* () {
        let prev: RVec = start
        let v: Vec = Float64Array.from(start)
        for (let k = 0; ; k++) {
          const next = system.applyJT(v) // fresh: ∂₁Φᵀvₖ, then vₖ₊₁ in place
          assertDim('heavyBallLinear: ∂₁Φᵀv', v.length, next.length)
          let s = 0
          for (let i = 0; i < v.length; i++) {
            const vi = v[i]!
            const r = b[i]! - vi + next[i]!
            s += r * r
            next[i] = vi + eta * r + beta * (vi - prev[i]!)
          }
          const counts: Counts = { phi: 0, jacW: k + 1, jacLambda: 0 }
          yield { v, iter: k, residual: Math.sqrt(s), counts }
          prev = v
          v = next
        }
      })
    },
  }
}
