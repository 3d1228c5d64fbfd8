/**
 * The truncated Neumann series for the linear system of AID (Grazzi et al. 2020):
 *
 *   (I − ∂₁Φᵀ)⁻¹ b = Σ_{i≥0} (∂₁Φᵀ)ⁱ b   (‖∂₁Φ‖ ≤ q < 1).
 *
 * Indexing, stated exactly: state k holds the series truncated to k terms. From v₀ = 0,
 *
 *   vₖᴺ = Σ_{i=0}^{k−1} (∂₁Φᵀ)ⁱ b          (k terms; state 0 is v₀ = 0),
 *
 * which is also state k of the fixed-point solver (fixedPoint.ts) from v₀ = 0: Neumann with K
 * terms equals the fixed-point iteration with K steps. With a warm start v₀ the series is taken
 * on the initial residual r₀ = b − (I − ∂₁Φᵀ)v₀: vₖᴺ = v₀ + Σ_{i=0}^{k−1} (∂₁Φᵀ)ⁱ r₀, and the same
 * identity holds from that v₀ (both equal v* − (∂₁Φᵀ)ᵏ(v* − v₀)). The two differ only in the
 * order of the floating-point operations (a running sum of powers against repeated
 * application of the affine map).
 */
import { assertDim, type RVec, type Vec } from '../../linalg/types.js'
import { fromIterator, type Stream } from '../../stream/stream.js'
import type { Counts, LinearMethod, LinearState, LinearSystem } from '../types.js'

const isZero = (x: RVec): boolean => {
  for (let i = 0; i < x.length; i++) if (x[i] !== 0) return false
  return true
}

/**
 * The truncated Neumann series solver (see the module comment for its indexing). State k
 * reports the residual ‖(I − ∂₁Φᵀ)vₖᴺ − b‖ = ‖(∂₁Φᵀ)ᵏ r₀‖, the norm of the next term, which
 * the step that builds state k + 1 needs anyway: `counts.jacW` of state k is k (+ 1 when
 * v₀ ≠ 0, for r₀). In exact arithmetic this residual is the true one. Lazy and replayable.
 */
export const neumann = (): LinearMethod => ({
  name: 'neumann',
  stochastic: false,
  iterates(system: LinearSystem, v0: RVec): Stream<LinearState> {
    assertDim('neumann: v₀', system.dim, v0.length)
    assertDim('neumann: b', system.dim, system.rhs.length)
    const start = Float64Array.from(v0)
    const b = Float64Array.from(system.rhs)
    const warm = !isZero(start)
    return fromIterator(function* () {
      // r₀ = b − v₀ + ∂₁Φᵀv₀ (one product unless v₀ = 0): the next term of the series.
      let term: Vec
      let products = 0
      if (warm) {
        term = system.applyJT(start)
        assertDim('neumann: ∂₁Φᵀv', start.length, term.length)
        products++
        for (let i = 0; i < term.length; i++) term[i] = b[i]! - start[i]! + term[i]!
      } else term = Float64Array.from(b)
      let acc: Vec = start
      for (let k = 0; ; k++) {
        let s = 0
        for (let i = 0; i < term.length; i++) s += term[i]! * term[i]!
        const counts: Counts = { phi: 0, jacW: products, jacLambda: 0 }
        yield { v: acc, iter: k, residual: Math.sqrt(s), counts }
        const sum = new Float64Array(acc.length)
        for (let i = 0; i < sum.length; i++) sum[i] = acc[i]! + term[i]!
        acc = sum
        const next = system.applyJT(term) // (∂₁Φᵀ)^{k+1} r₀
        assertDim('neumann: ∂₁Φᵀv', term.length, next.length)
        products++
        term = next
      }
    })
  },
})
