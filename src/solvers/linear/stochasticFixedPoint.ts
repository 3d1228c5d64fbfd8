/**
 * The stochastic fixed-point iteration on the linear system of AID/SID (SID paper eq. 29):
 *
 *   vₖ₊₁ = vₖ + ηₖ (Ψ̂(vₖ, ζ̂ₖ) − vₖ),   Ψ̂(v, ζ) = ∂₁Φ̂(w, λ, ζ)ᵀ v + ∇₁E(w, λ),
 *
 * i.e. the stochastic Krasnoselskii–Mann iteration (eq. 17) on the affine contraction
 * Ψ(v) = ∂₁Φᵀv + ∇₁E, whose fixed point solves (I − ∂₁Φᵀ)v = ∇₁E (eq. 6/7). Its rates are
 * SID Thm 5.1 (eq. 31) for ηₖ = β/(γ+k) and Thm 4.1 for a constant step.
 *
 * This file also holds what the stochastic linear solvers share: the up-front configuration
 * check (`CheckedLinearMethod`, `checkLinearMethod`) that `sid` runs before any work.
 */
import * as E from 'fp-ts/lib/Either.js'
import { hgError, HypergradException, type HypergradError } from '../../errors.js'
import { assertDim, type RVec, type Vec } from '../../linalg/types.js'
import { isStochastic, type Batch, type BilevelProblem } from '../../problem/bilevel.js'
import { minibatch, type Rng } from '../../random/rng.js'
import type { Schedule } from '../../schedule/schedule.js'
import { fromIterator, type Stream } from '../../stream/stream.js'
import { checkBatchSize, checkSchedule, checkStep, throwLeft } from '../lower/sgd.js'
import type { LinearMethod, LinearState, LinearSystem } from '../types.js'

/** What a linear method needs to know about a system before it is built. */
export interface SystemShape {
  /** True when the system offers minibatch products (applyJTHat) over nSamples samples. */
  readonly stochastic: boolean
  readonly nSamples?: number
  readonly symmetric: boolean
}

/** The shape of a built system. */
export const shapeOfSystem = (s: LinearSystem): SystemShape => ({
  stochastic: s.applyJTHat !== undefined && s.nSamples !== undefined,
  symmetric: s.symmetric,
  ...(s.nSamples === undefined ? {} : { nSamples: s.nSamples }),
})

/** The shape of the systems `linearSystemAt(problem, λ, w)` builds, for any w. */
export const shapeOfProblem = (p: BilevelProblem): SystemShape =>
  isStochastic(p) ? { stochastic: true, nSamples: p.nSamples, symmetric: p.symmetric } : { stochastic: false, symmetric: p.symmetric }

/**
 * A linear method that can check its configuration against a system's shape before it runs
 * (a stochastic system when it samples, batch size ≤ n, positive finite steps for the first
 * `steps` iterations). `iterates` runs the same check and throws a `HypergradException`.
 */
export interface CheckedLinearMethod extends LinearMethod {
  check(shape: SystemShape, steps: number): E.Either<HypergradError, void>
  /** The minibatch size the method draws (absent for full-batch methods). */
  readonly batchSize?: number
}

const hasCheck = (m: LinearMethod): m is CheckedLinearMethod => typeof (m as Partial<CheckedLinearMethod>).check === 'function'

const notStochastic = (who: string): HypergradError =>
  hgError('config', `${who}: a stochastic solver needs a stochastic linear system (applyJTHat over nSamples), and this one has none`)

/**
 * Check any linear method against a system shape for `steps` iterations: a stochastic method
 * needs a stochastic system; a method that carries its own `check` runs it too.
 */
export const checkLinearMethod = (m: LinearMethod, shape: SystemShape, steps: number): E.Either<HypergradError, void> => {
  if (m.stochastic && !shape.stochastic) return E.left(notStochastic(m.name))
  return hasCheck(m) ? m.check(shape, steps) : E.right(undefined)
}

/** The shared part of a stochastic linear method's check: a stochastic system and 1 ≤ b ≤ n. */
export const checkStochasticShape = (who: string, shape: SystemShape, b: number, replace = false): E.Either<HypergradError, void> =>
  shape.stochastic && shape.nSamples !== undefined ? checkBatchSize(who, b, shape.nSamples, replace) : E.left(notStochastic(who))

/** The minibatch product and n of a system, after its shape was checked. */
export const stochasticParts = (
  who: string,
  s: LinearSystem,
): { readonly hat: (batch: Batch, v: RVec) => Vec; readonly n: number } => {
  if (s.applyJTHat === undefined || s.nSamples === undefined) throw new HypergradException(notStochastic(who))
  return { hat: s.applyJTHat, n: s.nSamples }
}

/** Options of `stochasticFixedPoint`. */
export interface StochasticFixedPointOptions {
  /** The steps ηₖ (as for the lower problem: SID §4 and Thm 5.1). */
  readonly schedule: Schedule
  /** Minibatch size b of every ζ̂ₖ. */
  readonly batchSize: number
  /** Draw with replacement (default: without). */
  readonly replace?: boolean
}

/**
 * SID eq. 29: vₖ₊₁ = vₖ + ηₖ(∂₁Φ̂(w, λ, ζ̂ₖ)ᵀvₖ + ∇₁E(w, λ) − vₖ), one fresh minibatch ζ̂ₖ per
 * step drawn from the given Rng (replayable: each iteration restarts from it). With ηₖ = 1 the
 * step is exactly vₖ₊₁ = ∂₁Φ̂ᵀvₖ + ∇₁E. State k carries counts.jacW = k·b/n; no residual.
 */
export const stochasticFixedPoint = (opts: StochasticFixedPointOptions): CheckedLinearMethod => {
  const { schedule, batchSize, replace = false } = opts
  const name = `stochastic-fixed-point(${schedule.describe}, b=${batchSize}${replace ? ', with replacement' : ''})`
  const check = (shape: SystemShape, steps: number): E.Either<HypergradError, void> => {
    const c = checkStochasticShape(name, shape, batchSize, replace)
    return E.isLeft(c) ? c : checkSchedule(name, schedule, steps)
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
        // No array is written after it is yielded: each step makes a fresh one.
        let v: Vec = Float64Array.from(start)
        let r = rng
        yield { v, iter: 0, counts: { phi: 0, jacW: 0, jacLambda: 0 } }
        for (let k = 0; ; k++) {
          const eta = schedule.at(k)
          if (!(Number.isFinite(eta) && eta > 0)) throwLeft(checkStep(name, eta, `step η_${k}`))
          const [batch, next] = minibatch(r, n, batchSize, replace)
          r = next
          const out = hat(batch, v)
          if (out.length !== d) assertDim(`${name}: applyJTHat`, d, out.length)
          if (eta === 1) for (let i = 0; i < d; i++) out[i] = out[i]! + rhs[i]!
          else for (let i = 0; i < d; i++) out[i] = v[i]! + eta * (out[i]! + rhs[i]! - v[i]!)
          v = out
          yield { v, iter: k + 1, counts: { phi: 0, jacW: ((k + 1) * batchSize) / n, jacLambda: 0 } }
        }
      })
    },
  }
}
