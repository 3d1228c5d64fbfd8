/**
 * The fixed-point iteration on the linear system of AID (Grazzi et al. 2020, "AID-FP"; SID
 * eq. 6/7 solved by the affine contraction Ψ(v) = ∂₁Φᵀv + b):
 *
 *   vₖ₊₁ = ∂₁Φ(w, λ)ᵀ vₖ + b,   b = ∇₁E(w, λ).
 *
 * With ‖∂₁Φ‖ ≤ q < 1: ‖vₖ − v*‖ ≤ qᵏ ‖v₀ − v*‖, v* = (I − ∂₁Φᵀ)⁻¹b. From v₀ = 0,
 * vₖ = Σ_{i=0}^{k−1} (∂₁Φᵀ)ⁱ b: the truncated Neumann series with k terms (see neumann.ts).
 */
import { assertDim, type Vec } from '../../linalg/types.js'
import { complementOf } from '../linearSystem.js'
import type { LinearSolver, LinearState, LinearSystem, LookAhead } from '../types.js'
import type { Rng } from '../../random/rng.js'
import { noOptions } from '../check.js'
import { fullBatch } from '../solver.js'

/** A state of the linear fixed-point iteration: vₖ, its residual and vₖ₊₁ = (I − A)vₖ + b. */
export type FixedPointLinearState = LookAhead<LinearState>

const at = (system: LinearSystem, v: Vec, iter: number, rng: Rng): FixedPointLinearState => {
  const b = system.rhs
  const ahead = complementOf(system)(v) // fresh: ∂₁Φᵀvₖ, then vₖ₊₁ in place
  assertDim('fixedPointLinear: ∂₁Φᵀv', v.length, ahead.length)
  let s = 0
  for (let i = 0; i < v.length; i++) {
    const x = ahead[i]! + b[i]!
    const r = x - v[i]!
    s += r * r
    ahead[i] = x
  }
  return { v, iter, residual: Math.sqrt(s), ahead, rng, counts: { phi: 0, jacW: iter + 1, jacLambda: 0 } }
}

/**
 * The linear solver vₖ₊₁ = ∂₁Φᵀvₖ + b (in general (I − A)vₖ + b). State k reports the true
 * residual ‖A vₖ − b‖ = ‖vₖ₊₁ − vₖ‖, computed from the product that the next step uses, so
 * there is one product per step and `counts.jacW` of state k is k + 1.
 */
export const fixedPointLinear = (): LinearSolver<FixedPointLinearState> => ({
  ...fullBatch('linear', 'fp'),
  check: noOptions,
  init: (system, v0, rng) => at(system, Float64Array.from(v0), 0, rng),
  step: (system, s) => at(system, s.ahead, s.iter + 1, s.rng),
})
