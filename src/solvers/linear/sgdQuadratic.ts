/**
 * SGD on the quadratic whose minimizer solves the AID/SID linear system (SID §5):
 *
 *   g(v) = ½ vᵀ(I − ∂₁Φ(w, λ)ᵀ)v − vᵀ∇₁E(w, λ),   ĝ(v, ζ) = ½ vᵀ(I − ∂₁Φ̂(w, λ, ζ)ᵀ)v − vᵀ∇₁E,
 *
 * defined when ∂₁Φ is symmetric, as for Φ = w − α∇ℓ, where g(v) = (α/2)vᵀ∇²ℓ v − vᵀ∇₁E
 * and I − ∂₁Φ = α∇²ℓ is positive definite. The step is vₖ₊₁ = vₖ − γₖ∇ĝ(vₖ, ζ̂ₖ) with
 * ∇ĝ(v, ζ) = v − ∂₁Φ̂ᵀv − ∇₁E.
 *
 * Expanding the gradient, vₖ − γₖ∇ĝ = vₖ + γₖ(∂₁Φ̂ᵀvₖ + ∇₁E − vₖ): this is exactly SID eq. 29
 * (`stochasticFixedPoint`) with ηₖ = γₖ, as SID §5 observes at its end. The two are kept as
 * distinct parameterizations, the step size γ of SGD on g against the relaxation η of the
 * Krasnoselskii–Mann iteration, computed along different floating-point paths (the gradient
 * first, then the step), so their agreement is a check of that identity.
 */
import * as E from 'fp-ts/lib/Either.js'
import { hgError, type HypergradError } from '../../errors.js'
import { assertDim, type RVec, type Vec } from '../../linalg/types.js'
import { minibatch, type Rng } from '../../random/rng.js'
import type { Schedule } from '../../schedule/schedule.js'
import { fromIterator, type Stream } from '../../stream/stream.js'
import { checkSchedule, checkStep, throwLeft } from '../lower/sgd.js'
import type { LinearState, LinearSystem } from '../types.js'
import { checkStochasticShape, shapeOfSystem, stochasticParts, type CheckedLinearMethod, type SystemShape } from './stochasticFixedPoint.js'

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
 * Needs a stochastic, symmetric system (otherwise g's gradient is not (I − ∂₁Φᵀ)v − ∇₁E).
 * One minibatch per step from the given Rng (replayable); counts.jacW = k·b/n; no residual.
 */
export const sgdQuadratic = (opts: SgdQuadraticOptions): CheckedLinearMethod => {
  const { gamma, batchSize, replace = false } = opts
  const name = `sgd-quadratic(${gamma.describe}, b=${batchSize}${replace ? ', with replacement' : ''})`
  const check = (shape: SystemShape, steps: number): E.Either<HypergradError, void> => {
    if (!shape.symmetric)
      return E.left(hgError('config', `${name}: SGD on the quadratic needs a symmetric ∂₁Φ; use stochasticFixedPoint (SID eq. 29) instead`))
    const c = checkStochasticShape(name, shape, batchSize, replace)
    return E.isLeft(c) ? c : checkSchedule(name, gamma, steps)
  }
  return {
    name,
    stochastic: true,
    batchSize,
    check,
    iterates(system: LinearSystem, v0: RVec, rng: Rng): Stream<LinearState> {
      throwLeft(check(shapeOfSystem(system), 1))
      const { hat, n } = stochasticParts(name, system)
      const d = system.dim
      assertDim(`${name}: v0`, d, v0.length)
      const start = Float64Array.from(v0)
      const rhs = system.rhs
      return fromIterator(function* () {
        let v: Vec = Float64Array.from(start)
        let r = rng
        yield { v, iter: 0, counts: { phi: 0, jacW: 0, jacLambda: 0 } }
        for (let k = 0; ; k++) {
          const g = gamma.at(k)
          if (!(Number.isFinite(g) && g > 0)) throwLeft(checkStep(name, g, `step γ_${k}`))
          const [batch, next] = minibatch(r, n, batchSize, replace)
          r = next
          const out = hat(batch, v)
          if (out.length !== d) assertDim(`${name}: applyJTHat`, d, out.length)
          for (let i = 0; i < d; i++) {
            const grad = v[i]! - out[i]! - rhs[i]!
            out[i] = v[i]! - g * grad
          }
          v = out
          yield { v, iter: k + 1, counts: { phi: 0, jacW: ((k + 1) * batchSize) / n, jacLambda: 0 } }
        }
      })
    },
  }
}
