/**
 * The truncated Neumann series for the linear system of AID (Grazzi et al. 2020):
 *
 *   (I − ∂₁Φᵀ)⁻¹ b = Σ_{i≥0} (∂₁Φᵀ)ⁱ b   (‖∂₁Φ‖ ≤ q < 1).
 *
 * State k holds the series truncated to k terms (on the initial residual, from a warm start):
 * the same iterate as k fixed-point steps, by another order of operations (docs/theory/solvers.md §3).
 */
import { assertDim, type RVec, type Vec } from '../../linalg/types.js'
import { complementOf } from '../linearSystem.js'
import type { LinearSolver, LinearState, Monitored } from '../types.js'
import { noOptions } from '../check.js'
import { fullBatch, sumSquares } from '../solver.js'

/** A Neumann state: the partial sum vₖᴺ, the next term (∂₁Φᵀ)ᵏ r₀ and its norm (the residual). */
export interface NeumannState extends Monitored<LinearState> {
  readonly term: RVec
}

/**
 * The truncated Neumann series solver (see the module comment for its indexing). State k
 * reports the residual ‖(I − ∂₁Φᵀ)vₖᴺ − b‖ = ‖(∂₁Φᵀ)ᵏ r₀‖, the norm of the next term, which the
 * step that builds state k + 1 needs anyway: `counts.jacW` of state k is k (+ 1 when v₀ ≠ 0,
 * for r₀). In exact arithmetic this residual is the true one.
 */
export const neumann = (): LinearSolver<NeumannState> => ({
  ...fullBatch('linear', 'neumann'),
  check: noOptions,
  init: (system, v0, rng) => {
    const start = Float64Array.from(v0)
    const b = system.rhs
    // r₀ = b − v₀ + ∂₁Φᵀv₀ (one product unless v₀ = 0): the next term of the series.
    let term: Vec
    let products = 0
    if (start.some((z) => z !== 0)) {
      term = complementOf(system)(start)
      assertDim('neumann: ∂₁Φᵀv', start.length, term.length)
      products++
      for (let i = 0; i < term.length; i++) term[i] = b[i]! - start[i]! + term[i]!
    } else term = Float64Array.from(b)
    return { v: start, iter: 0, residual: Math.sqrt(sumSquares(term)), term, rng, counts: { phi: 0, jacW: products, jacLambda: 0 } }
  },
  step: (system, s) => {
    const { v: acc, term } = s
    const sum = new Float64Array(acc.length)
    for (let i = 0; i < sum.length; i++) sum[i] = acc[i]! + term[i]!
    const next = complementOf(system)(term) // (∂₁Φᵀ)^{k+1} r₀
    assertDim('neumann: ∂₁Φᵀv', term.length, next.length)
    return { v: sum, iter: s.iter + 1, residual: Math.sqrt(sumSquares(next)), term: next, rng: s.rng, counts: { phi: 0, jacW: s.counts.jacW + 1, jacLambda: 0 } }
  },
})
