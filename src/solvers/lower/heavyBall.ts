/**
 * Heavy-ball (momentum) iteration on the lower-level fixed-point map:
 *
 *   wₜ₊₁ = wₜ + η (Φ(wₜ, λ) − wₜ) + β (wₜ − wₜ₋₁),   w₋₁ = w₀.
 *
 * For Φ = w − α∇₁ℓ this is Polyak's heavy ball with step ηα and momentum β. On an ℓ that is
 * τ-strongly convex and L-smooth, the step 4/(√L + √τ)² and momentum β = q_HB²,
 * q_HB = (√L − √τ)/(√L + √τ), give the asymptotic rate q_HB per step on quadratics (the
 * parameters Ehrhardt & Roberts use for their heavy-ball solvers; `heavyBallParams`).
 */
import { assertDim, type RVec, type Vec } from '../../linalg/types.js'
import { allOf, checkPositive, checkUnitInterval } from '../check.js'
import type { LowerContext, LowerSolver, LowerState } from '../types.js'
import { fullBatch } from '../solver.js'

/** Options of the heavy-ball iteration. */
export interface HeavyBallOptions {
  /** Momentum β ∈ [0, 1). */
  readonly beta: number
  /** Relaxation η > 0 on Φ(w) − w; default 1. */
  readonly eta?: number
}

/** A heavy-ball state: wₜ, ‖Φ(wₜ) − wₜ‖ and wₜ₊₁, formed from Φ(wₜ), wₜ and wₜ₋₁. */
export interface HeavyBallState extends LowerState {
  readonly residual: number
  readonly ahead: Vec
}

/**
 * The heavy-ball lower solver. State t holds wₜ and ‖Φ(wₜ, λ) − wₜ‖ (one Φ evaluation per
 * step, shared with the next step: `counts.phi` of state t is t + 1). Its check refuses
 * β ∉ [0, 1) and η ≤ 0.
 */
export const heavyBall = (opts: HeavyBallOptions): LowerSolver<HeavyBallState> => {
  const beta = opts?.beta
  const eta = opts?.eta ?? 1
  const name = `heavyBall(β=${beta}, η=${eta})`
  const at = ({ problem, lambda }: LowerContext, w: Vec, prev: RVec, iter: number, rng: LowerState['rng']): HeavyBallState => {
    const ahead = problem.phi(w, lambda) // fresh: becomes wₜ₊₁ in place
    assertDim(`${name}(${problem.name}): Φ(w)`, w.length, ahead.length)
    let s = 0
    for (let i = 0; i < w.length; i++) {
      const wi = w[i]!
      const d = ahead[i]! - wi
      s += d * d
      ahead[i] = wi + eta * d + beta * (wi - prev[i]!)
    }
    return { w, iter, residual: Math.sqrt(s), ahead, rng, counts: { phi: iter + 1, jacW: 0, jacLambda: 0 } }
  }
  return {
    ...fullBatch('lower', name),
    check: () => allOf(checkUnitInterval(name, 'momentum β', beta), checkPositive(name, 'η', eta)),
    init: (ctx, w0, rng) => {
      const w = Float64Array.from(w0)
      return at(ctx, w, w, 0, rng)
    },
    step: (ctx, s) => at(ctx, s.ahead, s.w, s.iter + 1, s.rng),
  }
}
