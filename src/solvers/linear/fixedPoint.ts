/**
 * The fixed-point iteration on the linear system of AID (Grazzi et al. 2020, "AID-FP"; SID
 * eq. 6/7 solved by the affine contraction Ψ(v) = ∂₁Φᵀv + b):
 *
 *   vₖ₊₁ = ∂₁Φ(w, λ)ᵀ vₖ + b,   b = ∇₁E(w, λ).
 *
 * With ‖∂₁Φ‖ ≤ q < 1: ‖vₖ − v*‖ ≤ qᵏ ‖v₀ − v*‖, v* = (I − ∂₁Φᵀ)⁻¹b. From v₀ = 0,
 * vₖ = Σ_{i=0}^{k−1} (∂₁Φᵀ)ⁱ b: the truncated Neumann series with k terms (see neumann.ts).
 */
import { assertDim, type RVec, type Vec } from '../../linalg/types.js'
import { fromIterator, type Stream } from '../../stream/stream.js'
import type { Counts, LinearMethod, LinearState, LinearSystem } from '../types.js'

/**
 * The linear solver vₖ₊₁ = ∂₁Φᵀvₖ + b. Its stream starts at v₀ (iter 0). State k reports the
 * true residual ‖(I − ∂₁Φᵀ)vₖ − b‖ = ‖vₖ₊₁ − vₖ‖, computed from the product ∂₁Φᵀvₖ that
 * the next step uses, so there is one product per step and `counts.jacW` of state k is k + 1.
 * Each state holds a fresh vector; the stream is lazy and replayable.
 */
export const fixedPointLinear = (): LinearMethod => ({
  name: 'fp',
  stochastic: false,
  iterates(system: LinearSystem, v0: RVec): Stream<LinearState> {
    assertDim('fixedPointLinear: v₀', system.dim, v0.length)
    assertDim('fixedPointLinear: b', system.dim, system.rhs.length)
    const start = Float64Array.from(v0)
    const b = Float64Array.from(system.rhs)
    return fromIterator(function* () {
      let v: Vec = Float64Array.from(start)
      for (let k = 0; ; k++) {
        const next = system.applyJT(v) // fresh: ∂₁Φᵀvₖ, then vₖ₊₁ in place
        assertDim('fixedPointLinear: ∂₁Φᵀv', v.length, next.length)
        let s = 0
        for (let i = 0; i < v.length; i++) {
          const x = next[i]! + b[i]!
          const r = x - v[i]!
          s += r * r
          next[i] = x
        }
        const counts: Counts = { phi: 0, jacW: k + 1, jacLambda: 0 }
        yield { v, iter: k, residual: Math.sqrt(s), counts }
        v = next
      }
    })
  },
})
