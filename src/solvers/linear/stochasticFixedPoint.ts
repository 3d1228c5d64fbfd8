/**
 * The stochastic fixed-point iteration on the linear system of AID/SID (SID paper eq. 29):
 *
 *   vₖ₊₁ = vₖ + ηₖ (Ψ̂(vₖ, ζ̂ₖ) − vₖ),   Ψ̂(v, ζ) = ∂₁Φ̂(w, λ, ζ)ᵀ v + ∇₁E(w, λ),
 *
 * i.e. the stochastic Krasnoselskii–Mann iteration (eq. 17) on the affine contraction
 * Ψ(v) = ∂₁Φᵀv + ∇₁E, whose fixed point solves (I − ∂₁Φᵀ)v = ∇₁E (eq. 6/7). Its rates are
 * SID Thm 5.1 (eq. 31) for ηₖ = β/(γ+k) and Thm 4.1 for a constant step.
 */
import { assertDim } from '../../linalg/types.js'
import type { Schedule } from '../../schedule/schedule.js'
import { checkSchedule, checkStochasticShape, firstOf, stepFailure } from '../check.js'
import { complementHatOf } from '../linearSystem.js'
import { checkSampling, drawBatch, type SampledState, type Sampling } from '../lower/sgd.js'
import type { LinearSolver, LinearState } from '../types.js'
import { minibatches } from '../solver.js'

/** Options of `stochasticFixedPoint`. */
export interface StochasticFixedPointOptions {
  /** The steps ηₖ (as for the lower problem: SID §4 and Thm 5.1). */
  readonly schedule: Schedule
  /** Minibatch size b of every ζ̂ₖ. */
  readonly batchSize: number
  /** Draw with replacement (default: without). */
  readonly replace?: boolean
  /** 'independent' (default) or 'reshuffle' (one permutation per epoch; see sgd). */
  readonly sampling?: Sampling
}

/**
 * SID eq. 29: vₖ₊₁ = vₖ + ηₖ(∂₁Φ̂(w, λ, ζ̂ₖ)ᵀvₖ + ∇₁E(w, λ) − vₖ), one fresh minibatch ζ̂ₖ per
 * step drawn from the state's Rng. With ηₖ = 1 the step is exactly vₖ₊₁ = ∂₁Φ̂ᵀvₖ + ∇₁E.
 * State k carries counts.jacW = k·b/n; no residual. Its check needs a stochastic system,
 * 1 ≤ b ≤ n and positive finite steps.
 */
export const stochasticFixedPoint = (opts: StochasticFixedPointOptions): LinearSolver<LinearState & SampledState> => {
  const schedule = opts?.schedule
  const batchSize = opts?.batchSize
  const replace = opts?.replace ?? false
  const sampling = opts?.sampling ?? 'independent'
  const name = `stochastic-fixed-point(${schedule?.describe ?? 'no schedule'}, b=${batchSize}${replace ? ', with replacement' : ''}${sampling === 'reshuffle' ? ', reshuffled' : ''})`
  return {
    ...minibatches('linear', name, batchSize),
    check: (shape, steps) =>
      firstOf(
        () => checkStochasticShape(name, shape, batchSize, replace),
        () => checkSampling(name, sampling, replace),
        () => checkSchedule(name, schedule, steps),
      ),
    init: (_system, v0, rng) => ({ v: Float64Array.from(v0), iter: 0, rng, counts: { phi: 0, jacW: 0, jacLambda: 0 } }),
    step: (system, s: LinearState & SampledState): LinearState & SampledState => {
      const k = s.iter
      const eta = schedule.at(k)
      if (!(eta > 0 && eta < Infinity)) return stepFailure(name, schedule, s)
      const n = system.nSamples!
      const [batch, drawn] = drawBatch(s, n, batchSize, replace, sampling)
      const v = s.v
      const d = v.length
      const rhs = system.rhs
      const out = complementHatOf(system)!(batch, v)
      if (out.length !== d) assertDim(`${name}: ∂₁Φ̂ᵀv`, d, out.length)
      if (eta === 1) for (let i = 0; i < d; i++) out[i] = out[i]! + rhs[i]!
      else for (let i = 0; i < d; i++) out[i] = v[i]! + eta * (out[i]! + rhs[i]! - v[i]!)
      return { v: out, iter: k + 1, ...drawn, counts: { phi: 0, jacW: ((k + 1) * batchSize) / n, jacLambda: 0 } }
    },
  }
}
