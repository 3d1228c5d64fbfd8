/**
 * FISTA (Beck & Teboulle 2009) on the lower-level problem, written on the fixed-point map: with
 * Φ = w − α∇ℓ the step yₜ + η(Φ(yₜ, λ) − yₜ) is a gradient step of length ηα on ℓ, and
 *
 *   yₜ = wₜ + ((sₜ₋₁ − 1)/sₜ)(wₜ − wₜ₋₁),   wₜ₊₁ = yₜ + η(Φ(yₜ, λ) − yₜ),
 *   s₀ = 1,  sₜ₊₁ = (1 + √(1 + 4sₜ²))/2,
 *
 * the accelerated gradient method with Nesterov's momentum sequence (no proximal term: ℓ is
 * smooth). It converges as O(1/t²) in ℓ for a step ηα ≤ 1/L; with the library's α = 2/(L + τ),
 * η = 1/2 (the default) gives ηα = 1/(L + τ) ≤ 1/L. Ehrhardt & Roberts §4.2 use it as a lower
 * solver next to gradient descent and heavy ball. With `restart` the momentum restarts
 * whenever ℓ's slope along the step turns up (O'Donoghue & Candès's gradient test,
 * ⟨Φ(yₜ) − yₜ, wₜ₊₁ − wₜ⟩ < 0 in the fixed-point form), which recovers a linear rate on strongly
 * convex ℓ.
 */
import type { Vec } from '../../linalg/types.js'
import { assertDim } from '../../linalg/types.js'
import { checkPositive } from '../check.js'
import type { LowerSolver, LowerState } from '../types.js'
import { fullBatch } from '../solver.js'

/** Options of `fista`. */
export interface FistaOptions {
  /** The relaxation η of the gradient step (default 1/2: a step 1/(L + τ) for α = 2/(L + τ)). */
  readonly eta?: number
  /** Restart the momentum when the step's slope turns up (default true). */
  readonly restart?: boolean
}

/** A FISTA state: wₜ, wₜ₋₁ and the momentum parameter sₜ. */
export interface FistaState extends LowerState {
  readonly prev: Vec
  readonly s: number
}

/**
 * FISTA on the lower-level map (see the module comment). One Φ evaluation per step (at the
 * extrapolated point, so no residual ‖Φ(wₜ) − wₜ‖ is reported: it would cost a second one;
 * stop it by a budget, `solvers.stopWhen`, or run a fixed t). Its check refuses η ≤ 0.
 */
export const fista = (opts: FistaOptions = {}): LowerSolver<FistaState> => {
  const eta = opts?.eta ?? 0.5
  const restart = opts?.restart ?? true
  const name = `fista(η=${eta}${restart ? ', restart' : ''})`
  return {
    ...fullBatch('lower', name),
    check: () => checkPositive(name, 'η', eta),
    init: (_ctx, w0, rng) => {
      const w = Float64Array.from(w0)
      return { w, prev: w, s: 1, iter: 0, rng, counts: { phi: 0, jacW: 0, jacLambda: 0 } }
    },
    step: ({ problem, lambda }, st) => {
      const { w, prev, s } = st
      const d = w.length
      const sNext = (1 + Math.sqrt(1 + 4 * s * s)) / 2
      const m = (s - 1) / sNext
      const y = new Float64Array(d)
      for (let i = 0; i < d; i++) y[i] = w[i]! + m * (w[i]! - prev[i]!)
      const next = problem.phi(y, lambda) // fresh: becomes wₜ₊₁ in place
      assertDim(`${name}(${problem.name}): Φ(y)`, d, next.length)
      let slope = 0
      for (let i = 0; i < d; i++) {
        const g = next[i]! - y[i]! // −α∇ℓ(y)
        next[i] = y[i]! + eta * g
        slope += g * (next[i]! - w[i]!)
      }
      const counts = { phi: st.counts.phi + 1, jacW: 0, jacLambda: 0 }
      return { w: next, prev: w, s: restart && slope < 0 ? 1 : sNext, iter: st.iter + 1, rng: st.rng, counts }
    },
  }
}
