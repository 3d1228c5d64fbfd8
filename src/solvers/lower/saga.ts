/**
 * SAGA on the finite-sum fixed-point map Φ = (1/n) Σᵢ Φ̂ᵢ (Defazio, Bach & Lacoste-Julien's
 * variance reduction, written for a map rather than a gradient). A table keeps, for every
 * sample i, the value gᵢ = Φ̂ᵢ(φᵢ, λ) at the point φᵢ where i was last visited, and their mean
 * ḡ. A step draws a minibatch B and moves along an unbiased direction whose variance
 * vanishes at the fixed point:
 *
 *   wₜ₊₁ = wₜ + η ( (1/b) Σ_{j∈B} (Φ̂ⱼ(wₜ, λ) − gⱼ) + ḡ − wₜ ),   then gⱼ ← Φ̂ⱼ(wₜ, λ) for j ∈ B.
 *
 * For Φ̂ = w − α∇ℓ̂ this is SAGA on ℓ with step ηα; on a finite sum it converges linearly (the
 * fast rates SID §5 refers to).
 *
 * Memory: the table holds n vectors of length d, O(n·d) numbers (5000 × 784 doubles = 31 MB
 * for the MNIST problem of SID §6). For linear models a table of n scalars would do (ℓ̂ᵢ's
 * gradient is a multiple of xᵢ plus the regularizer), but the problem interface does not
 * expose that structure, so this generic version stores whole vectors.
 */
import * as E from 'fp-ts/lib/Either.js'
import { hgError, type HypergradError } from '../../errors.js'
import { assertDim, type RVec, type Vec } from '../../linalg/types.js'
import { isStochastic, type BilevelProblem } from '../../problem/bilevel.js'
import { sampleWithoutReplacement, type Rng } from '../../random/rng.js'
import { fromIterator, type Stream } from '../../stream/stream.js'
import type { LowerState } from '../types.js'
import { asStochastic, checkBatchSize, checkStep, throwLeft, type CheckedLowerMethod } from './sgd.js'

/** Options of `saga`. */
export interface SagaOptions {
  /**
   * The step η along the corrected direction (default 1/3: for Φ̂ᵢ = w − α∇ℓ̂ᵢ with
   * α = 2/(L+τ) the SAGA step 1/(3 maxᵢ Lᵢ) when the per-sample curvature Lᵢ is close to L;
   * pass a smaller η when single samples are much more curved than the average).
   */
  readonly eta?: number
  /** Minibatch size b (default 1), drawn without replacement. */
  readonly batchSize?: number
}

/** The default SAGA step. */
export const SAGA_DEFAULT_ETA = 1 / 3

/**
 * SAGA written on the fixed-point map (see the file comment). Needs a stochastic problem.
 * The table is filled at w₀ (n single-sample evaluations: one full-map unit); each step then
 * costs b single-sample evaluations (b/n units). Memory O(n·d). The stream rebuilds its table
 * and restarts from the given Rng on every iteration (replayable).
 */
export const saga = (opts: SagaOptions = {}): CheckedLowerMethod => {
  const eta = opts.eta ?? SAGA_DEFAULT_ETA
  const b = opts.batchSize ?? 1
  const name = `saga(η=${eta}, b=${b})`
  const check = (problem: BilevelProblem): E.Either<HypergradError, void> => {
    if (!isStochastic(problem))
      return E.left(hgError('config', `${name}: a stochastic solver needs a stochastic problem (phiHat), but '${problem.name}' has none`))
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
      return fromIterator(function* () {
        let w: Vec = Float64Array.from(start)
        let r = rng
        // The table and its mean belong to this iteration only.
        const table = new Float64Array(n * d)
        const mean = new Float64Array(d)
        const one = new Int32Array(1)
        for (let i = 0; i < n; i++) {
          one[0] = i
          const g = p.phiHat(w, lam, one)
          if (g.length !== d) assertDim(`${name}: phiHat`, d, g.length)
          table.set(g, i * d)
          for (let j = 0; j < d; j++) mean[j] = mean[j]! + g[j]!
        }
        for (let j = 0; j < d; j++) mean[j] = mean[j]! / n
        const fresh: Float64Array[] = new Array<Float64Array>(b)
        const delta = new Float64Array(d)
        yield { w, iter: 0, counts: { phi: 1, jacW: 0, jacLambda: 0 } }
        for (let t = 0; ; t++) {
          const [batch, next] = sampleWithoutReplacement(r, n, b)
          r = next
          delta.fill(0)
          for (let s = 0; s < b; s++) {
            one[0] = batch[s]!
            const g = p.phiHat(w, lam, one)
            fresh[s] = g
            const off = batch[s]! * d
            for (let j = 0; j < d; j++) delta[j] = delta[j]! + (g[j]! - table[off + j]!)
          }
          const out = new Float64Array(d)
          for (let j = 0; j < d; j++) out[j] = w[j]! + eta * (delta[j]! / b + mean[j]! - w[j]!)
          for (let j = 0; j < d; j++) mean[j] = mean[j]! + delta[j]! / n
          for (let s = 0; s < b; s++) table.set(fresh[s]!, batch[s]! * d)
          w = out
          yield { w, iter: t + 1, counts: { phi: 1 + (b * (t + 1)) / n, jacW: 0, jacLambda: 0 } }
        }
      })
    },
  }
}
