/**
 * The SID variants of the SID paper's §6 as named presets, parameterized by a budget in epochs.
 *
 *  - 'batch':      full-map fixed-point iteration on both subproblems with η = 1 (deterministic
 *                  gradient descent for ERM maps; AID-FP of Grazzi et al. 2020), exact ∂₂Φ.
 *  - 'stochConst': minibatch SID, eq. 28 and eq. 29 with constant η = 1 (minibatch 50 in §6).
 *  - 'stochDec':   the same with ηₜ = β/(γ + t), β = γ = 2/(1 − q²) (§6; Thm 4.2, Remark 5.1).
 *  - 'twoPhase':   the schedule SID §4 recommends: a constant step 1/(1+σ₂) until the plateau,
 *                  then β/(γ + t − t₀) with β = 2/(1−q²), γ = β(1+σ₂) (schedule.twoPhase), with
 *                  the lower map's σ₂ (default 0, Remark 4.2) and the linear map's (required).
 *
 * Epochs count full passes over the data, shared by the two subproblems as in SID Fig. 1:
 * "2 epochs = one iteration on the lower-level problem plus one on the linear system (Batch),
 * or 100 + 100 minibatch steps (Stoch)" with n = 5000 and minibatch 50. In general an epoch is
 * s = stepsPerEpoch minibatch steps (default n/b, rounded) or one full step (Batch), and E
 * epochs give t = ⌈E·s/2⌉ lower steps and k = ⌊E·s/2⌋ linear steps (t = k = E·s/2 for even E·s).
 */
import * as E from 'fp-ts/lib/Either.js'
import { hgError, type HypergradError } from '../errors.js'
import type { RVec } from '../linalg/types.js'
import { isStochastic, type BilevelProblem } from '../problem/bilevel.js'
import { constant, decreasing, twoPhase, type Schedule } from '../schedule/schedule.js'
import { fixedPointLinear } from '../solvers/linear/fixedPoint.js'
import { stochasticFixedPoint } from '../solvers/linear/stochasticFixedPoint.js'
import { fixedPointIteration } from '../solvers/lower/fixedPoint.js'
import { sgd, type Sampling } from '../solvers/lower/sgd.js'
import type { HypergradResult } from './types.js'
import { sid, type FinalSamples, type SidOptions } from './sid.js'

/** The presets: the three variants of SID §6 and the two-phase schedule of SID §4. */
export type PresetName = 'batch' | 'stochConst' | 'stochDec' | 'twoPhase'

/** Every preset name, in the order of SID §6 then §4. */
export const PRESET_NAMES: ReadonlyArray<PresetName> = ['batch', 'stochConst', 'stochDec', 'twoPhase']

/** Options of `sidPreset`: the epoch budget and what the presets leave open. */
export interface PresetOptions {
  /** The budget E in epochs (an integer ≥ 0), shared by the two subproblems. */
  readonly epochs: number
  /** Minibatch size of the stochastic presets (default 50, as in SID §6). */
  readonly batchSize?: number
  /** Minibatch steps per epoch (default round(n / batchSize), 100 for SID §6's n = 5000). */
  readonly stepsPerEpoch?: number
  /** The seed of SID's three streams (default 0). */
  readonly seed?: number
  /** The final draw (default: 'exact' for 'batch', one minibatch of batchSize otherwise). */
  readonly finalSamples?: FinalSamples
  readonly w0?: RVec
  readonly v0?: RVec
  /** 'twoPhase' only: σ₂ of SID Assumption D(iii) for the lower-level map (default 0: the ERM case of Remark 4.2). */
  readonly sigma2?: number
  /**
   * 'twoPhase' only, required: σ₂ of the linear system's map Ψ̂(v) = ∂₁Φ̂ᵀv + ∇₁E, whose noise
   * grows with ‖v‖ (so σ₂ > 0 even for ERM problems). Estimate it (e.g.
   * `bounds.variance.sigma2Empirical` on the linear map) or give a bound; there is no default.
   */
  readonly sigma2Linear?: number
  /** 'twoPhase' only: the step at which the schedule switches (default half of each stage). */
  readonly switchAt?: number
  /** How the stochastic presets draw minibatches: 'independent' (default, SID's assumption) or 'reshuffle' (one permutation per epoch). */
  readonly sampling?: Sampling
}

/** The numbers of steps t (lower) and k (linear) an epoch budget buys (see the file comment). */
export const epochSteps = (epochs: number, stepsPerEpoch: number): { readonly t: number; readonly k: number } => {
  const total = epochs * stepsPerEpoch
  return { t: Math.ceil(total / 2), k: Math.floor(total / 2) }
}

const posInt = (what: string, x: number, min: number): E.Either<HypergradError, number> =>
  Number.isInteger(x) && x >= min ? E.right(x) : E.left(hgError('domain', `sidPreset: ${what} must be an integer ≥ ${min}, got ${x}`))

/**
 * The `sid` options of a preset for a problem and λ (see the file comment). The stochastic
 * presets need a stochastic problem; 'stochDec' and 'twoPhase' read q = problem.contraction(λ).
 * Returns Left on a bad budget, batch size, λ, q ≥ 1, or a stochastic preset on a deterministic
 * problem; `sid` checks the rest (batch size ≤ n, …).
 */
export const sidPreset = (
  name: PresetName,
  problem: BilevelProblem,
  lambda: RVec,
  opts: PresetOptions,
): E.Either<HypergradError, SidOptions> => {
  const ep = posInt('epochs', opts.epochs, 0)
  if (E.isLeft(ep)) return ep
  const b = posInt('batch size', opts.batchSize ?? 50, 1)
  if (E.isLeft(b)) return b
  const seed = opts.seed ?? 0
  const common = {
    seed,
    ...(opts.w0 === undefined ? {} : { w0: opts.w0 }),
    ...(opts.v0 === undefined ? {} : { v0: opts.v0 }),
  }
  if (name === 'batch') {
    const { t, k } = epochSteps(ep.right, 1)
    return E.right({
      ...common,
      lower: fixedPointIteration(),
      linear: fixedPointLinear(),
      t,
      k,
      finalSamples: opts.finalSamples ?? 'exact',
    })
  }
  if (!(PRESET_NAMES as ReadonlyArray<string>).includes(name)) return E.left(hgError('config', `sidPreset: unknown preset '${String(name)}'`))
  if (!isStochastic(problem))
    return E.left(hgError('config', `sidPreset: '${name}' draws minibatches, but '${problem.name}' has no stochastic map`))
  const spe = posInt('stepsPerEpoch', opts.stepsPerEpoch ?? Math.max(1, Math.round(problem.nSamples / b.right)), 1)
  if (E.isLeft(spe)) return spe
  const { t, k } = epochSteps(ep.right, spe.right)

  let lowerSchedule: E.Either<HypergradError, Schedule>
  let linearSchedule: E.Either<HypergradError, Schedule>
  if (name === 'stochConst') {
    lowerSchedule = constant(1)
    linearSchedule = lowerSchedule
  } else {
    const lam = problem.checkLambda(lambda)
    if (E.isLeft(lam)) return lam
    const q = problem.contraction(lam.right)
    if (!(Number.isFinite(q) && q >= 0 && q < 1))
      return E.left(hgError('domain', `sidPreset: Φ(·, λ) must be a contraction, but q = ${q} is not in [0, 1)`))
    if (name === 'stochDec') {
      const beta = 2 / (1 - q * q)
      lowerSchedule = decreasing(beta, beta)
      linearSchedule = lowerSchedule
    } else {
      if (opts.sigma2Linear === undefined)
        return E.left(hgError('config', "sidPreset: 'twoPhase' needs sigma2Linear, σ₂ of the linear system's map (SID Assumption D(iii)); its noise grows with ‖v‖, so it is not 0: estimate it or give a bound"))
      lowerSchedule = twoPhase({ q, sigma2: opts.sigma2 ?? 0, switchAt: opts.switchAt ?? Math.floor(t / 2) })
      linearSchedule = twoPhase({ q, sigma2: opts.sigma2Linear, switchAt: opts.switchAt ?? Math.floor(k / 2) })
    }
  }
  if (E.isLeft(lowerSchedule)) return lowerSchedule
  if (E.isLeft(linearSchedule)) return linearSchedule
  return E.right({
    ...common,
    lower: sgd({ schedule: lowerSchedule.right, batchSize: b.right, ...(opts.sampling === undefined ? {} : { sampling: opts.sampling }) }),
    linear: stochasticFixedPoint({ schedule: linearSchedule.right, batchSize: b.right, ...(opts.sampling === undefined ? {} : { sampling: opts.sampling }) }),
    t,
    k,
    finalSamples: opts.finalSamples ?? 'one',
    batchSize: b.right,
  })
}

/** `sid` with a preset's options: sidPreset(name, problem, λ, opts) then sid(problem, λ, ·). */
export const sidWithPreset = (
  name: PresetName,
  problem: BilevelProblem,
  lambda: RVec,
  opts: PresetOptions,
): E.Either<HypergradError, HypergradResult> => E.flatMap(sidPreset(name, problem, lambda, opts), (o) => sid(problem, lambda, o))
