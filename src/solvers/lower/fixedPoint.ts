/**
 * The deterministic fixed-point (Krasnoselskii–Mann) iteration on the lower-level map:
 *
 *   wₜ₊₁ = wₜ + η (Φ(wₜ, λ) − wₜ),   η > 0,
 *
 * with η = 1 (the default) the plain iteration wₜ₊₁ = Φ(wₜ, λ) of Grazzi et al. 2020, which
 * for the ERM map Φ = w − α∇₁ℓ (SID eq. 3) is gradient descent with step α (ηα for η ≠ 1).
 * For a q-contraction Φ and η ∈ (0, 1], ‖wₜ − w(λ)‖ ≤ (1 − η(1 − q))ᵗ ‖w₀ − w(λ)‖ (Banach for η = 1).
 */
import type { RVec, Vec } from '../../linalg/types.js'
import { assertDim } from '../../linalg/types.js'
import { checkPositive } from '../check.js'
import type { LookAhead, LowerContext, LowerSolver, LowerState } from '../types.js'
import { fullBatch } from '../solver.js'

/** Options of the fixed-point iteration. */
export interface FixedPointIterationOptions {
  /**
   * The relaxation η > 0; default 1 (plain fixed-point iteration). The relaxed map
   * (1 − η)w + ηΦ(w) contracts for η < 2/(1 + q); for Φ = w − α∇ℓ larger η is a larger step ηα.
   */
  readonly eta?: number
}

/**
 * A state of the fixed-point iteration: wₜ, its residual, and wₜ₊₁ = wₜ + η(Φ(wₜ) − wₜ) already
 * formed from Φ(wₜ) (the evaluation that gives the residual also gives the next iterate).
 */
export type FixedPointState = LookAhead<LowerState>

/**
 * ‖a − b‖ and, in place, a ← b + η(a − b) (so that a becomes the next iterate; for η = 1, a is
 * left as it is, so that the iterate is exactly Φ(wₜ)). Returns the norm.
 */
export const relaxInPlace = (a: Vec, b: RVec, eta: number): number => {
  let s = 0
  if (eta === 1) {
    for (let i = 0; i < a.length; i++) {
      const d = a[i]! - b[i]!
      s += d * d
    }
  } else {
    for (let i = 0; i < a.length; i++) {
      const d = a[i]! - b[i]!
      s += d * d
      a[i] = b[i]! + eta * d
    }
  }
  return Math.sqrt(s)
}

/**
 * The lower-level solver wₜ₊₁ = wₜ + η(Φ(wₜ, λ) − wₜ). State t reports ‖Φ(wₜ, λ) − wₜ‖: the
 * evaluation Φ(wₜ) that gives it is the one the next step uses, so Φ is evaluated once per step
 * and `counts.phi` of state t is t + 1. Its check refuses an η that is not positive and finite.
 */
export const fixedPointIteration = (opts: FixedPointIterationOptions = {}): LowerSolver<FixedPointState> => {
  const eta = opts?.eta ?? 1
  const name = eta === 1 ? 'fp' : `fp(η=${eta})`
  const at = (problem: LowerContext['problem'], lambda: RVec, w: Vec, iter: number, rng: FixedPointState['rng']): FixedPointState => {
    const ahead = problem.phi(w, lambda) // fresh: becomes wₜ₊₁ in place
    assertDim(`${name}(${problem.name}): Φ(w)`, w.length, ahead.length)
    const residual = relaxInPlace(ahead, w, eta)
    return { w, iter, residual, ahead, rng, counts: { phi: iter + 1, jacW: 0, jacLambda: 0 } }
  }
  return {
    ...fullBatch('lower', name),
    check: () => checkPositive(name, 'η', eta),
    init: ({ problem, lambda }, w0, rng) => at(problem, lambda, Float64Array.from(w0), 0, rng),
    step: ({ problem, lambda }, s) => at(problem, lambda, s.ahead, s.iter + 1, s.rng),
  }
}
