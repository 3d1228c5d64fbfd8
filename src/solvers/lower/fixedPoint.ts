/**
 * The deterministic fixed-point (Krasnoselskii–Mann) iteration on the lower-level map:
 *
 *   wₜ₊₁ = wₜ + η (Φ(wₜ, λ) − wₜ),   η > 0,
 *
 * with η = 1 (the default) the plain iteration wₜ₊₁ = Φ(wₜ, λ) of Grazzi et al. 2020, which
 * for the ERM map Φ = w − α∇₁ℓ (SID eq. 3) is gradient descent with step α (ηα for η ≠ 1).
 * For a q-contraction Φ and η ∈ (0, 1], ‖wₜ − w(λ)‖ ≤ (1 − η(1 − q))ᵗ ‖w₀ − w(λ)‖; for η = 1
 * this is qᵗ ‖w₀ − w(λ)‖ (Banach).
 */
import { assertDim, type RVec, type Vec } from '../../linalg/types.js'
import type { BilevelProblem } from '../../problem/bilevel.js'
import { fromIterator, type Stream } from '../../stream/stream.js'
import type { Counts, LowerMethod, LowerState } from '../types.js'

/** Options of the fixed-point iteration. */
export interface FixedPointIterationOptions {
  /**
   * The relaxation η > 0; default 1 (plain fixed-point iteration). The relaxed map
   * (1 − η)w + ηΦ(w) contracts for η < 2/(1 + q); for Φ = w − α∇ℓ larger η is a larger step ηα.
   */
  readonly eta?: number
}

/** Checks a relaxation parameter η (positive, finite), throwing a RangeError naming it (a programmer error at construction). */
export const checkRelaxation = (who: string, eta: number): number => {
  if (!(Number.isFinite(eta) && eta > 0)) throw new RangeError(`${who}: η must be positive and finite, got ${eta}`)
  return eta
}

/**
 * ‖a − b‖ and, in place, a ← b + η(a − b) (so that a becomes the next iterate; for η = 1, a is
 * left as it is, so that the iterate is exactly Φ(wₜ)). Returns the norm.
 */
const relaxInPlace = (a: Vec, b: RVec, eta: number): number => {
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
 * The lower-level solver wₜ₊₁ = wₜ + η(Φ(wₜ, λ) − wₜ). Its stream starts at the given w₀
 * (iter 0). State t reports residual ‖Φ(wₜ, λ) − wₜ‖: the evaluation Φ(wₜ) that gives it is
 * the one the next step uses, so Φ is evaluated once per step and `counts.phi` of state t is
 * t + 1 (it includes the evaluation at wₜ). Each state holds a fresh vector; the stream is
 * lazy and replayable. Throws a RangeError unless η is positive and finite.
 */
export const fixedPointIteration = (opts: FixedPointIterationOptions = {}): LowerMethod => {
  const eta = checkRelaxation('fixedPointIteration', opts.eta ?? 1)
  return {
    name: eta === 1 ? 'fp' : `fp(η=${eta})`,
    stochastic: false,
    iterates(problem: BilevelProblem, lambda: RVec, w0: RVec): Stream<LowerState> {
      assertDim(`fixedPointIteration(${problem.name}): w₀`, problem.dim, w0.length)
      const start = Float64Array.from(w0)
      const lam = Float64Array.from(lambda)
      return fromIterator(function* () {
        let w: Vec = Float64Array.from(start)
        for (let t = 0; ; t++) {
          const next = problem.phi(w, lam) // fresh: becomes wₜ₊₁ in place below
          assertDim(`fixedPointIteration(${problem.name}): Φ(w)`, w.length, next.length)
          const residual = relaxInPlace(next, w, eta)
          const counts: Counts = { phi: t + 1, jacW: 0, jacLambda: 0 }
          yield { w, iter: t, residual, counts }
          w = next
        }
      })
    },
  }
}
