/**
 * SVRG on the finite-sum fixed-point map (Johnson & Zhang's variance reduction, written for a
 * map Φ = (1/n) Σᵢ Φ̂ᵢ rather than for a gradient). Every `epochLength` steps a snapshot w̃ is
 * taken and the full map Φ(w̃, λ) evaluated; in between, each step draws a minibatch B and
 * moves along a direction whose mean is Φ(w) − w but whose variance vanishes as w, w̃ → w(λ):
 *
 *   wₜ₊₁ = wₜ + η (Φ̂(wₜ, λ, B) − Φ̂(w̃, λ, B) + Φ(w̃, λ) − wₜ).
 *
 * For Φ̂ = w − α∇ℓ̂ this is SVRG on ℓ with step ηα. On a finite sum it converges linearly
 * (the fast rates SID §5 refers to; SID's Theorem 3.4 then applies with a geometric ρ(t)),
 * unlike plain SGD, whose constant-step error stalls at the plateau of SID Thm 4.1.
 */
import * as E from 'fp-ts/lib/Either.js'
import { hgError, type HypergradError } from '../../errors.js'
import { assertDim, type RVec, type Vec } from '../../linalg/types.js'
import { isStochastic, type BilevelProblem } from '../../problem/bilevel.js'
import { sampleWithoutReplacement, type Rng } from '../../random/rng.js'
import { fromIterator, type Stream } from '../../stream/stream.js'
import type { LowerState } from '../types.js'
import { asStochastic, checkBatchSize, checkStep, throwLeft, type CheckedLowerMethod } from './sgd.js'

/** Options of `svrg`. */
export interface SvrgOptions {
  /**
   * The step η along the corrected direction (default 0.5). A safe η depends on the spread of
   * the per-sample maps: for Φ̂ᵢ = w − α∇ℓ̂ᵢ with α = 2/(L+τ), η ≈ L/(2 max_B L_B) (L_B the
   * smoothness of the minibatch loss) is the usual SVRG step 1/max L_B; the default suits
   * problems whose minibatch curvature is within a small factor of the full one.
   */
  readonly eta?: number
  /** Steps between snapshots (default 2⌈n/b⌉, about two passes over the data). */
  readonly epochLength?: number
  /** Minibatch size b (default 1), drawn without replacement. */
  readonly batchSize?: number
}

/** The default SVRG step. */
export const SVRG_DEFAULT_ETA = 0.5

/**
 * SVRG written on the fixed-point map (see the file comment). Needs a stochastic problem.
 * Each step costs two minibatch evaluations (2b/n full-map units) and each snapshot one full
 * Φ; state t carries the cumulative counts. The stream restarts from the given Rng on every
 * iteration (replayable); snapshots are taken at t = 0, m, 2m, … (m = epochLength).
 */
export const svrg = (opts: SvrgOptions = {}): CheckedLowerMethod => {
  const eta = opts.eta ?? SVRG_DEFAULT_ETA
  const b = opts.batchSize ?? 1
  const name = `svrg(η=${eta}, b=${b}${opts.epochLength === undefined ? '' : `, m=${opts.epochLength}`})`
  const check = (problem: BilevelProblem): E.Either<HypergradError, void> => {
    if (!isStochastic(problem))
      return E.left(hgError('config', `${name}: a stochastic solver needs a stochastic problem (phiHat), but '${problem.name}' has none`))
    const m = opts.epochLength
    if (m !== undefined && !(Number.isInteger(m) && m >= 1))
      return E.left(hgError('domain', `${name}: epoch length must be an integer ≥ 1, got ${m}`))
    const cb = checkBatchSize(name, b, problem.nSamples)
    return E.isLeft(cb) ? cb : checkStep(name, eta)
  }
  return {
    name,
    stochastic: true,
    batchSize: b,
    check,
    iterates(problem: BilevelProblem, lambda: RVec, w0: RVec, rng: Rng): Stream<LowerState> {
      throwLeft(check(problem))
      const p = asStochastic(name, problem)
      assertDim(`${name}: w0`, p.dim, w0.length)
      const n = p.nSamples
      const d = p.dim
      // Private copies: changing w₀ or λ after this call cannot alter (or break the replay of) the stream.
      const start = Float64Array.from(w0)
      const lam = Float64Array.from(lambda)
      const m = opts.epochLength ?? 2 * Math.ceil(n / b)
      return fromIterator(function* () {
        let w: Vec = Float64Array.from(start)
        let r = rng
        let snap: RVec = w
        let phiSnap: RVec = w
        let snapshots = 0
        yield { w, iter: 0, counts: { phi: 0, jacW: 0, jacLambda: 0 } }
        for (let t = 0; ; t++) {
          if (t % m === 0) {
            // Iterates are never written after they are created, so w can serve as w̃.
            snap = w
            phiSnap = p.phi(snap, lam)
            snapshots++
          }
          const [batch, next] = sampleWithoutReplacement(r, n, b)
          r = next
          const out = p.phiHat(w, lam, batch)
          const atSnap = p.phiHat(snap, lam, batch)
          if (out.length !== d) assertDim(`${name}: phiHat`, d, out.length)
          for (let i = 0; i < d; i++) out[i] = w[i]! + eta * (out[i]! - atSnap[i]! + phiSnap[i]! - w[i]!)
          w = out
          yield { w, iter: t + 1, counts: { phi: (2 * b * (t + 1)) / n + snapshots, jacW: 0, jacLambda: 0 } }
        }
      })
    },
  }
}
