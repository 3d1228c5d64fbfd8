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
import type { LookAhead, LowerContext, LowerSolver, LowerState } from '../types.js'
import { fullBatch } from '../solver.js'

/** Options of the heavy-ball iteration (lower-level, and on a linear system: heavyBallLinear). */
export interface HeavyBallOptions {
  /** Momentum β ∈ [0, 1). */
  readonly beta: number
  /** Relaxation η > 0 on Φ(w) − w (on the residual b − A v for a linear system); default 1. */
  readonly eta?: number
}

/** A heavy-ball state: wₜ, ‖Φ(wₜ) − wₜ‖ and wₜ₊₁, formed from Φ(wₜ), wₜ and wₜ₋₁. */
export type HeavyBallState = LookAhead<LowerState>

/**
 * β, η (default 1) and the fields of a heavy-ball solver value of the given kind: its name and
 * its check (β ∈ [0, 1), η > 0).
 */
export const heavyBallSettings = <K extends 'lower' | 'linear'>(kind: K, opts: HeavyBallOptions) => {
  const beta = opts?.beta
  const eta = opts?.eta ?? 1
  const name = `heavyBall(β=${beta}, η=${eta})`
  return { beta, eta, fields: { ...fullBatch(kind, name), check: () => allOf(checkUnitInterval(name, 'momentum β', beta), checkPositive(name, 'η', eta)) } }
}

/**
 * The heavy-ball lower solver. State t holds wₜ and ‖Φ(wₜ, λ) − wₜ‖ (one Φ evaluation per
 * step, shared with the next step: `counts.phi` of state t is t + 1). Its check refuses
 * β ∉ [0, 1) and η ≤ 0.
 */
export const heavyBall = (opts: HeavyBallOptions): LowerSolver<HeavyBallState> => {
  const { beta, eta, fields } = heavyBallSettings('lower', opts)
  const at = ({ problem, lambda }: LowerContext, w: Vec, iter: number, rng: LowerState['rng'], prev: RVec = w): HeavyBallState => {
    const ahead = problem.phi(w, lambda) // fresh: becomes wₜ₊₁ in place
    assertDim(`${fields.name}(${problem.name}): Φ(w)`, w.length, ahead.length)
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
    ...fields,
    init: (ctx, w0, rng) => at(ctx, Float64Array.from(w0), 0, rng),
    step: (ctx, s) => at(ctx, s.ahead, s.iter + 1, s.rng, s.w),
  }
}
