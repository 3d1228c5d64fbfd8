/**
 * SGD on the quadratic whose minimizer solves the AID/SID linear system (SID §5):
 *
 *   g(v) = ½ vᵀ(I − ∂₁Φ(w, λ)ᵀ)v − vᵀ∇₁E(w, λ),   ĝ(v, ζ) = ½ vᵀ(I − ∂₁Φ̂(w, λ, ζ)ᵀ)v − vᵀ∇₁E,
 *
 * defined when ∂₁Φ is symmetric (Φ = w − α∇ℓ). Its step is SID eq. 29 under another
 * parameterization (the step γ of SGD against the relaxation η), computed along a different
 * floating-point path: docs/theory/solvers.md §5.
 */
import { assertDim } from '../../linalg/types.js'
import { minibatch } from '../../random/rng.js'
import type { Schedule } from '../../schedule/schedule.js'
import { checkSchedule, checkStochasticShape, fail, firstOf, stepFailure } from '../check.js'
import { complementHatOf } from '../linearSystem.js'
import type { LinearSolver, LinearState } from '../types.js'
import { minibatches } from '../solver.js'

/** Options of `sgdQuadratic`: its own step sizes γ (not η). */
export interface SgdQuadraticOptions {
  /** The SGD step sizes γₖ on g (the quadratic has curvature in [1−q, 1+q]). */
  readonly gamma: Schedule
  /** Minibatch size b of every ζ̂ₖ. */
  readonly batchSize: number
  /** Draw with replacement (default: without). */
  readonly replace?: boolean
}

/**
 * SGD on g(v) = ½vᵀ(I − ∂₁Φᵀ)v − vᵀ∇₁E (SID §5): vₖ₊₁ = vₖ − γₖ(vₖ − ∂₁Φ̂(w, λ, ζ̂ₖ)ᵀvₖ − ∇₁E).
 * Its check needs a stochastic, symmetric system (otherwise g's gradient is not
 * (I − ∂₁Φᵀ)v − ∇₁E). One minibatch per step; counts.jacW = k·b/n; no residual.
 */
export const sgdQuadratic = (opts: SgdQuadraticOptions): LinearSolver => {
  const gamma = opts?.gamma
  const batchSize = opts?.batchSize
  const replace = opts?.replace ?? false
  const name = `sgd-quadratic(${gamma?.describe ?? 'no schedule'}, b=${batchSize}${replace ? ', with replacement' : ''})`
  return {
    ...minibatches('linear', name, batchSize),
    check: (shape, steps) =>
      firstOf(
        () => (shape.symmetric ? checkStochasticShape(name, shape, batchSize, replace) : fail('config', name, 'SGD on the quadratic needs a symmetric ∂₁Φ; use stochasticFixedPoint (SID eq. 29) instead')),
        () => checkSchedule(name, gamma, steps, 'γ'),
      ),
    init: (_system, v0, rng) => ({ v: Float64Array.from(v0), iter: 0, rng, counts: { phi: 0, jacW: 0, jacLambda: 0 } }),
    step: (system, s): LinearState => {
      const k = s.iter
      const g = gamma.at(k)
      if (!(g > 0 && g < Infinity)) return stepFailure(name, gamma, s, 'γ')
      const n = system.nSamples!
      const [batch, rng] = minibatch(s.rng, n, batchSize, replace)
      const v = s.v
      const d = v.length
      const rhs = system.rhs
      const out = complementHatOf(system)!(batch, v)
      if (out.length !== d) assertDim(`${name}: ∂₁Φ̂ᵀv`, d, out.length)
      for (let i = 0; i < d; i++) {
        const grad = v[i]! - out[i]! - rhs[i]!
        out[i] = v[i]! - g * grad
      }
      return { v: out, iter: k + 1, rng, counts: { phi: 0, jacW: ((k + 1) * batchSize) / n, jacLambda: 0 } }
    },
  }
}
