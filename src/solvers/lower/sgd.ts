/**
 * The stochastic Krasnoselskii–Mann iteration on the lower-level fixed-point map (SID paper
 * eq. 17, applied to Φ̂ as eq. 28):
 *
 *   wₜ₊₁ = wₜ + ηₜ (Φ̂(wₜ, λ, ζₜ) − wₜ),
 *
 * with ζₜ a fresh minibatch at every step. For the ERM map Φ̂ = w − α∇ℓ̂ this is stochastic
 * gradient descent with step ηₜα (eq. 21). Convergence: SID Thm 4.1 (constant step, linear
 * rate down to the plateau ησ₁/(1−q²)) and Thm 4.2 (ηₜ = β/(γ+t): MSE ≤ c/(γ+t)).
 *
 * This file also holds what the stochastic lower solvers share: the up-front configuration
 * check (`CheckedLowerMethod`, `checkLowerMethod`) that `sid` runs before any work.
 */
import * as E from 'fp-ts/lib/Either.js'
import { hgError, HypergradException, type HypergradError } from '../../errors.js'
import { assertDim, type RVec, type Vec } from '../../linalg/types.js'
import { isStochastic, type BilevelProblem, type StochasticBilevelProblem } from '../../problem/bilevel.js'
import { minibatch, type Rng } from '../../random/rng.js'
import type { Schedule } from '../../schedule/schedule.js'
import { fromIterator, type Stream } from '../../stream/stream.js'
import type { LowerMethod, LowerState } from '../types.js'

/**
 * A lower-level method that can check its configuration against a problem before it runs:
 * `check(problem, steps)` validates everything the first `steps` iterations will use (a
 * stochastic problem when the method samples, batch size ≤ n, positive finite steps).
 * `iterates` runs the same check and throws a `HypergradException` when it fails.
 */
export interface CheckedLowerMethod extends LowerMethod {
  check(problem: BilevelProblem, steps: number): E.Either<HypergradError, void>
  /** The minibatch size the method draws (absent for full-batch methods). */
  readonly batchSize?: number
}

const hasCheck = (m: LowerMethod): m is CheckedLowerMethod => typeof (m as Partial<CheckedLowerMethod>).check === 'function'

/**
 * Check any lower-level method against a problem for `steps` iterations: a stochastic
 * method needs a stochastic problem; a method that carries its own `check` runs it too.
 */
export const checkLowerMethod = (m: LowerMethod, problem: BilevelProblem, steps: number): E.Either<HypergradError, void> => {
  if (m.stochastic && !isStochastic(problem))
    return E.left(hgError('config', `${m.name}: a stochastic solver needs a stochastic problem (phiHat), but '${problem.name}' has none`))
  return hasCheck(m) ? m.check(problem, steps) : E.right(undefined)
}

/** A batch size b must be an integer with 1 ≤ b ≤ n (draws are without replacement unless `replace`). */
export const checkBatchSize = (who: string, b: number, n: number, replace = false): E.Either<HypergradError, void> => {
  if (!(Number.isInteger(b) && b >= 1)) return E.left(hgError('domain', `${who}: batch size must be an integer ≥ 1, got ${b}`))
  if (!replace && b > n) return E.left(hgError('domain', `${who}: batch size ${b} is larger than the ${n} samples`))
  return E.right(undefined)
}

/** A step η must be positive and finite. */
export const checkStep = (who: string, eta: number, what = 'step η'): E.Either<HypergradError, void> =>
  Number.isFinite(eta) && eta > 0 ? E.right(undefined) : E.left(hgError('domain', `${who}: ${what} must be positive and finite, got ${eta}`))

/** Every step a schedule gives for t = 0 … steps−1 (at least t = 0) must be positive and finite. */
export const checkSchedule = (who: string, s: Schedule, steps: number): E.Either<HypergradError, void> => {
  const upto = Math.max(1, steps)
  for (let t = 0; t < upto; t++) {
    const eta = s.at(t)
    if (!(Number.isFinite(eta) && eta > 0))
      return E.left(hgError('domain', `${who}: step η_${t} = ${eta} from schedule '${s.describe}' must be positive and finite`))
  }
  return E.right(undefined)
}

/** Throw the check's error (for `iterates`, whose signature has no Either). */
export const throwLeft = (e: E.Either<HypergradError, void>): void => {
  if (E.isLeft(e)) throw new HypergradException(e.left)
}

/** The problem as a stochastic one, after `checkLowerMethod` passed. */
export const asStochastic = (who: string, problem: BilevelProblem): StochasticBilevelProblem => {
  if (!isStochastic(problem))
    throw new HypergradException(hgError('config', `${who}: a stochastic solver needs a stochastic problem (phiHat), but '${problem.name}' has none`))
  return problem
}

/** Options of `sgd`. */
export interface SgdOptions {
  /** The steps ηₜ (SID §4: η ≤ 1/(1+σ₂); β/(γ+t) with β > 1/(1−q²), γ ≥ β(1+σ₂)). */
  readonly schedule: Schedule
  /** Minibatch size b of every ζₜ. */
  readonly batchSize: number
  /** Draw each minibatch with replacement (default: without, i.e. b distinct samples). */
  readonly replace?: boolean
}

/**
 * Stochastic fixed-point iteration (SID eq. 17 / eq. 28; SGD, eq. 21, for ERM maps):
 * wₜ₊₁ = wₜ + ηₜ(Φ̂(wₜ, λ, ζₜ) − wₜ), with ζₜ a minibatch of `batchSize` indices drawn
 * uniformly from the given Rng, one draw per step. With ηₜ = 1 the step is exactly
 * wₜ₊₁ = Φ̂(wₜ, λ, ζₜ). The stream restarts from the same Rng on every iteration, so it is
 * replayable. State t carries counts.phi = t·b/n (full-map units); no residual (that would
 * cost a full Φ evaluation per step).
 */
export const sgd = (opts: SgdOptions): CheckedLowerMethod => {
  const { schedule, batchSize, replace = false } = opts
  const name = `sgd(${schedule.describe}, b=${batchSize}${replace ? ', with replacement' : ''})`
  const check = (problem: BilevelProblem, steps: number): E.Either<HypergradError, void> => {
    if (!isStochastic(problem))
      return E.left(hgError('config', `${name}: a stochastic solver needs a stochastic problem (phiHat), but '${problem.name}' has none`))
    const b = checkBatchSize(name, batchSize, problem.nSamples, replace)
    return E.isLeft(b) ? b : checkSchedule(name, schedule, steps)
  }
  return {
    name,
    stochastic: true,
    batchSize,
    check,
    iterates(problem: BilevelProblem, lambda: RVec, w0: RVec, rng: Rng): Stream<LowerState> {
      throwLeft(check(problem, 1))
      const p = asStochastic(name, problem)
      assertDim(`${name}: w0`, p.dim, w0.length)
      const n = p.nSamples
      const d = p.dim
      // Private copies: changing w₀ or λ after this call cannot alter (or break the replay of) the stream.
      const start = Float64Array.from(w0)
      const lam = Float64Array.from(lambda)
      return fromIterator(function* () {
        // No array is written after it is yielded: each step makes a fresh one.
        let w: Vec = Float64Array.from(start)
        let r = rng
        yield { w, iter: 0, counts: { phi: 0, jacW: 0, jacLambda: 0 } }
        for (let t = 0; ; t++) {
          const eta = schedule.at(t)
          if (!(Number.isFinite(eta) && eta > 0)) throwLeft(checkStep(name, eta, `step η_${t}`))
          const [batch, next] = minibatch(r, n, batchSize, replace)
          r = next
          // phiHat allocates its result: we own it and turn it into wₜ₊₁ in place.
          const out = p.phiHat(w, lam, batch)
          if (out.length !== d) assertDim(`${name}: phiHat`, d, out.length)
          if (eta !== 1) for (let i = 0; i < d; i++) out[i] = w[i]! + eta * (out[i]! - w[i]!)
          w = out
          yield { w, iter: t + 1, counts: { phi: ((t + 1) * batchSize) / n, jacW: 0, jacLambda: 0 } }
        }
      })
    },
  }
}
