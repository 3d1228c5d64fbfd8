/**
 * The stochastic Neumann-series estimator of the solution of (I − ∂₁Φᵀ)v = b, b = ∇₁E, used by
 * Ghadimi & Wang (2018) for the linear system of bilevel problems (SID paper, footnote 1).
 *
 * With a relaxation η > 0 write I − ∂₁Φᵀ = (1/η)(I − M), M = I − η(I − ∂₁Φᵀ), so that
 *   v = η Σ_{i≥0} Mⁱ b,   and its truncation to N = maxTerms terms is  v_N = η Σ_{i=0}^{N−1} Mⁱ b.
 * One estimate draws K uniform in {0, …, N−1} and K independent minibatches B₁, …, B_K, and
 * returns
 *   v̂ = η · N · M̂_K ⋯ M̂₁ b,   M̂ᵢ = I − η(I − ∂₁Φ̂(w, λ, Bᵢ)ᵀ)    (v̂ = η N b when K = 0).
 * Since the Bᵢ are independent and E[M̂ᵢ] = M,  E[v̂ | K] = η N Mᴷ b, and averaging over K,
 *   E[v̂] = η N Σ_{K=0}^{N−1} (1/N) Mᴷ b = v_N.
 * So v̂ is unbiased for the truncated series v_N, not for v: the bias is v − v_N = Mᴺ v, of norm
 * at most ‖M‖ᴺ‖v‖ (for symmetric ∂₁Φ with spectrum in [−q, q] and η ≤ 1, ‖M‖ ≤ 1 − η(1 − q)).
 * The scaling N compensates the probability 1/N of each truncation length. With η = 1,
 * M = ∂₁Φᵀ and v_N is the N-term Neumann series Σ_{i<N}(∂₁Φᵀ)ⁱ b (N fixed-point steps from 0).
 * The variance grows with N (the factor N² on a single product), which is why estimates are
 * averaged.
 */
import * as E from 'fp-ts/lib/Either.js'
import { hgError, type HypergradError } from '../../errors.js'
import { assertDim, type RVec, type Vec } from '../../linalg/types.js'
import type { Batch } from '../../problem/bilevel.js'
import { integer, minibatch, type Rng } from '../../random/rng.js'
import { fromIterator, type Stream } from '../../stream/stream.js'
import { checkStep, throwLeft } from '../lower/sgd.js'
import type { LinearState, LinearSystem } from '../types.js'
import { checkStochasticShape, shapeOfSystem, stochasticParts, type CheckedLinearMethod, type SystemShape } from './stochasticFixedPoint.js'

/** Options of `stochasticNeumann` (and of one draw, `neumannDraw`). */
export interface StochasticNeumannOptions {
  /** N: the number of terms of the truncated series the estimate is unbiased for (≥ 1). */
  readonly maxTerms: number
  /** The relaxation η of M = I − η(I − ∂₁Φᵀ) (default 1, where M = ∂₁Φᵀ). */
  readonly eta?: number
  /** Minibatch size b of each factor M̂ᵢ. */
  readonly batchSize: number
  /** Draw with replacement (default: without). */
  readonly replace?: boolean
}

/**
 * η · N · M̂_K ⋯ M̂₁ b for the given minibatches (K = batches.length, applied first to last),
 * M̂ᵢ = I − η(I − ∂₁Φ̂(Bᵢ)ᵀ): the estimate for one draw of K and B₁, …, B_K. Pure; exposed so
 * that the estimator's expectation can be computed by enumerating draws.
 */
export const neumannProduct = (system: LinearSystem, batches: ReadonlyArray<Batch>, eta: number, maxTerms: number): Vec => {
  const { hat } = stochasticParts('neumannProduct', system)
  const d = system.dim
  let u: Vec = Float64Array.from(system.rhs)
  for (const batch of batches) {
    const ju = hat(batch, u)
    assertDim('neumannProduct: applyJTHat', d, ju.length)
    for (let i = 0; i < d; i++) ju[i] = u[i]! - eta * (u[i]! - ju[i]!)
    u = ju
  }
  const c = eta * maxTerms
  for (let i = 0; i < d; i++) u[i] = c * u[i]!
  return u
}

/**
 * One estimate v̂ (see the file comment) from `rng`: returns it, its number of products K, and
 * the advanced Rng.
 */
export const neumannDraw = (
  system: LinearSystem,
  opts: StochasticNeumannOptions,
  rng: Rng,
): { readonly estimate: Vec; readonly products: number; readonly rng: Rng } => {
  const { n } = stochasticParts('neumannDraw', system)
  const N = opts.maxTerms
  const [K, r0] = integer(rng, 0, N - 1)
  let r = r0
  const batches: Batch[] = []
  for (let i = 0; i < K; i++) {
    const [batch, next] = minibatch(r, n, opts.batchSize, opts.replace ?? false)
    batches.push(batch)
    r = next
  }
  return { estimate: neumannProduct(system, batches, opts.eta ?? 1, N), products: K, rng: r }
}

/**
 * The stochastic Neumann estimator as a linear method: state 0 is the start v₀ (otherwise
 * unused), and state k ≥ 1 is the average of k independent estimates v̂ (so E[vₖ] = v_N, the
 * N-term truncated series, and its variance falls as 1/k). An estimate costs K minibatch
 * products, (N−1)/2 on average: counts.jacW adds K·b/n. Replayable: each iteration restarts
 * from the given Rng.
 */
export const stochasticNeumann = (opts: StochasticNeumannOptions): CheckedLinearMethod => {
  const { maxTerms, batchSize, replace = false } = opts
  const eta = opts.eta ?? 1
  const name = `stochastic-neumann(N=${maxTerms}, η=${eta}, b=${batchSize})`
  const check = (shape: SystemShape): E.Either<HypergradError, void> => {
    if (!(Number.isInteger(maxTerms) && maxTerms >= 1))
      return E.left(hgError('domain', `${name}: maxTerms must be an integer ≥ 1, got ${maxTerms}`))
    const c = checkStochasticShape(name, shape, batchSize, replace)
    return E.isLeft(c) ? c : checkStep(name, eta, 'relaxation η')
  }
  return {
    name,
    stochastic: true,
    batchSize,
    check,
    iterates(system: LinearSystem, v0: RVec, rng: Rng): Stream<LinearState> {
      throwLeft(check(shapeOfSystem(system)))
      const { n } = stochasticParts(name, system)
      const d = system.dim
      assertDim(`${name}: v0`, d, v0.length)
      const start = Float64Array.from(v0)
      const o = { maxTerms, eta, batchSize, replace }
      return fromIterator(function* () {
        let r = rng
        const sum = new Float64Array(d)
        let products = 0
        yield { v: Float64Array.from(start), iter: 0, counts: { phi: 0, jacW: 0, jacLambda: 0 } }
        for (let k = 1; ; k++) {
          const draw = neumannDraw(system, o, r)
          r = draw.rng
          products += draw.products
          const est = draw.estimate
          for (let i = 0; i < d; i++) sum[i] = sum[i]! + est[i]!
          const v = new Float64Array(d)
          for (let i = 0; i < d; i++) v[i] = sum[i]! / k
          yield { v, iter: k, counts: { phi: 0, jacW: (products * batchSize) / n, jacLambda: 0 } }
        }
      })
    },
  }
}
