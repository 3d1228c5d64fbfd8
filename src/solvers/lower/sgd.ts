/**
 * The stochastic Krasnoselskii–Mann iteration on the lower-level fixed-point map (SID paper
 * eq. 17, applied to Φ̂ as eq. 28):
 *
 *   wₜ₊₁ = wₜ + ηₜ (Φ̂(wₜ, λ, ζₜ) − wₜ),
 *
 * with ζₜ a fresh minibatch at every step. For the ERM map Φ̂ = w − α∇ℓ̂ this is stochastic
 * gradient descent with step ηₜα (eq. 21). Convergence: SID Thm 4.1 (constant step, linear
 * rate down to the plateau ησ₁/(1−q²)) and Thm 4.2 (ηₜ = β/(γ+t): MSE ≤ c/(γ+t)).
 */
import { assertDim } from '../../linalg/types.js'
import * as E from 'fp-ts/lib/Either.js'
import type { Batch, StochasticBilevelProblem } from '../../problem/bilevel.js'
import { minibatch, nextReshuffled, type Epoch, type Rng } from '../../random/rng.js'
import type { Schedule } from '../../schedule/schedule.js'
import { checkBatchSize, checkSchedule, checkStochasticProblem, fail, firstOf, stepFailure } from '../check.js'
import type { LowerSolver, LowerState } from '../types.js'
import { minibatches } from '../solver.js'

/** Options of `sgd`. */
export interface SgdOptions {
  /** The steps ηₜ (SID §4: η ≤ 1/(1+σ₂); β/(γ+t) with β > 1/(1−q²), γ ≥ β(1+σ₂)). */
  readonly schedule: Schedule
  /** Minibatch size b of every ζₜ. */
  readonly batchSize: number
  /** Draw each minibatch with replacement (default: without, i.e. b distinct samples). */
  readonly replace?: boolean
  /**
   * 'independent' (default): every minibatch drawn afresh, as SID's theory assumes;
   * 'reshuffle': consecutive batches of one random permutation per epoch, as data loaders do.
   */
  readonly sampling?: Sampling
}

/** How minibatches are drawn: independently at every step, or in reshuffled passes over the samples. */
export type Sampling = 'independent' | 'reshuffle'

/** A state of a minibatch solver: where its reshuffled pass stands (for 'reshuffle' sampling). */
export interface SampledState {
  readonly epoch?: Epoch
}

/**
 * The next minibatch of a solver state and the state's sampling fields: an independent draw,
 * or the next batch of the reshuffled pass.
 */
export const drawBatch = (s: { readonly rng: Rng; readonly epoch?: Epoch }, n: number, b: number, replace: boolean, sampling: Sampling): readonly [Batch, { rng: Rng; epoch?: Epoch }] => {
  if (sampling === 'reshuffle') {
    const [batch, rng, epoch] = nextReshuffled(s.rng, n, b, s.epoch)
    return [batch, { rng, epoch }]
  }
  const [batch, rng] = minibatch(s.rng, n, b, replace)
  return [batch, { rng }]
}

/** The sampling option checked: 'independent' or 'reshuffle' (without replacement). */
export const checkSampling = (who: string, sampling: unknown, replace: boolean) =>
  sampling === 'independent' || (sampling === 'reshuffle' && !replace)
    ? E.right(undefined)
    : fail('config', who, sampling === 'reshuffle' ? 'reshuffled passes draw without replacement: drop replace' : `sampling must be 'independent' or 'reshuffle', got ${String(sampling)}`)

/**
 * Stochastic fixed-point iteration (SID eq. 17 / eq. 28; SGD, eq. 21, for ERM maps):
 * wₜ₊₁ = wₜ + ηₜ(Φ̂(wₜ, λ, ζₜ) − wₜ), with ζₜ a minibatch of `batchSize` indices drawn from the
 * state's Rng, one draw per step. With ηₜ = 1 the step is exactly wₜ₊₁ = Φ̂(wₜ, λ, ζₜ). State t
 * carries counts.phi = t·b/n (full-map units) and no residual (that would cost a full Φ per step).
 * Its check needs a stochastic problem, 1 ≤ b ≤ n and positive finite steps; a step past those
 * checked that is not positive and finite ends the stream (stop 'diverged', naming it).
 */
export const sgd = (opts: SgdOptions): LowerSolver<LowerState & SampledState> => {
  const schedule = opts?.schedule
  const batchSize = opts?.batchSize
  const replace = opts?.replace ?? false
  const sampling = opts?.sampling ?? 'independent'
  const name = `sgd(${schedule?.describe ?? 'no schedule'}, b=${batchSize}${replace ? ', with replacement' : ''}${sampling === 'reshuffle' ? ', reshuffled' : ''})`
  return {
    ...minibatches('lower', name, batchSize),
    check: (problem, steps) =>
      firstOf(
        () => checkStochasticProblem(name, problem),
        () => checkSampling(name, sampling, replace),
        () => checkBatchSize(name, batchSize, (problem as StochasticBilevelProblem).nSamples, replace),
        () => checkSchedule(name, schedule, steps),
      ),
    init: (_ctx, w0, rng) => ({ w: Float64Array.from(w0), iter: 0, rng, counts: { phi: 0, jacW: 0, jacLambda: 0 } }),
    step: ({ problem, lambda }, s: LowerState & SampledState): LowerState & SampledState => {
      const p = problem as StochasticBilevelProblem
      const t = s.iter
      const eta = schedule.at(t)
      if (!(eta > 0 && eta < Infinity)) return stepFailure(name, schedule, s)
      const [batch, drawn] = drawBatch(s, p.nSamples, batchSize, replace, sampling)
      const w = s.w
      const d = w.length
      // phiHat allocates its result: we own it and turn it into wₜ₊₁ in place.
      const out = p.phiHat(w, lambda, batch)
      if (out.length !== d) assertDim(`${name}: phiHat`, d, out.length)
      if (eta !== 1) for (let i = 0; i < d; i++) out[i] = w[i]! + eta * (out[i]! - w[i]!)
      return { w: out, iter: t + 1, ...drawn, counts: { phi: ((t + 1) * batchSize) / p.nSamples, jacW: 0, jacLambda: 0 } }
    },
  }
}
