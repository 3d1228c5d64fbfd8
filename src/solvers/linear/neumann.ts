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
import * as E from 'fp-ts/lib/Either.js'
import { assertDim, type RVec, type Vec } from '../../linalg/types.js'
import { complementOf } from '../linearSystem.js'
import type { LinearSolver, LinearState } from '../types.js'

/** A Neumann state: the partial sum vₖᴺ, the next term (∂₁Φᵀ)ᵏ r₀ and its norm (the residual). */
export interface NeumannState extends LinearState {
  readonly residual: number
  readonly term: RVec
}

const normOf = (x: RVec): number => {
  let s = 0
  for (let i = 0; i < x.length; i++) s += x[i]! * x[i]!
  return Math.sqrt(s)
}

/**
 * The truncated Neumann series solver (see the module comment for its indexing). State k
 * reports the residual ‖(I − ∂₁Φᵀ)vₖᴺ − b‖ = ‖(∂₁Φᵀ)ᵏ r₀‖, the norm of the next term, which the
 * step that builds state k + 1 needs anyway: `counts.jacW` of state k is k (+ 1 when v₀ ≠ 0,
 * for r₀). In exact arithmetic this residual is the true one.
 */
export const neumann = (): LinearSolver<NeumannState> => ({
  kind: 'linear',
  name: 'neumann',
  stochastic: false,
  check: () => E.right(undefined),
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
    return { v: start, iter: 0, residual: normOf(term), term, rng, counts: { phi: 0, jacW: products, jacLambda: 0 } }
  },
  step: (system, s) => {
    const { v: acc, term } = s
    const sum = new Float64Array(acc.length)
    for (let i = 0; i < sum.length; i++) sum[i] = acc[i]! + term[i]!
    const next = complementOf(system)(term) // (∂₁Φᵀ)^{k+1} r₀
    assertDim('neumann: ∂₁Φᵀv', term.length, next.length)
    return { v: sum, iter: s.iter + 1, residual: normOf(next), term: next, rng: s.rng, counts: { phi: 0, jacW: s.counts.jacW + 1, jacLambda: 0 } }
  },
})
